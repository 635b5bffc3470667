/** customers.html: RFM groups, K-Means segments, churn risk with the customers to call, and cohort retention. */
import { $ } from "./dom.js";
import { artifact } from "./results.js";
import { startPage } from "./shell.js";
import { emptyState, skeleton } from "./states.js";
import { showChurn } from "./customers/churn.js";
import { NO_CUSTOMERS } from "./customers/common.js";
import { showCohorts } from "./customers/cohorts.js";
import { showRfm } from "./customers/rfm.js";
import { showSegments } from "./customers/segments.js";

const AREAS = ["#rfm-area", "#segments-area", "#churn-area", "#cohort-area"];

async function start() {
  const started = await startPage("customers");
  if (!started) return;
  for (const id of AREAS) skeleton($(id), 4);
  const dimensions = started.fields?.dimensions;
  // without customer ids the fields catalogue has no customer dimension: say what to upload
  const hasCustomers = !dimensions || dimensions.some((d) => d.name === "customer");
  const options = { hasCustomers };
  const comparison = artifact("model_comparison");
  await Promise.all([
    showRfm($("#rfm-area"), artifact("rfm"), options),
    showSegments($("#segments-area"), artifact("segments"), options),
    showChurn($("#churn-area"), artifact("churn", { all: true }), comparison, options),
    hasCustomers ? showCohorts($("#cohort-area"))
      : emptyState($("#cohort-area"), NO_CUSTOMERS, { href: "data.html", label: "Upload sales" }),
  ]);
}

start();
