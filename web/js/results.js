/**
 * The analysis artifacts (`GET /results/{artifact}`): one page, or every row, of the latest run's table with its
 * meta. An artifact the run skipped, or no run at all, comes back as `{skipped: reason}` instead of throwing,
 * so a page can show the run's reason where the chart would be. `GET /results` (read once per page) says which
 * artifacts the latest run produced, so a skipped one is not even asked for (its 404 would be a console error).
 */
import { api, ApiError } from "./api.js";
import { downloadCsv } from "./download.js";

const PAGE = 5000;

function skipReason(error) {
  if (!(error instanceof ApiError) || error.status !== 404) return null;
  const step = error.details.find((detail) => detail.reason);
  return step?.reason || error.message;
}

let latest = null;

/** `GET /results`: the latest run, its steps and the artifacts it produced; once per page. */
export function latestRun() {
  latest ??= api("/results").catch((error) => {
    latest = null;
    throw error;
  });
  return latest;
}

function skippedBecause(summary, name) {
  if (!summary.run) return summary.message || "The analysis runs after your first upload; nothing has been analysed yet.";
  const direct = (summary.skipped || []).find((step) => step.step === name);
  if (direct?.reason) return direct.reason;
  const writer = (summary.run.steps || []).find((step) => (step.writes || step.artifacts || []).includes(name) &&
                                                      step.status !== "done");
  return writer?.reason || writer?.error || "The latest analysis did not produce this.";
}

/** `{rows, meta, columns, total, run_id}` of `name`, or `{skipped: reason}`; `all` pages through every row;
 * `run` reads an earlier run's artifact instead of the latest. */
export async function artifact(name, { all = false, limit = PAGE, run = "" } = {}) {
  if (!run) {
    const summary = await latestRun();
    if (!(summary.artifacts || []).some((item) => item.artifact === name)) return { skipped: skippedBecause(summary, name) };
  }
  try {
    const first = await api(`/results/${encodeURIComponent(name)}?limit=${limit}`);
    const rows = [...first.rows];
    while (all && rows.length < first.total) {
      const page = await api(`/results/${encodeURIComponent(name)}?limit=${PAGE}&offset=${rows.length}` +
                             `&run=${encodeURIComponent(first.run_id)}`);
      if (!page.rows.length) break;
      rows.push(...page.rows);
    }
    return { ...first, rows };
  } catch (error) {
    const reason = skipReason(error);
    if (reason) return { skipped: reason };
    throw error;
  }
}

/** Download an artifact as CSV (fetched with the token, saved as a blob). */
export async function downloadArtifactCsv(name) {
  return downloadCsv(`/results/${encodeURIComponent(name)}/csv`, `${name}.csv`);
}
