/** What the Customers page's sections share: loading an artifact into a section, and the no-customers state. */
import { el } from "../dom.js";
import { number } from "../format.js";
import { emptyState, loadedOrShown } from "../states.js";

export const NO_CUSTOMERS = "Upload sales with customer ids to see segments.";

/**
 * Await `loaded` (an artifact) for `container`: the artifact when it has rows, otherwise null after showing the
 * API's error, the run's skip reason (with what to upload when the data has no customer ids), or `emptyText`.
 */
export async function settleArtifact(container, loaded, { hasCustomers = true, emptyText = "" } = {}) {
  const onSkipped = hasCustomers ? null
    : (reason) => emptyState(container, `${NO_CUSTOMERS} ${reason}`, { href: "data.html", label: "Upload sales" });
  const result = await loadedOrShown(container, loaded, { onSkipped });
  if (!result) return null;
  if (!result.rows?.length && !result.meta?.profile?.length) {
    emptyState(container, emptyText || NO_CUSTOMERS, { href: "data.html", label: "Go to your data" });
    return null;
  }
  return result;
}

/** A figure for a row of headline numbers: `<div><dt>label</dt><dd>value</dd></div>`. */
export const figure = (label, value, help = null, attrs = {}) =>
  el("div", attrs, el("dt", {}, label, help), el("dd", {}, value));

/** Days as words: "today", "1 day ago", "12 days ago". */
export function daysAgo(days) {
  const n = Math.round(Number(days));
  if (!Number.isFinite(n)) return "—";
  if (n <= 0) return "today";
  return `${number(n)} ${n === 1 ? "day" : "days"} ago`;
}
