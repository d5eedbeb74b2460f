// A shared chat, read-only: the snapshot /api/shared/{token} holds (messages, each
// answer's tool calls, a name only if the owner chose to show one). Text nodes and the
// app's own Markdown renderer only; nothing from the snapshot is parsed as HTML.
import { h, when } from "./dom.js";
import { render } from "./markdown.js";

const main = document.getElementById("main");
const token = decodeURIComponent(window.location.pathname.split("/").pop() || "");

function toolCall(call) {
  const outcome = call.error ? `error: ${call.error}` : JSON.stringify(call.result);
  return h("li", { class: call.error ? "step step-tool failed" : "step step-tool done" },
    h("span", {}, "Tool ", h("code", { text: call.tool })),
    h("pre", { text: JSON.stringify(call.arguments) }),
    h("pre", { text: outcome }));
}

function turn(message) {
  if (message.role === "user") {
    return h("li", { class: "turn turn-user" }, h("div", { class: "who", text: "Question" }),
      h("div", { class: "bubble", text: message.content }));
  }
  const steps = message.tool_calls.length
    ? h("ol", { class: "timeline", "aria-label": "Tool calls" }, message.tool_calls.map(toolCall))
    : null;
  return h("li", { class: "turn turn-agent" }, h("div", { class: "who", text: "Answer" }), steps,
    h("div", { class: "answer" }, render(message.content)));
}

async function show() {
  const response = await fetch(`/api/shared/${encodeURIComponent(token)}`, { credentials: "omit" });
  if (!response.ok) {
    main.replaceChildren(h("h1", { text: "This shared chat is not available" }),
      h("p", { text: "The link may be mistyped, or its owner stopped sharing it." }));
    return;
  }
  const shared = await response.json();
  document.title = `${shared.title} · shared from Netra`;
  const byline = shared.author ? `Shared by ${shared.author} on ${when(shared.shared_at)}` : `Shared on ${when(shared.shared_at)}`;
  main.replaceChildren(h("h1", { text: shared.title }), h("p", { class: "note", text: byline }),
    h("ol", { class: "log", "aria-label": "Messages" }, shared.messages.map(turn)));
}

show().catch((error) => main.replaceChildren(h("p", { class: "error", role: "alert", text: error.message })));
