/**
 * "Upload a file": the API hands out a presigned S3 form for the chosen file, and the browser
 * sends the file straight to S3 with XMLHttpRequest, whose upload events drive the progress bar.
 * With the privacy option ticked, the file is first rewritten in the browser with pseudonymised
 * customer ids (privacy.js) and that copy is sent instead.
 */
import { ApiError, api, config } from "../api.js";
import { $, el } from "../dom.js";
import { onSubmit } from "../ui.js";
import { bytes, plural } from "./format.js";
import { initLookup } from "./lookup.js";
import { initPrivacy } from "./privacy.js";

const userError = (message, problem) => new ApiError(400, { error: {
  code: "invalid_file", message, details: problem ? [{ field: "file", problem }] : [],
} });

/** S3 answers errors as XML: `<Error><Code>…</Code><Message>…</Message></Error>`. */
function storageError(xhr) {
  const xml = new DOMParser().parseFromString(xhr.responseText || "<Error/>", "application/xml");
  const code = xml.querySelector("Code")?.textContent || "";
  const advice = {
    EntityTooLarge: "The file is over the size limit. Split it, or compress it as .gz or .zip, and upload it again.",
    AccessDenied: "The upload link has expired or was refused. Press Upload to try again.",
  }[code];
  const detail = xml.querySelector("Message")?.textContent || `storage answered ${xhr.status}`;
  return new ApiError(xhr.status, { error: {
    code: "storage_error", message: advice || `The file could not be stored (${detail}). Press Upload to try again.`,
  } });
}

/** POST `file` to the presigned `form`: every policy field first, the file last under the name `file`. */
function sendToStorage(form, file, onProgress) {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields || {})) body.append(name, value);
    body.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(storageError(xhr))));
    xhr.addEventListener("error", () => reject(new ApiError(0, { error: {
      code: "network_error", message: "The file could not be sent: the connection broke. Check it and try again.",
    } })));
    xhr.send(body);
  });
}

function progressBar() {
  const row = $("#upload-progress-row");
  const bar = $("#upload-progress");
  const label = row.querySelector("label");
  const set = (fraction) => {
    const percent = Math.min(100, Math.max(0, Math.round(fraction * 100)));
    bar.value = percent;
    $("#upload-percent").textContent = `${percent} %`;
  };
  return {
    start(file, verb = "Sending") {
      label.firstChild.textContent = `${verb}… `;
      $("#upload-progress-name").textContent = `${file.name} (${bytes(file.size)})`;
      set(0);
      row.hidden = false;
    },
    set,
    done() {
      set(1);
      label.firstChild.textContent = "Sent: ";
    },
    hide() {
      row.hidden = true;
    },
  };
}

/** Dropping a file on the box is the same as choosing it with the file input. */
function initDropzone(zone, input) {
  const dragging = (on) => zone.classList.toggle("is-dragging", on);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      dragging(true);
    });
  }
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) dragging(false);
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    dragging(false);
    if (!event.dataTransfer?.files.length) return;
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
}

function initChoices(schema, apiUrl) {
  const picker = $("#dataset");
  picker.replaceChildren(...schema.map((dataset) =>
    el("option", { value: dataset.dataset, selected: dataset.dataset === "transactions" }, dataset.title)));
  const template = $("#template-link");
  const pointTemplate = () => {
    template.href = `${apiUrl}/templates/${encodeURIComponent(picker.value || "transactions")}.csv`;
  };
  picker.addEventListener("change", pointTemplate);
  pointTemplate();

  const input = $("#file");
  const chosen = $("#file-chosen");
  input.addEventListener("change", () => {
    const file = input.files[0];
    chosen.textContent = file ? `${file.name} · ${bytes(file.size)}` : "";
    chosen.hidden = !file;
  });
  initDropzone($("#dropzone"), input);
}

/** Wire the form; `onSent(upload)` is called once the file is in storage and the API starts reading it. */
export async function initUpload(schema, { onSent }) {
  const { apiUrl } = await config();
  initChoices(schema, apiUrl);
  const progress = progressBar();
  const input = $("#file");
  const privacy = initPrivacy(schema);
  const outcome = $("#pseudonymise-result");
  initLookup();

  onSubmit($("#upload-form"), async ({ dataset }, form) => {
    let file = input.files[0];
    if (!file) throw userError("Choose a file to upload first.", "No file chosen yet.");
    if (!file.size) throw userError(`${file.name} is empty. Choose the file with your data in it.`);
    progress.hide();
    outcome.hidden = true;
    const pseudonymise = privacy.wanted();
    if (pseudonymise) {
      let done;
      try {
        done = await privacy.prepare(file, progress);
      } catch (error) {
        progress.hide();
        throw error;
      }
      file = done.file;
      outcome.textContent = `Replaced ${plural(done.replaced, "customer id")} (${plural(done.customers, "customer")}) `
        + "by pseudonyms" + (done.dropped.length ? ` and left out ${done.dropped.join(", ")}` : "")
        + ". Only this copy is sent; the file on your computer is unchanged.";
      outcome.hidden = false;
    }
    const { upload, form: storage } = await api("/uploads", { method: "POST", body: {
      filename: file.name, size: file.size, dataset,
    } });
    progress.start(file);
    try {
      await sendToStorage(storage, file, progress.set);
    } catch (error) {
      progress.hide();
      throw error;
    }
    progress.done();
    form.reset();
    $("#dataset").value = dataset;
    privacy.afterUpload(pseudonymise);
    input.dispatchEvent(new Event("change"));
    onSent(upload);
  });
}
