/** forecasts.html: the sales forecast per series, how the previous forecast did, and the seasonal patterns. */
import { $ } from "./dom.js";
import { artifact } from "./results.js";
import { startPage } from "./shell.js";
import { loadedOrShown, skeleton } from "./states.js";
import { query } from "./ui.js";
import { showAccuracy } from "./forecasts/accuracy.js";
import { showDecomposition } from "./forecasts/decomposition.js";
import { initSeries } from "./forecasts/series.js";

async function showForecast(loaded, comparison) {
  const area = $("#forecast-area");
  const forecast = await loadedOrShown(area, loaded);
  if (!forecast) {
    $("#series-picker").replaceChildren();
    return;
  }
  // the comparison table is secondary: without it the forecast still shows
  const models = await comparison.catch(() => ({ rows: [], skipped: "it could not be loaded" }));
  initSeries(forecast, models, query("series"));
}

async function start() {
  const started = await startPage("forecasts");
  if (!started) return;
  for (const id of ["#forecast-area", "#accuracy-area", "#decomposition-area"]) skeleton($(id), 4);
  const forecast = artifact("forecast");
  const comparison = artifact("model_comparison");
  await Promise.all([
    showForecast(forecast, comparison),
    showAccuracy($("#accuracy-area"), artifact("forecast_accuracy")),
    showDecomposition($("#decomposition-area"), artifact("decomposition")),
  ]);
}

start();
