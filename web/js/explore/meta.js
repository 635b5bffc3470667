/** What an answer covers, in words: its dates, how many order lines, and the compared dates. */
import { el } from "../dom.js";
import { dateRange, number, plural } from "../format.js";
import { compareLabel } from "./names.js";

/** Fill `target` with the meta of an answer (`lines` overrides meta.lines, e.g. the order lines found). */
export function renderMeta(target, meta, state, lines = null) {
  if (!meta) {
    target.replaceChildren();
    return;
  }
  const range = meta.date_range || {};
  const count = plural(lines ?? meta.lines ?? 0, "order line");
  const parts = [el("span", {}, `${dateRange(range.start, range.end)} · ${count}`)];
  if (meta.compare) {
    parts.push(el("span", {}, `Compared with ${compareLabel(state.compare).toLowerCase()}: ` +
      `${dateRange(meta.compare.start, meta.compare.end)} (${plural(meta.compare.lines ?? 0, "order line")})`));
  }
  target.replaceChildren(...parts);
  const seconds = Number(meta.seconds);
  target.title = `${meta.cached ? "Answered from the saved answer" : "Freshly calculated"}` +
    `${Number.isFinite(seconds) ? ` in ${number(seconds, 2)} s` : ""}.`;
}
