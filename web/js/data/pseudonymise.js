/**
 * Pseudonymised customer ids, made in the browser so SalesLens never receives the real ones (docs/privacy.md).
 *
 *   key       = PBKDF2-SHA256(passphrase, salt = "saleslens:" + tenant_id, 310 000 iterations) → HMAC-SHA256 key
 *   pseudonym = "c_" + the first 24 hex digits of HMAC-SHA256(key, the id trimmed of surrounding spaces)
 *
 * The same passphrase in the same company always gives the same pseudonyms, so later files join up; another
 * company gets different ones from the same passphrase. The key is derived as non-extractable: this page can use
 * it but cannot read it back, and it is never stored or sent.
 */
import { rewriteCsv } from "./csv-stream.js";

export const ITERATIONS = 310_000;
export const PREFIX = "c_";
export const HEX_DIGITS = 24;
export const MIN_PASSPHRASE = 12;
export const CHECK_VALUE = "saleslens:check";
export const saltFor = (tenantId) => `saleslens:${tenantId}`;

// The server reads these spellings as "no customer" (chalicelib/ingest/encoded.py), so they stay as they are.
const EMPTY = new Set(["", "nan", "NaN", "NULL", "null", "Null", "N/A", "n/a", "#N/A"]);

const utf8 = new TextEncoder();
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/** The company's HMAC key for `passphrase` (a non-extractable CryptoKey). */
export async function deriveKey(passphrase, tenantId) {
  const material = await crypto.subtle.importKey("raw", utf8.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: utf8.encode(saltFor(tenantId)), iterations: ITERATIONS },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/** The pseudonym of one raw customer id, or null for an empty one. */
export async function pseudonym(key, raw) {
  const id = String(raw ?? "").trim();
  if (EMPTY.has(id)) return null;
  const mac = await crypto.subtle.sign("HMAC", key, utf8.encode(id));
  return PREFIX + hex(mac).slice(0, HEX_DIGITS);
}

/** What a key file holds: how the pseudonyms are made and a check value, never the passphrase. */
export async function keyFile(key, { tenantId, companyName }) {
  return {
    about: "SalesLens pseudonymised customer ids. This file does not contain your passphrase: keep the passphrase "
      + "itself somewhere safe (a password manager). With the passphrase, the check below must come out the same.",
    company: companyName,
    scheme: {
      key: "PBKDF2-SHA256 of the passphrase (UTF-8)",
      salt: saltFor(tenantId),
      iterations: ITERATIONS,
      pseudonym: `"${PREFIX}" + first ${HEX_DIGITS} hex digits of HMAC-SHA256(key, customer id trimmed of spaces)`,
    },
    check: { value: CHECK_VALUE, pseudonym: await pseudonym(key, CHECK_VALUE) },
    created_at: new Date().toISOString(),
  };
}

/**
 * Rewrite `file` (delimited text) with each customer id in `column` (index) replaced by its pseudonym, and the
 * columns at `drop` (indexes) left out. Resolves to `{file, replaced, customers}`: a File of the same name.
 */
export async function pseudonymiseFile(file, key, { column, drop = [], encoding, delimiter, onProgress }) {
  const seen = new Map();  // raw id → pseudonym: each distinct customer is hashed once
  const dropped = new Set(drop);
  let replaced = 0;
  const rewrite = async (rows, isFirst) => {
    const start = isFirst ? 1 : 0;  // the header row keeps its names
    const fresh = new Set();
    for (let i = start; i < rows.length; i += 1) {
      const raw = rows[i][column];
      if (raw !== undefined && !seen.has(raw)) fresh.add(raw);
    }
    await Promise.all([...fresh].map(async (raw) => seen.set(raw, await pseudonym(key, raw))));
    for (let i = start; i < rows.length; i += 1) {
      const made = seen.get(rows[i][column]);
      if (made) {
        rows[i][column] = made;
        replaced += 1;
      }
    }
    return dropped.size ? rows.map((row) => row.filter((_, index) => !dropped.has(index))) : rows;
  };
  const blob = await rewriteCsv(file, { encoding, delimiter, rewrite, onProgress });
  const customers = new Set([...seen.values()].filter(Boolean)).size;
  return { file: new File([blob], file.name, { type: blob.type }), replaced, customers };
}
