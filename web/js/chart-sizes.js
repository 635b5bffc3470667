/**
 * Charts whose layout depends on their width (legend rows, how many date labels, numbers inside heatmap cells):
 * `build(narrow)` makes the option, and the chart is redrawn when its box crosses `breakpoint` — on a phone
 * turned sideways, or a window resized.
 */
import { drawChart } from "./charts.js";

const watched = new WeakMap();

/** Draw `build(container.clientWidth < breakpoint)` in `container`; redraw whenever that answer changes. */
export async function drawSized(container, build, { label = "", onClick = null, breakpoint = 560 } = {}) {
  const narrow = container.clientWidth < breakpoint;
  const state = { build, label, onClick, breakpoint, narrow };
  const first = !watched.has(container);
  watched.set(container, state);
  if (first) {
    new ResizeObserver(() => {
      const current = watched.get(container);
      const now = container.clientWidth < current.breakpoint;
      if (!container.isConnected || container.clientWidth === 0 || now === current.narrow) return;
      current.narrow = now;
      drawChart(container, current.build(now), { label: current.label, onClick: current.onClick });
    }).observe(container);
  }
  return drawChart(container, build(narrow), { label, onClick });
}
