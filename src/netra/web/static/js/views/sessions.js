// Signed-in devices: list, revoke one, sign out everywhere.
import { api } from "../api.js";
import { h, when, focusHeading } from "../dom.js";

function device(agent) {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent) ? "Edge" : /Chrom(e|ium)\//.test(agent) ? "Chromium" :
    /Firefox\//.test(agent) ? "Firefox" : /Safari\//.test(agent) ? "Safari" : null;
  const os = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" :
    /Windows/.test(agent) ? "Windows" : /Mac OS X/.test(agent) ? "macOS" : /Linux/.test(agent) ? "Linux" : null;
  return browser || os ? [browser, os].filter(Boolean).join(" on ") : agent.slice(0, 60);
}

export async function sessionsView(main, { onSignOutEverywhere }) {
  const status = h("p", { class: "note", role: "status" });
  const table = h("tbody");
  const draw = async () => {
    const sessions = await api("/auth/sessions");
    table.replaceChildren(...sessions.map((s) => {
      const revoke = h("button", {
        type: "button", class: s.current ? "secondary small" : "danger small",
        text: s.current ? "Sign out" : "Revoke",
        "aria-label": s.current ? "Sign out this device" : `Revoke session from ${device(s.user_agent)}, signed in ${when(s.created_at)}`,
      });
      revoke.addEventListener("click", async () => {
        revoke.disabled = true;
        await api(`/auth/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
        if (s.current) return onSignOutEverywhere("You signed this device out.");
        status.textContent = `Session on ${device(s.user_agent)} revoked.`;
        await draw();
      });
      return h("tr", {},
        h("td", {}, h("span", { text: device(s.user_agent) }), s.current ? h("span", { class: "badge", text: "this device" }) : null),
        h("td", { text: s.ip_address || "—" }),
        h("td", { text: when(s.created_at) }),
        h("td", { text: when(s.last_used_at) }),
        h("td", {}, revoke));
    }));
  };
  const everywhere = h("button", { type: "button", class: "danger", text: "Sign out everywhere" });
  everywhere.addEventListener("click", async () => {
    if (!window.confirm("Sign out every device, this one included?")) return;
    await api("/auth/logout-all", { method: "POST", headers: { "X-Netra-Refresh": "cookie" } });
    onSignOutEverywhere("You signed out everywhere.");
  });
  main.replaceChildren(h("section", { class: "page" },
    h("h1", { text: "Sessions" }),
    h("p", { class: "note", text: "Devices signed in to your account. Revoking one signs it out within seconds." }),
    status,
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Device", "IP address", "Signed in", "Last active", ""].map((t) => h("th", { scope: "col", text: t })))),
      table)),
    h("div", { class: "actions" }, everywhere)));
  await draw();
  focusHeading(main);
}
