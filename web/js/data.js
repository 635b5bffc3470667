/** data.html: what the company has loaded, uploading a file, checking its columns, its quality report. */
import { api, session } from "./api.js";
import { $ } from "./dom.js";
import { busy, go, onClick, query } from "./ui.js";
import { initAnalysis } from "./data/analysis.js";
import { initHistory } from "./data/history.js";
import { initPanel } from "./data/panel.js";
import { initSummary } from "./data/summary.js";
import { initUpload } from "./data/upload.js";

/** `[data-permission]` shows only to holders of the permission, `[data-permission-absent]` only to others. */
function applyPermissions(permissions) {
  for (const node of document.querySelectorAll("[data-permission]")) {
    node.hidden = !permissions.includes(node.dataset.permission);
  }
  for (const node of document.querySelectorAll("[data-permission-absent]")) {
    node.hidden = permissions.includes(node.dataset.permissionAbsent);
  }
}

async function start() {
  onClick($("#logout"), $("#page"), async () => {
    await api("/auth/logout", { method: "POST" }).catch(() => null);
    session.clear();
    go("index.html", { loggedout: 1 });
  });

  const loaded = await busy(null, $("#page"), () => Promise.all([api("/me"), api("/schema")]));
  $("#loading").hidden = true;
  if (!loaded) return;
  const [me, { datasets: schema }] = loaded;
  const canUpload = me.permissions.includes("data:upload");
  applyPermissions(me.permissions);
  $("#topbar-email").textContent = me.email;
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

if (session.signedIn) start();
else location.replace("index.html");
