// The page around the messages: sidebar, channel header, details panel, and moving between
// people, channels and the app's tabs. render() draws everything from view.state.
import { post, refresh } from "./api.js";
import { personLabel } from "./blockkit.js";
import { localTime, stamp } from "./dates.js";
import { $, el } from "./dom.js";
import { avatar, renderMessages } from "./messages.js";
import { renderModal } from "./modal.js";
import { esc, mrkdwn } from "./mrkdwn.js";
import { displayName, humans, names, tzOf, view } from "./state.js";

function renderSidebar() {
  const st = view.state;
  $("team-name").textContent = st.team.name;
  $("people").replaceChildren(...humans().map((u) => el("li", {},
    el("button", { type: "button", class: "person", role: "option", "data-user": u.id,
      "aria-selected": String(u.id === view.me), "aria-label": personLabel(u),
      title: personLabel(u), onclick: () => switchUser(u.id) },
    avatar(u.id, true),
    el("span", { class: "person-text" },
      el("span", { class: "person-name" }, u.name,
        u.external ? el("span", { class: "person-org" }, u.team_name) : null,
        u.external ? el("span", { class: "badge badge-external", title: u.team_name },
          "external") : null,
        u.guest ? el("span", { class: "badge badge-guest", title: "Guest" }, "guest") : null),
      el("span", { class: "person-tz" }, `${u.tz.replace(/_/g, " ")} · ${localTime(u.tz)}`))))));
  const link = (c) => {
    const unread = c.latest && view.lastSeen[c.id] !== c.latest && c.id !== view.channel;
    const cls = ["channel-link", c.id === view.channel ? "active" : "",
      unread ? "unread" : "", c.is_archived ? "archived" : ""].join(" ");
    return el("li", {}, el("button", { type: "button", class: cls, "data-channel": c.id,
      "data-name": c.name, onclick: () => openChannel(c.id) },
    el("span", { class: "hash" }, c.is_private ? "🔒" : "#"),
    el("span", { class: "label" }, c.name),
    c.is_shared ? el("span", { class: "badge badge-shared" }, "shared") : null,
    unread ? el("span", { class: "dot", "aria-label": "unread" }) : null));
  };
  const crises = st.channels.filter((c) => c.is_crisis).sort((a, b) => b.created - a.created);
  const others = st.channels.filter((c) => !c.is_crisis);
  $("crisis-channels").replaceChildren(...(crises.length ? crises.map(link)
    : [el("li", { class: "empty-note" }, "No crisis channels yet")]));
  $("channels").replaceChildren(...others.map(link));
  const dmActive = st.dm && st.dm === view.channel;
  // The bot's DM is unread while it holds messages newer than the last one you saw there.
  const seen = Number(view.lastSeen[st.dm] || 0);
  const news = dmActive ? 0 : (st.dm_news || []).filter((ts) => Number(ts) > seen).length;
  $("apps").replaceChildren(el("li", {}, el("button", {
    type: "button", class: `channel-link${dmActive ? " active" : ""}${news ? " unread" : ""}`,
    "data-channel": "app", "aria-label": news ? `crisisbot, ${news} unread` : "crisisbot",
    onclick: openApp }, avatar(st.bot, true), el("span", { class: "label" }, "crisisbot"),
  el("span", { class: "badge badge-app" }, "App"),
  news ? el("span", { class: "unread-count", title: `${news} unread` }, String(news)) : null)));
  // Collapsed on a phone, the sidebar's toggle carries the unread dot.
  $("sidebar-toggle").classList.toggle("has-unread",
    Boolean(document.querySelector("#sidebar .unread")));
}

function renderHeader() {
  const ch = view.state.channel;
  const tabs = $("tabs");
  if (ch.is_im) {
    $("channel-name").textContent = "crisisbot";
    $("channel-topic").textContent = "App · DMs from the bot to you";
    const tabNames = view.state.app.home_tab ? ["home", "messages"] : ["messages"];
    tabs.hidden = false;
    tabs.replaceChildren(...tabNames.map((name) => el("button", { type: "button",
      class: `tab${view.tab === name ? " active" : ""}`, onclick: () => openTab(name) },
    name === "home" ? "Home" : "Messages")));
  } else {
    $("channel-name").textContent = `${ch.is_private ? "🔒 " : "#"}${ch.name}`;
    $("channel-topic").innerHTML = ch.topic ? mrkdwn(ch.topic, names()) : esc(ch.purpose || "");
    tabs.hidden = true;
  }
  const pinCount = ch.pins.length;
  $("channel-meta").replaceChildren(
    el("span", { title: "Members" }, `👥 ${ch.members.length}`), "  ",
    el("span", { title: "Pinned items" }, `📌 ${pinCount}`));
  const input = $("composer-input");
  const readOnly = ch.is_im && view.state.app.messages_read_only;
  input.placeholder = readOnly
    ? "Messages to this app are turned off; /crisis commands still work"
    : `Message ${ch.is_im ? "crisisbot" : `#${ch.name}`} as ${displayName(view.me)}`;
}

function renderDetails() {
  const ch = view.state.channel;
  const pins = $("pins");
  pins.replaceChildren(...(ch.pins.length ? ch.pins.map((p) => el("div", {
    class: "pin", "data-ts": p.ts, onclick: () => highlight(p.ts) },
  el("div", { class: "pin-meta" }, `${displayName(p.user)} · ${stamp(p.ts, tzOf(view.me))}`),
  el("div", { class: "text", html: mrkdwn(p.text, names()) })))
    : [el("div", { class: "about" }, "Nothing pinned in this channel.")]));
  const members = ch.members.map((id) => el("span", { class: "member" }, avatar(id, true),
    displayName(id)));
  $("about").replaceChildren(el("dl", {},
    ch.topic ? [el("dt", {}, "Topic"),
      el("dd", { class: "text", html: mrkdwn(ch.topic, names()) })] : null,
    ch.purpose ? [el("dt", {}, "Description"), el("dd", {}, ch.purpose)] : null,
    el("dt", {}, "Members"), el("dd", {}, el("div", { class: "member-list" }, members)),
    el("dt", {}, "Your time"), el("dd", {},
      `${localTime(tzOf(view.me))} · ${tzOf(view.me).replace(/_/g, " ")}`)));
}

function highlight(ts) {
  const node = document.querySelector(`#messages [data-ts="${ts}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center", behavior: "smooth" });
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
}

export function render() {
  const st = view.state;
  if (!st || !st.channel) return;
  view.me = st.me;
  view.channel = st.channel.id;
  view.lastSeen[view.channel] = st.channel.latest;
  localStorage.setItem(`sandbox-seen-${view.me}`, JSON.stringify(view.lastSeen));
  renderSidebar();
  renderHeader();
  renderMessages();
  renderDetails();
  renderModal();
  document.title = `${st.channel.is_im ? "crisisbot" : `#${st.channel.name}`} · ${st.team.name}`;
  location.replace(`#${view.me}/${view.channel}${view.tab === "home" ? "/home" : ""}`);
}

function switchUser(id) {
  showSidebar(false);
  view.me = id;
  view.tab = "messages";
  view.modalKey = null;
  view.lastSeen = JSON.parse(localStorage.getItem(`sandbox-seen-${id}`) || "{}");
  localStorage.setItem("sandbox-user", id);
  refresh();
}

// On a narrow screen the sidebar slides over the channel; picking something closes it.
export function showSidebar(open) {
  $("app").classList.toggle("nav-open", open);
  $("sidebar-toggle").setAttribute("aria-expanded", String(open));
}

export function openChannel(id) {
  showSidebar(false);
  view.channel = id;
  view.tab = "messages";
  refresh();
}

async function openApp() {
  const answer = await post("/sandbox/home", { user: view.me, tab: "messages" });
  if (answer?.channel) openChannel(answer.channel);
}

async function openTab(name) {
  view.tab = name;
  await post("/sandbox/home", { user: view.me, tab: name });
  refresh();
}
