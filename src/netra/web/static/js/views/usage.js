// A user's own usage: tokens and cost per day (chart), per day and per model (tables).
import { api } from "../api.js";
import { h, focusHeading } from "../dom.js";
import { timeChart, days } from "../charts.js";

export function cost(value, unpriced) {
  const text = `$${Number(value || 0).toFixed(4)}`;
  return unpriced ? `${text} (+${unpriced} unpriced)` : text;
}

export function usageTable(items, key, label) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, [label, "Runs", "Failed", "Input tokens", "Output tokens", "Tool calls", "Cost"]
      .map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, items.map((row) => h("tr", {},
      h("td", { text: row[key] }), h("td", { text: row.runs }), h("td", { text: row.failed_runs }),
      h("td", { text: `${row.input_tokens}${row.estimated_runs ? " ~" : ""}` }), h("td", { text: row.output_tokens }),
      h("td", { text: `${row.tool_calls} (${row.tool_errors} failed)` }), h("td", { text: cost(row.cost, row.unpriced_runs) }))))));
}

export async function usageView(main) {
  const [byDay, byModel] = await Promise.all([api("/api/usage?group_by=day"), api("/api/usage?group_by=model")]);
  const total = byDay.totals;
  main.replaceChildren(h("section", { class: "page" },
    h("h1", { text: "Your usage" }),
    h("p", { class: "note", text: `${byDay.from} to ${byDay.to}: ${total.runs} runs, ${total.tokens} tokens, ${cost(total.cost, total.unpriced_runs)}. "~" marks estimated token counts.` }),
    byDay.items.length ? timeChart("Tokens per day", days(byDay.items), [{ label: "tokens", values: byDay.items.map((d) => d.tokens) }], { bars: true }) : null,
    h("h2", { text: "Per day" }), usageTable(byDay.items, "day", "Day"),
    h("h2", { text: "Per model" }), usageTable(byModel.items, "model", "Model")));
  focusHeading(main);
}
