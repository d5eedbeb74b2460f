// Files in a thread: the composer's attachments (a button and a drop zone; each file is
// uploaded at once and sent with the next message as file_ids) and the chips a message
// shows for its files, which download them (the bytes need the bearer token: fetched,
// then saved under the file's name).
import { api } from "../api.js";
import { h } from "../dom.js";

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function downloadFile(file) {
  const blob = await api(`/api/files/${encodeURIComponent(file.id)}`, { as: "blob" });
  const link = h("a", { href: URL.createObjectURL(blob), download: file.name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

/** A message's files as chips; each one downloads its file. */
export function fileChips(files, onError = () => {}) {
  const list = h("ul", { class: "attachments", "aria-label": "Attached files" });
  for (const file of files || []) {
    const link = h("a", {
      href: `/api/files/${encodeURIComponent(file.id)}`, class: "attachment",
      "data-file-id": file.id, title: `Download ${file.name}`,
    }, h("span", { class: "attachment-name", text: file.name }),
      h("span", { class: "attachment-size", text: size(file.size) }));
    link.addEventListener("click", (e) => {
      e.preventDefault();
      downloadFile(file).catch((error) => onError(error));
    });
    list.append(h("li", {}, link));
  }
  return list;
}

/** The composer's attachments for `threadId`: `el` to show, `dropOn(form)` to take
 * dropped files, `ids()` to send, `clear()` once sent. */
export function attachmentPicker(threadId) {
  const pending = [];
  const input = h("input", { type: "file", id: "attach-input", multiple: true, class: "visually-hidden" });
  const button = h("button", { type: "button", class: "secondary small", text: "Attach files" });
  const list = h("ul", { class: "attachments pending", "aria-label": "Files to send" });
  const status = h("p", { class: "note attach-status", role: "status" });
  const render = () => {
    list.replaceChildren(...pending.map((file) => {
      const remove = h("button", { type: "button", class: "link small", text: "Remove", "aria-label": `Remove ${file.name}` });
      remove.addEventListener("click", async () => {
        pending.splice(pending.indexOf(file), 1);
        render();
        await api(`/api/files/${encodeURIComponent(file.id)}`, { method: "DELETE" }).catch(() => {});
      });
      return h("li", { class: "attachment" }, h("span", { class: "attachment-name", text: file.name }),
        h("span", { class: "attachment-size", text: size(file.size) }), remove);
    }));
  };
  const upload = async (files) => {
    for (const file of files) {
      status.textContent = `Uploading ${file.name}…`;
      const form = new FormData();
      form.append("file", file, file.name);
      try {
        pending.push(await api(`/api/threads/${encodeURIComponent(threadId)}/files`, { method: "POST", body: form }));
        status.textContent = `${file.name} attached.`;
      } catch (error) {
        status.textContent = `${file.name} not attached: ${error.message}`;
      }
      render();
    }
  };
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => { upload([...input.files]); input.value = ""; });
  const el = h("div", { class: "attach" },
    h("label", { for: "attach-input", class: "visually-hidden", text: "Attach files" }), input, button, list, status);
  return {
    el,
    ids: () => pending.map((file) => file.id),
    files: () => [...pending],
    clear: () => { pending.length = 0; status.textContent = ""; render(); },
    dropOn(target) {
      target.addEventListener("dragover", (e) => {
        if (![...e.dataTransfer.types].includes("Files")) return;
        e.preventDefault();
        target.classList.add("dropping");
      });
      target.addEventListener("dragleave", () => target.classList.remove("dropping"));
      target.addEventListener("drop", (e) => {
        if (!e.dataTransfer.files.length) return;
        e.preventDefault();
        target.classList.remove("dropping");
        upload([...e.dataTransfer.files]);
      });
    },
  };
}
