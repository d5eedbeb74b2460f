// Branches of a chat: the "‹ 2/3 ›" switcher on a message with siblings, editing one's
// own message in place (sending the edit makes a sibling) and regenerating an answer.
// The server keeps the tree (docs/protocol.md, "Branches"); this draws its controls.
import { api } from "../api.js";
import { h, randomId } from "../dom.js";

const thread = (chat) => `/api/threads/${encodeURIComponent(chat.threadId)}`;

// Every message of the branch the thread shows, root first (all its pages).
export async function shownBranch(threadId) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const body = await api(`/api/threads/${encodeURIComponent(threadId)}/messages?limit=200${q}`);
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// Under the user's message: its versions' switcher and Edit.
export function questionTools(chat, message, turn, onChange, onStarted) {
  return h("div", { class: "branch-tools" }, switcher(chat, message, onChange),
    editButton(chat, message, turn, onStarted));
}

// Under an answer: the answers' switcher and Regenerate.
export function answerTools(chat, message, onChange, onStarted) {
  return h("div", { class: "branch-tools" }, switcher(chat, message, onChange),
    regenerateButton(chat, message, onStarted));
}

// "‹ 2/3 ›": show the previous or next sibling's branch (where it was last left).
function switcher(chat, message, onChange) {
  const ids = message.sibling_ids || [message.id];
  if (ids.length < 2) return null;
  const at = ids.indexOf(message.id);
  const go = async (to) => {
    try {
      await api(`${thread(chat)}/active-leaf`, { method: "PUT", body: { message_id: ids[to] } });
      await onChange();
    } catch (error) {
      chat.setStatus(`Branch not shown: ${error.message}`, "error");
    }
  };
  const label = message.role === "user" ? "version" : "answer";
  return h("div", { class: "switcher", role: "group", "aria-label": `Other ${label}s` },
    h("button", {
      type: "button", class: "secondary small", text: "‹", "aria-label": `Previous ${label}`,
      disabled: at <= 0, onclick: () => go(at - 1),
    }),
    h("span", { class: "position", text: `${at + 1}/${ids.length}` }),
    h("button", {
      type: "button", class: "secondary small", text: "›", "aria-label": `Next ${label}`,
      disabled: at >= ids.length - 1, onclick: () => go(at + 1),
    }));
}

// An edit button on the user's message: the bubble becomes a form; sending posts the
// text as a sibling (same parent), which the agent answers.
function editButton(chat, message, turn, onSent) {
  return h("button", {
    type: "button", class: "secondary small edit", text: "Edit", "aria-label": "Edit this message",
    onclick: () => {
      const bubble = turn.querySelector(".bubble");
      const input = h("textarea", { class: "edit-input", rows: "3", "aria-label": "Edited message" });
      input.value = message.content;
      const error = h("p", { class: "error", role: "alert", hidden: true });
      const form = h("form", { class: "edit-form" }, input,
        h("button", { type: "submit", class: "primary small", text: "Send" }),
        h("button", { type: "button", class: "secondary small", text: "Cancel", onclick: () => form.replaceWith(bubble) }),
        error);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        try {
          const posted = await api(`${thread(chat)}/messages`, {
            method: "POST", body: { text, client_msg_id: randomId(), parent_id: message.parent_id },
          });
          await onSent(posted.message.id, posted.run_id);
        } catch (e2) {
          error.textContent = `Not sent: ${e2.message}`;
          error.hidden = false;
        }
      });
      bubble.replaceWith(form);
      input.focus();
    },
  });
}

// A regenerate button on an answer: a new run answers the same question again.
function regenerateButton(chat, message, onStarted) {
  return h("button", {
    type: "button", class: "secondary small regenerate", text: "Regenerate",
    "aria-label": "Regenerate this answer",
    onclick: async () => {
      try {
        const run = await api(`/api/messages/${encodeURIComponent(message.id)}/regenerate`, {
          method: "POST", body: {},
        });
        await onStarted(message.parent_id, run.id);
      } catch (error) {
        chat.setStatus(`Not regenerated: ${error.message}`, "error");
      }
    },
  });
}
