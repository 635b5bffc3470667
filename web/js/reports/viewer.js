/**
 * A finished report on the page and as a file: its HTML in a sandboxed frame (`sandbox=""`: no scripts, no
 * same-origin, so a product name in the report can never reach the portal or the token), and its PDF through the
 * short-lived link `GET /reports/{id}?format=pdf` answers with.
 */
import { api } from "../api.js";
import { $ } from "../dom.js";
import { safeHref } from "../data/format.js";
import { busy } from "../ui.js";

const path = (report, format) => `/reports/${encodeURIComponent(report.report_id)}?format=${format}`;
let shown = null;

/** Show `report` in the viewer panel; its Open button gets the focus back when the panel closes. */
export async function openReport(report) {
  const html = await api(path(report, "html"), { as: "text" });
  const frame = $("#viewer-frame");
  frame.title = `Report: ${report.title}`;
  frame.srcdoc = html;
  $("#viewer-title").textContent = report.title;
  $("#viewer").hidden = false;
  shown = report;
  $("#viewer").scrollIntoView({ block: "start" });
  $("#viewer-title").focus({ preventScroll: true });
}

export function closeReport() {
  if ($("#viewer").hidden) return;
  $("#viewer").hidden = true;
  $("#viewer-frame").srcdoc = "";
  // the list may have been drawn again meanwhile: find the report's button anew
  const opener = shown && document.querySelector(`[data-report="${CSS.escape(shown.report_id)}"] [data-action="open"]`);
  opener?.focus();
  shown = null;
}

/** Ask for the PDF's link and hand it to the browser, which saves the file (the link says "attachment"). */
export async function downloadPdf(report) {
  const link = await api(path(report, "pdf"));
  const anchor = document.createElement("a");
  anchor.href = safeHref(link.url);
  anchor.download = link.filename || "report.pdf";
  anchor.rel = "noopener";
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  return link;
}

/** The panel's own buttons: Close (and Escape inside the panel), and Download PDF of the report shown. */
export function initViewer() {
  $("#viewer-close").addEventListener("click", closeReport);
  $("#viewer").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeReport();
  });
  const download = $("#viewer-download");
  download.addEventListener("click", () => busy(download, $("#viewer"), () => downloadPdf(shown)));
}
