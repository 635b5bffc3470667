/**
 * The selected upload: its steps and status line, then the part that fits its status — the
 * column check, the quality report or the failure. Follows the upload (polling) while it moves.
 */
import { api, clearErrors, showError } from "../api.js";
import { $, el } from "../dom.js";
import { TRANSIENT, bytes, moment, number, plural, statusOf } from "./format.js";
import { initMapping } from "./mapping.js";
import { initQuality, showFailure } from "./quality.js";

const POLL_MS = 1000;
const GIVE_UP_MS = 2 * 60 * 1000;
const STEPS = [["send", "Send"], ["read", "Read"], ["check", "Check columns"], ["load", "Load"], ["report", "Report"]];
const NEVER_ARRIVED_MS = 15 * 60 * 1000;
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** A presigned form handed out long ago whose file never reached storage: nothing more will happen. */
const abandoned = (upload) => upload.status === "waiting_for_file"
  && Date.now() - Date.parse(upload.created_at) > NEVER_ARRIVED_MS;
const moving = (upload) => TRANSIENT.has(upload.status) && !abandoned(upload);

/** Index of the step an upload is at (STEPS.length when all are done). */
function stepOf(upload) {
  switch (upload.status) {
    case "waiting_for_file": return 1;
    case "needs_mapping": return 2;
    case "queued": case "ingesting": return 3;
    case "loaded": return STEPS.length;
    default: return upload.headers?.length ? 3 : 1;  // failed: while loading, or while reading
  }
}

function renderSteps(upload) {
  const at = stepOf(upload);
  const failed = upload.status === "failed";
  $("#upload-steps").replaceChildren(...STEPS.map(([key, label], index) => {
    const state = index < at ? "done" : index > at ? "todo" : failed ? "failed" : "current";
    return el("li", { "data-step": key, "data-state": state, "aria-current": index === at ? "step" : null },
      el("span", { class: "visually-hidden" }, `${state === "todo" ? "to do" : state}: `), label);
  }));
}

function statusText(upload) {
  const summary = upload.summary || {};
  switch (upload.status) {
    case "waiting_for_file":
      return abandoned(upload) ? "The file never arrived. Upload it again." : "File received. Reading its columns…";
    case "needs_mapping":
      return `Found ${plural(upload.headers?.length || 0, "column")} in your ${upload.format || ""} file. `
        + "Check how they match below, then press Load data.";
    case "queued": return "Columns confirmed. Waiting for a free loader…";
    case "ingesting": return "Loading your rows and checking each one…";
    case "loaded": return `Loaded ${plural(summary.rows_accepted || 0, "row")}. The quality report is below.`;
    case "failed": return "This upload failed. What went wrong and what to do is below.";
    default: return `Status: ${upload.status}`;
  }
}

function renderHead(upload, dataset) {
  $("#panel-title").textContent = upload.filename;
  const origin = { drop: "from your S3 inbox", webhook: "from a webhook", manual: "typed in" }[upload.source];
  $("#panel-meta").textContent = [dataset?.title || upload.dataset, upload.size ? bytes(upload.size) : null,
    `${origin || "uploaded"} ${moment(upload.created_at)}`, upload.created_by ? `by ${upload.created_by}` : null]
    .filter(Boolean).join(" · ");
  const { label, tone } = statusOf(upload.status);
  const badge = $("#panel-badge");
  badge.textContent = label;
  badge.dataset.tone = tone;
}

function renderStatus(upload, waiting) {
  const line = $("#upload-status");
  line.dataset.status = upload.status;
  line.classList.toggle("is-waiting", waiting);
  line.replaceChildren(...[waiting ? el("span", { class: "spinner", "aria-hidden": "true" }) : null,
    el("span", {}, statusText(upload))].filter(Boolean));
}

/**
 * Wire the panel once. Returns `follow(upload)`, which shows an upload and keeps polling it
 * while its status is transient, and `open(uploadId)`, which fetches it first.
 */
export function initPanel({ schema, canConfirm, onChange }) {
  const panel = $("#upload-panel");
  const statusArea = $("#panel-status-area");
  const datasetOf = (upload) => schema.find((dataset) => dataset.dataset === upload.dataset);
  let generation = 0;

  function render(upload, waiting) {
    const dataset = datasetOf(upload);
    renderHead(upload, dataset);
    renderSteps(upload);
    renderStatus(upload, waiting);
    const mapping = upload.status === "needs_mapping" || (upload.status === "failed" && upload.headers?.length > 0);
    $("#mapping-section").hidden = !(mapping && dataset);
    if (mapping && dataset) showMapping(upload, dataset);
    $("#quality").hidden = upload.status !== "loaded";
    if (upload.status === "loaded") showQuality(upload);
    $("#upload-failure").hidden = upload.status !== "failed";
    if (upload.status === "failed") showFailure(upload);
    panel.hidden = false;
  }

  async function follow(upload, { focus = false } = {}) {
    const mine = ++generation;
    clearErrors(statusArea);
    history.replaceState(null, "", `?${new URLSearchParams({ upload: upload.upload_id })}`);
    render(upload, moving(upload));
    if (focus) {
      panel.scrollIntoView({ block: "start", behavior: "smooth" });
      panel.focus({ preventScroll: true });
    }
    const started = Date.now();
    let current = upload;
    while (moving(current)) {
      await sleep(POLL_MS);
      if (mine !== generation) return;
      if (Date.now() - started > GIVE_UP_MS) {
        renderStatus(current, false);
        $("#upload-status").append(el("span", { class: "status-slow" }, ` Still “${statusOf(current.status).label}” `
          + `after ${number(GIVE_UP_MS / 60000)} minutes. It carries on in the background: look at Recent uploads `
          + "in a few minutes, or upload the file again."));
        return;
      }
      let next;
      try {
        next = await api(`/uploads/${encodeURIComponent(current.upload_id)}`);
        clearErrors(statusArea);
      } catch (error) {
        if (mine === generation) showError(statusArea, error);
        continue;
      }
      if (mine !== generation) return;
      const changed = next.status !== current.status;
      current = next;
      render(current, moving(current));
      if (changed) onChange(current);
    }
  }

  const showMapping = initMapping({ canConfirm, onConfirmed: (upload) => {
    onChange(upload);
    follow(upload);
  } });
  const showQuality = initQuality();

  async function open(uploadId, options) {
    let upload;
    try {
      upload = await api(`/uploads/${encodeURIComponent(uploadId)}`);
    } catch (error) {
      showError($("#uploads-area"), error);
      return;
    }
    await follow(upload, options);
  }

  return { follow, open };
}
