/**
 * The answer as a chart: one series per measure (a dashed twin for the compared period), or one per value of the
 * second split. Time runs left to right; products, places and customers are horizontal bars, largest on top.
 * Clicking a bar or point (or the empty space beside it, where its tooltip shows) hands that value to `onPick`.
 */
import { PALETTE, drawChart } from "../charts.js";
import { measureValue } from "../format.js";
import { labelOf, unitOf } from "../metrics.js";
import { OTHER, compareShort, isTime, isWhole, valueLabel, words } from "./names.js";

const GREY = "#9aa3af";
const blankClicks = new WeakMap(); // zrender instance → our handler for clicks beside the lines
const unique = (values) => [...new Set(values)];

/** A point or bar of a time bucket only partly inside the dates, faded (the caption says why). */
const faded = (value, whole, view) => (whole ? value
  : { value, itemStyle: view === "bar" ? { opacity: 0.4 } : { color: GREY, borderColor: GREY } });

function axes(units, horizontal) {
  return units.slice(0, 2).map((unit, index) => ({
    type: "value", position: horizontal ? (index ? "top" : "bottom") : (index ? "right" : "left"),
    axisLabel: { formatter: (value) => measureValue(unit, value, { short: true }), hideOverlap: true },
    splitLine: { show: index === 0 },
  }));
}

function seriesBase(view, name, data, { color, unitIndex, unit, stack, dashed = false, points, horizontal }) {
  const common = { name, data, [horizontal ? "xAxisIndex" : "yAxisIndex"]: unitIndex, color,
                   tooltip: { valueFormatter: (value) => measureValue(unit, value) } };
  if (view === "bar") {
    return { ...common, type: "bar", stack, barMaxWidth: 36,
             itemStyle: dashed ? { color: `${color}40`, borderColor: color, borderType: "dashed", borderWidth: 1 }
               : { color } };
  }
  return { ...common, color: dashed ? `${color}b3` : color, type: "line", stack: dashed ? undefined : stack,
           showSymbol: points <= 60, symbolSize: 6,
           lineStyle: { width: 2, type: dashed ? "dashed" : "solid" }, triggerLineEvent: true,
           areaStyle: view === "area" && !dashed ? { opacity: 0.25 } : undefined };
}

/** Categories (raw values) and series for an answer with one dimension. */
function byMeasure(answer, state, view, horizontal) {
  const dimension = state.dimensions[0];
  const categories = answer.rows.map((row) => row[dimension]);
  const whole = (row) => isWhole(row[dimension], dimension, answer.meta?.date_range);
  const units = unique(state.measures.map(unitOf));
  const series = [];
  state.measures.forEach((measure, index) => {
    const unit = unitOf(measure);
    const options = { color: PALETTE[index % PALETTE.length], unit, unitIndex: Math.min(units.indexOf(unit), 1),
                      stack: view === "area" ? `unit-${unit}` : undefined, points: categories.length, horizontal };
    const values = answer.rows.map((row) => (row[dimension] === OTHER && view === "bar"
      ? { value: row[measure], itemStyle: { color: GREY } } : faded(row[measure], whole(row), view)));
    series.push(seriesBase(view, labelOf(measure), values, options));
    if (state.compare) {
      series.push(seriesBase(view, `${labelOf(measure)}, ${compareShort(state.compare)}`,
        answer.rows.map((row) => row[`${measure}_previous`]), { ...options, dashed: true }));
    }
  });
  return { categories, series, units };
}

/** Categories and one series per value of the second split (the first measure only). */
function bySplit(answer, state, view, horizontal) {
  const [dimension, split] = state.dimensions;
  const measure = state.measures[0];
  const unit = unitOf(measure);
  const categories = unique(answer.rows.map((row) => row[dimension]));
  if (isTime(dimension)) categories.sort();
  const totals = new Map();
  for (const row of answer.rows) totals.set(row[split], (totals.get(row[split]) || 0) + (Number(row[measure]) || 0));
  const groups = [...totals.keys()].sort((a, b) => (a === OTHER) - (b === OTHER) || totals.get(b) - totals.get(a));
  const cell = new Map(answer.rows.map((row) => [`${row[dimension]}\u0000${row[split]}`, row[measure]]));
  const range = answer.meta?.date_range;
  const series = groups.map((group, index) => seriesBase(view, valueLabel(group, split),
    categories.map((category) => faded(cell.get(`${category}\u0000${group}`) ?? null,
                                       isWhole(category, dimension, range), view)),
    { color: group === OTHER ? GREY : PALETTE[index % PALETTE.length], unit, unitIndex: 0,
      stack: view === "line" ? undefined : "split", points: categories.length, horizontal }));
  return { categories, series, units: [unit] };
}

/**
 * The chart's summary in words (also its caption): the largest and smallest values and how to go deeper. A time
 * bucket only partly inside the dates (the first week of "last 90 days", the month of the last sale) is small for
 * that reason alone: it is named as such and left out of highest and lowest.
 */
export function describe(answer, state) {
  const [dimension, split] = state.dimensions;
  const measure = state.measures[0];
  const unit = unitOf(measure);
  const rows = answer.rows.filter((row) => row[dimension] !== OTHER && row[measure] !== null);
  const name = (row) => valueLabel(row[dimension], dimension);
  const inside = (row) => isWhole(row[dimension], dimension, answer.meta?.date_range);
  const whole = rows.filter(inside);
  const partial = unique(answer.rows.filter((row) => !inside(row)).map(name));
  const ranked = whole.length > 1 ? whole : rows;
  const sentences = [];
  if (!split && ranked.length > 1) {
    const sorted = [...ranked].sort((a, b) => b[measure] - a[measure]);
    const [top, bottom] = [sorted[0], sorted.at(-1)];
    sentences.push(`${labelOf(measure)} was highest for ${name(top)} (${measureValue(unit, top[measure])}) and ` +
                   `lowest for ${name(bottom)} (${measureValue(unit, bottom[measure])}).`);
  }
  if (partial.length) {
    const plural = partial.length > 1;
    sentences.push(`${words(partial)} ${plural ? "are" : "is"} only partly inside these dates (grey in the chart)` +
                   `${!split && ranked === whole ? `, so ${plural ? "they are" : "it is"} left out of highest and lowest` : ""}.`);
  }
  if (split) {
    sentences.push(`Each colour is one ${labelOf(split).toLowerCase()}; the chart shows ` +
                   `${labelOf(measure).toLowerCase()}` +
                   `${state.measures.length > 1 ? " only — the table has every measure" : ""}.`);
  }
  if (state.compare && !split) sentences.push(`Dashed: ${compareShort(state.compare)}.`);
  if (!rows.some((row) => row[dimension] !== OTHER)) return sentences.join(" ");
  const grain = isTime(dimension) ? "a period" : `a ${labelOf(dimension).toLowerCase()}`;
  sentences.push(`Click ${grain} in the chart, or its link in the table, to look inside.`);
  return sentences.join(" ");
}

/** Draw `answer` in `container`; `onPick(value)` is called with the value of the first dimension clicked. */
export async function renderChart(container, answer, state, onPick) {
  const dimension = state.dimensions[0];
  const view = state.view === "table" ? "bar" : state.view;
  const horizontal = view === "bar" && !isTime(dimension);
  const { categories, series, units } = state.dimensions[1]
    ? bySplit(answer, state, view, horizontal) : byMeasure(answer, state, view, horizontal);
  const band = Math.max(30, (state.dimensions[1] ? 1 : series.length) * 12 + 14); // room for each value's bars
  container.style.height = horizontal ? `${Math.max(320, categories.length * band + 90)}px` : "";
  const categoryAxis = {
    type: "category", data: categories, inverse: horizontal, boundaryGap: view === "bar",
    axisLabel: { formatter: (value) => valueLabel(value, dimension, { short: true }), hideOverlap: true,
                 width: 150, overflow: "truncate" },
    triggerEvent: true,
  };
  const valueAxes = axes(units, horizontal);
  const option = {
    grid: { left: 8, right: horizontal ? 24 : 32, top: series.length > 1 ? 44 : 16, bottom: 8,
            outerBoundsMode: "same", outerBoundsContain: "axisLabel" }, // the axis labels fit inside the box
    legend: series.length > 1 ? { type: "scroll", top: 0 } : undefined,
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: view === "bar" ? "shadow" : "line",
               label: { formatter: ({ value }) => valueLabel(value, dimension) +
                 (isWhole(value, dimension, answer.meta?.date_range) ? "" : " (partly outside the dates)") } } },
    xAxis: horizontal ? valueAxes : categoryAxis,
    yAxis: horizontal ? categoryAxis : valueAxes,
    series,
  };
  const pick = (value) => {
    if (value !== undefined && value !== null && value !== "" && value !== OTHER) onPick(value);
  };
  let chart = null;
  const atPixel = (x, y) => {
    if (!chart || !chart.containPixel("grid", [x, y])) return undefined;
    const [along, across] = chart.convertFromPixel({ seriesIndex: 0 }, [x, y]);
    return categories[Math.round(horizontal ? across : along)];
  };
  chart = await drawChart(container, option, {
    label: describe(answer, state),
    onClick: (params) => {
      if (params.componentType === "xAxis" || params.componentType === "yAxis") return pick(params.value);
      if (Number.isInteger(params.dataIndex)) return pick(categories[params.dataIndex]);
      return pick(atPixel(params.event?.offsetX, params.event?.offsetY));
    },
  });
  // a click beside the bars or lines opens the value under the pointer, as its tooltip shows
  const zr = chart.getZr();
  if (blankClicks.has(zr)) zr.off("click", blankClicks.get(zr));
  const handler = (event) => {
    if (!event.target) pick(atPixel(event.offsetX, event.offsetY));
  };
  blankClicks.set(zr, handler);
  zr.on("click", handler);
  return chart;
}
