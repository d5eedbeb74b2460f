// Sign in and sign up (email and password), and the buttons of configured OIDC providers.
import { api, setTokens } from "../api.js";
import { app } from "../state.js";
import { h, field, focusHeading } from "../dom.js";

const REFRESH_COOKIE = { "X-Netra-Refresh": "cookie" };

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
  setTokens(await response.json());
  return true;
}

async function linkProvider(password) {
  const pair = await api("/auth/oidc/link", {
    method: "POST", auth: false, headers: REFRESH_COOKIE, body: { password },
  });
  setTokens(pair);
  app.pendingLink = null;
  app.user = await api("/auth/me");
}

export async function signIn(email, password) {
  const pair = await api("/auth/login", {
    method: "POST", auth: false, headers: REFRESH_COOKIE, body: { email, password },
  });
  setTokens(pair);
  app.user = await api("/auth/me");
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
        await linkProvider(password.value);
        onDone();
        return;
      }
      if (signUp) {
        await api("/auth/register", {
          method: "POST", auth: false,
          body: { email: email.value, password: password.value, name: name.value || null },
        });
      }
      await signIn(email.value, password.value);
      onDone();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      submit.disabled = false;
      (e.status === 401 ? password : email).focus();
    }
  });
  main.replaceChildren(h("div", { class: "auth-page" }, form));
  providerButtons().then((buttons) => { if (buttons) submit.after(buttons); });
  if (linking) password.focus();
  else if (notice) focusHeading(form);
  else email.focus();
}
