/**
 * reports.html: make a report now, read and download the ones made, e-mail them on a schedule, choose which alerts
 * the analysis sends and to whom, and see the log of everything sent.
 */
import { $ } from "./dom.js";
import { startPage } from "./shell.js";
import { browserZone } from "./settings/choices.js";
import { errorState } from "./states.js";
import { initAlerts } from "./reports/alerts.js";
import { initDeliveries } from "./reports/deliveries.js";
import { initList } from "./reports/list.js";
import { initMake } from "./reports/make.js";
import { loadMembers } from "./reports/members.js";
import { initSchedules } from "./reports/schedules.js";

async function start() {
  const started = await startPage("reports");
  if (!started) return;
  const { me, prefs, fields, can } = started;
  $("#reports").hidden = false;

  if (can("reports:create")) initMake(fields);
  // Recipients are members; without the list the forms cannot offer any, so they stay read-only.
  const members = await loadMembers().catch((error) => {
    errorState($("#members-error"), error);
    $("#members-error").hidden = false;
    return null;
  });
  const zone = prefs?.timezone || browserZone();
  await Promise.all([
    initList(),
    initSchedules({ canEdit: can("reports:create"), members, me, zone }),
    initAlerts({ canManage: can("alerts:manage"), members }),
    initDeliveries(),
  ]);
}

start();
