// Personal API keys: create (the secret is shown once), list, revoke.
import { api } from "../api.js";
import { h, field, when, focusHeading } from "../dom.js";

// The scope table of docs/auth.md: what a key with each scope may do.
const SCOPES = [
  ["chat", "read and write chats: threads, messages, runs, the live stream"],
  ["chat:read", "read chats only: GET endpoints, WebSocket subscribe, the event stream"],
  ["profile", "GET /auth/me"],
];

export async function keysView(main) {
  const list = h("tbody");
  const shown = h("div", { class: "secret", role: "status" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const draw = async () => {
    const keys = await api("/auth/api-keys");
    list.replaceChildren(...keys.map((k) => {
      const revoke = h("button", { type: "button", class: "danger small", text: "Revoke", "aria-label": `Revoke key ${k.name}` });
      revoke.disabled = Boolean(k.revoked_at);
      revoke.addEventListener("click", async () => {
        await api(`/auth/api-keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
        await draw();
      });
      return h("tr", {}, h("td", { text: k.name }), h("td", { text: k.scopes.join(" ") }),
        h("td", { text: when(k.created_at) }), h("td", { text: k.expires_at ? when(k.expires_at) : "never" }),
        h("td", { text: k.revoked_at ? `revoked ${when(k.revoked_at)}` : when(k.last_used_at) }), h("td", {}, revoke));
    }));
    if (!keys.length) list.append(h("tr", {}, h("td", { colspan: "6", class: "empty", text: "No API keys yet." })));
  };
  const name = h("input", { id: "key-name", required: true, maxlength: "100" });
  const days = h("input", { id: "key-days", type: "number", min: "1", max: "3650", inputmode: "numeric" });
  const scope = h("select", { id: "key-scope" }, ...SCOPES.map(([value]) => h("option", { value, text: value })));
  // A stolen session alone must not mint a long-lived key: the password is asked again.
  const password = h("input", { id: "key-password", type: "password", required: true, autocomplete: "current-password", maxlength: "1024" });
  const form = h("form", { class: "inline-form" }, field("Key name", name),
    field("Scope", scope), field("Expires after (days, optional)", days),
    field("Your password", password, "Asked again before a key is made."),
    h("button", { type: "submit", class: "primary", text: "Create key" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      const created = await api("/auth/api-keys", {
        method: "POST",
        body: { name: name.value, scopes: [scope.value], password: password.value, expires_in_days: days.value ? Number(days.value) : null },
      });
      const copy = h("button", { type: "button", class: "secondary small", text: "Copy" });
      copy.addEventListener("click", () => navigator.clipboard?.writeText(created.api_key).then(() => { copy.textContent = "Copied"; }));
      shown.replaceChildren(h("p", { text: `Your new key “${created.name}”. Copy it now: it is shown only once.` }),
        h("code", { class: "key", text: created.api_key }), copy);
      form.reset();
      await draw();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  main.replaceChildren(h("section", { class: "page" }, h("h1", { text: "API keys" }),
    h("p", { class: "note", text: "Keys let scripts and the SDK use Netra as you. They cannot manage sessions, passwords or keys." }),
    h("div", { class: "table-wrap" }, h("table", { class: "scopes" },
      h("thead", {}, h("tr", {}, ["Scope", "Allows"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...SCOPES.map(([value, allows]) => h("tr", {}, h("td", {}, h("code", { text: value })), h("td", { text: allows })))))),
    form, error, shown,
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Scopes", "Created", "Expires", "Last used", ""].map((t) => h("th", { scope: "col", text: t })))),
      list))));
  await draw();
  focusHeading(main);
}
