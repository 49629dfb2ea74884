// crisisbot sandbox page: renders the emulated workspace and sends what you do to the bot.
// ES modules loaded as they are (no build step, nothing fetched from the internet):
//   mrkdwn.js, dates.js   pure text: Slack mrkdwn → safe HTML, times in your time zone
//   blockkit.js, dom.js   Block Kit → DOM (messages' blocks, modals' inputs)
//   state.js, api.js      what the page knows; talking to the sandbox (state, posts, SSE)
//   ui.js, messages.js, modal.js   the page itself
// This file wires them up: the composer, links and keys, live updates, the first state.
import { liveUpdates, onState, post, refresh, toast } from "./api.js";
import { $ } from "./dom.js";
import { closeModal } from "./modal.js";
import { channelById, view } from "./state.js";
import { openChannel, render, showSidebar } from "./ui.js";

async function send(text) {
  if (!text.trim()) return;
  const ch = view.state.channel;
  if (text.trim().startsWith("/")) {
    await post("/sandbox/command", { user: view.me, channel: ch.id, text: text.trim() });
  } else if (ch.is_im && view.state.app.messages_read_only) {
    toast("Sending messages to this app has been turned off.", true);
  } else {
    await post("/sandbox/post", { user: view.me, channel: ch.id, text });
  }
}

function setUpComposer() {
  const input = $("composer-input");
  const submit = () => {
    const text = input.value;
    input.value = "";
    input.style.height = "";
    send(text);
  };
  $("composer").addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); submit(); }
  });
  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  });
}

function setUpLinks() {
  $("sidebar-toggle").addEventListener("click", () => {
    showSidebar(!$("app").classList.contains("nav-open"));
  });
  $("scrim").addEventListener("click", () => showSidebar(false));
  document.addEventListener("click", (ev) => {
    const target = ev.target.closest("[data-channel]");
    if (target && target.classList.contains("mention")) {
      ev.preventDefault();
      const ch = channelById(target.dataset.channel);
      if (ch && (view.state.channels.some((c) => c.id === ch.id))) openChannel(ch.id);
    }
  });
  // A link button to one of your channels (messages.js) opens it here, as Slack's client does.
  document.addEventListener("sandbox:open-channel", (ev) => {
    const id = ev.detail;
    const name = channelById(id)?.name;
    if (view.state.channels.some((c) => c.id === id)) openChannel(id);
    else toast(`You are not a member of ${name ? `#${name}` : "that channel"}.`, true);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && view.state?.modal) closeModal(view.state.modal);
    else if (ev.key === "Escape") showSidebar(false);
  });
}

function start() {
  const [hashUser, hashChannel, hashTab] = location.hash.slice(1).split("/");
  view.me = hashUser || localStorage.getItem("sandbox-user") || "U0ANA";
  view.channel = hashChannel || null;
  view.tab = hashTab === "home" ? "home" : "messages";
  view.lastSeen = JSON.parse(localStorage.getItem(`sandbox-seen-${view.me}`) || "{}");
  onState(render);
  setUpComposer();
  setUpLinks();
  liveUpdates();
  refresh();
}

start();
