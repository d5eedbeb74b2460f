// The chat view: thread list, conversation (the branch the thread shows: the user's
// messages, each run's timeline and answer), composer; live updates through ThreadStream.
import { api, ApiError } from "../api.js";
import { app } from "../state.js";
import { h, randomId, focusHeading } from "../dom.js";
import { ThreadStream } from "../socket.js";
import { onBackOnline } from "../connectivity.js";
import { RunView } from "./timeline.js";
import { answerTools, questionTools, shownBranch } from "./branches.js";
import { loadThreads, threadList } from "./threads.js";
import { loadModels, modelPicker } from "./models.js";
import { attachmentPicker, fileChips } from "./files.js";
import { threadHeader } from "./threadhead.js";
import { assistantById, assistantPicker, loadAssistants, openAssistantsDialog, starterButtons } from "./assistants.js";

const MAX_CHARS = 16000; // the backend's MESSAGE_MAX_CHARS default; it answers 413 beyond its own

function leave() {
  if (app.chat) {
    app.chat.stream?.close();
    app.chat.unwatch?.();
  }
  app.chat = null;
}

export async function chatView(main, threadId, messageId = null) {
  leave();
  const chat = { threadId, messageId, runs: new Map(), stream: null };
  app.chat = chat;
  main.replaceChildren(h("p", { class: "loading", text: "Loading your chats…" }));
  try {
    await Promise.all([loadThreads(), loadModels(), loadAssistants()]);
  } catch (error) {
    return main.replaceChildren(h("p", { class: "error", role: "alert", text: error.message }));
  }
  if (app.chat !== chat) return; // the user moved on meanwhile
  const conversation = h("section", { class: "conversation", "aria-label": "Conversation" });
  main.replaceChildren(h("div", { class: "chat" },
    threadList({ current: threadId, onNew: () => newThread() }), conversation));
  chat.unwatch = onBackOnline(() => {
    chat.stream?.nudge();
    loadThreads().then(() => {
      if (app.chat === chat) main.querySelector(".threads")?.replaceWith(threadList({ current: threadId, onNew: () => newThread() }));
    }).catch(() => {});
  });
  if (!threadId) return emptyState(conversation);
  await openThread(conversation, chat);
}

async function newThread(firstText) {
  const title = firstText ? firstText.replace(/\s+/g, " ").slice(0, 60) : "New chat";
  const body = { title };
  if (app.nextModel) body.model = app.nextModel;
  if (app.nextAssistant) body.assistant_id = app.nextAssistant;
  const thread = await api("/api/threads", { method: "POST", body });
  app.nextModel = null;
  app.nextAssistant = null;
  app.pendingText = firstText || null;
  window.location.hash = `#/t/${encodeURIComponent(thread.id)}`;
}

// A new chat: pick its assistant (its starters become buttons), then type or pick.
function emptyState(conversation) {
  const starters = h("div", { class: "starter-slot" });
  const showStarters = () => starters.replaceChildren(
    starterButtons(assistantById(app.nextAssistant), (text) => newThread(text)) ?? "");
  const manage = h("button", {
    type: "button", class: "secondary small", text: "Manage assistants",
    onclick: () => openAssistantsDialog(() => {
      if (!assistantById(app.nextAssistant)) app.nextAssistant = null;
      emptyState(conversation);
    }),
  });
  conversation.replaceChildren(
    h("h1", { text: "Start a chat" }),
    h("p", { class: "note", text: "Ask anything. Try “what is 17 * 23?” to watch the agent call a tool." }),
    h("div", { class: "assistant-bar" },
      assistantPicker({ current: app.nextAssistant, onChange: (id) => { app.nextAssistant = id; showStarters(); } }),
      manage),
    starters,
    composer(async (text) => newThread(text),
      modelPicker({ current: app.nextModel, onChange: async (id) => { app.nextModel = id; } })));
  showStarters();
  focusHeading(conversation);
}

function composer(onSend, picker = null, attachments = null) {
  const input = h("textarea", {
    id: "composer-input", rows: "3", maxlength: String(MAX_CHARS), required: true,
    placeholder: "Message the agent (Enter to send, Shift+Enter for a new line)",
  });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "primary", text: "Send" });
  // One run per thread: while it answers, a message is refused (409 run_active) and
  // the user may stop that answer and send instead.
  const interrupt = h("button", { type: "button", class: "secondary small", text: "Stop it and send", hidden: true });
  const form = h("form", { class: "composer", "aria-label": "Send a message" },
    h("label", { for: "composer-input", class: "visually-hidden", text: "Message" }),
    input, button, attachments?.el, picker, error, interrupt);
  attachments?.dropOn(form);
  const submit = async (options = {}) => {
    const text = input.value.trim();
    if (!text) return;
    if (attachments) options = { ...options, files: attachments.files() };
    button.disabled = true;
    error.hidden = true;
    interrupt.hidden = true;
    try {
      await onSend(text, options);
      input.value = "";
      attachments?.clear();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 0 ? e.message : `Not sent: ${e.message}`;
      error.hidden = false;
      interrupt.hidden = !(e instanceof ApiError && e.status === 409);
    } finally {
      button.disabled = false;
      input.focus();
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  interrupt.addEventListener("click", () => submit({ interrupt: true }));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  return form;
}

async function openThread(conversation, chat) {
  let thread;
  let messages;
  try {
    thread = await api(`/api/threads/${encodeURIComponent(chat.threadId)}`);
    messages = await shownBranch(chat.threadId);
  } catch (error) {
    return conversation.replaceChildren(h("h1", { text: "Chat not available" }),
      h("p", { class: "error", role: "alert", text: error.message }));
  }
  if (app.chat !== chat) return;
  // Events up to here are history: a run not on the branch shown is kept, not drawn.
  chat.openedSeq = thread.last_seq;
  chat.path = messages;
  chat.answering = new Map(); // question id → the run this tab started for it
  const log = h("ol", { class: "log", "aria-label": "Messages" });
  const scroller = h("div", { class: "scroller" }, log);
  const picker = modelPicker({
      current: thread.model,
      onChange: async (id) => {
        try {
          thread.model = (await api(`/api/threads/${encodeURIComponent(chat.threadId)}`,
            { method: "PATCH", body: { model: id } })).model;
        } catch (error) {
          chat.setStatus(`Model not changed: ${error.message}`, "error");
          throw error;
        }
      },
  });
  conversation.replaceChildren(threadHeader(thread, chat), scroller,
    composer((text, options) => send(chat, text, options), picker, attachmentPicker(chat.threadId)));
  chat.log = log;
  chat.scroller = scroller;
  drawHistory(chat);
  if (!messages.length && !app.pendingText) {
    const starters = starterButtons(assistantById(thread.assistant_id), (text) => {
      starters.remove();
      send(chat, text).catch((error) => chat.setStatus(`Not sent: ${error.message}`, "error"));
    });
    if (starters) scroller.before(starters);
  }
  chat.stream = new ThreadStream(chat.threadId, 0, {
    onEvent: (event) => onEvent(chat, event),
    onStatus: (text, state) => chat.setStatus(text, state),
    onResync: () => { chat.runs.clear(); drawHistory(chat); },
  });
  if (!chat.log.querySelector(".found")) focusHeading(conversation);
  if (app.pendingText) {
    const text = app.pendingText;
    app.pendingText = null;
    await send(chat, text);
  }
}

function drawHistory(chat) {
  chat.log.replaceChildren();
  const messages = chat.path;
  const lastRun = [...messages].reverse().find((m) => m.run_id)?.run_id;
  messages.forEach((message, at) => {
    const next = messages[at + 1];
    if (message.role === "user") {
      const turn = userTurn(chat, message.content, null, message.attachments);
      turn.dataset.messageId = message.id;
      turn.append(questionTools(chat, message, turn, () => refresh(chat), (id, runId) => started(chat, id, runId)));
      // A question without its answer on this branch: its run is under way or failed.
      const runId = chat.answering.get(message.id) || message.run_id;
      if (runId && next?.role !== "assistant") attach(chat, runId, !next || runId === lastRun);
    } else if (message.run_id) {
      const run = attach(chat, message.run_id, message.run_id === lastRun);
      run.finish(message.content);
      run.el.dataset.messageId = message.id;
      run.messageId = message.id;
      run.el.querySelector(":scope > .branch-tools")?.remove();
      run.el.append(answerTools(chat, message, () => refresh(chat), (id, runId) => started(chat, id, runId)));
    }
  });
  const found = chat.messageId && [...chat.log.children].find((el) => el.dataset.messageId === chat.messageId);
  if (found) {
    // Opened from a search result: show that message, not the end of the chat.
    found.classList.add("found");
    found.setAttribute("tabindex", "-1");
    found.scrollIntoView({ block: "center" });
    found.focus({ preventScroll: true });
  } else {
    stick(chat, true);
  }
}

// The branch shown changed (a switch, an edit, a regenerated or finished answer): draw it.
async function refresh(chat) {
  const messages = await shownBranch(chat.threadId);
  if (app.chat !== chat) return;
  chat.path = messages;
  chat.messageId = null;
  drawHistory(chat);
}

async function started(chat, questionId, runId) {
  chat.answering.set(questionId, runId);
  await refresh(chat);
}

function userTurn(chat, text, before = null, files = []) {
  const onError = (error) => chat.setStatus(`Download failed: ${error.message}`, "error");
  const el = h("li", { class: "turn turn-user" }, h("div", { class: "who", text: "You" }),
    h("div", { class: "bubble", text }), files?.length ? fileChips(files, onError) : null);
  chat.log.insertBefore(el, before);
  return el;
}

function runFor(chat, runId, open = true, shown = true) {
  let run = chat.runs.get(runId);
  if (!run) {
    run = new RunView(runId, {
      open, onCancel: (view) => cancel(chat, view), onRate: (view, rating) => rate(chat, view, rating),
      onApprove: (view, callId, approved, note) => approve(chat, view, callId, approved, note),
    });
    chat.runs.set(runId, run);
    if (shown) chat.log.append(run.el);
  }
  return run;
}

// The run's view, placed next in the log (kept across redraws: its timeline stays).
function attach(chat, runId, open) {
  const run = runFor(chat, runId, open, false);
  chat.log.append(run.el);
  return run;
}

// The answer's message id: known from history, else looked up once the run has ended.
async function answerId(chat, view) {
  if (!view.messageId) {
    const found = (await shownBranch(chat.threadId)).find((m) => m.role === "assistant" && m.run_id === view.runId);
    view.messageId = found?.id;
  }
  return view.messageId;
}

async function rate(chat, view, rating) {
  try {
    const id = await answerId(chat, view);
    if (!id) return chat.setStatus("This answer cannot be rated yet.", "error");
    await api(`/api/messages/${encodeURIComponent(id)}/feedback`, { method: "POST", body: { rating } });
    view.rated(rating);
  } catch (error) {
    chat.setStatus(`Feedback not saved: ${error.message}`, "error");
  }
}

async function cancel(chat, view) {
  view.cancelButton.disabled = true;
  try {
    await api(`/api/runs/${encodeURIComponent(view.runId)}/cancel`, { method: "POST" });
  } catch (error) {
    if (error.status !== 409) chat.setStatus(`Cancel failed: ${error.message}`, "error");
  }
}

// The answer arrives back as `approval_resolved`, which updates the card.
async function approve(chat, view, callId, approved, note) {
  view.approvalBusy(callId, true);
  try {
    await api(`/api/runs/${encodeURIComponent(view.runId)}/approvals/${encodeURIComponent(callId)}`,
      { method: "POST", body: { approved, note } });
  } catch (error) {
    if (error.status !== 409) {
      view.approvalBusy(callId, false);
      chat.setStatus(`Answer not sent: ${error.message}`, "error");
    }
  }
}

function onEvent(chat, event) {
  if (!event.run_id) return;
  const near = stick(chat, false);
  const live = event.seq > chat.openedSeq;
  // A run not drawn yet: new (another tab's message) goes at the end; an old one is on
  // another branch, kept for when that branch is shown.
  runFor(chat, event.run_id, true, live).apply(event);
  if (near) stick(chat, true);
  if (live && (event.type === "agent_completed" || event.type === "agent_error")) {
    refresh(chat).catch(() => {});
  }
}

function stick(chat, force) {
  const s = chat.scroller;
  const near = s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  if (force) s.scrollTop = s.scrollHeight;
  return near;
}

async function send(chat, text, { interrupt = false, files = [] } = {}) {
  const body = { text, client_msg_id: randomId(), ...(interrupt ? { interrupt: true } : {}) };
  if (files.length) body.file_ids = files.map((file) => file.id);
  const posted = await api(`/api/threads/${encodeURIComponent(chat.threadId)}/messages`, {
    method: "POST", body,
  });
  chat.answering.set(posted.message.id, posted.run_id);
  const early = chat.runs.get(posted.run_id); // its events may have come first
  const attached = posted.message.attachments;
  if (!early) {
    userTurn(chat, text, null, attached).dataset.messageId = posted.message.id;
    runFor(chat, posted.run_id, true);
  } else if (!early.el.previousElementSibling?.classList.contains("turn-user")) {
    userTurn(chat, text, early.el, attached);
  }
  const run = chat.runs.get(posted.run_id);
  if (posted.status === "queued" && run && run.steps.children.length <= 1) run.waiting();
  stick(chat, true);
}
