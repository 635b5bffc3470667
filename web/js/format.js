/**
 * How every page writes numbers, money, shares and dates: in the user's saved preferences (number locale,
 * date format, timezone, currency display, the day weeks start on) and the sales' currency. `configureFormat` is called once by the
 * page shell after it has read `/me/preferences` and `/explore/fields`; until then the browser's defaults apply.
 */

const settings = {
  locale: undefined, // undefined = the browser's
  dateFormat: "long",
  timezone: undefined,
  currencyDisplay: "symbol",
  currency: "",
  currencies: [],
  weekStart: "monday",
};

/** Apply the saved preferences (`GET /me/preferences`) and the company's currencies (`GET /explore/fields`). */
export function configureFormat(prefs = {}, currencies = []) {
  settings.locale = prefs.number_locale && prefs.number_locale !== "auto" ? prefs.number_locale : undefined;
  settings.dateFormat = prefs.date_format || "long";
  settings.timezone = prefs.timezone || undefined;
  settings.currencyDisplay = prefs.currency_display || "symbol";
  settings.weekStart = prefs.week_start === "sunday" ? "sunday" : "monday";
  settings.currencies = (currencies || []).filter((code) => /^[A-Z]{3}$/.test(code));
  settings.currency = settings.currencies.length === 1 ? settings.currencies[0] : "";
}

/** The day the user's weeks start on ("monday" or "sunday"): Explore's week buckets follow it. */
export const weekStart = () => settings.weekStart;

const finite = (value) => value !== null && value !== undefined && value !== "" && Number.isFinite(Number(value));

export function number(value, digits = 0) {
  if (!finite(value)) return value === null || value === undefined || value === "" ? "—" : String(value);
  return Number(value).toLocaleString(settings.locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A large count in short form for cards and axes ("1.2M", "35K"). */
export function compact(value) {
  if (!finite(value)) return "—";
  return Number(value).toLocaleString(settings.locale, { notation: "compact", maximumFractionDigits: 1 });
}

/**
 * An amount in the sales' currency ("€6,763,601.94"). With several currencies the amounts were added as they
 * are, so the figure says so ("513.00 in EUR + USD") rather than pretending to be one of them.
 * `currencies` overrides the company's list (the Data page knows it per dataset).
 */
export function money(value, currencies = null, { short = false } = {}) {
  const codes = currencies ? currencies.filter((code) => /^[A-Z]{3}$/.test(code)) : settings.currencies;
  if (codes.length !== 1 || !finite(value)) {
    const plain = short ? compact(value) : number(value, 2);
    return codes.length > 1 && plain !== "—" ? `${plain} in ${codes.join(" + ")}` : plain;
  }
  const big = Math.abs(Number(value)) >= 1000;
  return Number(value).toLocaleString(settings.locale, {
    style: "currency",
    currency: codes[0],
    currencyDisplay: settings.currencyDisplay,
    ...(short ? { notation: "compact", maximumFractionDigits: 1 } : big ? { maximumFractionDigits: 0 } : {}),
  });
}

/** A share (0.123) as a percentage ("12.3%"). */
export function percent(value, digits = 1) {
  if (!finite(value)) return "—";
  return Number(value).toLocaleString(settings.locale, { style: "percent", maximumFractionDigits: digits });
}

/** A relative change (0.12) with its sign ("+12%"); "new" when there was nothing before. */
export function delta(change) {
  if (change === null || change === undefined) return "—";
  if (!Number.isFinite(Number(change))) return "new";
  return Number(change).toLocaleString(settings.locale, {
    style: "percent", maximumFractionDigits: Math.abs(change) < 0.1 ? 1 : 0, signDisplay: "exceptZero",
  });
}

/** A value of a measure from `GET /explore/fields`, by its unit (currency, count, share, ratio). */
export function measureValue(unit, value, options = {}) {
  if (unit === "currency") return money(value, null, options);
  if (unit === "share") return percent(value);
  if (unit === "ratio") return number(value, 2);
  return options.short ? compact(value) : number(value);
}

// ---------------------------------------------------------------- dates

const DATE_PARTS = {
  iso: null,
  dmy: { day: "2-digit", month: "2-digit", year: "numeric", order: ["day", "month", "year"], sep: "/" },
  mdy: { day: "2-digit", month: "2-digit", year: "numeric", order: ["month", "day", "year"], sep: "/" },
};

/** Sale dates carry no timezone (a calendar day); timestamps with an offset are shown in the user's zone. */
function parse(value) {
  const text = String(value);
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(text);
  const parsed = new Date(text.length === 10 ? `${text}T00:00:00Z` : zoned ? text : `${text}Z`);
  return Number.isNaN(parsed.getTime()) ? null : { date: parsed, zone: zoned ? settings.timezone : "UTC" };
}

function formatParts(date, zone, withTime) {
  const fmt = settings.dateFormat;
  if (fmt === "long") {
    return date.toLocaleString(settings.locale, {
      day: "numeric", month: "short", year: "numeric", timeZone: zone,
      ...(withTime ? { hour: "2-digit", minute: "2-digit" } : {}),
    });
  }
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: zone,
  }).formatToParts(date).map((part) => [part.type, part.value]));
  const spec = DATE_PARTS[fmt];
  const day = spec ? spec.order.map((name) => parts[name]).join(spec.sep) : `${parts.year}-${parts.month}-${parts.day}`;
  return withTime ? `${day} ${parts.hour}:${parts.minute}` : day;
}

/** A calendar day in the user's date format ("4 Dec 2026", "04/12/2026", "2026-12-04"). */
export function day(value) {
  if (!value) return "—";
  const parsed = parse(value);
  return parsed ? formatParts(parsed.date, parsed.zone, false) : String(value);
}

export function dateRange(from, to) {
  if (!from && !to) return "—";
  const [a, b] = [from && parse(from), to && parse(to)];
  if (a && b && settings.dateFormat === "long" && a.zone === b.zone) { // "1 Oct – 30 Dec 2025"
    return new Intl.DateTimeFormat(settings.locale, { day: "numeric", month: "short", year: "numeric", timeZone: a.zone })
      .formatRange(a.date, b.date);
  }
  const first = day(from);
  const last = day(to);
  return first === last ? first : `${first} – ${last}`;
}

/** A moment (an upload, a run, an audit event) with its time, in the user's timezone. */
export function moment(value) {
  if (!value) return "—";
  const parsed = parse(value);
  return parsed ? formatParts(parsed.date, parsed.zone, true) : String(value);
}

/** A weekday with its date ("Wed 16 Apr 2025"), for days that stand out. */
export function weekday(value) {
  const parsed = parse(value);
  if (!parsed) return String(value ?? "");
  return `${parsed.date.toLocaleString(settings.locale, { weekday: "short", timeZone: parsed.zone })} ${day(value)}`;
}

/** A month ("Dec 2026") for monthly axes. */
export function month(value) {
  const parsed = parse(value);
  if (!parsed) return String(value ?? "");
  return parsed.date.toLocaleString(settings.locale, { month: "short", year: "numeric", timeZone: "UTC" });
}

export const plural = (count, word, many = `${word}s`) => `${number(count)} ${Number(count) === 1 ? word : many}`;
