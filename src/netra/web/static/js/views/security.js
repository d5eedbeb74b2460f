// The Security page: the address and its verification, password, email change,
// two-factor sign-in (TOTP and recovery codes), passkeys, linked providers, and the
// account's recent security activity. Sessions and API keys keep their own pages.
import { api } from "../api.js";
import { app } from "../state.js";
import { h, field, when, focusHeading } from "../dom.js";
import { addPasskey, passkeysSupported } from "../webauthn.js";

function section(title, ...children) {
  return h("section", { class: "card security" }, h("h2", { text: title }), ...children);
}

/** A form whose submit runs `action`; its message says the outcome. */
function form(fields, label, action) {
  const said = h("p", { role: "status", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", text: label });
  const el = h("form", { class: "inline-form" }, fields, submit, said);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    said.hidden = true;
    try {
      said.className = "";
      said.textContent = (await action()) || "Done.";
    } catch (error) {
      said.className = "error";
      said.textContent = error.message;
    }
    said.hidden = false;
    submit.disabled = false;
  });
  return el;
}

const input = (id, type = "password", attrs = {}) =>
  h("input", { id, type, required: true, autocomplete: type === "password" ? "current-password" : "off", ...attrs });

function svg(markup) {
  // The QR code is SVG from our own server (segno): parsed as SVG, never as HTML.
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const node = doc.documentElement;
  return node.nodeName === "svg" ? document.importNode(node, true) : h("span", {});
}

function emailSection(me) {
  const state = me.email_verified ? "verified" : "not verified yet";
  const resend = me.email_verified ? null : form([], "Send a new confirmation link",
    async () => (await api("/auth/verify-email/request", { method: "POST" })).message);
  const newEmail = input("new-email", "email");
  const password = input("email-password");
  return section("Email", h("p", {}, h("strong", { text: me.email }), ` (${state})`), resend,
    form([field("New address", newEmail), field("Password", password)], "Change email",
      async () => (await api("/auth/email", { method: "POST", body: { new_email: newEmail.value, password: password.value } })).message));
}

function passwordSection() {
  const current = input("current-password");
  const next = input("new-password-field", "password", { autocomplete: "new-password", minlength: "10" });
  return section("Password", form([field("Current password", current), field("New password", next)], "Change password",
    async () => {
      const { revoked } = await api("/auth/password", { method: "POST", body: { current_password: current.value, new_password: next.value } });
      return `Password changed; ${revoked} other session(s) signed out.`;
    }));
}

function codesList(codes) {
  return h("div", { class: "secret", role: "status" },
    h("p", { text: "Your recovery codes. Keep them somewhere safe: each works once, and they are shown only now." }),
    h("ol", { class: "codes" }, codes.map((c) => h("li", {}, h("code", { text: c })))));
}

function mfaSection(me, redraw) {
  const area = h("div", {});
  if (!me.mfa_enabled) {
    const password = input("mfa-password");
    area.append(form([field("Password", password)], "Turn on two-factor sign-in", async () => {
      const made = await api("/auth/mfa/totp/setup", { method: "POST", body: { password: password.value } });
      const code = input("mfa-code", "text", { inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6" });
      area.replaceChildren(
        h("p", { text: "Scan this code with your authenticator app, or type the secret into it:" }),
        h("div", { class: "qr", "aria-label": "QR code" }, svg(made.qr_svg)),
        h("p", {}, "Secret: ", h("code", { class: "totp-secret", text: made.secret })),
        form([field("Code from the app", code)], "Confirm", async () => {
          const { recovery_codes } = await api("/auth/mfa/totp/confirm", { method: "POST", body: { code: code.value } });
          area.replaceChildren(codesList(recovery_codes), h("button", { type: "button", class: "secondary", text: "Done", onclick: redraw }));
          return "Two-factor sign-in is on.";
        }));
      return null;
    }));
  } else {
    const password = input("codes-password");
    const offPassword = input("off-password");
    const code = input("off-code", "text", { inputmode: "numeric", maxlength: "6" });
    const shown = h("div", {});
    area.append(h("p", { text: "Two-factor sign-in is on." }),
      form([field("Password", password)], "New recovery codes", async () => {
        shown.replaceChildren(codesList((await api("/auth/mfa/recovery-codes", { method: "POST", body: { password: password.value } })).recovery_codes));
        return "The old codes no longer work.";
      }), shown,
      form([field("Password", offPassword), field("Code from the app", code)], "Turn off", async () => {
        await api("/auth/mfa/totp", { method: "DELETE", body: { password: offPassword.value, code: code.value } });
        redraw();
        return null;
      }));
  }
  return section("Two-factor sign-in", area);
}

async function passkeySection(redraw) {
  const rows = await api("/auth/passkeys");
  const list = h("ul", { class: "passkeys" }, rows.map((p) => h("li", {}, h("strong", { text: p.name }),
    ` added ${when(p.created_at)}, last used ${when(p.last_used_at)} `,
    h("button", { type: "button", class: "danger small", text: "Remove", "aria-label": `Remove passkey ${p.name}`,
      onclick: async () => { await api(`/auth/passkeys/${encodeURIComponent(p.id)}`, { method: "DELETE" }); redraw(); } }))));
  if (!rows.length) list.append(h("li", { class: "empty", text: "No passkeys yet." }));
  const password = input("passkey-password");
  const name = input("passkey-name", "text", { required: false, maxlength: "100", placeholder: "e.g. Laptop" });
  const adder = passkeysSupported()
    ? form([field("Password", password), field("Name", name)], "Add a passkey", async () => {
      await addPasskey(password.value, name.value);
      redraw();
      return "Passkey added.";
    })
    : h("p", { text: "This browser cannot use passkeys." });
  return section("Passkeys", list, adder);
}

async function providerSection() {
  let rows = [];
  try {
    rows = await api("/auth/oidc/identities");
  } catch {
    return null;
  }
  if (!rows.length) return null;
  return section("Linked sign-in providers", h("ul", {}, rows.map((row) => h("li", {}, `${row.provider} (${row.email || "no email"}) `,
    h("button", { type: "button", class: "danger small", text: "Unlink",
      onclick: async (event) => {
        try { await api(`/auth/oidc/identities/${encodeURIComponent(row.id)}`, { method: "DELETE" }); event.target.closest("li").remove(); }
        catch (error) { event.target.after(h("span", { class: "error", text: ` ${error.message}` })); }
      } })))));
}

async function activitySection() {
  const events = await api("/auth/activity");
  return section("Recent security activity", h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["When", "What", "From"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, events.map((e) => h("tr", {}, h("td", { text: when(e.created_at) }), h("td", { text: e.event.replace(/_/g, " ") }),
      h("td", { text: [e.ip_address, e.detail.user_agent].filter(Boolean).join(" · ") || "—" })))))));
}

export async function securityView(main) {
  const draw = async () => {
    const me = await api("/auth/me");
    app.user = me;
    const parts = [emailSection(me), passwordSection(), mfaSection(me, draw), await passkeySection(draw),
      await providerSection(), section("Sessions and API keys", h("p", {}, h("a", { href: "#/sessions", text: "Your sessions" }), " · ",
        h("a", { href: "#/keys", text: "Your API keys" }))), await activitySection()];
    main.replaceChildren(h("div", { class: "page" }, h("h1", { text: "Security" }), parts));
  };
  await draw();
  focusHeading(main);
}
