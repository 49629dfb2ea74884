// Block Kit → DOM: messages' blocks (sections, context, actions with buttons and selects) and
// modals' inputs as form fields, read back as Slack's view.state.values.
// `ctx` is { form, onAction(block, element, selected), names } (names: see mrkdwn.js NOBODY).
// Nothing touches the document until a function is called.
import { el } from "./dom.js";
import { NOBODY, emoji, mrkdwn, textObject } from "./mrkdwn.js";

export function plainText(obj) {
  return obj ? String(obj.text ?? "") : "";
}

// How a person is named in every picker: people from another organization (Slack Connect)
// carry their organization and "external", as Slack shows them; guests are marked too.
export function personLabel(u) {
  if (u.external) return `${u.name} (${u.team_name}, external)`;
  return u.guest ? `${u.name} (guest)` : u.name;
}

// The channel a Slack URL points at (app_redirect?channel=C…, /archives/C…), else null.
export function slackChannelId(url) {
  try {
    const link = new URL(url);
    if (!/(^|\.)slack\.com$/.test(link.hostname)) return null;
    if (link.pathname === "/app_redirect") return link.searchParams.get("channel");
    return link.pathname.match(/^\/archives\/([CGD][A-Z0-9]+)/)?.[1] || null;
  } catch {
    return null;
  }
}

export function renderBlocks(blocks, ctx) {
  const wrap = el("div", { class: "blocks" });
  for (const block of blocks || []) {
    const node = renderBlock(block, ctx);
    if (node) wrap.append(node);
  }
  return wrap;
}

function renderBlock(block, ctx) {
  const names = ctx.names || NOBODY;
  switch (block.type) {
    case "header":
      return el("h3", { class: "bk-header", html: textObject(block.text, names) });
    case "section": {
      const main = el("div", { class: "bk-main" });
      if (block.text) {
        main.append(el("div", { class: "text", html: textObject(block.text, names) }));
      }
      if (block.fields) {
        main.append(el("div", { class: "bk-fields" },
          block.fields.map((f) => el("div", { class: "text", html: textObject(f, names) }))));
      }
      const node = el("div", { class: "bk-section", "data-block-id": block.block_id }, main);
      if (block.accessory) node.append(renderElement(block.accessory, block, ctx));
      return node;
    }
    case "context":
      return el("div", { class: "bk-context" }, (block.elements || []).map((e) =>
        e.type === "image" ? el("span", {}, `🖼 ${e.alt_text || ""}`)
          : el("span", { class: "text", html: textObject(e, names) })));
    case "divider":
      return el("hr", { class: "bk-divider" });
    case "actions":
      return el("div", { class: "bk-actions", "data-block-id": block.block_id },
        (block.elements || []).map((e) => renderElement(e, block, ctx)));
    case "image":
      return el("div", { class: "bk-image" }, `🖼 ${block.alt_text || "image"}`);
    case "markdown":
      return el("div", { class: "text", html: mrkdwn(block.text, names) });
    case "rich_text":
      return el("div", { class: "text" }, richText(block, names));
    case "input":
      return ctx.form ? renderInput(block, ctx) : null;
    default:
      return el("div", { class: "bk-context" }, `[${block.type} block]`);
  }
}

function richText(block, names) {
  const out = [];
  const walk = (node) => {
    if (!node) return;
    if (node.type === "text") out.push(node.text);
    else if (node.type === "user") out.push(`@${names.displayName(node.user_id)}`);
    else if (node.type === "channel") out.push(`#${names.channel(node.channel_id)?.name || "private-channel"}`);
    else if (node.type === "emoji") out.push(emoji(node.name));
    else if (node.type === "link") out.push(node.text || node.url);
    (node.elements || []).forEach(walk);
  };
  walk(block);
  return out.join("");
}

// A button with a `url` is a link: the browser follows it, and Slack still sends the app a
// block_actions for the click. `ctx.openLink(url)` may take the link over (a Slack link to a
// channel opens it in the page, as Slack's own client does) and returns true when it did.
function linkButton(element, send, ctx, names) {
  return el("a", {
    class: `btn${element.style ? ` ${element.style}` : ""}`, href: element.url,
    target: "_blank", rel: "noopener", "data-action-id": element.action_id,
    onclick: (ev) => {
      send(null);
      if (ctx.openLink?.(element.url)) ev.preventDefault();
    },
  }, el("span", { html: textObject(element.text, names) }));
}

function renderElement(element, block, ctx) {
  const names = ctx.names || NOBODY;
  const send = (selected) => ctx.onAction(block, element, selected);
  switch (element.type) {
    case "button": {
      if (element.url) return linkButton(element, send, ctx, names);
      const cls = `btn${element.style ? ` ${element.style}` : ""}`;
      return el("button", {
        class: cls, type: "button", "data-action-id": element.action_id,
        onclick: (ev) => {
          if (element.confirm && !window.confirm(plainText(element.confirm.text))) return;
          send(null, ev.currentTarget);
        },
      }, el("span", { html: textObject(element.text, names) }));
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
      names.people().map((u) => el("option", { value: u.id }, personLabel(u))));
    case "image":
      return el("span", { class: "bk-image" }, `🖼 ${element.alt_text || ""}`);
    default:
      return el("span", { class: "bk-context" }, `[${element.type}]`);
  }
}

// --- modal forms ----------------------------------------------------------------

function renderInput(block, ctx) {
  const names = ctx.names || NOBODY;
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
    case "multi_external_select":
      control = multiExternalSelect(element, id, name,
        (text) => ctx.loadOptions(block, element, text));
      break;
    case "users_select":
      control = el("select", { id, name, "data-kind": "single" },
        el("option", { value: "" }, plainText(element.placeholder) || "Select a person"),
        names.people().map((u) => el("option", { value: u.id,
          selected: u.id === element.initial_user }, personLabel(u))));
      break;
    case "multi_users_select":
    case "multi_static_select":
    case "checkboxes": {
      const initial = new Set(element.initial_users || (element.initial_options || [])
        .map((o) => o.value));
      const items = element.type === "multi_users_select"
        ? names.people().map((u) => [u.id, personLabel(u)])
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
          el("span", { html: textObject(o.text, names) }),
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

/** What a form rendered by renderBlocks holds, as {block_id: {action_id: value}}. */
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

// A multi_external_select: the same combobox; each option picked is added below it as a ticked
// box (untick to drop it), and the form sends every ticked one, as Slack keeps every pick.
function multiExternalSelect(element, id, name, load) {
  const chip = (option) => el("label", {},
    el("input", { type: "checkbox", value: option.value, checked: true }), plainText(option.text));
  const picked = el("div", { class: "choices", "data-name": name, "data-kind": "multi" },
    (element.initial_options || []).map(chip));
  const box = el("input", { id, type: "text", role: "combobox", autocomplete: "off",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `${id}-options`,
    placeholder: plainText(element.placeholder) });
  const list = el("ul", { id: `${id}-options`, role: "listbox", class: "suggestions",
    hidden: true });
  let asked = 0;
  const show = (open) => {
    list.hidden = !open || !list.children.length;
    box.setAttribute("aria-expanded", String(!list.hidden));
  };
  const pick = (option) => {
    const have = [...picked.querySelectorAll("input")].some((i) => i.value === option.value);
    if (!have) picked.append(chip(option));
    box.value = "";
    show(false);
  };
  const suggest = async () => {
    const mine = ++asked;
    const answer = await load(box.value);
    if (mine !== asked) return; // a later keystroke's answer wins
    const offered = answer?.options || [];
    list.replaceChildren(...offered.map((option) => el("li", {
      role: "option", "data-value": option.value, "aria-selected": "false",
      onmousedown: (ev) => { ev.preventDefault(); pick(option); },
    }, plainText(option.text))));
    show(document.activeElement === box);
  };
  box.addEventListener("input", suggest);
  box.addEventListener("focus", suggest);
  box.addEventListener("blur", () => show(false));
  box.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") ev.preventDefault(); // pick with the mouse; never submit here
  });
  return el("div", { class: "combobox", "data-kind": "external" }, box, list, picked);
}

export function formValues(form) {
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

/** Show the bot's `response_action: errors` next to their fields; clear the others. */
export function showFieldErrors(form, errors) {
  form.querySelectorAll(".field").forEach((field) => {
    const message = errors[field.dataset.blockId];
    const box = field.querySelector(".error");
    field.classList.toggle("has-error", Boolean(message));
    box.hidden = !message;
    box.textContent = message || "";
  });
}
