/** "Recent uploads": newest first, each with its status; choosing one shows it in the panel. */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { busy } from "../ui.js";
import { moment, shortTitle, statusOf } from "./format.js";

const LIMIT = 20;

function uploadItem(upload, schema, selected, onOpen) {
  const { label, tone } = statusOf(upload.status);
  const title = shortTitle(schema.find((dataset) => dataset.dataset === upload.dataset) ?? upload);
  const open = el("button", { type: "button", class: "link-button upload-open", "data-upload-id": upload.upload_id,
    "aria-current": selected ? "true" : null, "aria-describedby": `upload-${upload.upload_id}-about` },
  upload.filename);
  open.addEventListener("click", () => onOpen(upload.upload_id));
  return el("li", { "data-upload-id": upload.upload_id, "data-status": upload.status, class: selected ? "is-selected" : null },
    el("div", { class: "upload-item" }, open,
      el("span", { class: "muted upload-about", id: `upload-${upload.upload_id}-about` },
        `${title} · ${moment(upload.created_at)}`)),
    el("span", { class: "badge status-badge", "data-tone": tone }, label));
}

/** Load the list now; returns `reload()` and `select(uploadId)` to mark the one shown. */
export function initHistory(schema, onOpen) {
  const list = $("#uploads");
  let selected = new URLSearchParams(location.search).get("upload");
  let uploads = [];
  const render = () => list.replaceChildren(...(uploads.length
    ? uploads.map((upload) => uploadItem(upload, schema, upload.upload_id === selected, onOpen))
    : [el("li", { class: "muted" }, "No uploads yet. Files you upload, or drop in your S3 inbox, show up here.")]));
  const reload = () => busy(null, $("#uploads-area"), async () => {
    ({ uploads } = await api(`/uploads?limit=${LIMIT}`));
    render();
  });
  reload();
  return {
    reload,
    select(uploadId) {
      selected = uploadId;
      render();
    },
  };
}
