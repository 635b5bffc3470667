/**
 * "Analysis": the company's latest analysis run — queued, running (current step and a progress bar),
 * succeeded or failed — with the steps it ran or skipped and why. Polls while a run is under way.
 */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { busy, onClick } from "../ui.js";
import { moment, number } from "./format.js";

const POLL_MS = 2000;
const TONES = { queued: "warning", running: "warning", succeeded: "success", failed: "danger" };
const LABELS = { queued: "Queued", running: "Running", succeeded: "Done", failed: "Failed" };
const TRIGGERS = { ingest: "After new data", schedule: "Nightly refresh", manual: "Requested" };

function stepItem(step) {
  const seconds = step.seconds ? ` · ${number(step.seconds, 1)} s` : "";
  return el("li", { "data-status": step.status },
    el("span", { class: "step-name" }, step.name.replaceAll("_", " ")),
    el("span", { class: "muted" }, ` — ${step.status}${seconds}`),
    step.reason ? el("div", { class: "muted small" }, step.reason) : "");
}

function render(run) {
  const area = $("#analysis-run");
  $("#analysis-empty").hidden = Boolean(run);
  area.hidden = !run;
  if (!run) return;
  const badge = $("#analysis-status");
  badge.textContent = LABELS[run.status] ?? run.status;
  badge.dataset.tone = TONES[run.status] ?? "";
  const when = run.started_at ? `started ${moment(run.started_at)}` : `queued ${moment(run.created_at)}`;
  $("#analysis-when").textContent = `${TRIGGERS[run.trigger] ?? run.trigger} · ${when}`;
  const progress = $("#analysis-progress");
  progress.value = Number(run.progress || 0);
  $("#analysis-percent").textContent = `${Math.round(progress.value)} %`;
  $("#analysis-step").textContent = run.status === "running" && run.step ? `Now: ${run.step.replaceAll("_", " ")}` : "";
  const error = $("#analysis-error");
  error.hidden = run.status !== "failed";
  error.textContent = run.error?.message ?? "";
  $("#analysis-steps").replaceChildren(...(run.steps || []).map(stepItem));
}

/** Show the latest run now; the returned function refreshes it (after an upload has loaded). */
export function initAnalysis({ canRun }) {
  let timer = null;
  const refresh = () => busy(null, $("#analysis-card"), async () => {
    clearTimeout(timer);
    const { runs } = await api("/runs");
    const run = runs[0] ?? null;
    render(run);
    if (run && (run.status === "queued" || run.status === "running")) timer = setTimeout(refresh, POLL_MS);
  });
  const button = $("#reanalyze");
  button.hidden = !canRun;
  if (canRun) {
    onClick(button, $("#analysis-card"), async () => {
      await api("/runs", { method: "POST" });
      await refresh();
    });
  }
  refresh();
  return refresh;
}
