/** "Your data": one row per dataset the company has loaded rows into. */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { busy } from "../ui.js";
import { dateRange, money, number, shortTitle } from "./format.js";

function datasetRow(dataset) {
  const isSales = dataset.dataset === "transactions";
  const figure = (value) => el("td", { class: "num" }, isSales ? number(value) : "—");
  return el("tr", { "data-dataset": dataset.dataset },
    el("th", { scope: "row" }, shortTitle(dataset)),
    el("td", { class: "num" }, number(dataset.rows)),
    el("td", { class: "cell-dates" }, isSales ? dateRange(dataset.date_from, dataset.date_to) : "—"),
    figure(dataset.customers),
    figure(dataset.products),
    el("td", { class: "num", title: mixedCurrencies(dataset) }, isSales ? money(dataset.revenue, dataset.currencies) : "—"));
}

function mixedCurrencies(dataset) {
  const codes = dataset.currencies || [];
  return codes.length > 1 ? `Sales in ${codes.join(", ")} are added up as they are, without conversion.` : null;
}

/** Load the summary now; call the returned function to load it again (after an upload). */
export function initSummary() {
  const table = $("#datasets");
  const empty = $("#datasets-empty");
  const reload = () => busy(null, $("#summary-area"), async () => {
    const { datasets } = await api("/datasets").finally(() => { $("#summary-loading").hidden = true; });
    const loaded = datasets.filter((dataset) => Number(dataset.rows) > 0);
    table.tBodies[0].replaceChildren(...loaded.map(datasetRow));
    table.closest(".table-wrap").hidden = !loaded.length;
    empty.hidden = Boolean(loaded.length);
  });
  reload();
  return reload;
}
