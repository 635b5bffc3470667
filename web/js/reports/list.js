/**
 * "Your reports": newest first, 20 at a time with "Show more"; each with its period, who made it and when, its
 * status (a progress bar while it is being made), its size, its headlines, and Open / Download PDF once ready.
 */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { bytes } from "../data/format.js";
import { dateRange, moment, plural } from "../format.js";
import { labelOf } from "../metrics.js";
import { presetLabel } from "../explore/names.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";
import { busy } from "../ui.js";
import { FINISHED, poller } from "./poll.js";
import { closeReport, downloadPdf, initViewer, openReport } from "./viewer.js";

const PAGE_SIZE = 20;
const STATUS = {
  queued: { label: "Waiting to start", tone: "info" },
  running: { label: "Being made", tone: "info" },
  ready: { label: "Ready", tone: "success" },
  failed: { label: "Failed", tone: "danger" },
};

let reports = [];
let next = null;
let watcher = null;

const announce = (text) => {
  $("#reports-status").textContent = text;
};

/** The period as asked; once made, with the dates the report covers (the preset resolved against the data). */
function periodText(report) {
  const period = report.request?.period || {};
  const asked = period.preset ? presetLabel(period.preset) : dateRange(period.start, period.end);
  const covered = report.period?.from ? dateRange(report.period.from, report.period.to) : "";
  return covered && period.preset ? `${asked} (${covered})` : asked;
}

function filterText(report) {
  const filters = report.request?.filters || [];
  if (!filters.length) return "All sales";
  return filters.map((f) => `${f.op === "not_in" ? "not " : ""}${labelOf(f.field)}: ${f.values.join(", ")}`)
    .join("; ");
}

function sizeText(report) {
  if (report.status !== "ready") return null;
  const parts = [`PDF ${bytes(report.pdf_bytes)}`];
  if (report.pages) parts.push(plural(report.pages, "page"));
  return parts.join(", ");
}

function progressRow(report) {
  const value = Math.max(0, Math.min(100, Number(report.progress) || 0));
  return el("div", { class: "report-progress" },
    el("div", { class: "progress-line" },
      el("progress", { max: 100, value, "aria-label": `Progress of ${report.title}` }),
      el("span", { class: "progress-percent", "aria-hidden": "true" }, `${value}%`)),
    el("p", { class: "hint" }, report.status === "queued" ? "Waiting for the report builder…"
      : `Step: ${report.step || "starting"}`));
}

function headlines(report, newest) {
  if (!report.headlines?.length) return null;
  const list = el("ul", { class: "headlines" }, report.headlines.map((text) => el("li", {}, text)));
  return newest ? list : el("details", { class: "headlines-more" }, el("summary", {}, "Headlines"), list);
}

function actions(report, item) {
  if (report.status !== "ready") return null;
  const open = el("button", { type: "button", class: "button primary small", "data-action": "open" }, "Open",
                  el("span", { class: "visually-hidden" }, ` ${report.title}`));
  const pdf = el("button", { type: "button", class: "button secondary small", "data-action": "pdf" }, "Download PDF",
                 el("span", { class: "visually-hidden" }, ` of ${report.title}`));
  open.addEventListener("click", () => busy(open, item, () => openReport(report)));
  pdf.addEventListener("click", () => busy(pdf, item, () => downloadPdf(report)));
  return el("div", { class: "actions-row report-actions" }, open, pdf);
}

function reportItem(report, index) {
  const status = STATUS[report.status] || { label: report.status, tone: "info" };
  const item = el("li", { class: "report-item", "data-report": report.report_id, "data-status": report.status });
  const meta = [periodText(report), filterText(report), plural(report.request?.sections?.length || 0, "section")];
  const parts = [
    el("div", { class: "report-head" },
      el("h3", { class: "report-title" }, report.title),
      el("span", { class: "badge status-badge", "data-tone": status.tone }, status.label),
      report.schedule_id ? el("span", { class: "pill" }, report.emailed ? "Scheduled · e-mailed" : "Scheduled") : null),
    el("p", { class: "report-meta" }, meta.join(" · ")),
    el("p", { class: "report-meta muted" },
      `Made ${moment(report.created_at)} by ${report.created_by || "SalesLens"}`,
      sizeText(report) ? ` · ${sizeText(report)}` : ""),
    FINISHED.has(report.status) ? null : progressRow(report),
    report.status === "failed"
      ? el("p", { class: "report-error" }, report.error?.message || "The report could not be made.") : null,
    report.status === "ready" ? headlines(report, index === 0) : null,
    actions(report, item),
  ];
  item.append(...parts.filter(Boolean));
  return item;
}

/** Draw the list again, keeping the keyboard focus on the same button of the same report. */
function render() {
  const area = $("#report-list");
  if (!reports.length) {
    emptyState(area, "No reports yet. Make one above, or add a schedule below to receive one by e-mail.");
    return;
  }
  const focused = document.activeElement?.closest?.("#report-list .report-item [data-action]");
  const focus = focused && [focused.closest(".report-item").dataset.report, focused.dataset.action];
  ready(area, el("ol", { class: "report-list", "aria-label": "Your reports, newest first" },
                 reports.map(reportItem)));
  if (focus) area.querySelector(`[data-report="${CSS.escape(focus[0])}"] [data-action="${focus[1]}"]`)?.focus();
}

function updated(report) {
  const index = reports.findIndex((known) => known.report_id === report.report_id);
  if (index < 0) return;
  const before = reports[index].status;
  reports[index] = report;
  // only this report's entry is drawn again: an open "Headlines" or a message beside another report stays
  const old = document.querySelector(`#report-list [data-report="${CSS.escape(report.report_id)}"]`);
  if (old) old.replaceWith(reportItem(report, index));
  else render();
  if (before === report.status) return;
  if (report.status === "ready") announce(`${report.title} is ready: open it or download the PDF.`);
  if (report.status === "failed") announce(`${report.title} could not be made: ${report.error?.message || "try again."}`);
}

function follow(list) {
  for (const report of list) if (!FINISHED.has(report.status)) watcher.watch(report.report_id);
}

async function load(more = false) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (more && next) params.set("next", next);
  const page = await api(`/reports?${params}`);
  reports = more ? [...reports, ...page.reports.filter((r) => !reports.some((k) => k.report_id === r.report_id))]
    : page.reports;
  next = page.next || null;
  $("#reports-more").hidden = !next;
  render();
  follow(page.reports);
}

/** A report just asked for goes on top and is followed until it is made. */
export function added(report) {
  reports = [report, ...reports.filter((known) => known.report_id !== report.report_id)];
  render();
  follow([report]);
  announce(`Making ${report.title}: it takes a minute, and you can keep working meanwhile.`);
}

export async function initList() {
  watcher = poller(updated);
  initViewer();
  const more = $("#reports-more");
  more.addEventListener("click", () => busy(more, $("#your-reports"), () => load(true)));
  $("#reports-reload").addEventListener("click", () => {
    closeReport();
    skeleton($("#report-list"));
    load().catch((error) => errorState($("#report-list"), error));
  });
  skeleton($("#report-list"));
  try {
    await load();
  } catch (error) {
    errorState($("#report-list"), error);
  }
}
