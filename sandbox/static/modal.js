// The open modal (the top of this person's view stack) as a form: submit, close, field errors.
import { post } from "./api.js";
import { formValues, plainText, renderBlocks, showFieldErrors } from "./blockkit.js";
import { $, el } from "./dom.js";
import { names, view } from "./state.js";

export function renderModal() {
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
    names: names(),
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

export function closeModal(modal) {
  post("/sandbox/close", { user: view.me, view_id: modal.id });
}
