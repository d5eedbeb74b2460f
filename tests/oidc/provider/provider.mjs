// A real OpenID provider (npm oidc-provider) for Netra's tests, on 127.0.0.1.
// Configured by one JSON argument: {"port", "clients": [...], "jwks": {"keys": [private JWK]}}.
// devInteractions is its built-in login form: any login is accepted as the account id.
// Account ids shape the claims: "unverified:ada@example.com" has email ada@example.com with
// email_verified=false; any other id containing "@" is its own verified email.
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;

function claimsOf(id) {
  const unverified = id.startsWith('unverified:');
  const email = unverified ? id.slice('unverified:'.length) : id;
  return {
    sub: `sub-${Buffer.from(id).toString('hex')}`,
    email: email.includes('@') ? email : `${email}@example.test`,
    email_verified: !unverified,
    name: email.split('@')[0],
  };
}

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: config.jwks,
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => claimsOf(id),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Like Google: the email claims travel in the ID token itself.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['netra-test-cookie-key'] },
  ttl: { AuthorizationCode: 60, Session: 600, Interaction: 600, Grant: 600 },
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider ready at ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
