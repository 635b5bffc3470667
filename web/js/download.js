/** Save text the API made (a CSV) as a file: fetched with the user's token, handed to the browser as a blob. */
import { api } from "./api.js";

export function saveText(text, filename, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** GET (or POST with `body`) `path` and save the answer as `filename`. */
export async function downloadCsv(path, filename, body = undefined) {
  const text = await api(path, { method: body === undefined ? "GET" : "POST", body, as: "text" });
  saveText(text, filename);
}

/** Rows (objects) as CSV text, for tables the page itself assembled. Cells starting with = + - @ are quoted
 * with a leading apostrophe so a spreadsheet does not run them as formulas. */
export function toCsv(columns, rows) {
  const cell = (value) => {
    let text = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.map((c) => cell(c.label ?? c)), ...rows.map((row) => columns.map((c) => cell(row[c.name ?? c])))]
    .map((line) => line.join(",")).join("\r\n");
}
