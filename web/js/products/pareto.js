/** The "few products make most of the money" sentence from the KPI step (`kpis` meta: pareto_share, windows). */
import { artifact } from "../results.js";
import { dateRange, percent } from "../format.js";

const dayBefore = (text) => {
  const date = new Date(`${String(text).slice(0, 10)}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
};

/** Fill `target` with the sentence, or hide it when the analysis has no such figure. */
export async function showPareto(target) {
  const kpis = await artifact("kpis").catch(() => null);
  const share = kpis?.meta?.pareto_share;
  if (kpis?.skipped || share === null || share === undefined) return;
  const window = kpis.meta.windows?.current;
  const when = window ? ` (${dateRange(window[0].slice(0, 10), dayBefore(window[1]))})` : "";
  target.replaceChildren(`${percent(share, 0)} of revenue comes from the top ${percent(0.2, 0)} of products`,
                         kpis.meta.period_days ? ` in the last ${kpis.meta.period_days} days${when}.` : ".");
  target.hidden = false;
}
