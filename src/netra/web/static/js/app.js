// Boot and routing (#/signin, #/signup, #/forgot, #/, #/t/<id>, #/security, #/sessions,
// #/keys, #/usage, #/admin, #/dashboard); mailed links arrive at /verify-email and
// /reset-password.
import { api, onSignedOut, refresh } from "./api.js";
import { onBackOnline } from "./connectivity.js";
import { app } from "./state.js";
import { h } from "./dom.js";
import { signInView, oidcHandoff } from "./views/signin.js";
import { chatView } from "./views/chat.js";
import { sessionsView } from "./views/sessions.js";
import { keysView } from "./views/keys.js";
import { adminView } from "./views/admin.js";
import { securityView } from "./views/security.js";
import { usageView } from "./views/usage.js";
import { dashboardView } from "./views/dashboard.js";
import { forgotView, resetView, verifyEmailView } from "./views/recovery.js";

// A mailed link's token: into memory, off the address bar (and out of history).
const LINKS = { "/verify-email": "#/verify-email", "/reset-password": "#/reset-password" };
if (LINKS[window.location.pathname]) {
  app.linkToken = new URLSearchParams(window.location.search).get("token");
  window.history.replaceState(null, "", `/${LINKS[window.location.pathname]}`);
}

const SESSION_CHECK_MS = 30000;
const main = document.getElementById("main");
const top = document.getElementById("top");

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function leaveChat() {
  if (app.chat) {
    app.chat.stream?.close();
    app.chat.unwatch?.();
    app.chat = null;
  }
}

onSignedOut((message) => {
  leaveChat();
  app.notice = message;
  top.hidden = true;
  go("#/signin");
});

async function signOut() {
  try {
    await api("/auth/logout", { method: "POST", headers: { "X-Netra-Refresh": "cookie" } });
  } catch {
    // signed out locally either way
  }
  signedOutHere("You are signed out.");
}

function signedOutHere(message) {
  leaveChat();
  app.token = null;
  app.user = null;
  app.models = null;
  app.notice = message;
  top.hidden = true;
  go("#/signin");
}

function shell(active) {
  const link = (hash, text, key) => h("a", { href: hash, text, "aria-current": active === key ? "page" : null });
  top.replaceChildren(
    h("a", { href: "#/", class: "brand", "aria-label": "Netra home" }, h("img", { src: "/static/icon.svg", alt: "" }), "Netra"),
    h("nav", { "aria-label": "Main" }, link("#/", "Chats", "chat"), link("#/security", "Security", "security"),
      link("#/sessions", "Sessions", "sessions"), link("#/keys", "API keys", "keys"), link("#/usage", "Usage", "usage"),
      app.user?.role === "admin" ? link("#/admin", "Users", "admin") : null,
      app.user?.role === "admin" ? link("#/dashboard", "Dashboard", "dashboard") : null),
    h("div", { class: "me" }, h("span", { class: "email", text: app.user?.email || "" }),
      h("button", { type: "button", class: "secondary small", text: "Sign out", onclick: signOut })));
  top.hidden = false;
}

async function route() {
  const hash = window.location.hash || "#/";
  // Each route renders into its own container: a slow view finishing after the user
  // moved on writes into a detached node, never over the page now shown.
  const view = h("div", { class: "view" });
  main.replaceChildren(view);
  if (hash === "#/signin" || hash === "#/signup") {
    leaveChat();
    if (app.user) return go("#/");
    top.hidden = true;
    return signInView(view, { signUp: hash === "#/signup", onDone: () => go("#/") });
  }
  if (hash === "#/verify-email") return verifyEmailView(view);
  if (hash === "#/forgot" || hash === "#/reset-password") {
    top.hidden = true;
    return hash === "#/forgot" ? forgotView(view) : resetView(view);
  }
  if (!app.user) return go("#/signin");
  const [, section, id] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  try {
    if (section === "security") {
      leaveChat();
      shell("security");
      await securityView(view);
    } else if (section === "sessions") {
      leaveChat();
      shell("sessions");
      await sessionsView(view, { onSignOutEverywhere: signedOutHere });
    } else if (section === "keys") {
      leaveChat();
      shell("keys");
      await keysView(view);
    } else if (section === "usage") {
      leaveChat();
      shell("usage");
      await usageView(view);
    } else if (section === "dashboard" && app.user.role === "admin") {
      leaveChat();
      shell("dashboard");
      await dashboardView(view);
    } else if (section === "admin" && app.user.role === "admin") {
      leaveChat();
      shell("admin");
      await adminView(view);
    } else {
      shell("chat");
      const [threadId, messageId] = section === "t" ? id.split("/").map(decodeURIComponent) : [];
      await chatView(view, threadId || null, messageId || null);
    }
  } catch (error) {
    if (error.reason === "signed_out") return;
    view.replaceChildren(h("p", { class: "error", role: "alert", text: error.message }));
  }
}

async function resume() {
  // The refresh cookie (HttpOnly) may still hold a session: trade it for a token.
  try {
    const outcome = await refresh();
    if (outcome.ok || (await oidcHandoff())) app.user = await api("/auth/me");
  } catch (error) {
    app.user = null;
    if (error.status === 0) {
      // The server was down at boot: resume the session as soon as it is back.
      const stop = onBackOnline(async () => {
        stop();
        await resume();
        route();
      });
    }
  }
}

function watchSession() {
  // A session revoked elsewhere is noticed without waiting for the next click.
  const check = () => {
    if (app.user && document.visibilityState === "visible") api("/auth/me").catch(() => {});
  };
  setInterval(check, SESSION_CHECK_MS);
  document.addEventListener("visibilitychange", check);
}

document.getElementById("skip").addEventListener("click", () => main.focus());
window.addEventListener("hashchange", route);
await resume();
watchSession();
route();
