"""Everything the auth routes use, built once at startup from settings."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from netra.auth.account_admin import AccountAdmin
from netra.auth.accounts import Accounts
from netra.auth.api_key_store import ApiKeys, LocalApiKeyResolver
from netra.auth.audit import ClientInfo
from netra.auth.guesses import Guesses
from netra.auth.issuer import TokenIssuer
from netra.auth.mail.outbox import Outbox
from netra.auth.mail.transport import transport_for
from netra.auth.mfa import Mfa
from netra.auth.oidc.config import parse_providers
from netra.auth.oidc.flow import OidcLogins
from netra.auth.oidc.provider import OidcProvider
from netra.auth.passkeys import Passkeys
from netra.auth.password_reset import PasswordResets
from netra.auth.passwords import Passwords
from netra.auth.service_accounts import ServiceAccounts
from netra.auth.sessions import Sessions
from netra.auth.signed_values import SignedValues
from netra.auth.signin_limits import (
    MemoryRateLimiter,
    Network,
    RateLimiter,
    RedisRateLimiter,
    client_ip,
    parse_networks,
)
from netra.auth.signing import SigningKeys
from netra.auth.verification import EmailVerification
from netra.health.metrics import Metrics
from netra.settings import Settings
from netra.tokens import (
    InProcessKeys,
    KeySource,
    RevocationList,
    SharedSecretKeys,
    TokenVerifier,
)
from netra.tokens.revocations import RevocationBroadcast


@dataclass
class AuthState:
    settings: Settings
    db: async_sessionmaker[AsyncSession]
    keys: SigningKeys
    issuer: TokenIssuer
    passwords: Passwords
    sessions: Sessions
    accounts: Accounts
    admin: AccountAdmin
    api_keys: ApiKeys
    services: ServiceAccounts
    revocations: RevocationList
    verifier: TokenVerifier
    trusted: list[Network]
    oidc: OidcLogins
    outbox: Outbox
    verification: EmailVerification
    resets: PasswordResets
    mfa: Mfa
    passkeys: Passkeys
    http: httpx.AsyncClient
    redis: Redis | None = None

    def client(self, request: Request) -> ClientInfo:
        return ClientInfo(client_ip(request, self.trusted), request.headers.get("user-agent"))

    async def close(self) -> None:
        await self.http.aclose()
        if self.redis is not None:
            await self.redis.aclose()


def build_state(
    settings: Settings, db: async_sessionmaker[AsyncSession], metrics: Metrics | None = None
) -> AuthState:
    metrics = metrics if metrics is not None else Metrics()
    keys = SigningKeys(settings, db)
    issuer = TokenIssuer(settings, keys)
    revocations = RevocationList()
    passwords = Passwords(settings.password_min_length)
    redis = Redis.from_url(settings.redis_url.get_secret_value()) if settings.redis_url else None
    limiter: RateLimiter = RedisRateLimiter(redis) if redis else MemoryRateLimiter()
    broadcast = RevocationBroadcast(revocations, redis)
    sessions = Sessions(settings, db, issuer, broadcast, metrics=metrics)
    outbox = Outbox(settings, db, transport_for(settings))
    api_keys = ApiKeys(settings, db, broadcast, outbox)
    guesses = Guesses(settings, limiter, passwords, metrics)
    verification = EmailVerification(settings, db, guesses, outbox, limiter)
    mfa = Mfa(settings, db, guesses, outbox)
    source: KeySource
    if settings.token_algorithm == "HS256":
        source = SharedSecretKeys(keys.signer().private_key.decode())
    else:
        source = InProcessKeys(keys.jwks, frozenset({settings.token_algorithm}))
    verifier = TokenVerifier(
        source,
        algorithms=frozenset({settings.token_algorithm}),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        revocations=revocations,
        api_keys=LocalApiKeyResolver(api_keys),
        leeway=settings.token_leeway,
    )
    # OIDC providers were validated by the contract check; a broken one is skipped here.
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)
    providers = {c.name: OidcProvider(c, http) for c in parse_providers(settings)[0]}
    accounts = Accounts(
        settings,
        db,
        passwords,
        sessions,
        limiter,
        guesses=guesses,
        verification=verification,
        mfa=mfa,
        metrics=metrics,
    )
    return AuthState(
        settings=settings,
        db=db,
        keys=keys,
        issuer=issuer,
        passwords=passwords,
        sessions=sessions,
        accounts=accounts,
        admin=AccountAdmin(db, sessions, api_keys),
        api_keys=api_keys,
        services=ServiceAccounts(settings, db),
        revocations=revocations,
        verifier=verifier,
        trusted=parse_networks(settings.trusted_proxies),
        oidc=OidcLogins(
            db,
            accounts,
            providers,
            SignedValues(settings, "oidc links"),
            SignedValues(settings, "oidc reauthentication"),
        ),
        outbox=outbox,
        verification=verification,
        resets=PasswordResets(
            settings,
            db,
            passwords=passwords,
            sessions=sessions,
            api_keys=api_keys,
            outbox=outbox,
            limiter=limiter,
        ),
        mfa=mfa,
        passkeys=Passkeys(settings, db, guesses=guesses, mfa=mfa, sessions=sessions, outbox=outbox),
        http=http,
        redis=redis,
    )
