/**
 * The actual sales behind a forecast series, at the forecast's frequency, up to where the forecast starts: one
 * small `POST /explore` per series (the `timeseries` artifact holds every product's daily rows too — 17k rows for
 * two years — while Explore answers one series from its rollup in a few milliseconds). Weeks and months the data
 * only partly covers are left out, as the analysis does, so they do not look like slumps.
 */
import { api } from "../api.js";

const BUCKETS = { D: "day", W: "week", M: "month", MS: "month", Q: "quarter", QS: "quarter", Y: "year", YS: "year",
                  day: "day", week: "week", month: "month", quarter: "quarter", year: "year" };
const cache = new Map();

/** The Explore time dimension for a forecast's `freq`/`unit` ("W" → "week"). */
export function bucketOf(meta) {
  return BUCKETS[meta.unit] || BUCKETS[String(meta.freq || "").split("-")[0]] || "week";
}

const dayBefore = (iso) => {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
};

/** `[{date: "YYYY-MM-DD", value}]` of revenue for `series` ({dimension, value}) before `firstForecastDate`. */
export async function history(series, bucket, firstForecastDate) {
  const key = `${series.dimension}:${series.value}:${bucket}:${firstForecastDate}`;
  if (!cache.has(key)) {
    const body = {
      measures: ["revenue"],
      dimensions: [bucket],
      date: { end: dayBefore(firstForecastDate) },
      filters: series.dimension === "total" ? [] : [{ field: series.dimension, op: "in", values: [series.value] }],
      sort: [{ field: bucket, direction: "asc" }],
      limit: 5000,
      week_start: "monday", // the forecast's weeks start on Monday, whatever the member's weeks
    };
    cache.set(key, api("/explore", { method: "POST", body }).then((answer) => {
      const start = answer.meta?.data_range?.start;
      const rows = answer.rows.map((row) => ({ date: String(row[bucket]).slice(0, 10), value: row.revenue }));
      // a first bucket that starts before the data does is only partly covered
      return bucket !== "day" && start && rows.length && rows[0].date < start ? rows.slice(1) : rows;
    }).catch((error) => {
      cache.delete(key);
      throw error;
    }));
  }
  return cache.get(key);
}
