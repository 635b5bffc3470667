/**
 * Reading and rewriting a delimited text file in the browser, a slice at a time, with Papa Parse.
 *
 * Papa's own File reader decodes each byte slice on its own, which garbles a multi-byte character cut at a slice
 * boundary; so the file is decoded by the browser's TextDecoderStream (which carries partial characters over) and
 * handed to Papa through the small Node-style stream interface Papa accepts. The next slice is only read once the
 * rows of the previous one are rewritten, so memory holds one slice plus the growing output Blob, never the file.
 */

import { ApiError } from "../api.js";

const PAPA_URL = new URL("../../vendor/papaparse.min.js", import.meta.url).href;
const SAMPLE_BYTES = 256 * 1024;
const FLUSH_CHARS = 4 * 1024 * 1024;  // output text is moved into a Blob every ~4 MB

let papa = null;

/** A problem with the file or the page, worded for the person uploading it. */
const readError = (message) => new ApiError(400, { error: { code: "invalid_file", message } });

/** Papa Parse, loaded the first time it is needed (a classic script from web/vendor/, not an ES module). */
export function loadPapa() {
  papa ??= new Promise((resolve, reject) => {
    if (window.Papa) {
      resolve(window.Papa);
      return;
    }
    const script = document.createElement("script");
    script.src = PAPA_URL;
    script.addEventListener("load", () => resolve(window.Papa));
    script.addEventListener("error", () => {
      papa = null;
      script.remove();
      reject(readError("The CSV reader could not be loaded. Check your connection and reload the page."));
    });
    document.head.append(script);
  });
  return papa;
}

/** The files this can read: plain delimited text, not spreadsheets, Parquet or compressed files. */
export const isDelimitedText = (file) => /\.(csv|tsv|txt)$/i.test(file?.name || "");

/** The text encoding of `bytes` (the file's start): a UTF-16 byte-order mark, valid UTF-8, or else Windows-1252. */
function encodingOf(bytes) {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });  // a cut last character is fine
    return "utf-8";
  } catch {
    return "windows-1252";
  }
}

/** `{encoding, delimiter, header}` of `file`, from its first 256 KB. */
export async function sniff(file) {
  const Papa = await loadPapa();
  const bytes = new Uint8Array(await file.slice(0, SAMPLE_BYTES).arrayBuffer());
  const encoding = encodingOf(bytes);
  const text = new TextDecoder(encoding).decode(bytes, { stream: true });
  const forced = /\.tsv$/i.test(file.name) ? "\t" : undefined;
  const { data, meta } = Papa.parse(text, { preview: 20, delimiter: forced, skipEmptyLines: true });
  return { encoding, delimiter: forced || meta.delimiter || ",", header: (data[0] || []).map(String) };
}

/** The little of a Node readable stream that Papa.parse needs, fed one decoded slice per `next()`. */
class TextSource {
  constructor(stream) {
    this.readable = true;
    this.ended = false;
    this.reader = stream.getReader();
    this.handlers = {};
  }

  on(event, handler) { this.handlers[event] = handler; }
  removeListener(event) { delete this.handlers[event]; }
  read() { return null; }
  pause() {}
  resume() {}

  async next() {
    try {
      const { value, done } = await this.reader.read();
      if (!done) {
        this.handlers.data?.(value);
      } else {
        this.ended = true;
        this.handlers.end?.();
      }
    } catch (error) {
      this.handlers.error?.(error);
    }
  }
}

/** A byte counter between the file and the decoder, for the progress bar. */
function counting(onBytes) {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      onBytes(seen);
      controller.enqueue(chunk);
    },
  });
}

/**
 * Rewrite `file` row by row: `rewrite(rows, isFirst)` (async) changes the arrays of cells in place, or returns
 * new ones; the result is written back as CSV with the same delimiter and line breaks. Resolves to a Blob of
 * UTF-8 text. `onProgress(fraction)` follows the bytes read.
 */
export async function rewriteCsv(file, { encoding, delimiter, rewrite, onProgress = () => {} }) {
  const Papa = await loadPapa();
  const decoded = file.stream()
    .pipeThrough(counting((seen) => onProgress(file.size ? seen / file.size : 1)))
    .pipeThrough(new TextDecoderStream(encoding, { fatal: true }));
  const source = new TextSource(decoded);
  const parts = [];
  let pending = "";
  let first = true;
  let newline = "\r\n";

  return new Promise((resolve, reject) => {
    const fail = (error) => {
      source.reader.cancel().catch(() => {});
      reject(error instanceof TypeError && /decode|encod/i.test(error.message)
        ? readError("Part of the file is not text in one encoding. Save it again as CSV (UTF-8) and retry.")
        : readError(`The file could not be read (${error?.message || error}). Check it is a CSV file.`));
    };
    const handle = async (results) => {
      if (first && results.meta.linebreak) newline = results.meta.linebreak;
      const rows = results.data;
      if (rows.length) {
        const rewritten = (await rewrite(rows, first)) || rows;
        pending += Papa.unparse(rewritten, { delimiter, newline }) + newline;
        first = false;
      }
      if (pending.length >= FLUSH_CHARS || source.ended) {
        parts.push(new Blob([pending]));
        pending = "";
      }
    };
    Papa.parse(source, {
      delimiter,
      skipEmptyLines: true,
      chunk: (results) => {
        const last = source.ended;
        handle(results).then(() => {
          if (!last) return source.next();
          onProgress(1);
          return resolve(new Blob(parts, { type: "text/csv;charset=utf-8" }));
        }).catch(fail);
      },
      error: fail,
    });
    source.next();
  });
}
