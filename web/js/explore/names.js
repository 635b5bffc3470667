/** Words for what Explore's URL and answers spell as codes: date presets, comparisons, events, time buckets. */
import { day, month, weekStart } from "../format.js";
import { labelOf } from "../metrics.js";

export const OTHER = "(everything else)";
export const TIME = ["year", "quarter", "month", "week", "day"]; // coarse to fine

export const PRESETS = [
  ["last_7_days", "Last 7 days"], ["last_30_days", "Last 30 days"], ["last_90_days", "Last 90 days"],
  ["last_365_days", "Last 365 days"], ["month_to_date", "This month so far"],
  ["quarter_to_date", "This quarter so far"], ["year_to_date", "This year so far"],
  ["previous_month", "Last full month"], ["previous_quarter", "Last full quarter"],
  ["previous_year", "Last full year"], ["all", "All dates"],
];

export const EVENTS = [
  ["black_friday", "Black Friday"], ["cyber_monday", "Cyber Monday"], ["christmas", "Christmas"],
  ["easter", "Easter"], ["mothers_day", "Mother's Day"], ["valentines_day", "Valentine's Day"],
];

/** Compare choices: [value, what the menu says, what a column heading says]. */
export const COMPARES = [
  ["previous_period", "The period before", "period before"],
  ["previous_year", "The same dates last year", "last year"],
  ["same_weekday", "Last year, same weekdays", "last year (same weekdays)"],
  ...EVENTS.map(([name, label]) => [`event:${name}`, `Last year around ${label}`, `last year (${label})`]),
];

export const isTime = (dimension) => TIME.includes(dimension);
export const presetLabel = (preset) => PRESETS.find(([name]) => name === preset)?.[1] || preset;
export const compareLabel = (compare) => COMPARES.find(([value]) => value === compare)?.[1] || compare;
export const compareShort = (compare) => COMPARES.find(([value]) => value === compare)?.[2] || "before";

// ---------------------------------------------------------------- time buckets (UTC calendar days)

const iso = (date) => date.toISOString().slice(0, 10);
const utc = (text) => new Date(`${String(text).slice(0, 10)}T00:00:00Z`);

/** The first day of the `dimension` bucket holding `text` (YYYY-MM-DD). */
export function bucketStart(text, dimension) {
  const date = utc(text);
  const [y, m] = [date.getUTCFullYear(), date.getUTCMonth()];
  if (dimension === "year") return iso(new Date(Date.UTC(y, 0, 1)));
  if (dimension === "quarter") return iso(new Date(Date.UTC(y, m - (m % 3), 1)));
  if (dimension === "month") return iso(new Date(Date.UTC(y, m, 1)));
  if (dimension === "week") {
    const daysIn = weekStart() === "sunday" ? date.getUTCDay() : (date.getUTCDay() + 6) % 7;
    return iso(new Date(date.getTime() - daysIn * 86_400_000));
  }
  return iso(date);
}

/** `[first, last]` day of the bucket starting on `start`. */
export function bucketSpan(start, dimension) {
  const date = utc(start);
  const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()];
  const last = {
    year: new Date(Date.UTC(y + 1, 0, 0)),
    quarter: new Date(Date.UTC(y, m + 3, 0)),
    month: new Date(Date.UTC(y, m + 1, 0)),
    week: new Date(Date.UTC(y, m, d + 6)),
  }[dimension] || date;
  return [iso(date), iso(last)];
}

const WHOLE = 0.9; // a bucket missing a tenth of its days or less (a year without 31 Dec) still reads as whole

/** Whether the bucket starting on `start` lies inside `range` ({start, end}), all but a tenth of its days at most:
 * a week or month cut by the dates asked for (or by the last sale) is smaller for that reason alone. */
export function isWhole(start, dimension, range) {
  if (!isTime(dimension) || start === OTHER || !range?.start || !range?.end) return true;
  const [first, last] = bucketSpan(start, dimension);
  const days = (from, to) => (utc(to) - utc(from)) / 86_400_000 + 1;
  const inside = days(first > range.start ? first : range.start, last < range.end ? last : range.end);
  return inside >= WHOLE * days(first, last);
}

/** A bucket in words: "2025", "Q4 2025", "Oct 2025", "Week of 29 Sep 2025", "2 Oct 2025". */
export function bucketLabel(start, dimension, { short = false } = {}) {
  const date = utc(start);
  if (Number.isNaN(date.getTime())) return String(start);
  if (dimension === "year") return String(date.getUTCFullYear());
  if (dimension === "quarter") return `Q${Math.floor(date.getUTCMonth() / 3) + 1} ${date.getUTCFullYear()}`;
  if (dimension === "month") return month(start);
  if (dimension === "week") return short ? day(start) : `Week of ${day(start)}`;
  return day(start);
}

/** A value of `dimension` as a reader sees it (time buckets in words, the catch-all row as "Everything else"). */
export function valueLabel(value, dimension, options = {}) {
  if (value === OTHER) return "Everything else";
  if (value === null || value === undefined || value === "") return "(not given)";
  return isTime(dimension) ? bucketLabel(value, dimension, options) : String(value);
}

/** "a", "a and b", "a, b and c". */
export const words = (list) => (list.length > 1 ? `${list.slice(0, -1).join(", ")} and ${list.at(-1)}` : list[0] || "");

/** "Revenue and orders by category", "Revenue by month and region". */
export function questionTitle(state) {
  const measures = words(state.measures.map((name, i) => (i ? labelOf(name).toLowerCase() : labelOf(name))));
  const dims = state.dimensions.map((name) => labelOf(name).toLowerCase());
  return dims.length ? `${measures} by ${words(dims)}` : measures;
}
