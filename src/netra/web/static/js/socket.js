// The live event stream of one thread over /ws: token in the subprotocol header,
// reconnect with backoff, resume after the last seq seen, re-auth after 4401.
import { app } from "./state.js";
import { refresh, signOutLocally } from "./api.js";
import { reportDown, reportUp } from "./connectivity.js";

const CLOSE_WORDS = {
  4400: "the server did not understand the app's message",
  4401: "your sign-in expired; renewing it",
  4403: "the server refused this connection",
  4413: "a message was too large for the server",
  4429: "too many messages at once; slowing down",
  1001: "the connection went quiet",
  1011: "the server hit an internal error",
  1012: "the server is restarting",
  1013: "the server is busy",
};

export function closeWords(code, reason) {
  const words = CLOSE_WORDS[code] || "the connection to the server was lost";
  return reason ? `${words} (${reason})` : words;
}

export class ThreadStream {
  /** `onEvent(envelope)` for every event after `afterSeq`; `onStatus(text, state)`. */
  constructor(threadId, afterSeq, { onEvent, onStatus, onReplayed, onResync }) {
    this.threadId = threadId;
    this.lastSeq = afterSeq;
    this.handlers = { onEvent, onStatus, onReplayed, onResync };
    this.attempt = 0;
    this.closed = false;
    this.ws = null;
    this.pinger = null;
    this.retry = null;
    this.connect();
  }

  status(text, state) {
    this.handlers.onStatus?.(text, state);
  }

  async connect() {
    if (this.closed) return;
    if (!app.token) {
      const outcome = await refresh();
      if (!outcome.ok) return signOutLocally(`Your session has ended (${outcome.error.message}). Please sign in again.`);
    }
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${window.location.host}/ws`, ["netra.v1", `bearer.${app.token}`]);
    } catch {
      return this.later(1006, "");
    }
    this.ws = ws;
    this.status(this.attempt ? "Reconnecting…" : "Connecting…", "connecting");
    ws.addEventListener("message", (e) => this.receive(e.data));
    ws.addEventListener("close", (e) => this.closedWith(e.code, e.reason));
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      this.attempt = 0;
      reportUp();
      this.status("Live", "live");
      const every = Math.max(5, Number(frame.payload?.heartbeat) || 20) * 1000;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ type: "ping" }), every);
      this.send({ type: "subscribe", thread_id: this.threadId, after_seq: this.lastSeq });
    } else if (frame.type === "ack" && frame.payload?.request === "subscribe") {
      this.handlers.onReplayed?.(frame.payload.last_seq);
    } else if (frame.type === "error") {
      if (frame.payload?.code === "bad_seq") {
        // The thread's log is behind what we saw (restored database): start over.
        this.lastSeq = 0;
        this.handlers.onResync?.();
        this.send({ type: "subscribe", thread_id: this.threadId, after_seq: 0 });
      } else {
        this.status(`Error: ${frame.payload?.message || "unknown"}`, "error");
      }
    } else if (typeof frame.seq === "number" && frame.thread_id === this.threadId) {
      if (frame.seq <= this.lastSeq) return; // already seen (replay overlap)
      this.lastSeq = frame.seq;
      this.handlers.onEvent(frame);
    }
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  async closedWith(code, reason) {
    clearInterval(this.pinger);
    this.ws = null;
    if (this.closed) return;
    if (code === 4401) {
      // Expired or revoked: one refresh, then straight back (no backoff).
      const outcome = await refresh();
      if (!outcome.ok) {
        return signOutLocally(`Your session has ended (${outcome.error.message}). Please sign in again.`);
      }
      this.attempt += 1;
      if (this.attempt <= 2) return this.connect();
    }
    if (code === 4403) {
      return this.status(`Not connected: ${closeWords(code, reason)}.`, "error");
    }
    this.later(code, reason);
  }

  later(code, reason) {
    this.attempt += 1;
    const base = code === 1012 ? 250 : 500;
    const delay = Math.min(15000, base * 2 ** Math.min(this.attempt, 6)) * (0.75 + Math.random() / 2);
    const secs = Math.max(1, Math.round(delay / 1000));
    const words = closeWords(code, reason);
    this.status(`Reconnecting in ${secs} s: ${words}.`, "reconnecting");
    if (this.attempt >= 3 && code !== 1012) reportDown(`Live updates are interrupted: ${words}. Retrying…`);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect now (the server is back). */
  nudge() {
    if (!this.ws && !this.closed) {
      clearTimeout(this.retry);
      this.connect();
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000, "closed");
  }
}
