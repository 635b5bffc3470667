/** The choices the preferences offer, in words, and the lists the form's selects are built from. */

export const DATE_FORMATS = [
  { value: "long", name: "written out" },
  { value: "dmy", name: "day/month/year" },
  { value: "mdy", name: "month/day/year" },
  { value: "iso", name: "year-month-day (ISO)" },
];

export const CURRENCY_DISPLAYS = [
  { value: "symbol", name: "with the currency's symbol" },
  { value: "code", name: "with the currency's code" },
  { value: "name", name: "with the currency's name" },
];

export const NUMBER_LOCALES = ["auto", "en-GB", "en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "pt-BR",
                               "sv-SE", "pl-PL", "ja-JP"];

export const RANGES = [
  { value: "last_7_days", name: "Last 7 days" },
  { value: "last_30_days", name: "Last 30 days" },
  { value: "last_90_days", name: "Last 90 days" },
  { value: "last_365_days", name: "Last 365 days" },
  { value: "month_to_date", name: "This month so far" },
  { value: "quarter_to_date", name: "This quarter so far" },
  { value: "year_to_date", name: "This year so far" },
  { value: "previous_month", name: "Last full month" },
  { value: "previous_quarter", name: "Last full quarter" },
  { value: "previous_year", name: "Last full year" },
  { value: "all", name: "All time" },
];

/** A locale's name in words ("British English"); "auto" is the browser's own. */
export function localeName(locale) {
  if (locale === "auto") return "Your browser's";
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(locale) || locale;
  } catch {
    return locale;
  }
}

export const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** Today's calendar day in `zone`, as YYYY-MM-DD. */
export function todayIn(zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: zone || "UTC", year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date()).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function offsetOf(zone, now) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" }).formatToParts(now);
    return parts.find((part) => part.type === "timeZoneName")?.value || "";
  } catch {
    return "";
  }
}

/**
 * The time zones to choose from as `[{group, zones: [{value, label}]}]`: the suggested ones first (UTC, the
 * browser's, the saved one), then every IANA zone the browser knows, by region ("Europe/Berlin (GMT+1)").
 */
export function timeZoneGroups(saved) {
  const now = new Date();
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const suggested = [...new Set(["UTC", browserZone(), saved].filter(Boolean))];
  const option = (zone) => {
    const offset = zone === "UTC" ? "" : offsetOf(zone, now);
    return { value: zone, label: `${zone.replaceAll("_", " ")}${offset ? ` (${offset})` : ""}` };
  };
  const regions = new Map();
  for (const zone of known) {
    if (suggested.includes(zone)) continue;
    const region = zone.includes("/") ? zone.split("/")[0] : "Other";
    if (!regions.has(region)) regions.set(region, []);
    regions.get(region).push(option(zone));
  }
  return [{ group: "Suggested", zones: suggested.map(option) },
          ...[...regions].map(([group, zones]) => ({ group, zones }))];
}
