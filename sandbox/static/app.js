// crisisbot sandbox page: renders the emulated workspace and sends what you do to the bot.
// Plain JavaScript, no build step and nothing fetched from the internet.
"use strict";

const EMOJI = {
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
const QUICK_REACTIONS = ["eyes", "mega", "+1"];
const PALETTE = ["#2b7a78", "#9b3c8e", "#c2571a", "#1264a3", "#2f855a", "#b7791f", "#805ad5"];
const SYSTEM_TEXT = {
  channel_join: "joined",
  channel_leave: "left",
  channel_topic: "set the channel topic",
  channel_purpose: "set the channel description",
  channel_archive: "archived this channel",
};

const view = {
  me: null,
  channel: null,
  tab: "messages",
  state: null,
  modalKey: null,
  lastSeen: {},
  busy: false,
  refreshTimer: null,
  wantRefresh: false,
};

const $ = (id) => document.getElementById(id);

// --- small helpers -------------------------------------------------------------

function esc(text) {
  return String(text ?? "")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function user(id) {
  return (view.state?.users || []).find((u) => u.id === id);
}

function me() {
  return user(view.state?.me);
}

function displayName(id) {
  if (id === "USLACKBOT") return "Slackbot";
  const u = user(id);
  return u ? (u.is_bot ? u.name : u.name) : id;
}

function channelById(id) {
  const st = view.state;
  if (!st) return null;
  if (st.channel && st.channel.id === id) return st.channel;
  return st.channels.find((c) => c.id === id)
    || (st.directory || []).find((c) => c.id === id) || null;
}

// How a person is named in every picker: people from another organization (Slack Connect)
// carry their organization and "external", as Slack shows them.
function personLabel(u) {
  return u.external ? `${u.name} (${u.team_name}, external)` : u.name;
}

function avatar(id, small = false) {
  const u = user(id);
  const name = id === "USLACKBOT" ? "Slackbot" : (u ? u.real_name || u.name : id);
  let color = PALETTE[[...String(id)].reduce((a, c) => a + c.charCodeAt(0), 0) % PALETTE.length];
  let label = name.split(/\s+/).map((p) => p[0]).join("").slice(0, 2).toUpperCase();
  if (u && u.is_bot) { color = "#1d3557"; label = "🤖"; }
  if (id === "USLACKBOT") { color = "#4a154b"; label = "💬"; }
  return el("span", { class: `avatar${small ? " small" : ""}`, style: `background:${color}`,
    "aria-hidden": "true" }, label);
}

function emoji(name) {
  const base = String(name).split("::")[0];
  return EMOJI[base] || `:${base}:`;
}

function tzOf(id) {
  return user(id)?.tz || "UTC";
}

function localTime(tz, date = new Date()) {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz, hour: "numeric",
      minute: "2-digit" }).format(date);
  } catch { return ""; }
}

// --- dates in the reader's own time zone (Slack's <!date^…> tokens) --------------

function parts(date, tz) {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long",
    hour: "numeric", minute: "2-digit", second: "2-digit",
  });
  const out = {};
  for (const p of fmt.formatToParts(date)) out[p.type] = p.value;
  return out;
}

function dayKey(date, tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit",
    day: "2-digit" }).format(date);
}

function ordinal(day) {
  const n = Number(day);
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return `${n}${s}`;
}

function prettyDay(date, tz) {
  const key = dayKey(date, tz);
  const now = Date.now();
  if (key === dayKey(new Date(now), tz)) return "Today";
  if (key === dayKey(new Date(now - 864e5), tz)) return "Yesterday";
  if (key === dayKey(new Date(now + 864e5), tz)) return "Tomorrow";
  return null;
}

function formatDateToken(seconds, format, tz) {
  const date = new Date(Number(seconds) * 1000);
  const p = parts(date, tz);
  const short = p.month.slice(0, 3);
  const time = `${p.hour}:${p.minute} ${p.dayPeriod}`;
  const values = {
    date_num: dayKey(date, tz),
    date: `${p.month} ${ordinal(p.day)}, ${p.year}`,
    date_short: `${short} ${p.day}, ${p.year}`,
    date_long: `${p.weekday}, ${p.month} ${ordinal(p.day)}, ${p.year}`,
    time,
    time_secs: `${p.hour}:${p.minute}:${p.second} ${p.dayPeriod}`,
  };
  const pretty = prettyDay(date, tz);
  values.date_pretty = pretty || values.date;
  values.date_short_pretty = pretty || values.date_short;
  values.date_long_pretty = pretty || values.date_long;
  const ago = Math.round((Date.now() - date.getTime()) / 60000);
  values.ago = ago >= 0 ? `${ago} minutes ago` : `in ${-ago} minutes`;
  return format.replace(/\{(\w+)\}/g, (m, key) => values[key] ?? m);
}

function stamp(ts, tz) {
  const date = new Date(Number(ts) * 1000);
  return localTime(tz, date);
}

// --- mrkdwn ---------------------------------------------------------------------

function unescapeSlack(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function renderSpecial(inner) {
  const [target, label] = inner.split(/\|(.*)/s);
  const viewer = view.state?.me;
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const cls = id === viewer ? "mention me" : "mention";
    return `<span class="${cls}" data-user="${esc(id)}">@${esc(displayName(id) || label)}</span>`;
  }
  if (target.startsWith("#")) {
    // Slack shows the channel's current name when the reader can see the channel (any public
    // one), else the label the sender gave, else just that it is a private channel.
    const id = target.slice(1);
    const ch = channelById(id);
    const name = ch ? ch.name : (label || "private-channel");
    const sigil = ch?.is_private || !(ch || label) ? "🔒" : "#";
    return `<a href="#" class="mention" data-channel="${esc(id)}">${sigil}${esc(name)}</a>`;
  }
  if (target.startsWith("!date^")) {
    const [, seconds, format, link] = target.split("^");
    const tz = tzOf(viewer);
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

function mrkdwn(source) {
  // Slack text arrives escaped (&amp; &lt; &gt;); specials are the raw <…> sequences.
  const specials = [];
  let text = String(source ?? "").replace(/<([^<>]+)>/g, (m, inner) => {
    specials.push(renderSpecial(unescapeSlack(inner)));
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

function textObject(obj) {
  if (!obj) return "";
  if (obj.type === "mrkdwn") return mrkdwn(obj.text);
  const plain = esc(obj.text);
  return obj.emoji === false ? plain : plain.replace(/:([a-z0-9_+-]+):/g,
    (m, name) => EMOJI[name] || m);
}

// --- Block Kit ------------------------------------------------------------------

function renderBlocks(blocks, ctx) {
  const wrap = el("div", { class: "blocks" });
  for (const block of blocks || []) {
    const node = renderBlock(block, ctx);
    if (node) wrap.append(node);
  }
  return wrap;
}

function renderBlock(block, ctx) {
  switch (block.type) {
    case "header":
      return el("h3", { class: "bk-header", html: textObject(block.text) });
    case "section": {
      const main = el("div", { class: "bk-main" });
      if (block.text) main.append(el("div", { class: "text", html: textObject(block.text) }));
      if (block.fields) {
        main.append(el("div", { class: "bk-fields" },
          block.fields.map((f) => el("div", { class: "text", html: textObject(f) }))));
      }
      const node = el("div", { class: "bk-section", "data-block-id": block.block_id }, main);
      if (block.accessory) node.append(renderElement(block.accessory, block, ctx));
      return node;
    }
    case "context":
      return el("div", { class: "bk-context" }, (block.elements || []).map((e) =>
        e.type === "image" ? el("span", {}, `🖼 ${e.alt_text || ""}`)
          : el("span", { class: "text", html: textObject(e) })));
    case "divider":
      return el("hr", { class: "bk-divider" });
    case "actions":
      return el("div", { class: "bk-actions", "data-block-id": block.block_id },
        (block.elements || []).map((e) => renderElement(e, block, ctx)));
    case "image":
      return el("div", { class: "bk-image" }, `🖼 ${block.alt_text || "image"}`);
    case "markdown":
      return el("div", { class: "text", html: mrkdwn(block.text) });
    case "rich_text":
      return el("div", { class: "text" }, richText(block));
    case "input":
      return ctx.form ? renderInput(block, ctx) : null;
    default:
      return el("div", { class: "bk-context" }, `[${block.type} block]`);
  }
}

function richText(block) {
  const out = [];
  const walk = (node) => {
    if (!node) return;
    if (node.type === "text") out.push(node.text);
    else if (node.type === "user") out.push(`@${displayName(node.user_id)}`);
    else if (node.type === "channel") out.push(`#${channelById(node.channel_id)?.name || "private-channel"}`);
    else if (node.type === "emoji") out.push(emoji(node.name));
    else if (node.type === "link") out.push(node.text || node.url);
    (node.elements || []).forEach(walk);
  };
  walk(block);
  return out.join("");
}

function renderElement(element, block, ctx) {
  const send = (selected) => ctx.onAction(block, element, selected);
  switch (element.type) {
    case "button": {
      const cls = `btn${element.style ? ` ${element.style}` : ""}`;
      return el("button", {
        class: cls, type: "button", "data-action-id": element.action_id,
        onclick: (ev) => {
          if (element.url) window.open(element.url, "_blank", "noopener");
          if (element.confirm && !window.confirm(plainText(element.confirm.text))) return;
          send(null, ev.currentTarget);
        },
      }, el("span", { html: textObject(element.text) }));
    }
    case "static_select":
    case "overflow": {
      const select = el("select", { class: "bk-select", "data-action-id": element.action_id,
        onchange: (ev) => send(ev.target.value) },
      el("option", { value: "" }, element.type === "overflow" ? "⋯"
        : plainText(element.placeholder) || "Select…"),
      (element.options || []).map((o) => el("option", { value: o.value }, plainText(o.text))));
      return select;
    }
    case "users_select":
      return el("select", { class: "bk-select", "data-action-id": element.action_id,
        onchange: (ev) => send(ev.target.value) },
      el("option", { value: "" }, plainText(element.placeholder) || "Select a person"),
      humans().map((u) => el("option", { value: u.id }, personLabel(u))));
    case "image":
      return el("span", { class: "bk-image" }, `🖼 ${element.alt_text || ""}`);
    default:
      return el("span", { class: "bk-context" }, `[${element.type}]`);
  }
}

function plainText(obj) {
  return obj ? String(obj.text ?? "") : "";
}

function humans() {
  return (view.state?.users || []).filter((u) => !u.is_bot);
}

// --- modal forms ----------------------------------------------------------------

function renderInput(block, ctx) {
  const element = block.element || {};
  const id = `f-${block.block_id}-${element.action_id}`;
  const name = `${block.block_id}\u001f${element.action_id}`;
  const field = el("div", { class: "field", "data-block-id": block.block_id });
  field.append(el("label", { class: "field-label", for: id }, plainText(block.label),
    block.optional ? el("span", { class: "optional" }, " (optional)") : null));
  let control;
  switch (element.type) {
    case "plain_text_input":
    case "email_text_input":
    case "url_text_input":
    case "number_input": {
      const attrs = { id, name, "data-kind": "text", placeholder: plainText(element.placeholder),
        maxlength: element.max_length };
      control = element.multiline
        ? el("textarea", attrs, element.initial_value || "")
        : el("input", { ...attrs, type: "text", value: element.initial_value || "" });
      break;
    }
    case "static_select": {
      const initial = element.initial_option?.value;
      const options = [...(element.options || [])];
      for (const g of element.option_groups || []) options.push(...(g.options || []));
      control = el("select", { id, name, "data-kind": "single" },
        el("option", { value: "" }, plainText(element.placeholder) || "Select an option"),
        options.map((o) => el("option", { value: o.value, selected: o.value === initial },
          plainText(o.text))));
      break;
    }
    case "external_select":
      control = externalSelect(element, id, name, (text) => ctx.loadOptions(block, element, text));
      break;
    case "users_select":
      control = el("select", { id, name, "data-kind": "single" },
        el("option", { value: "" }, plainText(element.placeholder) || "Select a person"),
        humans().map((u) => el("option", { value: u.id, selected: u.id === element.initial_user },
          personLabel(u))));
      break;
    case "multi_users_select":
    case "multi_static_select":
    case "checkboxes": {
      const initial = new Set(element.initial_users || (element.initial_options || [])
        .map((o) => o.value));
      const items = element.type === "multi_users_select"
        ? humans().map((u) => [u.id, personLabel(u)])
        : (element.options || []).map((o) => [o.value, plainText(o.text)]);
      control = el("div", { class: "choices", id, "data-name": name, "data-kind": "multi" },
        items.map(([value, label]) => el("label", {},
          el("input", { type: "checkbox", value, checked: initial.has(value) }), label)));
      break;
    }
    case "radio_buttons": {
      const initial = element.initial_option?.value;
      control = el("div", { class: "radio-list", id, "data-name": name, "data-kind": "radio" },
        (element.options || []).map((o) => el("label", {},
          el("input", { type: "radio", name: id, value: o.value, checked: o.value === initial }),
          el("span", { html: textObject(o.text) }),
          o.description ? el("span", { class: "hint" }, ` — ${plainText(o.description)}`) : null)));
      break;
    }
    case "datepicker":
      control = el("input", { id, name, type: "date", "data-kind": "text",
        value: element.initial_date || "" });
      break;
    case "timepicker":
      control = el("input", { id, name, type: "time", "data-kind": "text",
        value: element.initial_time || "" });
      break;
    default:
      control = el("div", { class: "hint" }, `[${element.type} is not supported in the sandbox]`);
  }
  field.append(control);
  if (block.hint) field.append(el("div", { class: "hint" }, plainText(block.hint)));
  field.append(el("div", { class: "error", hidden: true }));
  return field;
}

// An external_select: a combobox whose options the app sends as you type (Slack asks it with a
// block_suggestion). The option picked is kept in a hidden input named like the other fields.
function externalSelect(element, id, name, load) {
  const initial = element.initial_option;
  const chosen = el("input", { type: "hidden", name, value: initial?.value || "" });
  const box = el("input", { id, type: "text", role: "combobox", autocomplete: "off",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `${id}-options`,
    placeholder: plainText(element.placeholder), value: initial ? plainText(initial.text) : "" });
  const list = el("ul", { id: `${id}-options`, role: "listbox", class: "suggestions",
    hidden: true });
  let asked = 0;
  let offered = [];
  const show = (open) => {
    list.hidden = !open || !list.children.length;
    box.setAttribute("aria-expanded", String(!list.hidden));
  };
  const pick = (option) => {
    chosen.value = option.value;
    box.value = plainText(option.text);
    show(false);
  };
  const suggest = async () => {
    const mine = ++asked;
    const answer = await load(box.value);
    if (mine !== asked) return; // a later keystroke's answer wins
    offered = answer?.options || [];
    list.replaceChildren(...offered.map((option, i) => el("li", {
      role: "option", "data-value": option.value, "aria-selected": String(i === 0),
      onmousedown: (ev) => { ev.preventDefault(); pick(option); },
    }, plainText(option.text))));
    show(document.activeElement === box);
  };
  box.addEventListener("input", () => { chosen.value = ""; suggest(); });
  box.addEventListener("focus", suggest);
  box.addEventListener("blur", () => show(false));
  box.addEventListener("keydown", (ev) => {
    const items = [...list.children];
    const at = items.findIndex((li) => li.getAttribute("aria-selected") === "true");
    if (list.hidden || !items.length) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const next = (at + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach((li, i) => li.setAttribute("aria-selected", String(i === next)));
    } else if (ev.key === "Enter") {
      ev.preventDefault(); // pick, don't submit the form
      pick(offered[Math.max(at, 0)]);
    } else if (ev.key === "Escape") {
      show(false);
    }
  });
  return el("div", { class: "combobox", "data-kind": "external" }, box, chosen, list);
}

function formValues(form) {
  const values = {};
  const put = (name, value) => {
    const [blockId, actionId] = name.split("\u001f");
    (values[blockId] ||= {})[actionId] = value;
  };
  form.querySelectorAll("input[name], textarea[name], select[name]").forEach((input) => {
    if (input.closest("[data-kind=multi], [data-kind=radio]")) return;
    put(input.name, input.value);
  });
  form.querySelectorAll("[data-kind=multi]").forEach((box) => {
    put(box.dataset.name, [...box.querySelectorAll("input:checked")].map((i) => i.value));
  });
  form.querySelectorAll("[data-kind=radio]").forEach((box) => {
    put(box.dataset.name, box.querySelector("input:checked")?.value || null);
  });
  return values;
}

function renderModal() {
  const modal = view.state?.modal;
  const root = $("modal");
  const key = modal ? `${modal.id}:${modal.hash}` : null;
  if (key === view.modalKey) return;
  view.modalKey = key;
  root.replaceChildren();
  root.hidden = !modal;
  if (!modal) return;
  const form = el("form", { class: "modal", role: "dialog", "aria-modal": "true",
    "aria-label": plainText(modal.title) });
  const ctx = {
    form: true,
    onAction: (block, element, selected) => post("/sandbox/action", {
      user: view.me, view_id: modal.id, block_id: block.block_id,
      action_id: element.action_id, selected,
    }),
    loadOptions: (block, element, value) => post("/sandbox/options", {
      user: view.me, view_id: modal.id, block_id: block.block_id,
      action_id: element.action_id, value,
    }),
  };
  form.append(
    el("header", { class: "modal-head" },
      el("h2", {}, plainText(modal.title)),
      el("button", { type: "button", class: "modal-x", "aria-label": "Close",
        onclick: () => closeModal(modal) }, "×")),
    el("div", { class: "modal-body" }, [...renderBlocks(modal.blocks, ctx).childNodes]),
    el("footer", { class: "modal-foot" },
      el("button", { type: "button", class: "btn big", onclick: () => closeModal(modal) },
        plainText(modal.close) || "Cancel"),
      modal.submit ? el("button", { type: "submit", class: "btn big primary" },
        plainText(modal.submit)) : null),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    const answer = await post("/sandbox/submit", {
      user: view.me, view_id: modal.id, values: formValues(form),
    });
    if (submit) submit.disabled = false;
    showFieldErrors(form, answer?.errors || {});
  });
  root.append(form);
  form.querySelector("input, textarea, select")?.focus();
}

function showFieldErrors(form, errors) {
  form.querySelectorAll(".field").forEach((field) => {
    const message = errors[field.dataset.blockId];
    const box = field.querySelector(".error");
    field.classList.toggle("has-error", Boolean(message));
    box.hidden = !message;
    box.textContent = message || "";
  });
}

function closeModal(modal) {
  post("/sandbox/close", { user: view.me, view_id: modal.id });
}

// --- messages -------------------------------------------------------------------

function messageActions(msg) {
  return {
    form: false,
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
  else body.append(el("div", { class: "text", html: mrkdwn(msg.text) }));
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

async function react(msg, name) {
  await post("/sandbox/react", { user: view.me, channel: view.channel, ts: msg.ts, name });
}

function renderMessages() {
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
      renderBlocks(st.home.blocks, messageActions({ ts: "home" })))
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

// --- sidebar, header, details -----------------------------------------------------

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
          "external") : null),
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
    $("channel-topic").innerHTML = ch.topic ? mrkdwn(ch.topic) : esc(ch.purpose || "");
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
  el("div", { class: "text", html: mrkdwn(p.text) })))
    : [el("div", { class: "about" }, "Nothing pinned in this channel.")]));
  const members = ch.members.map((id) => el("span", { class: "member" }, avatar(id, true),
    displayName(id)));
  $("about").replaceChildren(el("dl", {},
    ch.topic ? [el("dt", {}, "Topic"), el("dd", { class: "text", html: mrkdwn(ch.topic) })] : null,
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

function render() {
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

// --- talking to the sandbox ---------------------------------------------------------

async function refresh() {
  if (view.busy) { view.wantRefresh = true; return; }
  view.busy = true;
  try {
    const query = new URLSearchParams({ user: view.me || "", channel: view.channel || "" });
    const response = await fetch(`/sandbox/state?${query}`);
    view.state = await response.json();
    render();
  } catch (error) {
    toast(`Cannot reach the sandbox: ${error.message}`, true);
  } finally {
    view.busy = false;
    if (view.wantRefresh) { view.wantRefresh = false; refresh(); }
  }
}

function scheduleRefresh() {
  clearTimeout(view.refreshTimer);
  view.refreshTimer = setTimeout(refresh, 40);
}

async function post(path, body) {
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

function toast(text, error = false) {
  const node = el("div", { class: `toast${error ? " error" : ""}`, role: "status" }, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), 4000);
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
function showSidebar(open) {
  $("app").classList.toggle("nav-open", open);
  $("sidebar-toggle").setAttribute("aria-expanded", String(open));
}

function openChannel(id) {
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
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && view.state?.modal) closeModal(view.state.modal);
    else if (ev.key === "Escape") showSidebar(false);
  });
}

function liveUpdates() {
  const source = new EventSource("/sandbox/events");
  source.addEventListener("change", scheduleRefresh);
  source.onerror = () => { /* EventSource reconnects by itself (retry: 1000). */ };
  // Clocks in the sidebar and relative dates move on even when nothing happens.
  setInterval(scheduleRefresh, 30000);
}

function start() {
  const [hashUser, hashChannel, hashTab] = location.hash.slice(1).split("/");
  view.me = hashUser || localStorage.getItem("sandbox-user") || "U0ANA";
  view.channel = hashChannel || null;
  view.tab = hashTab === "home" ? "home" : "messages";
  view.lastSeen = JSON.parse(localStorage.getItem(`sandbox-seen-${view.me}`) || "{}");
  setUpComposer();
  setUpLinks();
  liveUpdates();
  refresh();
}

start();
