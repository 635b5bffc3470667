/** How the data page words and formats things: numbers, dates, sizes, upload statuses. */

/** Statuses still moving on their own; the page polls while an upload is in one of them. */
export const TRANSIENT = new Set(["waiting_for_file", "queued", "ingesting"]);

/** Each status as the badge shows it, and its tone (the badge colour). */
export const STATUS = {
  waiting_for_file: { label: "Receiving", tone: "info" },
  needs_mapping: { label: "Check columns", tone: "warning" },
  queued: { label: "Queued", tone: "info" },
  ingesting: { label: "Loading", tone: "info" },
  loaded: { label: "Loaded", tone: "success" },
  failed: { label: "Failed", tone: "danger" },
};

export const statusOf = (status) => STATUS[status] ?? { label: String(status || "unknown"), tone: "info" };

export { dateRange, day, money, moment, number, plural } from "../format.js";

export function bytes(size) {
  const value = Number(size || 0);
  if (value < 1024) return `${value} bytes`;
  const units = ["KB", "MB", "GB"];
  let scaled = value / 1024;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${scaled.toLocaleString(undefined, { maximumFractionDigits: scaled < 10 ? 1 : 0 })} ${units[unit]}`;
}

/** A dataset's title without its parenthesised explanation: "Sales transactions". */
export const shortTitle = (dataset) => String(dataset.title || dataset.dataset).split(" (")[0];

/** Only http(s) links from the API become hrefs. */
export function safeHref(url) {
  const parsed = new URL(url, location.href);
  if (!["http:", "https:"].includes(parsed.protocol)) throw new Error(`refusing link ${parsed.protocol}`);
  return parsed.href;
}
