// The pages of mailed links and of a forgotten password: verify an address, ask for a
// reset link, choose a new password. The token arrives in the link's `token` query
// parameter; app.js moves it into memory and off the address bar before this runs.
import { api } from "../api.js";
import { app } from "../state.js";
import { h, field, focusHeading } from "../dom.js";

function page(main, title, ...children) {
  const card = h("div", { class: "card auth-form" }, h("h1", { id: "auth-title", text: title }), ...children);
  main.replaceChildren(h("div", { class: "auth-page" }, card));
  focusHeading(card);
  return card;
}

export async function verifyEmailView(main) {
  const status = h("p", { role: "status", text: "Confirming your address…" });
  page(main, "Confirm your email address", status, h("p", {}, h("a", { href: "#/", text: "Go to Netra" })));
  const token = app.linkToken;
  app.linkToken = null;
  try {
    const done = await api("/auth/verify-email", { method: "POST", auth: false, body: { token: token || "" } });
    status.textContent = `${done.email} is confirmed.`;
    if (app.user) app.user = await api("/auth/me");
  } catch (error) {
    status.className = "error";
    status.textContent = `This link cannot be used: ${error.message}`;
  }
}

export function forgotView(main) {
  const email = h("input", { type: "email", id: "email", autocomplete: "email", required: true });
  const said = h("p", { role: "status", hidden: true });
  const submit = h("button", { type: "submit", class: "primary wide", text: "Send me a link" });
  const form = h("form", {}, field("Email", email), submit, said);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      said.textContent = (await api("/auth/password/forgot", { method: "POST", auth: false, body: { email: email.value } })).message;
    } catch (error) {
      said.textContent = error.message;
      submit.disabled = false;
    }
    said.hidden = false;
  });
  page(main, "Forgot your password?", form, h("p", { class: "switch" }, h("a", { href: "#/signin", text: "Back to sign in" })));
  email.focus();
}

export function resetView(main) {
  const token = app.linkToken;
  const password = h("input", { type: "password", id: "new-password", autocomplete: "new-password", required: true, minlength: "10" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary wide", text: "Set the new password" });
  const form = h("form", {}, field("New password", password, "At least 10 characters; not a common password."), error, submit);
  const card = page(main, "Choose a new password", form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      await api("/auth/password/reset", { method: "POST", auth: false, body: { token: token || "", new_password: password.value } });
      app.linkToken = null;
      card.replaceChildren(h("h1", { text: "Your password is set" }),
        h("p", { role: "status", text: "Every session of the account was signed out. Sign in with the new password." }),
        h("a", { class: "button primary wide", href: "#/signin", text: "Sign in" }));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });
  password.focus();
}
