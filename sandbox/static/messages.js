// The message list: messages with their blocks, threads, reactions and day dividers.
import { post } from "./api.js";
import { renderBlocks, slackChannelId } from "./blockkit.js";
import { dayKey, formatDateToken, prettyDay, stamp } from "./dates.js";
import { $, el } from "./dom.js";
import { emoji, mrkdwn } from "./mrkdwn.js";
import { displayName, names, tzOf, user, view } from "./state.js";

const QUICK_REACTIONS = ["eyes", "mega", "+1"];
const PALETTE = ["#2b7a78", "#9b3c8e", "#c2571a", "#1264a3", "#2f855a", "#b7791f", "#805ad5"];
const SYSTEM_TEXT = {
  channel_join: "joined",
  channel_leave: "left",
  channel_topic: "set the channel topic",
  channel_purpose: "set the channel description",
  channel_archive: "archived this channel",
};

export function avatar(id, small = false) {
  const u = user(id);
  const name = id === "USLACKBOT" ? "Slackbot" : (u ? u.real_name || u.name : id);
  let color = PALETTE[[...String(id)].reduce((a, c) => a + c.charCodeAt(0), 0) % PALETTE.length];
  let label = name.split(/\s+/).map((p) => p[0]).join("").slice(0, 2).toUpperCase();
  if (u && u.is_bot) { color = "#1d3557"; label = "🤖"; }
  if (id === "USLACKBOT") { color = "#4a154b"; label = "💬"; }
  return el("span", { class: `avatar${small ? " small" : ""}`, style: `background:${color}`,
    "aria-hidden": "true" }, label);
}

// A Slack link to a channel opens it in the page (ui.js listens), not on slack.com.
function openSlackLink(url) {
  const id = slackChannelId(url);
  if (id === null) return false;
  document.dispatchEvent(new CustomEvent("sandbox:open-channel", { detail: id }));
  return true;
}

export function messageActions(msg) {
  return {
    form: false,
    names: names(),
    openLink: openSlackLink,
    onAction: async (block, element, selected) => {
      const buttons = document.querySelectorAll(`[data-ts="${msg.ts}"] .btn`);
      buttons.forEach((b) => { b.disabled = true; });
      await post("/sandbox/action", {
        user: view.me, channel: view.channel, ts: msg.ts, block_id: block.block_id,
        action_id: element.action_id, selected,
      });
      buttons.forEach((b) => { b.disabled = false; });
    },
  };
}

// The Home tab is a view, not a message: its buttons send block_actions from the view.
function homeActions(home) {
  return {
    form: false,
    names: names(),
    openLink: openSlackLink,
    onAction: (block, element, selected) => post("/sandbox/action", {
      user: view.me, view_id: home.id, block_id: block.block_id,
      action_id: element.action_id, selected,
    }),
  };
}

// Slack runs one person's messages a few minutes apart together: one name and avatar on top,
// the time beside the others on hover.
const GROUP_SECONDS = 300;

function continues(prev, msg) {
  if (!prev || prev.user !== msg.user || prev.ephemeral || msg.ephemeral) return false;
  if ((prev.subtype && SYSTEM_TEXT[prev.subtype]) || (msg.subtype && SYSTEM_TEXT[msg.subtype])) {
    return false;
  }
  return Number(msg.ts) - Number(prev.ts) < GROUP_SECONDS;
}

function renderMessage(msg, { compact = false, grouped = false } = {}) {
  if (msg.subtype && SYSTEM_TEXT[msg.subtype]) {
    const what = SYSTEM_TEXT[msg.subtype];
    const name = displayName(msg.user);
    const channelName = view.state.channel?.name;
    const detail = msg.subtype === "channel_join" ? ` #${channelName}` : "";
    return el("div", { class: "system", "data-ts": msg.ts }, `${name} ${what}${detail}`);
  }
  const viewerTz = tzOf(view.me);
  const author = user(msg.user);
  const classes = ["message"];
  if (msg.ephemeral) classes.push("ephemeral");
  const body = el("div", { class: "message-body" });
  if (msg.ephemeral) body.append(el("div", { class: "only-you" }, "Only visible to you"));
  if ((msg.pinned_to || []).length) body.append(el("div", { class: "pinned-note" }, "📌 Pinned"));
  if (!grouped) {
    body.append(el("div", { class: "message-head" },
      el("span", { class: "author" }, displayName(msg.user)),
      author?.is_bot ? el("span", { class: "badge badge-app" }, "App") : null,
      author?.external ? el("span", { class: "badge badge-external" }, "external") : null,
      el("span", { class: "stamp", title: `${viewerTz}` }, stamp(msg.ts, viewerTz)),
      msg.edited ? el("span", { class: "edited" }, "(edited)") : null));
  }
  if (msg.blocks && msg.blocks.length) body.append(renderBlocks(msg.blocks, messageActions(msg)));
  else body.append(el("div", { class: "text", html: mrkdwn(msg.text, names()) }));
  if ((msg.files || []).length) body.append(renderFiles(msg.files));
  if (grouped && msg.edited) {
    // As in Slack, "(edited)" trails the message's last line of text.
    const texts = body.querySelectorAll(".text");
    (texts[texts.length - 1] || body).append(" ", el("span", { class: "edited" }, "(edited)"));
  }
  if (!msg.ephemeral) {
    const reactions = el("div", { class: "reactions" }, (msg.reactions || []).map((r) => {
      const mine = r.users.includes(view.me);
      const who = r.users.map(displayName).join(", ");
      return el("button", { type: "button", class: `reaction${mine ? " mine" : ""}`,
        title: `${who} reacted with :${r.name}:`, "data-reaction": r.name,
        onclick: () => react(msg, r.name) },
      el("span", {}, emoji(r.name)), el("span", { class: "count" }, r.count));
    }));
    if ((msg.reactions || []).length) body.append(reactions);
  }
  if (grouped) classes.push("grouped");
  const gutter = grouped
    ? el("span", { class: "gutter", title: viewerTz }, stamp(msg.ts, viewerTz).replace(/\s?[AP]M$/, ""))
    : avatar(msg.user);
  const node = el("div", { class: classes.join(" "), "data-ts": msg.ts },
    compact ? null : gutter, body);
  if (!msg.ephemeral) {
    node.append(el("div", { class: "quick-react", role: "toolbar", "aria-label": "React" },
      QUICK_REACTIONS.map((name) => el("button", { type: "button", "data-react": name,
        title: `React with :${name}:`, "aria-label": `React with ${name}`,
        onclick: () => react(msg, name) }, emoji(name)))));
  }
  return node;
}

// Files shared with a message (files.completeUploadExternal): images shown, others linked.
function renderFiles(files) {
  return el("div", { class: "files" }, files.map((f) => (
    String(f.mimetype || "").startsWith("image/")
      ? el("figure", { class: "file-image", "data-file": f.id },
        el("img", { src: f.url_private, alt: f.alt_txt || f.title || f.name, loading: "lazy" }),
        el("figcaption", {}, f.title || f.name))
      : el("a", { class: "file-link", "data-file": f.id, href: f.url_private }, `📎 ${f.title || f.name}`)
  )));
}

async function react(msg, name) {
  await post("/sandbox/react", { user: view.me, channel: view.channel, ts: msg.ts, name });
}

export function renderMessages() {
  const st = view.state;
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const previous = new Set([...box.querySelectorAll("[data-ts]")].map((n) => n.dataset.ts));
  const hadContent = previous.size > 0 && box.dataset.channel === view.channel;
  box.replaceChildren();
  box.dataset.channel = view.channel;
  const ch = st.channel;
  if (view.tab === "home") {
    box.append(st.home ? el("div", { class: "channel-intro" },
      renderBlocks(st.home.blocks, homeActions(st.home)))
      : el("div", { class: "channel-intro" }, el("h2", {}, "Home"),
        "The app has not published a Home tab for you."));
    return;
  }
  box.append(introFor(ch));
  const roots = ch.messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.ephemeral);
  const replies = ch.messages.filter((m) => m.thread_ts && m.thread_ts !== m.ts && !m.ephemeral);
  const tz = tzOf(view.me);
  let lastDay = null;
  let prev = null;
  for (const msg of roots) {
    const day = dayKey(new Date(Number(msg.ts) * 1000), tz);
    if (day !== lastDay) {
      const date = new Date(Number(msg.ts) * 1000);
      box.append(el("div", { class: "day-divider" },
        prettyDay(date, tz) || formatDateToken(msg.ts, "{date_long}", tz)));
      lastDay = day;
      prev = null;
    }
    const node = renderMessage(msg, { grouped: continues(prev, msg) });
    prev = msg;
    const thread = replies.filter((r) => r.thread_ts === msg.ts);
    if (thread.length) {
      node.querySelector(".message-body").append(el("div", { class: "thread" },
        thread.map((r) => renderMessage(r, { compact: true }))));
    }
    if (hadContent && !previous.has(msg.ts)) node.classList.add("flash");
    box.append(node);
  }
  if (nearBottom || !hadContent) box.scrollTop = box.scrollHeight;
}

function introFor(ch) {
  if (ch.is_im) {
    return el("div", { class: "channel-intro" }, el("h2", {}, "crisisbot"),
      "This is your conversation with crisisbot: owner DMs, heads-ups and reminders land here.");
  }
  return el("div", { class: "channel-intro" }, el("h2", {}, `#${ch.name}`),
    ch.purpose || "This is the very beginning of the channel.");
}
