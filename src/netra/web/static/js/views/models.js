// The composer's model picker: the catalog models the user may use (GET /api/models).
// In a chat, choosing one sets the thread's model (PATCH), so it is remembered per
// thread on every device; before a chat exists, the choice goes with its creation.
import { api } from "../api.js";
import { app } from "../state.js";
import { h } from "../dom.js";

export async function loadModels() {
  if (!app.models) app.models = await api("/api/models");
  return app.models;
}

// A <select> of the models, or null when there is nothing to choose between.
// `current` is the thread's model id (null: the default); `onChange(id)` is awaited
// and, if it throws, the previous choice is put back.
export function modelPicker({ current, onChange }) {
  const models = app.models || [];
  if (models.length < 2) return null;
  const fallback = models.find((m) => m.default)?.id ?? models[0].id;
  const known = models.some((m) => m.id === current);
  const select = h("select", { id: "model-picker", name: "model" },
    ...models.map((m) => h("option", { value: m.id, text: m.default ? `${m.label} (default)` : m.label })));
  select.value = known ? current : fallback;
  let shown = select.value;
  select.addEventListener("change", async () => {
    try {
      await onChange(select.value);
      shown = select.value;
    } catch {
      select.value = shown;
    }
  });
  return h("div", { class: "model-picker" },
    h("label", { for: "model-picker", text: "Model" }), select);
}
