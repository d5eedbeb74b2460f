// The thread list: create, find, open. Typing filters titles at once; past two
// characters the server's full-text search (GET /api/search) adds the messages and
// answers that match, each a link to the message in its chat. Rename and delete live in
// the conversation header (chat.js).
import { api } from "../api.js";
import { app } from "../state.js";
import { h } from "../dom.js";

const SEARCH_DELAY_MS = 250;

export async function loadThreads() {
  app.threads = await api("/api/threads?limit=200");
  return app.threads;
}

export function messageHref(threadId, messageId) {
  const base = `#/t/${encodeURIComponent(threadId)}`;
  return messageId ? `${base}/${encodeURIComponent(messageId)}` : base;
}

// The snippet as text nodes, matched words in <mark>: never parsed as HTML.
function snippet(result) {
  const parts = [];
  let at = 0;
  for (const [start, end] of result.highlights) {
    parts.push(result.snippet.slice(at, start), h("mark", { text: result.snippet.slice(start, end) }));
    at = end;
  }
  parts.push(result.snippet.slice(at));
  return h("span", { class: "snippet" }, parts);
}

function hitItem(result) {
  const who = { thread: "Chat", file: "File" }[result.kind] || (result.role === "user" ? "You" : "Answer");
  return h("li", {},
    h("a", { href: messageHref(result.thread_id, result.message_id), class: "hit" },
      h("span", { class: "hit-title", text: `${who} · ${result.title}` }),
      result.kind === "thread" ? null : snippet(result)));
}

export function threadList({ current, onNew }) {
  const list = h("ul", { class: "thread-list", "aria-label": "Your chats" });
  const hits = h("ul", { class: "thread-list hits", "aria-label": "Messages found", hidden: true });
  const status = h("p", { class: "note", role: "status", "aria-live": "polite" });
  const search = h("input", {
    type: "search", id: "thread-search", placeholder: "Search chats and messages", autocomplete: "off",
  });
  let timer = null;
  let asked = 0;
  const drawTitles = () => {
    const q = search.value.trim().toLowerCase();
    const shown = app.threads.filter((t) => !q || t.title.toLowerCase().includes(q));
    list.replaceChildren(...shown.map((t) => h("li", {},
      h("a", {
        href: messageHref(t.id), class: t.id === current ? "active" : null,
        "aria-current": t.id === current ? "page" : null, text: t.title,
      }))));
    if (!shown.length) list.append(h("li", { class: "empty", text: q ? "No chat title matches." : "No chats yet." }));
  };
  const searchMessages = async () => {
    const q = search.value.trim();
    const ticket = ++asked;
    if (q.length < 2) {
      hits.hidden = true;
      status.textContent = "";
      return;
    }
    try {
      const page = await api(`/api/search?q=${encodeURIComponent(q)}&limit=20`);
      if (ticket !== asked) return; // a newer query is on its way
      const found = page.results.filter((r) => r.kind !== "thread");
      hits.replaceChildren(...found.map(hitItem));
      hits.hidden = !found.length;
      status.textContent = found.length ? `${found.length}${page.next_cursor ? "+" : ""} messages found` : "No message matches.";
    } catch (error) {
      if (ticket !== asked) return;
      hits.hidden = true;
      status.textContent = error.message;
    }
  };
  search.addEventListener("input", () => {
    drawTitles();
    clearTimeout(timer);
    timer = setTimeout(searchMessages, SEARCH_DELAY_MS);
  });
  drawTitles();
  return h("aside", { class: "threads", "aria-label": "Chats" },
    h("button", { type: "button", class: "primary wide", text: "New chat", onclick: onNew }),
    h("label", { for: "thread-search", class: "visually-hidden", text: "Search chats and messages" }),
    search, status, hits, h("nav", {}, list));
}
