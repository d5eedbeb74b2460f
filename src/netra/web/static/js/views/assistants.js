// Assistants (GET /api/assistants): the picker a new chat starts with, the starter
// prompts an empty thread offers as buttons, and a dialog to make and edit one's own
// (instructions, model, tools, starters). Shared ones are listed, not edited here.
import { api } from "../api.js";
import { app } from "../state.js";
import { h, field } from "../dom.js";

const BUILTIN = "builtin";

export async function loadAssistants(fresh = false) {
  if (fresh || !app.assistants) app.assistants = await api("/api/assistants");
  return app.assistants;
}

export function assistantById(id) {
  return (app.assistants || []).find((a) => a.id === (id || BUILTIN)) || null;
}

// A <select> of the assistants; `onChange(id)` is told the new choice.
export function assistantPicker({ current, onChange }) {
  const assistants = app.assistants || [];
  const select = h("select", { id: "assistant-picker", name: "assistant" },
    ...assistants.map((a) => h("option", { value: a.id, text: a.shared ? a.name : `${a.name} (yours)` })));
  select.value = assistantById(current)?.id ?? BUILTIN;
  select.addEventListener("change", () => onChange(select.value));
  return h("div", { class: "assistant-picker" },
    h("label", { for: "assistant-picker", text: "Assistant" }), select);
}

// The assistant's starter prompts as buttons; `onPick(text)` sends one.
export function starterButtons(assistant, onPick) {
  const starters = assistant?.starters || [];
  if (!starters.length) return null;
  return h("div", { class: "starters", role: "group", "aria-label": "Starter prompts" },
    ...starters.map((text) => h("button", {
      type: "button", class: "secondary starter", text, onclick: () => onPick(text),
    })));
}

// The dialog: one's own assistants, each editable, and a form for a new one.
// `onSaved()` is called after any change, with the list reloaded.
export function openAssistantsDialog(onSaved) {
  const dialog = h("dialog", { class: "assistants-dialog", "aria-labelledby": "assistants-title" });
  const close = () => { dialog.close(); dialog.remove(); };
  const draw = (editing = null) => {
    const own = (app.assistants || []).filter((a) => a.editable);
    dialog.replaceChildren(
      h("h2", { id: "assistants-title", text: "Assistants" }),
      own.length
        ? h("ul", { class: "assistant-list", "aria-label": "Your assistants" }, ...own.map((a) => h("li", {},
          h("span", { text: a.name }),
          h("button", { type: "button", class: "secondary small", text: `Edit ${a.name}`, onclick: () => draw(a) }),
          h("button", { type: "button", class: "danger small", text: `Delete ${a.name}`, onclick: () => remove(a) }))))
        : h("p", { class: "note", text: "You have no assistants of your own yet." }),
      assistantForm(editing, async () => { await reload(); draw(); }),
      h("button", { type: "button", class: "secondary", text: "Close", onclick: close }));
  };
  const reload = async () => { await loadAssistants(true); onSaved(); };
  const remove = async (assistant) => {
    if (!window.confirm(`Delete the assistant “${assistant.name}”?`)) return;
    await api(`/api/assistants/${encodeURIComponent(assistant.id)}`, { method: "DELETE" });
    await reload();
    draw();
  };
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  draw();
  dialog.showModal();
}

function assistantForm(editing, onDone) {
  const name = h("input", { id: "assistant-name", maxlength: "100", required: true, value: editing?.name ?? "" });
  const instructions = h("textarea", { id: "assistant-instructions", rows: "4", maxlength: "20000" });
  instructions.value = editing?.instructions ?? "";
  const models = app.models || [];
  const model = h("select", { id: "assistant-model" }, h("option", { value: "", text: "The chat's model" }),
    ...models.map((m) => h("option", { value: m.id, text: m.label })));
  model.value = editing?.model ?? "";
  const allTools = assistantById(BUILTIN)?.tools || [];
  const chosen = new Set(editing?.tools ?? []);
  const tools = h("fieldset", { class: "tool-choices" }, h("legend", { text: "Tools" }),
    ...allTools.map((tool) => h("label", {},
      h("input", { type: "checkbox", name: "tool", value: tool, checked: chosen.has(tool) }), ` ${tool}`)));
  const starters = h("textarea", { id: "assistant-starters", rows: "3" });
  starters.value = (editing?.starters ?? []).join("\n");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "assistant-form", "aria-label": editing ? "Edit assistant" : "New assistant" },
    h("h3", { text: editing ? `Edit ${editing.name}` : "New assistant" }),
    field("Name", name), field("Instructions", instructions, "The system prompt of its answers."),
    field("Assistant model", model), tools,
    field("Starters", starters, "One prompt per line, offered as buttons in a new chat."),
    error, h("button", { type: "submit", class: "primary", text: editing ? "Save assistant" : "Create assistant" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      name: name.value.trim(),
      instructions: instructions.value,
      model: model.value || null,
      tools: [...tools.querySelectorAll("input:checked")].map((box) => box.value),
      starters: starters.value.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    error.hidden = true;
    try {
      const path = editing ? `/api/assistants/${encodeURIComponent(editing.id)}` : "/api/assistants";
      await api(path, { method: editing ? "PATCH" : "POST", body });
      await onDone();
    } catch (failure) {
      error.textContent = `Not saved: ${failure.message}`;
      error.hidden = false;
    }
  });
  return form;
}
