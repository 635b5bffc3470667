/** Form helpers: submit handling with a busy button, notices, query strings, password rules. */
import { clearErrors, showError } from "./api.js";

/** Mark `button` as working: disabled, `aria-busy`, and a spinner from the stylesheet. */
export function setBusy(button, busy) {
  if (!button) return;
  button.disabled = busy;
  button.setAttribute("aria-busy", String(busy));
  button.classList.toggle("is-busy", busy);
}

/**
 * Run `action` with `button` busy; messages inside `scope` are cleared first and any error
 * it throws is rendered there. Returns the action's result, or undefined when it failed.
 */
export async function busy(button, scope, action) {
  if (button?.getAttribute("aria-busy") === "true") return undefined;
  clearErrors(scope);
  for (const message of scope.querySelectorAll(".form-success")) message.hidden = true;
  setBusy(button, true);
  try {
    return await action();
  } catch (error) {
    showError(scope, error);
    return undefined;
  } finally {
    setBusy(button, false);
  }
}

/** The values of the visible, enabled named controls of `form`; text is trimmed, passwords are not. */
export function formValues(form) {
  const values = {};
  for (const control of form.elements) {
    if (!control.name || control.disabled || control.closest("[hidden]")) continue;
    values[control.name] = control.type === "password" ? control.value : control.value.trim();
  }
  return values;
}

/** Handle `form`'s submit with `action(values, form)`; the server validates, so native checks are off. */
export function onSubmit(form, action) {
  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = event.submitter || form.querySelector('[type="submit"]');
    busy(button, form, () => action(formValues(form), form));
  });
}

/** Handle clicks on `button` with `action()`; errors are shown inside `scope`. */
export function onClick(button, scope, action) {
  button.addEventListener("click", () => busy(button, scope, action));
}

/** Show `text` in the notice element `target` (`kind`: success, info or warning). */
export function notify(target, text, kind = "success") {
  target.textContent = text;
  target.dataset.kind = kind;
  target.hidden = false;
}

/** One query-string parameter of the current page ("" when absent). */
export function query(name) {
  return new URLSearchParams(location.search).get(name) ?? "";
}

/** Go to `page`, with `params` (an object) as its query string. */
export function go(page, params) {
  location.assign(params ? `${page}?${new URLSearchParams(params)}` : page);
}

const PASSWORD_RULES = {
  length: (value) => value.length >= 12,
  upper: (value) => /[A-Z]/.test(value),
  lower: (value) => /[a-z]/.test(value),
  number: (value) => /[0-9]/.test(value),
  symbol: (value) => /[^A-Za-z0-9]/.test(value),
};

/** Tick the items of the `.rules` list next to a new-password `input` as the user types. */
export function watchPasswordRules(input) {
  const items = input.closest(".field").querySelectorAll(".rules [data-rule]");
  const update = () => {
    for (const item of items) item.classList.toggle("met", PASSWORD_RULES[item.dataset.rule](input.value));
  };
  input.addEventListener("input", update);
  update();
}

/** `button` copies the text of `input` (selected, so Ctrl+C works where the clipboard is refused), then says so. */
export function copyButton(button, input) {
  const label = button.textContent;
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Press Ctrl+C to copy";
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
}
