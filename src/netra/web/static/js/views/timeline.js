// One agent run: its live timeline (started → thinking → tool calls → completed, with
// durations, and a card to approve or deny a tool call the run waits on) and its answer,
// streamed, then rendered as Markdown.
import { h, seconds } from "../dom.js";
import { render } from "../markdown.js";

function json(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export class RunView {
  constructor(runId, { open = true, onCancel, onRate, onApprove } = {}) {
    this.runId = runId;
    this.onApprove = onApprove;
    this.approvals = new Map();
    this.started = null;
    this.finished = false;
    this.text = "";
    this.calls = new Map();
    this.frame = 0;
    this.steps = h("ol", { class: "steps" });
    this.summaryText = h("span", { text: "Waiting for the agent…" });
    this.cancelButton = h("button", {
      type: "button", class: "secondary small", text: "Cancel",
      onclick: () => onCancel?.(this),
    });
    this.timeline = h("details", { class: "timeline", open },
      h("summary", {}, h("span", { class: "label", text: "Run timeline" }), " · ", this.summaryText),
      this.steps);
    this.answer = h("div", { class: "answer markdown", "aria-live": "polite" });
    this.up = h("button", {
      type: "button", class: "secondary small rate", text: "👍", "aria-label": "Good answer",
      "aria-pressed": "false", onclick: () => onRate?.(this, 1),
    });
    this.down = h("button", {
      type: "button", class: "secondary small rate", text: "👎", "aria-label": "Bad answer",
      "aria-pressed": "false", onclick: () => onRate?.(this, -1),
    });
    this.rating = h("div", { class: "rating", hidden: true }, this.up, this.down);
    this.el = h("li", { class: "turn turn-agent", "data-run": runId },
      h("div", { class: "who", text: "Agent" }),
      h("div", { class: "run-bar" }, this.timeline, this.cancelButton),
      this.answer, this.rating);
  }

  offset(ts) {
    if (!this.started || !ts) return "";
    return `+${seconds(new Date(ts) - this.started)}`;
  }

  step(kind, title, ts, ...body) {
    const li = h("li", { class: `step step-${kind}` },
      h("div", { class: "step-head" }, h("span", { class: "step-title" }, title),
        h("span", { class: "step-time", text: this.offset(ts) })),
      ...body);
    this.steps.append(li);
    this.summaryText.textContent = `${this.steps.children.length} steps`;
    return li;
  }

  /** The server acknowledged the message as `queued`: say so until the run moves. */
  waiting() {
    if (this.queuedNote || this.finished) return;
    this.queuedNote = h("p", {
      class: "queued-note", role: "status",
      text: "The server is busy: this answer starts when a worker is free.",
    });
    this.answer.before(this.queuedNote);
  }

  apply(event) {
    const p = event.payload || {};
    if (this.queuedNote && event.type !== "agent_started") {
      this.queuedNote.remove();
      this.queuedNote = null;
    }
    switch (event.type) {
      case "agent_started":
        this.started = new Date(event.ts);
        this.step("started", `Started (${[p.provider, p.model].filter(Boolean).join(", ")})`, event.ts);
        break;
      case "agent_thinking":
        this.step("thinking", "Thinking", event.ts, h("p", { class: "step-text", text: p.text }));
        break;
      case "tool_executing": {
        const result = h("div", { class: "step-result pending", text: "running…" });
        const li = this.step("tool", ["Tool ", h("code", { text: p.tool })], event.ts,
          h("div", { class: "kv" }, h("span", { text: "arguments" }), h("pre", { text: json(p.arguments) })),
          result);
        this.calls.set(p.call_id, { li, result });
        break;
      }
      case "tool_completed": this.toolDone(event, p); break;
      case "approval_required": this.approvalAsked(event, p); break;
      case "approval_resolved": this.approvalAnswered(p); break;
      case "message_delta":
        if (!this.finished) {
          this.text += p.text || "";
          this.paint();
        }
        break;
      case "agent_completed":
        this.step("completed", `Completed in ${seconds(p.duration_ms)}`, event.ts);
        this.finish(p.text ?? this.text);
        break;
      case "agent_error": this.failed(p, event.ts); break;
      default: break;
    }
  }

  toolDone(event, p) {
    const call = this.calls.get(p.call_id);
    const body = p.error
      ? h("div", { class: "step-result error" }, h("span", { text: "error" }), h("pre", { text: p.error }))
      : h("div", { class: "step-result kv" }, h("span", { text: "result" }), h("pre", { text: json(p.result) }));
    const took = h("span", { class: "step-duration", text: `took ${seconds(p.duration_ms)}` });
    if (call) {
      call.result.replaceWith(body);
      call.li.querySelector(".step-head").append(took);
      call.li.classList.add("done");
    } else {
      this.step("tool", ["Tool ", h("code", { text: p.tool }), " finished"], event.ts, body, took);
    }
  }

  /** A card in the timeline: the tool, its arguments, Approve / Deny (with a note). */
  approvalAsked(event, p) {
    const note = h("input", {
      type: "text", class: "approval-note", maxlength: "2000", placeholder: "Note (optional)",
      "aria-label": "Note for the agent",
    });
    const answer = (approved) => this.onApprove?.(this, p.call_id, approved, note.value.trim() || null);
    const approve = h("button", { type: "button", class: "small", text: "Approve", onclick: () => answer(true) });
    const deny = h("button", { type: "button", class: "secondary small", text: "Deny", onclick: () => answer(false) });
    const status = h("p", { class: "step-text approval-status", text: "Waiting for your approval." });
    const actions = h("div", { class: "approval-actions" }, note, approve, deny);
    const li = this.step("approval", ["Approve ", h("code", { text: p.tool }), "?"], event.ts,
      h("div", { class: "kv" }, h("span", { text: "arguments" }), h("pre", { text: json(p.arguments) })),
      status, actions);
    li.setAttribute("role", "group");
    li.setAttribute("aria-label", `Approval for ${p.tool}`);
    this.approvals.set(p.call_id, { li, status, actions, buttons: [approve, deny, note] });
    this.summaryText.textContent = "Waiting for your approval";
  }

  /** Disable a card's buttons while its answer is on the way (or for good). */
  approvalBusy(callId, busy) {
    const card = this.approvals.get(callId);
    card?.buttons.forEach((button) => { button.disabled = busy; });
  }

  approvalAnswered(p) {
    const card = this.approvals.get(p.call_id);
    if (!card) return;
    card.actions.remove();
    const said = p.approved ? "Approved" : "Denied";
    card.status.textContent = p.note ? `${said}: ${p.note}` : `${said}.`;
    card.li.classList.add("done", p.approved ? "approved" : "denied");
  }

  /** The run ended: a card nobody answered can be answered no more. */
  closeApprovals() {
    for (const card of this.approvals.values()) {
      if (card.li.classList.contains("done")) continue;
      card.actions.remove();
      card.status.textContent = "No longer waiting: the run ended.";
    }
  }

  failed(p, ts) {
    const cancelled = p.code === "cancelled";
    this.step("error", cancelled ? "Cancelled" : "Stopped with an error", ts,
      h("p", { class: "step-text", text: p.reason }));
    this.settle();
    this.answer.replaceChildren(
      h("p", { class: cancelled ? "note" : "error", role: "alert" },
        cancelled ? "The run was cancelled." : `The agent could not answer: ${p.reason}`),
    );
    if (this.text) this.answer.prepend(render(this.text));
  }

  /** The run ended: no more painting (a frame asked for by the last delta would draw the
   * streamed text over the end's answer or note), no cancel, no open approvals. */
  settle() {
    this.finished = true;
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.answer.classList.remove("streaming");
    this.cancelButton.hidden = true;
    this.closeApprovals();
  }

  paint() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.answer.replaceChildren(render(this.text));
      this.answer.classList.add("streaming");
    });
  }

  /** The final answer (from agent_completed, or the stored assistant message). */
  finish(text) {
    this.settle();
    this.text = text;
    this.answer.replaceChildren(render(text));
    this.rating.hidden = false;
  }

  /** Show which way the user rated this answer. */
  rated(rating) {
    this.up.setAttribute("aria-pressed", String(rating === 1));
    this.down.setAttribute("aria-pressed", String(rating === -1));
  }
}
