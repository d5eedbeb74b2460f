// A thread's header: its title (rename), its assistant, the live status, and its actions
// (share a read-only snapshot, export Markdown or JSON, delete).
import { api } from "../api.js";
import { app } from "../state.js";
import { h } from "../dom.js";
import { assistantById } from "./assistants.js";

export function threadHeader(thread, chat) {
  const title = h("h1", { class: "thread-title", text: thread.title });
  const assistant = assistantById(thread.assistant_id);
  const who = h("span", { class: "thread-assistant note", text: `with ${assistant?.name ?? "Netra"}` });
  const status = h("span", { class: "live-status", role: "status", text: "Connecting…" });
  const rename = h("button", { type: "button", class: "secondary small", text: "Rename" });
  const remove = h("button", { type: "button", class: "danger small", text: "Delete" });
  const exportMd = h("button", { type: "button", class: "secondary small", text: "Export Markdown" });
  const exportJson = h("button", { type: "button", class: "secondary small", text: "Export JSON" });
  const share = h("button", { type: "button", class: "secondary small", text: "Share" });
  const bar = h("div", { class: "thread-head" }, title, who,
    h("div", { class: "actions" }, status, share, exportMd, exportJson, rename, remove));
  exportMd.addEventListener("click", () => download(thread, "markdown", "md"));
  exportJson.addEventListener("click", () => download(thread, "json", "json"));
  share.addEventListener("click", () => shareThread(thread, bar, share));
  rename.addEventListener("click", () => {
    const input = h("input", { id: "rename-input", value: thread.title, maxlength: "200", required: true });
    const form = h("form", { class: "rename" },
      h("label", { for: "rename-input", class: "visually-hidden", text: "Chat title" }), input,
      h("button", { type: "submit", class: "primary small", text: "Save" }));
    const done = () => form.replaceWith(title);
    input.addEventListener("keydown", (e) => { if (e.key === "Escape") { done(); rename.focus(); } });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const updated = await api(`/api/threads/${encodeURIComponent(thread.id)}`, { method: "PATCH", body: { title: input.value.trim() } });
      thread.title = updated.title;
      title.textContent = updated.title;
      const listed = app.threads.find((t) => t.id === thread.id);
      if (listed) listed.title = updated.title;
      done();
      const link = document.querySelector(".thread-list a.active");
      if (link) link.textContent = updated.title;
    });
    title.replaceWith(form);
    input.select();
  });
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete “${thread.title}” and all its messages?`)) return;
    await api(`/api/threads/${encodeURIComponent(thread.id)}`, { method: "DELETE" });
    window.location.hash = "#/";
  });
  chat.setStatus = (text, state) => {
    status.textContent = text;
    status.dataset.state = state;
  };
  return bar;
}

async function download(thread, format, suffix) {
  const text = await api(`/api/threads/${encodeURIComponent(thread.id)}/export?format=${format}`, { as: "text" });
  const type = format === "json" ? "application/json" : "text/markdown";
  const link = h("a", {
    href: URL.createObjectURL(new Blob([text], { type })),
    download: `${thread.title.replace(/[^\w.-]+/g, "-").slice(0, 60) || "thread"}.${suffix}`,
  });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// A read-only snapshot at a secret link, shown once: copy it now, or stop sharing.
async function shareThread(thread, bar, button) {
  button.disabled = true;
  try {
    const made = await api(`/api/threads/${encodeURIComponent(thread.id)}/shares`, { method: "POST", body: {} });
    const url = h("input", { id: "share-url", value: made.url, readonly: true });
    const copy = h("button", { type: "button", class: "primary small", text: "Copy link" });
    const stop = h("button", { type: "button", class: "danger small", text: "Stop sharing" });
    const note = h("p", { class: "note", role: "status", text: "Anyone with this link sees the chat as it is now. It is shown only once." });
    const panel = h("div", { class: "share-panel" },
      h("label", { for: "share-url", text: "Shared link" }), url, copy, stop, note);
    copy.addEventListener("click", async () => {
      url.select();
      await navigator.clipboard?.writeText(made.url).catch(() => {});
      note.textContent = "Link copied.";
    });
    stop.addEventListener("click", async () => {
      await api(`/api/shares/${encodeURIComponent(made.id)}`, { method: "DELETE" });
      panel.replaceChildren(h("p", { class: "note", role: "status", text: "Sharing stopped: the link no longer works." }));
    });
    bar.after(panel);
    url.select();
  } finally {
    button.disabled = false;
  }
}
