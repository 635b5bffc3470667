/**
 * What a section shows when it is not showing data: a skeleton while loading, an empty state that says what
 * to do, the API's error message, or the reason an analysis step was skipped. Never a blank area.
 */
import { ApiError } from "./api.js";
import { el } from "./dom.js";

export function skeleton(container, lines = 3) {
  container.setAttribute("aria-busy", "true");
  container.replaceChildren(el("div", { class: "skeleton", role: "status" },
    el("span", { class: "visually-hidden" }, "Loading…"),
    Array.from({ length: lines }, () => el("span", { class: "skeleton-line", "aria-hidden": "true" }))));
}

function settle(container, ...children) {
  container.removeAttribute("aria-busy");
  container.replaceChildren(...children);
}

/** `text` says what is missing; `action` ({href, label}) is what the user can do about it. */
export function emptyState(container, text, action = null) {
  settle(container, el("div", { class: "empty-state" }, el("p", {}, text),
    action ? el("a", { class: "button secondary small", href: action.href }, action.label) : null));
}

export function errorState(container, error) {
  if (!(error instanceof ApiError)) console.error(error);
  const message = error instanceof ApiError ? error.message : "Something went wrong on this page. Reload it and try again.";
  settle(container, el("div", { class: "form-error", role: "alert" }, el("p", {}, message)));
}

/** An analysis step that did not run, with the run's own reason ("No traffic data linked: …"). */
export function skippedState(container, reason, title = "Not analysed in the latest run") {
  settle(container, el("div", { class: "empty-state skipped" },
    el("p", {}, el("strong", {}, `${title}. `), reason || "The analysis skipped this step."),
    el("a", { class: "button secondary small", href: "data.html" }, "See your data and runs")));
}

/**
 * What `loaded` (an artifact from results.js) resolves to, or null once `container` shows why there is nothing:
 * the API's message, or the run's reason for skipping the step (`onSkipped(reason)` may show something else).
 */
export async function loadedOrShown(container, loaded, { title, onSkipped = null } = {}) {
  let result;
  try {
    result = await loaded;
  } catch (error) {
    errorState(container, error);
    return null;
  }
  if (result?.skipped) {
    if (onSkipped) onSkipped(result.skipped);
    else skippedState(container, result.skipped, title);
    return null;
  }
  return result;
}

export function ready(container, ...children) {
  settle(container, ...children);
}
