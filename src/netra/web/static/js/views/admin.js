// Admins: search accounts, disable and enable them.
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
      return h("tr", {}, h("td", { text: u.email }), h("td", { text: u.name || "—" }), h("td", { text: u.role }),
        h("td", { text: u.is_active ? "active" : "disabled" }), h("td", { text: when(u.created_at) }), h("td", {}, toggle));
    }));
  };
  const form = h("form", { class: "inline-form", role: "search" },
    h("label", { for: "user-search", text: "Search accounts" }), q,
    h("button", { type: "submit", class: "secondary", text: "Search" }));
  form.addEventListener("submit", (e) => { e.preventDefault(); draw(); });
  main.replaceChildren(h("section", { class: "page" }, h("h1", { text: "Users" }), form, total,
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Email", "Name", "Role", "Status", "Created", ""].map((t) => h("th", { scope: "col", text: t })))),
      rows))));
  await draw();
  focusHeading(main);
}
