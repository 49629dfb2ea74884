// Slack mrkdwn → safe HTML: escaping, *bold* _italic_ ~strike~ `code`, quotes, emoji, and the
// <…> specials (mentions, channels, dates, links). Pure: everything the text refers to is
// looked up through `names`, so it runs without a page (see NOBODY).
import { formatDateToken } from "./dates.js";

export const EMOJI = {
  eyes: "👀", mega: "📣", "+1": "👍", thumbsup: "👍", "-1": "👎", white_check_mark: "✅",
  heavy_check_mark: "✔️", rotating_light: "🚨", hourglass_flowing_sand: "⏳", hourglass: "⌛",
  sos: "🆘", warning: "⚠️", information_source: "ℹ️", busts_in_silhouette: "👥",
  bust_in_silhouette: "👤", zzz: "💤", white_circle: "⚪", red_circle: "🔴",
  large_orange_circle: "🟠", large_yellow_circle: "🟡", large_green_circle: "🟢",
  large_blue_circle: "🔵", sunny: "☀️", repeat: "🔁", raising_hand: "🙋", memory: "📝",
  memo: "📝", handshake: "🤝", arrows_counterclockwise: "🔄", alarm_clock: "⏰", tada: "🎉",
  heart: "❤️", fire: "🔥", pushpin: "📌", bell: "🔔", x: "❌", wave: "👋", pray: "🙏",
  speech_balloon: "💬", calendar: "📅", link: "🔗", lock: "🔒", mag: "🔍", clock3: "🕒",
  rocket: "🚀", bulb: "💡", point_right: "👉", ok_hand: "👌", slightly_smiling_face: "🙂",
  smile: "😄", thinking_face: "🤔", rotating_light_: "🚨", robot_face: "🤖", date: "📅",
};

// Who is reading and how ids read as names. The page passes its own (state.js `names()`);
// without one, nobody is known: ids stay ids, channels are private, times are UTC.
export const NOBODY = Object.freeze({
  me: null,
  tz: "UTC",
  displayName: (id) => id,
  channel: () => null,
  people: () => [],
  usergroup: () => null,
});

export function esc(text) {
  return String(text ?? "")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

export function emoji(name) {
  const base = String(name).split("::")[0];
  return EMOJI[base] || `:${base}:`;
}

function unescapeSlack(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function renderSpecial(inner, names) {
  const [target, label] = inner.split(/\|(.*)/s);
  const viewer = names.me;
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const cls = id === viewer ? "mention me" : "mention";
    return `<span class="${cls}" data-user="${esc(id)}">@${esc(names.displayName(id) || label)}</span>`;
  }
  if (target.startsWith("#")) {
    // Slack shows the channel's current name when the reader can see the channel (any public
    // one), else the label the sender gave, else just that it is a private channel.
    const id = target.slice(1);
    const ch = names.channel(id);
    const name = ch ? ch.name : (label || "private-channel");
    const sigil = ch?.is_private || !(ch || label) ? "🔒" : "#";
    return `<a href="#" class="mention" data-channel="${esc(id)}">${sigil}${esc(name)}</a>`;
  }
  if (target.startsWith("!subteam^")) return groupMention(target.split("^")[1], label, names);
  if (target.startsWith("!date^")) {
    const [, seconds, format, link] = target.split("^");
    const tz = names.tz;
    const shown = formatDateToken(seconds, format || "{date_short}", tz);
    const title = `${label || ""} · shown in ${tz}, your time zone`;
    const body = `<span class="date" title="${esc(title)}" data-ts="${esc(seconds)}">${esc(shown)}</span>`;
    return link ? `<a href="${esc(link)}" target="_blank" rel="noopener">${body}</a>` : body;
  }
  if (target.startsWith("!")) {
    const word = target.slice(1).split("^")[0];
    return `<span class="mention">@${esc(label || word)}</span>`;
  }
  const href = /^(https?:|mailto:)/.test(target) ? target : "#";
  return `<a href="${esc(href)}" target="_blank" rel="noopener">${esc(label || target)}</a>`;
}

// `<!subteam^S…>` or `<!subteam^S…|@handle>` reads as the user group's @handle, as in Slack.
function groupMention(id, label, names) {
  const name = names.usergroup(id) || String(label || "").replace(/^@/, "") || id;
  return `<span class="mention" data-usergroup="${esc(id)}">@${esc(name)}</span>`;
}

// Slack's rule for *bold*, _italic_ and ~strike~: the opening mark is at the start or after
// anything but a letter or digit (space or punctuation: `(*bold*)`, `"*a*"`), the closing mark
// is at the end or before anything but a letter or digit (`*Acme*:`, `*Acme*'s`), and neither
// touches a space on the inside (`2 * 3 * 4` stays as typed; `snake_case_name` too).
function emphasis(mark, tag) {
  const m = mark === "*" ? "\\*" : mark;  // only * needs escaping in a "u" pattern
  const pattern = `(^|[^\\p{L}\\p{N}${m}])${m}(?=[^\\s${m}])([^${m}\\n]*?[^\\s${m}])${m}`
    + `(?=$|[^\\p{L}\\p{N}${m}])`;
  const re = new RegExp(pattern, "gu");
  return (text) => text.replace(re, `$1<${tag}>$2</${tag}>`);
}
const BOLD = emphasis("*", "b");
const ITALIC = emphasis("_", "i");
const STRIKE = emphasis("~", "s");

function inline(text) {
  // Protect code first so nothing inside it is formatted.
  const codes = [];
  let out = text.replace(/`([^`\n]+)`/g, (m, code) => {
    codes.push(`<code>${code}</code>`);
    return `\u0001${codes.length - 1}\u0001`;
  });
  out = STRIKE(ITALIC(BOLD(out)))
    .replace(/:([a-z0-9_+-]+(?:::skin-tone-\d)?):/g, (m, name) => {
      const base = name.split("::")[0];
      return EMOJI[base] ? `<span class="emoji" title=":${base}:">${EMOJI[base]}</span>` : m;
    });
  return out.replace(/\u0001(\d+)\u0001/g, (m, i) => codes[Number(i)]);
}

/** Slack text (as it arrives: &amp; &lt; &gt; escaped) as HTML, names looked up in `names`. */
export function mrkdwn(source, names = NOBODY) {
  // Slack text arrives escaped (&amp; &lt; &gt;); specials are the raw <…> sequences.
  const specials = [];
  let text = String(source ?? "").replace(/<([^<>]+)>/g, (m, inner) => {
    specials.push(renderSpecial(unescapeSlack(inner), names));
    return `\u0002${specials.length - 1}\u0002`;
  });
  text = esc(unescapeSlack(text));
  const blocks = [];
  text = text.replace(/```([\s\S]*?)```/g, (m, code) => {
    blocks.push(`<pre>${code.replace(/^\n/, "")}</pre>`);
    return `\u0003${blocks.length - 1}\u0003`;
  });
  const lines = text.split("\n");
  const html = [];
  let quote = [];
  const flush = () => {
    if (quote.length) html.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
    quote = [];
  };
  for (const line of lines) {
    const q = line.match(/^&gt;\s?(.*)$/);
    if (q) { quote.push(inline(q[1])); continue; }
    flush();
    html.push(inline(line));
  }
  flush();
  let joined = html.join("<br>").replace(/<br>(<blockquote>)/g, "$1")
    .replace(/(<\/blockquote>)<br>/g, "$1");
  joined = joined.replace(/\u0003(\d+)\u0003/g, (m, i) => blocks[Number(i)]);
  return joined.replace(/\u0002(\d+)\u0002/g, (m, i) => specials[Number(i)]);
}

/** A Block Kit text object (plain_text or mrkdwn) as HTML. */
export function textObject(obj, names = NOBODY) {
  if (!obj) return "";
  if (obj.type === "mrkdwn") return mrkdwn(obj.text, names);
  const plain = esc(obj.text);
  return obj.emoji === false ? plain : plain.replace(/:([a-z0-9_+-]+):/g,
    (m, name) => EMOJI[name] || m);
}
