// "Is the server there?": one banner for the whole page, a /health poll while it is
// down, and callbacks for the views to reload once it is back.
import { app } from "./state.js";

const watchers = new Set();
let poll = null;

function banner() {
  return document.getElementById("banner");
}

export function onBackOnline(callback) {
  watchers.add(callback);
  return () => watchers.delete(callback);
}

export function reportDown(message) {
  const el = banner();
  if (el) {
    el.textContent = message;
    el.hidden = false;
    el.className = "banner banner-down";
  }
  if (!app.online) return;
  app.online = false;
  poll = setInterval(probe, 2000);
}

export function reportUp() {
  if (app.online) return;
  app.online = true;
  clearInterval(poll);
  poll = null;
  const el = banner();
  if (el) {
    el.textContent = "Reconnected.";
    el.className = "banner banner-up";
    setTimeout(() => {
      if (app.online) el.hidden = true;
    }, 2500);
  }
  for (const callback of watchers) callback();
}

async function probe() {
  try {
    const response = await fetch("/health", { cache: "no-store" });
    if (response.ok) reportUp();
  } catch {
    // still down; the banner already says so
  }
}
