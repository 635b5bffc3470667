/**
 * Apache ECharts, loaded the first time a page draws a chart (the 1 MB library is not on the critical path),
 * from web/vendor/ (copied from the pinned npm package by `make web`; never a CDN). One function draws or
 * redraws a chart in a container, keeps it sized to the container, and labels it for screen readers.
 */

let library = null;
const observed = new WeakSet();

export const PALETTE = ["#2f5bd3", "#e07b39", "#1e7e4a", "#8e44ad", "#c0392b", "#16808a", "#b8860b", "#5f6b7a"];

export function loadECharts() {
  library ??= import("../vendor/echarts.esm.min.js");
  return library;
}

/**
 * Draw `option` in `container` (replacing what was there). `label` is the chart's summary in words for
 * assistive technology; `onClick(params)` receives ECharts' click events (bars, points, slices).
 * Returns the ECharts instance.
 */
export async function drawChart(container, option, { label = "", onClick = null } = {}) {
  const echarts = await loadECharts();
  let chart = echarts.getInstanceByDom(container);
  if (!chart) chart = echarts.init(container, null, { renderer: "svg" });
  chart.setOption({
    color: PALETTE,
    textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
    animationDuration: 300,
    ...option,
  }, true);
  chart.off("click");
  if (onClick) chart.on("click", onClick);
  container.setAttribute("role", "img");
  if (label) container.setAttribute("aria-label", label);
  if (!observed.has(container)) {
    observed.add(container);
    new ResizeObserver(() => chart.resize()).observe(container);
  }
  return chart;
}

/** Remove the chart in `container`, if any (before the container is reused for something else). */
export async function clearChart(container) {
  if (!library) return;
  const echarts = await library;
  echarts.getInstanceByDom(container)?.dispose();
}
