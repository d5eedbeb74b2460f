// The one fetch wrapper. The access token lives in memory (app.token); the refresh
// token lives in an HttpOnly cookie only the auth service reads (X-Netra-Refresh).
// On 401: refresh once (concurrent 401s share that refresh), retry once; if the
// refresh is refused, back to sign-in with a message (docs/incidents.md I-4).
import { app } from "./state.js";
import { reportDown, reportUp } from "./connectivity.js";

export class ApiError extends Error {
  constructor(status, message, reason) {
    super(message);
    this.status = status;
    this.reason = reason || "";
  }
}

const listeners = { signedOut: () => {} };

export function onSignedOut(callback) {
  listeners.signedOut = callback;
}

export function signOutLocally(message) {
  app.token = null;
  app.user = null;
  app.models = null;
  app.assistants = null;
  listeners.signedOut(message);
}

export function setTokens(body) {
  app.token = body.access_token;
}

async function describe(response) {
  let detail = null;
  try {
    detail = (await response.json()).detail;
  } catch {
    detail = null;
  }
  if (detail && typeof detail === "object" && !Array.isArray(detail)) {
    return new ApiError(response.status, detail.message || response.statusText, detail.reason);
  }
  const text = typeof detail === "string" ? detail : `${response.status} ${response.statusText}`;
  return new ApiError(response.status, text);
}

function hex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

// Each call starts a W3C trace, which the backend (and the auth service and model
// server after it) continues when tracing is on: docs/operations.md, Traces.
function traceparent() {
  return `00-${hex(16)}-${hex(8)}-01`;
}

async function send(path, init = {}) {
  let response;
  const headers = new Headers(init.headers);
  headers.set("traceparent", traceparent());
  try {
    response = await fetch(path, { credentials: "same-origin", ...init, headers });
  } catch {
    reportDown("Netra's server cannot be reached. Retrying…");
    throw new ApiError(0, "Netra's server cannot be reached; it will retry when it is back.");
  }
  if (response.status === 502 || response.status === 504) {
    reportDown("Netra's server is not answering. Retrying…");
  } else {
    reportUp();
  }
  return response;
}

async function refreshOnce() {
  const response = await send("/auth/refresh", {
    method: "POST",
    headers: { "X-Netra-Refresh": "cookie" },
  });
  if (response.ok) {
    setTokens(await response.json());
    return { ok: true };
  }
  return { ok: false, error: await describe(response) };
}

/** A fresh access token from the refresh cookie; one refresh at a time for the page. */
export function refresh() {
  if (!app.refreshing) {
    app.refreshing = (async () => {
      try {
        let outcome = await refreshOnce();
        // Another tab rotated the cookie a moment ago: its successor is ours too now.
        if (!outcome.ok && outcome.error.reason === "refresh_token_rotated") {
          await new Promise((resolve) => setTimeout(resolve, 300));
          outcome = await refreshOnce();
        }
        if (!outcome.ok) app.token = null;
        return outcome;
      } finally {
        app.refreshing = null;
      }
    })();
  }
  return app.refreshing;
}

function endedMessage(error) {
  const why = error && error.message ? ` (${error.message})` : "";
  return `Your session has ended${why}. Please sign in again.`;
}

/** JSON in, JSON out; `auth: false` for the sign-in calls. */
export async function api(path, { method = "GET", body, auth = true, headers = {}, as = "json" } = {}) {
  const attempt = () => {
    const all = { Accept: "application/json", ...headers };
    if (body !== undefined) all["Content-Type"] = "application/json";
    if (auth && app.token) all.Authorization = `Bearer ${app.token}`;
    const init = { method, headers: all };
    if (body !== undefined) init.body = JSON.stringify(body);
    return send(path, init);
  };
  const used = app.token;
  let response = await attempt();
  if (response.status === 401 && auth) {
    // The password asked again (creating an API key) was wrong: the session is fine.
    const first = await describe(response.clone());
    if (first.reason === "reauthentication_required") throw first;
    // A refresh may already have happened while this request was in flight.
    if (app.token === used || !app.token) {
      const outcome = await refresh();
      if (!outcome.ok) {
        signOutLocally(endedMessage(outcome.error));
        throw new ApiError(401, "signed out", "signed_out");
      }
    }
    response = await attempt();
    if (response.status === 401) {
      const error = await describe(response);
      signOutLocally(endedMessage(error));
      throw error;
    }
  }
  if (!response.ok) throw await describe(response);
  if (response.status === 204) return null;
  if (as === "text") return response.text();
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : null;
}
