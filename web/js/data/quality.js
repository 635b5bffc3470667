/** The quality report of a loaded upload, and what went wrong with a failed one. */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { busy } from "../ui.js";
import { dateRange, number, plural, safeHref } from "./format.js";

const GRADES = ["good", "fair", "poor"];

/** The API's grade when it sends one of ours, else one from the 0–100 score. */
function gradeOf(quality) {
  const given = String(quality.grade || "").toLowerCase();
  if (GRADES.includes(given)) return given;
  const score = Number(quality.score);
  if (!Number.isFinite(score)) return "";
  return score >= 85 ? "good" : score >= 60 ? "fair" : "poor";  // the API's own thresholds
}

function headlineOf(quality, summary) {
  if (quality.headline) return quality.headline;
  const accepted = Number(summary.rows_accepted || 0);
  const read = Number(summary.rows_read || 0);
  return `${number(accepted)} of ${plural(read, "row")} loaded.`;
}

function figures(summary) {
  const sum = (...keys) => keys.reduce((total, key) => total + Number(summary[key] || 0), 0);
  const shown = [
    ["rows_read", "Rows read", number(summary.rows_read)],
    ["rows_accepted", "Accepted", number(summary.rows_accepted)],
    ["rows_rejected", "Rejected", number(sum("rows_rejected"))],
    ["duplicates", "Duplicates", number(sum("duplicates_in_file", "duplicates_already_loaded")),
      summary.duplicates_already_loaded ? `${number(summary.duplicates_already_loaded)} already loaded` : null],
    ["returns", "Returns", number(summary.returns)],
    ["outliers", "Outliers", number(summary.outliers)],
    ["dates", "Dates", dateRange(summary.date_from, summary.date_to)],
    ["customers", "Customers", number(summary.customers)],
    ["products", "Products", number(summary.products)],
  ];
  if (summary.rows_malformed) shown.splice(3, 0, ["rows_malformed", "Unreadable lines", number(summary.rows_malformed)]);
  return shown.map(([key, label, value, note]) => el("div", { "data-figure": key },
    el("dt", {}, label), el("dd", {}, value), note ? el("span", { class: "figure-note" }, note) : null));
}

/** Issues are sentences; objects with a message (and maybe a severity) are accepted too. */
function issueItem(issue) {
  if (issue && typeof issue === "object") {
    const text = issue.message || issue.text || issue.problem || issue.issue || JSON.stringify(issue);
    return el("li", { "data-severity": issue.severity || issue.level || null }, text);
  }
  return el("li", {}, String(issue));
}

/** Wire the rejects link once; returns `show(upload)` for a loaded upload. */
export function initQuality() {
  const link = $("#rejects-link");
  let uploadId = null;
  link.addEventListener("click", (event) => {
    if (link.dataset.ready === uploadId) return;  // the link already points at a fresh download
    event.preventDefault();
    busy(null, $("#rejects-area"), async () => {
      const { url } = await api(`/uploads/${encodeURIComponent(uploadId)}/rejects`);
      link.href = safeHref(url);
      link.dataset.ready = uploadId;
      setTimeout(() => { delete link.dataset.ready; }, 10 * 60 * 1000);  // presigned links expire
      location.assign(link.href);
    });
  });

  return function show(upload) {
    const quality = upload.quality || {};
    const summary = upload.summary || {};
    uploadId = upload.upload_id;
    delete link.dataset.ready;
    link.href = "#";

    const grade = gradeOf(quality);
    const score = $("#quality-score");
    score.dataset.grade = grade;
    score.querySelector(".score-value").textContent = Number.isFinite(Number(quality.score)) && quality.score !== null
      ? number(quality.score) : "—";
    score.querySelector(".score-grade").textContent = grade || "no score";
    score.setAttribute("aria-label", `Quality score ${number(quality.score)} out of 100, ${grade || "not graded"}`);
    $("#quality-headline").textContent = headlineOf(quality, summary);
    $("#quality-figures").replaceChildren(...figures(summary));

    const issues = Array.isArray(quality.issues) ? quality.issues : [];
    $("#quality-issues").replaceChildren(...(issues.length ? issues.map(issueItem)
      : [el("li", { class: "muted" }, "Nothing to report: every row was usable.")]));
    const rejected = Number(summary.rows_rejected || 0) + Number(summary.rows_malformed || 0);
    link.textContent = rejected ? `Download the ${plural(rejected, "rejected row")} (CSV)` : "Download rejected rows (CSV)";
    $("#rejects-area").hidden = !upload.has_rejects;
  };
}

const ADVICE = {
  unreadable_file: "Open the file in a spreadsheet, check it has one header row followed by data rows, "
    + "save it as CSV and upload it again.",
  unsupported_file: "Save it as CSV, Excel (.xlsx), JSON Lines or Parquet — or one of those as .gz or .zip — "
    + "and upload it again.",
  file_too_large: "Split the file, or compress it as .gz or .zip, and upload it again.",
};

/** The error of a failed upload: its message, details and what to do next. */
export function showFailure(upload) {
  const error = upload.error || {};
  $("#failure-message").textContent = error.message || "The file could not be loaded.";
  const details = Array.isArray(error.details) ? error.details : [];
  $("#failure-details").replaceChildren(...details.map((detail) => el("li", {},
    typeof detail === "object" && detail
      ? [detail.field || detail.column, detail.problem || detail.reason || detail.message].filter(Boolean).join(": ")
      : String(detail))));
  const retry = upload.headers?.length ? " Or, if a column was matched wrongly, change it below and load the data again."
    : "";
  $("#failure-advice").textContent = (ADVICE[error.code] || "Fix what the message says and upload the file again.")
    + retry;
}
