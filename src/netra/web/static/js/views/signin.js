// Sign in and sign up (email and password), and the buttons of configured OIDC providers.
import { api, setTokens } from "../api.js";
import { app } from "../state.js";
import { h, field, focusHeading } from "../dom.js";
import { passkeysSupported, signInWithPasskey } from "../webauthn.js";

const REFRESH_COOKIE = { "X-Netra-Refresh": "cookie" };
// Answers of POST /auth/login/mfa after which its challenge cannot be completed.
const CHALLENGE_OVER = ["invalid_token", "token_used", "token_expired"];

/** Buttons for GET /auth/oidc/providers (issue 9); nothing when it is not there. */
async function providerButtons() {
  try {
    const response = await fetch("/auth/oidc/providers", { headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    const body = await response.json();
    const providers = Array.isArray(body) ? body : body.providers || [];
    if (!providers.length) return null;
    return h("div", { class: "providers" }, h("p", { class: "or", text: "or" }),
      providers.map((p) => h("a", {
        class: "button secondary wide",
        href: p.login_url || `/auth/oidc/${encodeURIComponent(p.name || p.id)}/login`,
        text: `Sign in with ${p.display_name || p.name || p.id}`,
      })));
  } catch {
    return null;
  }
}

/** Back from an OIDC provider: trade the one-time handoff cookie (issue 9) for a session;
 * the refresh token arrives in the HttpOnly cookie, never in the page. */
export async function oidcHandoff() {
  const response = await fetch("/auth/oidc/session", {
    method: "POST", headers: { ...REFRESH_COOKIE, Accept: "application/json" },
  });
  if (response.status === 409) {
    // The address belongs to an existing account: its password makes the link (docs/oidc.md).
    const body = await response.json().catch(() => null);
    if (body?.detail?.reason === "link_required") app.pendingLink = body.detail.message;
  }
  if (!response.ok) return false;
  const body = await response.json();
  if (body.mfa_required) {
    // The account has a second factor: the sign-in page asks for the code.
    app.pendingMfa = body.mfa_token;
    return false;
  }
  setTokens(body);
  return true;
}

/** Finish a first factor: `answer` is a token pair or, for an account with a second
 * factor, `{mfa_required, mfa_token}`; then `askCode(mfaToken)` resolves with the pair. */
async function signedIn(answer, askCode) {
  setTokens(answer.mfa_required ? await askCode(answer.mfa_token) : answer);
  app.user = await api("/auth/me");
}

async function linkProvider(password, askCode) {
  const answer = await api("/auth/oidc/link", {
    method: "POST", auth: false, headers: REFRESH_COOKIE, body: { password },
  });
  app.pendingLink = null;
  await signedIn(answer, askCode);
}

/** Password sign-in; `askCode` is called when the account has a second factor. */
export async function signIn(email, password, askCode) {
  const answer = await api("/auth/login", {
    method: "POST", auth: false, headers: REFRESH_COOKIE, body: { email, password },
  });
  await signedIn(answer, askCode);
}

/** The second step, in place of the sign-in card: asks for a code until
 * POST /auth/login/mfa accepts one, and resolves with the token pair. */
function codeStep(card, mfaToken) {
  return new Promise((resolve, reject) => {
    const code = h("input", { id: "mfa-code", autocomplete: "one-time-code", required: true, maxlength: "64" });
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const verify = h("button", { type: "submit", class: "primary wide", text: "Verify" });
    const step = h("form", { class: "card auth-form", "aria-labelledby": "mfa-title" },
      h("h1", { id: "mfa-title", text: "Two-factor sign-in" }),
      field("Code from your authenticator app (or a recovery code)", code),
      error, verify);
    step.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = code.value.trim();
      const factor = /^[0-9]{6}$/.test(value) ? { code: value } : { recovery_code: value };
      verify.disabled = true;
      try {
        resolve(await api("/auth/login/mfa", {
          method: "POST", auth: false, headers: REFRESH_COOKIE, body: { mfa_token: mfaToken, ...factor },
        }));
      } catch (e) {
        if (CHALLENGE_OVER.includes(e.reason)) {
          step.replaceWith(card); // start again from the first factor
          reject(e);
          return;
        }
        error.textContent = e.message;
        error.hidden = false;
        verify.disabled = false;
        code.select();
      }
    });
    card.replaceWith(step);
    code.focus();
  });
}

export function signInView(main, { signUp = false, onDone }) {
  const email = h("input", { type: "email", id: "email", autocomplete: "email", required: true });
  const password = h("input", {
    type: "password", id: "password", required: true,
    autocomplete: signUp ? "new-password" : "current-password", minlength: signUp ? "10" : null,
  });
  const name = signUp ? h("input", { type: "text", id: "name", autocomplete: "name" }) : null;
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const linking = !signUp && app.pendingLink;
  if (linking) app.notice = `${app.pendingLink} Enter that account's password to link them.`;
  const notice = app.notice ? h("p", { class: "notice", role: "alert", text: app.notice }) : null;
  app.notice = null;
  const submit = h("button", { type: "submit", class: "primary wide", text: signUp ? "Create account" : "Sign in" });
  const form = h("form", { class: "card auth-form", "aria-labelledby": "auth-title" },
    h("h1", { id: "auth-title", text: signUp ? "Create your Netra account" : "Sign in to Netra" }),
    notice,
    name && field("Name (optional)", name),
    linking ? null : field("Email", email),
    field("Password", password, signUp ? "At least 10 characters; not a common password." : null),
    error, submit,
    h("p", { class: "switch" }, signUp ? "Already have an account? " : "New here? ",
      h("a", { href: signUp ? "#/signin" : "#/signup", text: signUp ? "Sign in" : "Create an account" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      if (linking) {
        await linkProvider(password.value, (token) => codeStep(form, token));
        onDone();
        return;
      }
      if (signUp) {
        await api("/auth/register", {
          method: "POST", auth: false,
          body: { email: email.value, password: password.value, name: name.value || null },
        });
      }
      await signIn(email.value, password.value, (token) => codeStep(form, token));
      onDone();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      submit.disabled = false;
      (e.status === 401 ? password : email).focus();
    }
  });
  if (!signUp && !linking) {
    submit.after(h("p", { class: "switch" }, h("a", { href: "#/forgot", text: "Forgot your password?" })));
    if (passkeysSupported()) {
      submit.after(h("button", { type: "button", class: "secondary wide", text: "Use a passkey",
        onclick: async () => {
          error.hidden = true;
          try {
            await signInWithPasskey();
            app.user = await api("/auth/me");
            onDone();
          } catch (e) {
            error.textContent = e.message;
            error.hidden = false;
          }
        } }));
    }
  }
  main.replaceChildren(h("div", { class: "auth-page" }, form));
  providerButtons().then((buttons) => { if (buttons) submit.after(buttons); });
  if (!signUp && app.pendingMfa) {
    // Back from a provider, for an account with a second factor: its code comes next.
    const token = app.pendingMfa;
    app.pendingMfa = null;
    signedIn({ mfa_required: true, mfa_token: token }, (t) => codeStep(form, t))
      .then(onDone, (e) => { error.textContent = e.message; error.hidden = false; });
    return;
  }
  if (linking) password.focus();
  else if (notice) focusHeading(form);
  else email.focus();
}
