/**
 * recommendations.html: the products to offer one customer (from the recommender, with reasons and their churn
 * risk) and the lead lists (cross-sell, launch, prospects) with CSV downloads.
 */
import { $ } from "./dom.js";
import { downloadArtifactCsv } from "./results.js";
import { startPage } from "./shell.js";
import { busy, query } from "./ui.js";
import { initCustomer } from "./recommendations/customer.js";
import { initLeads } from "./recommendations/leads.js";

async function start() {
  const started = await startPage("recommendations");
  if (!started) return;
  $("#recommendations").hidden = false;
  const download = $("#download-recs");
  download.addEventListener("click",
    () => busy(download, $("#recs-card"), () => downloadArtifactCsv("recommendations")));
  // without customer ids in the sales there is no one to recommend to (the fields list has no customer dimension)
  const customers = !started.fields || started.fields.dimensions.some((dimension) => dimension.name === "customer");
  const customer = initCustomer({ input: $("#customer"), field: $("#customer-field"), area: $("#recs-area"),
                                  about: $("#recs-about"), download, customers, initial: query("customer") });
  initLeads({
    area: $("#leads-area"),
    notice: $("#leads-note"),
    onCustomer: async (id) => {
      (await customer).pick(id);
      $("#recs-card").scrollIntoView({ behavior: "smooth", block: "start" });
    },
  });
}

start();
