/** The Overview's period: the Explore presets in words, kept in the URL as `?range=`, and what it is compared with. */
import { el } from "../dom.js";

export const PRESETS = [
  ["last_7_days", "Last 7 days"],
  ["last_30_days", "Last 30 days"],
  ["last_90_days", "Last 90 days"],
  ["last_365_days", "Last 365 days"],
  ["month_to_date", "Month to date"],
  ["quarter_to_date", "Quarter to date"],
  ["year_to_date", "Year to date"],
  ["previous_month", "Previous month"],
  ["previous_quarter", "Previous quarter"],
  ["previous_year", "Previous year"],
  ["all", "All time"],
];
const KNOWN = new Set(PRESETS.map(([value]) => value));
const CALENDAR = {
  month_to_date: "vs previous month",
  quarter_to_date: "vs previous quarter",
  previous_month: "vs the month before",
  previous_quarter: "vs the quarter before",
  previous_year: "vs the year before",
};
const SHORT = new Set(["last_7_days", "last_30_days", "month_to_date", "previous_month"]);

/** The period in the URL, else the user's saved default, else the last 90 days. */
export function currentRange(fallback) {
  const wanted = new URLSearchParams(location.search).get("range");
  if (KNOWN.has(wanted)) return wanted;
  return KNOWN.has(fallback) ? fallback : "last_90_days";
}

/** Keep the period in the address, so a reload or a shared link shows the same numbers. */
export function rememberRange(range) {
  const url = new URL(location.href);
  url.searchParams.set("range", range);
  history.replaceState(null, "", url);
}

/** Fill `select` with the presets, choose `range`, and call `onChange(range)` when the user picks another. */
export function initRangePicker(select, range, onChange) {
  select.replaceChildren(...PRESETS.map(([value, label]) => el("option", { value }, label)));
  select.value = range;
  select.addEventListener("change", () => {
    rememberRange(select.value);
    onChange(select.value);
  });
}

/** Days from `start` to `end`, both included. */
export function daysBetween(start, end) {
  return Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000) + 1;
}

/** "vs previous 90 days": what the previous-period pill compares with, in words. */
export function previousWords(range, compared) {
  const days = /^last_(\d+)_days$/.exec(range);
  if (days) return `vs previous ${days[1]} days`;
  if (CALENDAR[range]) return CALENDAR[range];
  return compared?.start && compared?.end ? `vs previous ${daysBetween(compared.start, compared.end)} days`
    : "vs previous period";
}

/** Sparklines go by day for short periods, by week otherwise. */
export const sparkGrain = (range) => (SHORT.has(range) ? "day" : "week");
