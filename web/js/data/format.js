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

export function number(value, digits = 0) {
  if (value === null || value === undefined || value === "") return "—";
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) return String(value);
  return parsed.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * An amount in the sales' currency ("€6,763,601.94"). With several currencies the amounts were added as they
 * are, so the figure says so ("513.00 in EUR + USD") rather than pretending to be one of them.
 */
export function money(value, currencies = []) {
  const codes = (currencies || []).filter((code) => /^[A-Z]{3}$/.test(code));
  if (codes.length !== 1 || value === null || value === undefined || value === "" || !Number.isFinite(Number(value))) {
    const plain = number(value, 2);
    return codes.length > 1 && plain !== "—" ? `${plain} in ${codes.join(" + ")}` : plain;
  }
  return Number(value).toLocaleString(undefined, { style: "currency", currency: codes[0] });
}

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

/** A calendar day ("12 Mar 2024") from an ISO date or timestamp; the text itself when it isn't one. */
export function day(value) {
  if (!value) return "—";
  const parsed = new Date(String(value).length === 10 ? `${value}T00:00:00` : value);
  if (Number.isNaN(parsed.getTime())) return String(value);
  return parsed.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

export function dateRange(from, to) {
  if (!from && !to) return "—";
  const first = day(from);
  const last = day(to);
  return first === last ? first : `${first} – ${last}`;
}

export function moment(value) {
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? String(value ?? "") : parsed.toLocaleString();
}

/** A dataset's title without its parenthesised explanation: "Sales transactions". */
export const shortTitle = (dataset) => String(dataset.title || dataset.dataset).split(" (")[0];

export const plural = (count, word, many = `${word}s`) => `${number(count)} ${Number(count) === 1 ? word : many}`;

/** Only http(s) links from the API become hrefs. */
export function safeHref(url) {
  const parsed = new URL(url, location.href);
  if (!["http:", "https:"].includes(parsed.protocol)) throw new Error(`refusing link ${parsed.protocol}`);
  return parsed.href;
}
