/**
 * explore.html: ask the sales a question (measures × a split, filters, dates, a comparison), see it as a chart
 * and a table, and drill down to the order lines. The URL is the view (explore-state.js plus the drill trail),
 * so Back, bookmarks and shared links all show the same thing.
 */
import { ApiError, clearErrors, showError } from "./api.js";
import { clearChart } from "./charts.js";
import { $, el } from "./dom.js";
import { downloadCsv, saveText, toCsv } from "./download.js";
import { dateRange } from "./format.js";
import { parseState, stateQuery } from "./explore-state.js";
import { emptyState, ready, skeleton } from "./states.js";
import { startPage } from "./shell.js";
import { busy } from "./ui.js";
import { renderBreadcrumbs } from "./explore/breadcrumbs.js";
import { renderChart, describe } from "./explore/chart.js";
import { initControls } from "./explore/controls.js";
import { drillInto, emptyTrail, pageQuery, parseTrail, sameView } from "./explore/drill.js";
import { initFilters } from "./explore/filters.js";
import { renderMeta } from "./explore/meta.js";
import { presetLabel, questionTitle, valueLabel } from "./explore/names.js";
import { ask } from "./explore/query.js";
import { renderRows, rowsBody } from "./explore/rows.js";
import { orderedRows, renderTable, tableCsvColumns } from "./explore/table.js";

const NARROW = window.matchMedia("(max-width: 900px)");

let fields = null;
let available = [];
let state = null;
let trail = emptyTrail();
let answer = null; // the answer on screen (for the CSV and drill-down dates)
let ticket = 0;
let controls = null;
let filters = null;

const fileName = (text) => `${text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "explore"}.csv`;

/** The filters in words, for the title of the order lines and the collapsed question. */
function filterWords(current) {
  return Object.entries(current.filters).map(([field, values]) => values.map((value) => valueLabel(value, field))
    .join(" or "));
}

function titleOf(current) {
  if (current.rows) {
    const scope = filterWords(current);
    return scope.length ? `Order lines: ${scope.join(", ")}` : "Order lines";
  }
  return questionTitle(current);
}

function summaryOf(current) {
  const dates = current.from || current.to ? dateRange(current.from, current.to) : presetLabel(current.range);
  return [titleOf(current), dates, ...(current.rows ? [] : filterWords(current))].join(" · ");
}

/** Measures the company's data lacks are dropped (a link from elsewhere may name one). */
function normalise(parsed) {
  const measures = parsed.measures.filter((name) => fields.measures.some((m) => m.name === name));
  return { ...parsed, measures: measures.length ? measures : [fields.measures[0].name] };
}

function navigate(next, nextTrail = emptyTrail(), { focus = false } = {}) {
  history.pushState(null, "", `?${pageQuery(next, nextTrail)}`);
  show(next, nextTrail, { focus });
}

function drillLink(value) {
  const next = drillInto(state, trail, value, answer?.meta?.date_range, available);
  if (!next) return null;
  return { href: `?${pageQuery(next.state, next.trail)}`, go: () => navigate(next.state, next.trail, { focus: true }) };
}

function emptyAction(current) {
  if (Object.keys(current.filters).length || Object.keys(current.excluded).length) {
    const unfiltered = { ...current, filters: {}, excluded: {}, rows: false };
    return { href: `?${stateQuery(unfiltered)}`, label: "Remove the filters" };
  }
  if (current.range !== "all") {
    const allDates = { ...current, range: "all", from: "", to: "", rows: false };
    return { href: `?${stateQuery(allDates)}`, label: "Show all dates" };
  }
  return { href: "data.html", label: "See your data" };
}

async function loadAnswer(current, mine) {
  const chartArea = $("#chart-area");
  const tableArea = $("#table-area");
  await clearChart(chartArea.querySelector(".chart") || chartArea);
  if (current.view !== "table") skeleton(chartArea, 5);
  skeleton(tableArea, 4);
  let result;
  try {
    result = await ask(current);
  } catch (error) {
    if (mine !== ticket) return;
    showError($("#question-error"), error);
    if (NARROW.matches) toggleControls(true);
    const text = error instanceof ApiError
      ? "No answer for this question: see the message by the controls, and change the question."
      : "Something went wrong on this page. Reload it and try again.";
    emptyState(chartArea, text);
    emptyState(tableArea, "The table shows the answer once there is one.");
    return;
  }
  if (mine !== ticket) return;
  answer = result;
  renderMeta($("#answer-meta"), result.meta, current);
  controls.show(current, result.meta);
  if (!result.rows.length) {
    emptyState(chartArea, result.message || "Nothing matches this question.", emptyAction(current));
    emptyState(tableArea, "No rows: change the dates or filters above.");
    return;
  }
  $("#download").disabled = false;
  const title = titleOf(current);
  renderTable(tableArea, result, current, title, drillLink);
  if (current.view === "table") return;
  const chart = el("div", { class: "chart tall", id: "chart" });
  ready(chartArea, chart, el("p", { class: "chart-caption", id: "chart-caption" }, describe(result, current)));
  await renderChart(chart, result, current, (value) => drillLink(value)?.go());
}

async function loadRows(current, mine) {
  await clearChart($("#chart-area").querySelector(".chart") || $("#chart-area"));
  $("#chart-area").replaceChildren();
  await renderRows($("#table-area"), current, (meta, total) => {
    renderMeta($("#answer-meta"), meta, current, total);
    controls.show(current, meta);
    $("#download").disabled = !total;
  }, () => mine === ticket);
}

/** Put `next` on screen: controls, breadcrumbs, title, then the answer (or the order lines). */
function show(next, nextTrail, { focus = false } = {}) {
  state = normalise(next);
  trail = nextTrail;
  answer = null;
  const mine = ++ticket;
  clearErrors($("#question-error"));
  clearErrors($("#download-error"));
  controls.show(state);
  filters.show(state);
  const title = titleOf(state);
  $("#answer-title").textContent = title;
  document.title = `${title} · Explore · SalesLens`;
  $("#question-summary").textContent = summaryOf(state);
  renderBreadcrumbs($("#breadcrumbs"), state, trail, available, (crumbState, crumbTrail) =>
    navigate(crumbState, crumbTrail, { focus: true }));
  for (const button of $("#views").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
  }
  $("#views").hidden = state.rows;
  $("#chart-area").hidden = !state.rows && state.view === "table";
  $("#table-title").textContent = state.rows ? "Order lines" : "Table";
  const back = $("#rows-back");
  back.hidden = !state.rows || $("#breadcrumbs").hidden === false;
  $("#rows-back-link").href = `?${stateQuery({ ...state, rows: false })}`;
  $("#download").disabled = true;
  $("#answer-meta").replaceChildren();
  if (focus) $("#answer-title").focus();
  return state.rows ? loadRows(state, mine) : loadAnswer(state, mine);
}

function onQuestionChange(next) {
  navigate(next, sameView(state, next) ? trail : emptyTrail());
}

function toggleControls(open) {
  const button = $("#controls-toggle");
  button.setAttribute("aria-expanded", String(open));
  button.textContent = open ? "Hide" : "Change";
  $("#controls").classList.toggle("collapsed", !open);
  $("#question-summary").hidden = open;
}

function download() {
  return busy($("#download"), $("#download-error"), async () => {
    if (state.rows) {
      await downloadCsv("/explore/rows", fileName(titleOf(state)), rowsBody(state, { format: "csv" }));
      return;
    }
    if (!answer) return;
    saveText(toCsv(tableCsvColumns(answer, state), orderedRows(answer, state)), fileName(titleOf(state)));
  });
}

function wire() {
  controls = initControls($("#question-controls"), fields, onQuestionChange);
  filters = initFilters($("#filters"), fields, (kept, dropped) =>
    onQuestionChange({ ...state, filters: kept, excluded: dropped, rows: false }));
  $("#controls").addEventListener("submit", (event) => event.preventDefault());
  for (const button of $("#views").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      if (button.dataset.view !== state.view) onQuestionChange({ ...state, view: button.dataset.view });
    });
  }
  $("#controls-toggle").addEventListener("click", () =>
    toggleControls($("#controls-toggle").getAttribute("aria-expanded") !== "true"));
  $("#rows-back-link").addEventListener("click", (event) => {
    event.preventDefault();
    navigate({ ...state, rows: false });
  });
  $("#download").addEventListener("click", download);
  window.addEventListener("popstate", () => show(parseState(location.search), parseTrail(location.search)));
}

async function start() {
  const started = await startPage("explore");
  if (!started) return;
  fields = started.fields;
  $("#explore").hidden = false;
  if (!fields?.measures?.length) {
    $("#explore-layout").hidden = true;
    const box = $("#no-sales");
    box.hidden = false;
    emptyState(box, "There are no sales to explore yet. Upload your sales file, and Explore answers questions " +
      "about it.",
      { href: "data.html", label: "Upload sales" });
    return;
  }
  available = fields.dimensions.map((d) => d.name);
  wire();
  toggleControls(!NARROW.matches);
  NARROW.addEventListener("change", (event) => toggleControls(!event.matches)); // e.g. a tablet turned upright
  show(parseState(location.search), parseTrail(location.search));
}

start();
