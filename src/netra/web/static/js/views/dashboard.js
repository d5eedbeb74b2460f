// Admins: what is happening now (live numbers and charts from /api/admin/dashboard),
// everyone's usage with a CSV export, and budgets per user and per role.
import { api } from "../api.js";
import { h, field, when, seconds, focusHeading } from "../dom.js";
import { timeChart, days } from "../charts.js";
import { cost } from "./usage.js";

const LIMITS = ["messages_per_day", "tokens_per_day", "tokens_per_month", "cost_per_day", "cost_per_month"];

function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "stat-value", text: value }), h("span", { text: label }));
}

function table(headings, rows) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", { text: c })))))));
}

function live(board) {
  const ttft = board.live.time_to_first_token;
  const tools = Object.entries(board.live.tool_failure_rates)
    .map(([server, r]) => `${server}: ${(100 * r.rate).toFixed(1)}% of ${r.ok + r.error}`).join(", ") || "no tool calls yet";
  return h("div", { class: "stats" },
    stat("runs now", board.live.active_runs), stat("waiting for approval", board.live.approvals_waiting),
    stat("first token p50", ttft.p50 === null ? "—" : seconds(ttft.p50 * 1000)),
    stat("first token p99", ttft.p99 === null ? "—" : seconds(ttft.p99 * 1000)),
    stat("tool failures", tools));
}

async function exportCsv() {
  const text = await api("/api/admin/usage?group_by=user&format=csv", { as: "text", headers: { Accept: "text/csv" } });
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: "netra-usage.csv" });
  link.click();
  URL.revokeObjectURL(link.href);
}

function budgetForm(onSaved) {
  const scope = h("select", { id: "budget-scope" }, h("option", { value: "roles", text: "Role" }), h("option", { value: "users", text: "User id" }));
  const name = h("input", { id: "budget-name", required: true, maxlength: 100, placeholder: "user" });
  const inputs = Object.fromEntries(LIMITS.map((l) => [l, h("input", { id: `budget-${l}`, type: "number", min: 0, step: "any" })]));
  const status = h("p", { class: "note", role: "status" });
  const form = h("form", { class: "inline-form", "aria-label": "Set a budget" }, field("For", scope), field("Name", name),
    LIMITS.map((l) => field(l.replaceAll("_", " "), inputs[l], "empty: no limit")),
    h("button", { type: "submit", text: "Save budget" }), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(LIMITS.map((l) => {
      const raw = inputs[l].value.trim();
      return [l, raw === "" ? null : l.startsWith("cost") ? Number(raw) : Math.round(Number(raw))];
    }));
    try {
      await api(`/api/admin/budgets/${scope.value}/${encodeURIComponent(name.value.trim())}`, { method: "PUT", body });
      status.textContent = "Saved: it applies to the next message.";
      await onSaved();
    } catch (error) {
      status.textContent = error.message;
    }
  });
  return form;
}

export async function dashboardView(main) {
  const budgets = h("div");
  const drawBudgets = async () => {
    const all = await api("/api/admin/budgets");
    const rows = [...all.roles, ...all.users].map((b) => [b.scope, b.name, ...LIMITS.map((l) => b[l] ?? "—")]);
    budgets.replaceChildren(table(["For", "Name", ...LIMITS.map((l) => l.replaceAll("_", " "))], rows));
  };
  const board = await api("/api/admin/dashboard");
  const minutes = board.per_minute.map((m) => m.minute);
  const exportButton = h("button", { type: "button", class: "secondary", text: "Export usage (CSV)", onclick: exportCsv });
  main.replaceChildren(h("section", { class: "page" },
    h("h1", { text: "Dashboard" }),
    h("p", { class: "note", text: `Live numbers from instance ${board.instance}, ${when(board.generated_at)}.` }),
    live(board),
    timeChart("Runs and errors per minute", minutes, [
      { label: "runs", values: board.per_minute.map((m) => m.runs) },
      { label: "errors", values: board.per_minute.map((m) => m.errors) }]),
    timeChart("Tokens per day", days(board.per_day), [{ label: "tokens", values: board.per_day.map((d) => d.tokens) }], { bars: true }),
    timeChart("Cost per day (USD)", days(board.per_day), [{ label: "cost", values: board.per_day.map((d) => d.cost) }], { bars: true }),
    h("h2", { text: "Top users (7 days)" }), table(["User", "Tokens", "Cost", "Runs"], board.top_users.map((u) => [u.user_id, u.tokens, cost(u.cost), u.runs])),
    h("h2", { text: "Top models (7 days)" }), table(["Model", "Tokens", "Cost", "Runs"], board.top_models.map((m) => [m.model, m.tokens, cost(m.cost), m.runs])),
    h("h2", { text: "Recent errors" }), table(["When", "Run", "User", "Code", "Reason"],
      board.recent_errors.map((e) => [when(e.finished_at), e.run_id, e.user_id, e.code, e.reason || ""])),
    h("h2", { text: "Model endpoints and MCP servers" }), table(["Kind", "Name", "Status", "Detail"], board.endpoints.map((e) => [e.kind, e.name, e.status, e.output])),
    h("h2", { text: "Usage" }), exportButton,
    h("h2", { text: "Budgets" }), budgetForm(drawBudgets), budgets));
  await drawBudgets();
  focusHeading(main);
}
