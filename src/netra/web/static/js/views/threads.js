// The thread list: create, search (by title), open. Rename and delete live in the
// conversation header (chat.js).
import { api } from "../api.js";
import { app } from "../state.js";
import { h } from "../dom.js";

export async function loadThreads() {
  app.threads = await api("/api/threads?limit=200");
  return app.threads;
}

export function threadList({ current, onNew }) {
  const list = h("ul", { class: "thread-list", "aria-label": "Your chats" });
  const search = h("input", {
    type: "search", id: "thread-search", placeholder: "Search chats", autocomplete: "off",
  });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = app.threads.filter((t) => !q || t.title.toLowerCase().includes(q));
    list.replaceChildren(...shown.map((t) => h("li", {},
      h("a", {
        href: `#/t/${encodeURIComponent(t.id)}`, class: t.id === current ? "active" : null,
        "aria-current": t.id === current ? "page" : null, text: t.title,
      }))));
    if (!shown.length) list.append(h("li", { class: "empty", text: q ? "No chat matches." : "No chats yet." }));
  };
  search.addEventListener("input", draw);
  draw();
  return h("aside", { class: "threads", "aria-label": "Chats" },
    h("button", { type: "button", class: "primary wide", text: "New chat", onclick: onNew }),
    h("label", { for: "thread-search", class: "visually-hidden", text: "Search chats" }),
    search, h("nav", {}, list));
}
