// Charts drawn by uPlot, vendored at a pinned version (static/vendor/uplot/VERSION):
// served from this origin like every other file, so the CSP stays 'self' only.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";

function styles() {
  if (document.getElementById("uplot-css")) return;
  document.head.append(h("link", { id: "uplot-css", rel: "stylesheet", href: "/static/vendor/uplot/uPlot.min.css" }));
}

// A chart of series over time: xs in seconds since the epoch, one array per series.
export function timeChart(title, xs, series, { bars = false } = {}) {
  styles();
  const box = h("figure", { class: "chart" }, h("figcaption", { text: title }));
  const colors = ["#2f6fdf", "#d9412b", "#2c9a5b", "#9a6a2c"];
  const options = {
    width: 600,
    height: 220,
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: colors[i % colors.length], width: 2,
      ...(bars ? { paths: uPlot.paths.bars({ size: [0.6, 40] }), fill: `${colors[i % colors.length]}55` } : {}),
    }))],
    axes: [{}, { size: 60 }],
  };
  const data = [xs, ...series.map((s) => s.values)];
  const chart = new uPlot(options, data, box);
  const fit = () => chart.setSize({ width: Math.max(280, box.clientWidth - 8), height: 220 });
  new ResizeObserver(fit).observe(box);
  return box;
}

export function days(items) {
  return items.map((item) => Date.parse(`${item.day}T00:00:00Z`) / 1000);
}
