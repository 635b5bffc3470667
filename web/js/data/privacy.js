/**
 * The privacy option of the upload form: pseudonymise the customer id column in the browser before the file is
 * sent. Nothing about the passphrase goes to the server; it stays in this tab's sessionStorage only when the user
 * asks. A check value (the pseudonym of a fixed text) is kept in localStorage to warn when a different passphrase
 * is used from the same browser, since customers would then stop joining up.
 */
import { ApiError } from "../api.js";
import { $, el } from "../dom.js";
import { signedInUser } from "../shell.js";
import { saveText } from "../download.js";
import { isDelimitedText, loadPapa, sniff } from "./csv-stream.js";
import { day } from "./format.js";
import { guessCustomerColumn, personalColumns, strength } from "./privacy-hints.js";
import { CHECK_VALUE, MIN_PASSPHRASE, deriveKey, keyFile, pseudonym, pseudonymiseFile } from "./pseudonymise.js";

export const REMEMBERED = "saleslens.pseudonymise.passphrase";
const checkKey = (tenantId) => `saleslens.pseudonymise.check.${tenantId}`;

const fieldError = (field, message) => new ApiError(400, { error: {
  code: "validation_error", message, details: [{ field, problem: message }],
} });

/** The signed-in user's company (`{tenant_id, name}`): the salt of the key. */
export async function company() {
  return signedInUser().tenant;
}

let lastKey = { passphrase: null, tenantId: null, key: null };
/** The HMAC key for `passphrase` (derived once per passphrase: 310 000 PBKDF2 rounds take a moment). */
export async function keyFor(passphrase) {
  const { tenant_id: tenantId } = await company();
  if (lastKey.passphrase !== passphrase || lastKey.tenantId !== tenantId) {
    lastKey = { passphrase, tenantId, key: await deriveKey(passphrase, tenantId) };
  }
  return lastKey.key;
}

export const rememberedPassphrase = () => sessionStorage.getItem(REMEMBERED) || "";

function initReveal(input, button) {
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.textContent = show ? "Hide" : "Show";
    button.setAttribute("aria-label", `${show ? "Hide" : "Show"} the passphrase`);
  });
}

/** Wire the option; returns `{wanted(), prepare(file, progress), afterUpload()}` for the upload form. */
export function initPrivacy(schema) {
  const box = $("#privacy");
  const ticked = $("#pseudonymise");
  const options = $("#privacy-options");
  const passphrase = $("#passphrase");
  const remember = $("#remember-passphrase");
  const column = $("#customer-column");
  const columnHint = $("#customer-column-hint");
  const personal = $("#personal-columns");
  const check = $("#passphrase-check");
  const input = $("#file");
  const withCustomers = new Set(schema.filter((d) => d.columns.some((c) => c.name === "customer_id"))
    .map((d) => d.dataset));
  let sniffed = null;  // {encoding, delimiter, header} of the chosen file

  const showFor = () => {
    box.hidden = !withCustomers.has($("#dataset").value);
  };
  $("#dataset").addEventListener("change", showFor);
  showFor();

  const rate = () => {
    const { level, text } = strength(passphrase.value);
    const hint = $("#passphrase-strength");
    hint.dataset.level = passphrase.value ? level : "";
    hint.textContent = passphrase.value ? text : `At least ${MIN_PASSPHRASE} characters.`;
    check.hidden = true;
  };
  passphrase.addEventListener("input", rate);
  passphrase.addEventListener("change", () => {
    keep();
    compareWithLast().catch(() => {});  // only a hint: without it the upload works the same
  });
  initReveal(passphrase, $("#passphrase-toggle"));

  /** Tell whether this passphrase is the one last used from this browser. */
  async function compareWithLast() {
    const value = passphrase.value;
    if ([...value].length < MIN_PASSPHRASE) return;
    const { tenant_id: tenantId } = await company();
    const last = JSON.parse(localStorage.getItem(checkKey(tenantId)) || "null");
    if (!last) return;
    const same = (await pseudonym(await keyFor(value), CHECK_VALUE)) === last.pseudonym;
    if (value !== passphrase.value) return;  // typed on meanwhile
    check.dataset.kind = same ? "same" : "different";
    check.textContent = same
      ? "✓ The same passphrase as your last pseudonymised upload from this browser."
      : `This is not the passphrase of your last pseudonymised upload from this browser (${day(last.at)}): `
        + "customers in this file would not join up with the ones already loaded.";
    check.hidden = false;
  }

  /** Keep the passphrase in this tab's sessionStorage while "Remember" is ticked; drop it when it is not. */
  function keep() {
    if (!remember.checked) sessionStorage.removeItem(REMEMBERED);
    else if ([...passphrase.value].length >= MIN_PASSPHRASE) sessionStorage.setItem(REMEMBERED, passphrase.value);
  }
  remember.addEventListener("change", keep);

  function fillColumns() {
    const file = input.files[0];
    personal.hidden = true;
    if (!file || !sniffed) {
      column.replaceChildren(el("option", { value: "" }, file ? "Reading the file…" : "Choose a file first"));
      columnHint.textContent = file && !isDelimitedText(file)
        ? "This option reads CSV, TSV and TXT files. Save your file as CSV (not compressed) to use it."
        : "The list shows the columns of the file you choose.";
      return;
    }
    const guess = guessCustomerColumn(sniffed.header);
    column.replaceChildren(
      el("option", { value: "", selected: guess < 0 }, "Choose the column…"),
      ...sniffed.header.map((name, index) => el("option", { value: index, selected: index === guess }, name || `Column ${index + 1}`)),
    );
    columnHint.textContent = guess >= 0
      ? "We picked the column that looks like your customer ids; change it if it's not the right one."
      : "Pick the column with your customer numbers or e-mails.";
    showPersonal();
  }

  function showPersonal() {
    const others = sniffed && column.value !== "" ? personalColumns(sniffed.header, Number(column.value)) : [];
    personal.hidden = !others.length;
    $("#personal-names").textContent = others.map((index) => sniffed.header[index]).join(", ");
    $("#personal-count").textContent = others.length === 1 ? "This column is" : "These columns are";
  }
  column.addEventListener("change", showPersonal);

  async function readHeader() {
    const file = input.files[0];
    sniffed = null;
    fillColumns();
    if (!file || !ticked.checked || !isDelimitedText(file)) return;
    try {
      const found = await sniff(file);
      if (input.files[0] === file) sniffed = found;
    } catch {
      columnHint.textContent = "The file's first line could not be read. Check it is a CSV file.";
    }
    if (input.files[0] === file) fillColumns();
  }
  input.addEventListener("change", readHeader);

  ticked.addEventListener("change", () => {
    options.hidden = !ticked.checked;
    if (!ticked.checked) return;
    loadPapa().catch(() => {});  // start fetching the CSV reader while the user types
    if (!passphrase.value && rememberedPassphrase()) {
      passphrase.value = rememberedPassphrase();
      remember.checked = true;
    }
    rate();
    readHeader();
  });

  const keyStatus = $("#key-file-status");
  $("#key-file").addEventListener("click", async () => {
    keyStatus.textContent = "";
    if ([...passphrase.value].length < MIN_PASSPHRASE) {
      keyStatus.textContent = `Type your passphrase (at least ${MIN_PASSPHRASE} characters) first.`;
      passphrase.focus();
      return;
    }
    try {
      const { tenant_id: tenantId, name } = await company();
      const contents = await keyFile(await keyFor(passphrase.value), { tenantId, companyName: name });
      saveText(`${JSON.stringify(contents, null, 2)}\n`, "saleslens-pseudonym-key.json", "application/json");
      keyStatus.textContent = "Saved to your downloads. It does not hold the passphrase: keep that in a password manager.";
    } catch (error) {
      keyStatus.textContent = error.message || "The key file could not be made. Try again.";
    }
  });

  return {
    wanted: () => !box.hidden && ticked.checked,

    /** The file to send instead of `file`; throws a user error for a missing passphrase or column. */
    async prepare(file, progress) {
      if (!isDelimitedText(file)) {
        throw fieldError("file", "Customer ids can only be pseudonymised in CSV, TSV or TXT files. Save the file as "
          + "CSV (not compressed), or untick the privacy option.");
      }
      const secret = passphrase.value;
      if ([...secret].length < MIN_PASSPHRASE) {
        throw fieldError("passphrase", `The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
      }
      if (!sniffed) await readHeader();
      if (column.value === "") throw fieldError("customer_column", "Choose the column that holds the customer ids.");
      const drop = $("#drop-personal").checked && !personal.hidden
        ? personalColumns(sniffed.header, Number(column.value)) : [];
      progress.start(file, "Pseudonymising");
      const key = await keyFor(secret);
      const done = await pseudonymiseFile(file, key, { ...sniffed, column: Number(column.value), drop,
                                                       onProgress: progress.set });
      keep();
      const { tenant_id: tenantId } = await company();
      localStorage.setItem(checkKey(tenantId), JSON.stringify({
        pseudonym: await pseudonym(key, CHECK_VALUE), at: new Date().toISOString(),
      }));
      return { ...done, dropped: drop.map((index) => sniffed.header[index]) };
    },

    /** After the form was reset: keep the option ticked, and the passphrase only if it is remembered. */
    afterUpload(wasTicked) {
      ticked.checked = wasTicked;
      options.hidden = !wasTicked;
      passphrase.value = rememberedPassphrase();
      remember.checked = Boolean(passphrase.value);
      sniffed = null;
      keyStatus.textContent = "";
      rate();
      fillColumns();
    },
  };
}
