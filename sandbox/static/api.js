// Talking to the sandbox: the state (/sandbox/state), what people do (POST /sandbox/…), live
// updates (Server-Sent Events on /sandbox/events) and toasts when something fails.
import { $, el } from "./dom.js";
import { view } from "./state.js";

let show = () => {};

/** Call `render` each time a fresh state has arrived. */
export function onState(render) {
  show = render;
}

export async function refresh() {
  if (view.busy) { view.wantRefresh = true; return; }
  view.busy = true;
  try {
    const query = new URLSearchParams({ user: view.me || "", channel: view.channel || "" });
    const response = await fetch(`/sandbox/state?${query}`);
    const state = await response.json();
    // Picked another person or channel meanwhile: render that instead, not this stale answer.
    const now = new URLSearchParams({ user: view.me || "", channel: view.channel || "" });
    if (query.toString() !== now.toString()) {
      view.wantRefresh = true;
      return;
    }
    view.state = state;
    show();
  } catch (error) {
    toast(`Cannot reach the sandbox: ${error.message}`, true);
  } finally {
    view.busy = false;
    if (view.wantRefresh) { view.wantRefresh = false; refresh(); }
  }
}

export function scheduleRefresh() {
  clearTimeout(view.refreshTimer);
  view.refreshTimer = setTimeout(refresh, 40);
}

export async function post(path, body) {
  try {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type":
      "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (!response.ok) toast(answer.error || `HTTP ${response.status}`, true);
    else if (answer.error && answer.error !== "unknown_command") {
      toast(`Slack could not reach the app: ${answer.error}`, true);
    }
    scheduleRefresh();
    return answer;
  } catch (error) {
    toast(String(error.message || error), true);
    return null;
  }
}

export function toast(text, error = false) {
  const node = el("div", { class: `toast${error ? " error" : ""}`, role: "status" }, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), 4000);
}

export function liveUpdates() {
  const source = new EventSource("/sandbox/events");
  source.addEventListener("change", scheduleRefresh);
  source.onerror = () => { /* EventSource reconnects by itself (retry: 1000). */ };
  // Clocks in the sidebar and relative dates move on even when nothing happens.
  setInterval(scheduleRefresh, 30000);
}
