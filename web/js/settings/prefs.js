/**
 * The member's saved preferences, shared by the sections that each edit a part of them: every save sends the
 * whole object (PUT /me/preferences replaces it), and what the server answers becomes the page's formats.
 */
import { api } from "../api.js";
import { configureFormat } from "../format.js";

let saved = {};
let currencies = [];
const listeners = new Set();

export function setSaved(prefs, companyCurrencies = currencies) {
  saved = prefs;
  currencies = companyCurrencies || [];
  configureFormat(saved, currencies);
}

/** A copy of the saved preferences, safe to change. */
export const savedPrefs = () => structuredClone(saved);

/** The company's sales currencies (from GET /explore/fields). */
export const salesCurrencies = () => currencies;

/** Save `changes` over the saved preferences; the page's formats follow, and `onSaved` listeners hear of it. */
export async function savePrefs(changes) {
  const answer = await api("/me/preferences", { method: "PUT", body: { ...saved, ...changes } });
  setSaved(answer);
  for (const listener of listeners) listener(savedPrefs());
  return savedPrefs();
}

export const onSaved = (listener) => listeners.add(listener);

/**
 * `fn()`'s result with `draft`'s formats in force (for examples of choices not saved yet), then the saved
 * formats again. format.js is the one formatter, so an example looks exactly like the pages will.
 */
export function formattedAs(draft, fn, currencyList = currencies) {
  configureFormat({ ...saved, ...draft }, currencyList);
  try {
    return fn();
  } finally {
    configureFormat(saved, currencies);
  }
}
