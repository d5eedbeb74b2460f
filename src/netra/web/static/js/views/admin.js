// Admins: search accounts, disable and enable them, mail a reset link, turn a second
// factor off; the mail outbox (pending, failed) and the searchable audit log.
import { api } from "../api.js";
import { h, when, focusHeading } from "../dom.js";

export async function adminView(main) {
  const rows = h("tbody");
  const total = h("p", { class: "note", role: "status" });
  const q = h("input", { type: "search", id: "user-search", placeholder: "Email or name" });
  const draw = async () => {
    const page = await api(`/auth/admin/users?limit=100&q=${encodeURIComponent(q.value.trim())}`);
    total.textContent = `${page.total} account${page.total === 1 ? "" : "s"}`;
    rows.replaceChildren(...page.users.map((u) => {
      const toggle = h("button", {
        type: "button", class: u.is_active ? "danger small" : "secondary small",
        text: u.is_active ? "Disable" : "Enable", "aria-label": `${u.is_active ? "Disable" : "Enable"} ${u.email}`,
      });
      toggle.addEventListener("click", async () => {
        await api(`/auth/admin/users/${encodeURIComponent(u.id)}/${u.is_active ? "disable" : "enable"}`, { method: "POST" });
        await draw();
      });
      const said = h("span", { role: "status" });
      const act = (text, path, method) => h("button", { type: "button", class: "secondary small", text, "aria-label": `${text}: ${u.email}`,
        onclick: async () => {
          try { said.textContent = (await api(`/auth/admin/users/${encodeURIComponent(u.id)}/${path}`, { method }))?.message || "Done."; }
          catch (error) { said.textContent = error.message; }
        } });
      return h("tr", {}, h("td", { text: u.email }), h("td", { text: u.name || "—" }), h("td", { text: u.role }),
        h("td", { text: u.is_active ? "active" : "disabled" }), h("td", { text: when(u.created_at) }),
        h("td", {}, toggle, act("Send reset link", "password-reset", "POST"), act("Turn off 2FA", "mfa", "DELETE"), said));
    }));
  };
  const form = h("form", { class: "inline-form", role: "search" },
    h("label", { for: "user-search", text: "Search accounts" }), q,
    h("button", { type: "submit", class: "secondary", text: "Search" }));
  form.addEventListener("submit", (e) => { e.preventDefault(); draw(); });
  main.replaceChildren(h("section", { class: "page" }, h("h1", { text: "Users" }), form, total,
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Email", "Name", "Role", "Status", "Created", ""].map((t) => h("th", { scope: "col", text: t })))),
      rows)), await mailSection(), auditSection()));
  await draw();
  focusHeading(main);
}

async function mailSection() {
  const outbox = await api("/auth/admin/mail?status=failed&limit=20");
  const pending = await api("/auth/admin/mail?status=pending&limit=20");
  const row = (m) => h("li", {}, `${when(m.created_at)} ${m.kind} to ${m.to}: ${m.status}, ${m.attempts} attempt(s)`,
    m.last_error ? ` — ${m.last_error}` : "");
  return h("section", { class: "card security" }, h("h2", { text: "Mail" }),
    h("p", { text: `${outbox.pending} pending, ${outbox.failed_today} failed today.` }),
    h("ul", {}, [...pending.mails, ...outbox.mails].map(row)));
}

function auditSection() {
  const q = h("input", { type: "search", id: "audit-search", placeholder: "Email or IP" });
  const rows = h("tbody");
  const form = h("form", { class: "inline-form", role: "search" },
    h("label", { for: "audit-search", text: "Search the audit log" }), q,
    h("button", { type: "submit", class: "secondary", text: "Search log" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const events = await api(`/auth/admin/audit?limit=200&q=${encodeURIComponent(q.value.trim())}`);
    rows.replaceChildren(...events.map((ev) => h("tr", {}, h("td", { text: when(ev.created_at) }), h("td", { text: ev.event }),
      h("td", { text: ev.user_id || "—" }), h("td", { text: ev.actor || "—" }), h("td", { text: ev.ip_address || "—" }))));
  });
  return h("section", { class: "card security" }, h("h2", { text: "Audit log" }), form,
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["When", "Event", "Account", "Actor", "IP"].map((t) => h("th", { scope: "col", text: t })))), rows)));
}
