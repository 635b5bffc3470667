/** The `POST /explore` body the page asks for a state: top 20 plus "everything else" for products, places and
 * customers (largest first), every bucket in time order for time. */
import { api } from "../api.js";
import { exploreBody } from "../explore-state.js";
import { isTime } from "./names.js";

export const TOP = 20;
const ALL_BUCKETS = 5000;

export function answerBody(state) {
  const [first, second] = state.dimensions;
  const byValue = [{ field: state.measures[0], direction: "desc" }];
  if (!first) return exploreBody(state);
  if (!isTime(first)) return exploreBody(state, { limit: TOP, other: true, sort: byValue });
  if (second && !isTime(second)) {
    return exploreBody(state, { limit: TOP, other: true, sort: [{ field: first, direction: "asc" }, ...byValue] });
  }
  return exploreBody(state, { limit: ALL_BUCKETS });
}

export const ask = (state) => api("/explore", { method: "POST", body: answerBody(state) });
