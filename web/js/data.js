/** data.html: what the company has loaded, uploading a file, checking its columns, its quality report. */
import { api } from "./api.js";
import { $ } from "./dom.js";
import { startPage } from "./shell.js";
import { busy, query } from "./ui.js";
import { initAnalysis } from "./data/analysis.js";
import { initHistory } from "./data/history.js";
import { initPanel } from "./data/panel.js";
import { initSummary } from "./data/summary.js";
import { initUpload } from "./data/upload.js";

async function start() {
  const started = await startPage("data", { fields: false });
  if (!started) return;
  const { me } = started;
  const loaded = await busy(null, $("#page"), () => api("/schema"));
  $("#loading").hidden = true;
  if (!loaded) return;
  const { datasets: schema } = loaded;
  const canUpload = me.permissions.includes("data:upload");
  $("#company-name").textContent = me.tenant?.name ?? "your company";
  $("#data").hidden = false;

  const reloadSummary = initSummary();
  const reloadAnalysis = initAnalysis({ canRun: me.permissions.includes("analysis:run") });
  let panel = null;
  const recent = initHistory(schema, (uploadId) => {
    recent.select(uploadId);
    panel.open(uploadId, { focus: true });
  });
  panel = initPanel({ schema, canConfirm: canUpload, onChange: (upload) => {
    recent.reload();
    if (upload.status === "loaded") {
      reloadSummary();
      reloadAnalysis();
    }
  } });

  if (canUpload) {
    initUpload(schema, { onSent: (upload) => {
      recent.select(upload.upload_id);
      recent.reload();
      panel.follow(upload, { focus: true });
    } });
  }
  const wanted = query("upload");
  if (wanted) panel.open(wanted);
}

start();
