/** Calendar arithmetic on `YYYY-MM-DD` days (sale dates carry no timezone, so everything here is UTC). */

const DAY_MS = 86_400_000;

/** The day part of an API date ("2025-12-29T00:00:00" → "2025-12-29"). */
export const isoDay = (value) => String(value ?? "").slice(0, 10);

export const toTime = (day) => Date.parse(`${isoDay(day)}T00:00:00Z`);

export const fromTime = (time) => new Date(time).toISOString().slice(0, 10);

export const addDays = (day, days) => fromTime(toTime(day) + days * DAY_MS);

/** The Monday that starts the week of `day` (Explore's weeks start on Monday). */
export function mondayOf(day) {
  const weekday = (new Date(toTime(day)).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return addDays(day, -weekday);
}

/** The Sunday ending the last full week on or before `day`. */
export function lastSunday(day) {
  const weekday = new Date(toTime(day)).getUTCDay(); // Sunday 0
  return addDays(day, -weekday);
}
