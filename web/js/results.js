/**
 * The analysis artifacts (`GET /results/{artifact}`): one page, or every row, of the latest run's table with its
 * meta. An artifact the run skipped, or no run at all, comes back as `{skipped: reason}` instead of throwing,
 * so a page can show the run's reason where the chart would be.
 */
import { api, ApiError } from "./api.js";
import { downloadCsv } from "./download.js";

const PAGE = 5000;

function skipReason(error) {
  if (!(error instanceof ApiError) || error.status !== 404) return null;
  const step = error.details.find((detail) => detail.reason);
  return step?.reason || error.message;
}

/** `{rows, meta, columns, total, run_id}` of `name`, or `{skipped: reason}`; `all` pages through every row. */
export async function artifact(name, { all = false, limit = PAGE } = {}) {
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
