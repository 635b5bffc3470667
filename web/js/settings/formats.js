/**
 * "Formats and defaults": time zone, date and number formats, how amounts name their currency, the first day of
 * the week and the date range pages open with — each choice shown as an example, with a live preview line.
 */
import { $, el } from "../dom.js";
import { day, moment, money, number } from "../format.js";
import { onSubmit } from "../ui.js";
import {
  CURRENCY_DISPLAYS, DATE_FORMATS, NUMBER_LOCALES, RANGES, browserZone, localeName, timeZoneGroups, todayIn,
} from "./choices.js";
import { formattedAs, salesCurrencies, savePrefs, savedPrefs } from "./prefs.js";

const EXAMPLE_NUMBER = 1234567.89;

/** Amounts in examples use the sales' currency when there is exactly one, euros otherwise. */
function exampleCurrencies() {
  const codes = salesCurrencies();
  return codes.length === 1 ? codes : ["EUR"];
}

function radio(name, value, id) {
  return el("label", { class: "choice", for: id },
    el("input", { type: "radio", name, value, id }),
    el("span", { class: "choice-text" }, el("strong", { class: "example" }), " ", el("span", { class: "choice-name" })));
}

function ensureOption(select, value, label = value) {
  if (value && ![...select.options].some((option) => option.value === value)) {
    select.append(el("option", { value }, label));
  }
}

function build(prefs) {
  const zones = $("#timezone");
  zones.replaceChildren(...timeZoneGroups(prefs.timezone).map(({ group, zones: list }) =>
    el("optgroup", { label: group }, list.map(({ value, label }) => el("option", { value }, label)))));

  $("#number_locale").replaceChildren(...NUMBER_LOCALES.map((locale) => el("option", { value: locale },
    `${localeName(locale)} — ${formattedAs({ number_locale: locale }, () => number(EXAMPLE_NUMBER, 2))}`)));
  ensureOption($("#number_locale"), prefs.number_locale);

  $("#date-format-choices").replaceChildren(...DATE_FORMATS.map(({ value }) =>
    radio("date_format", value, `date-format-${value}`)));
  $("#currency-display-choices").replaceChildren(...CURRENCY_DISPLAYS.map(({ value }) =>
    radio("currency_display", value, `currency-display-${value}`)));

  $("#default_range").replaceChildren(...RANGES.map(({ value, name }) => el("option", { value }, name)));
  ensureOption($("#default_range"), prefs.default_range);

  const codes = salesCurrencies();
  const note = $("#currency-note");
  note.hidden = codes.length === 1;
  note.textContent = codes.length > 1
    ? `Your sales are in ${codes.join(" and ")}, so totals are shown as numbers with their codes. The examples use euros.`
    : "The examples use euros until your sales are loaded; then they use your sales' currency.";
}

function fill(form, prefs) {
  ensureOption($("#timezone"), prefs.timezone);
  form.elements.timezone.value = prefs.timezone;
  form.elements.number_locale.value = prefs.number_locale;
  form.elements.default_range.value = prefs.default_range;
  for (const name of ["date_format", "currency_display", "week_start"]) {
    for (const input of form.querySelectorAll(`input[name="${name}"]`)) input.checked = input.value === prefs[name];
  }
}

/** The choices as the form shows them now (not saved yet). */
function draft(form) {
  const values = Object.fromEntries(new FormData(form));
  return {
    timezone: values.timezone, date_format: values.date_format, number_locale: values.number_locale,
    week_start: values.week_start, default_range: values.default_range, currency_display: values.currency_display,
  };
}

/** Examples and the preview line follow what the form shows, saved or not. */
function showExamples(form) {
  const choice = draft(form);
  const today = todayIn(choice.timezone);
  for (const { value, name } of DATE_FORMATS) {
    const label = $(`#date-format-${value}`).closest("label");
    $(".example", label).textContent = formattedAs({ ...choice, date_format: value }, () => day(today));
    $(".choice-name", label).textContent = name;
  }
  for (const { value, name } of CURRENCY_DISPLAYS) {
    const label = $(`#currency-display-${value}`).closest("label");
    $(".example", label).textContent = formattedAs({ ...choice, currency_display: value },
                                                   () => money(1234, exampleCurrencies()));
    $(".choice-name", label).textContent = name;
  }
  const zone = choice.timezone || "UTC";
  $("#preview").textContent = formattedAs(choice, () => [
    `Now: ${moment(new Date().toISOString())} (${zone.replaceAll("_", " ")})`,
    number(EXAMPLE_NUMBER, 2),
    money(EXAMPLE_NUMBER, exampleCurrencies()),
    `weeks start on ${choice.week_start === "sunday" ? "Sunday" : "Monday"}`,
  ].join(" · "));
  const browser = browserZone();
  $("#timezone-suggest").hidden = browser === zone;
  $("#browser-zone").textContent = browser.replaceAll("_", " ");
}

export function initFormats() {
  const form = $("#prefs-form");
  build(savedPrefs());
  fill(form, savedPrefs());
  showExamples(form);

  form.addEventListener("change", () => {
    $("#prefs-saved").hidden = true;
    showExamples(form);
  });
  $("#use-browser-zone").addEventListener("click", () => {
    form.elements.timezone.value = browserZone();
    form.dispatchEvent(new Event("change"));
    form.elements.timezone.focus();
  });
  onSubmit(form, async () => {
    const saved = await savePrefs(draft(form));
    fill(form, saved);
    showExamples(form);
    $("#prefs-saved").hidden = false;
  });
}
