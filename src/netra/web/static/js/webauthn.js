// WebAuthn between the browser and the auth service's JSON (base64url for bytes).
import { api, setTokens } from "./api.js";

const REFRESH_COOKIE = { "X-Netra-Refresh": "cookie" };

function bytes(b64url) {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(b64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function text(buffer) {
  if (!buffer) return null;
  let s = "";
  for (const b of new Uint8Array(buffer)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: bytes(d.id) }));
}

function credentialJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: text(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = text(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = text(r.authenticatorData);
    response.signature = text(r.signature);
    response.userHandle = text(r.userHandle);
  }
  return { id: credential.id, rawId: text(credential.rawId), type: credential.type, response,
    clientExtensionResults: credential.getClientExtensionResults() };
}

export const passkeysSupported = () => Boolean(window.PublicKeyCredential);

/** Add a passkey: the password first, then the browser's authenticator. */
export async function addPasskey(password, name) {
  const options = await api("/auth/passkeys/register/begin", { method: "POST", body: { password } });
  const credential = await navigator.credentials.create({
    publicKey: { ...options, challenge: bytes(options.challenge),
      user: { ...options.user, id: bytes(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials) },
  });
  return api("/auth/passkeys/register/finish", {
    method: "POST", body: { credential: credentialJSON(credential), name: name || null },
  });
}

/** Sign in with a passkey alone (discoverable: no email typed). */
export async function signInWithPasskey() {
  const options = await api("/auth/passkeys/login/begin", { method: "POST", auth: false });
  const credential = await navigator.credentials.get({
    publicKey: { ...options, challenge: bytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials) },
  });
  const pair = await api("/auth/passkeys/login/finish", {
    method: "POST", auth: false, headers: REFRESH_COOKIE, body: { credential: credentialJSON(credential) },
  });
  setTokens(pair);
}
