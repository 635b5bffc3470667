/** home.html: the signed-in user's account; each section shows only if `/me` grants its permission. */
import { $ } from "./dom.js";
import { startPage } from "./shell.js";
import { initAccount } from "./home/account.js";
import { initAudit } from "./home/audit.js";
import { initCompany } from "./home/company.js";
import { initTeam } from "./home/team.js";

function renderIdentity(me) {
  $("#greeting").textContent = `Hello, ${me.name || me.email}`;
  $("#company-name").textContent = me.tenant?.name ?? "";
  $("#role").textContent = me.role;
  $("#user-email").textContent = me.email;
}

async function start() {
  const started = await startPage("account", { fields: false });
  if (!started) return;
  const { me, can } = started;
  renderIdentity(me);
  $("#account").hidden = false;

  initAccount(me, renderIdentity);
  initCompany(me);
  if (can("members:read")) initTeam(me);
  if (can("audit:read")) initAudit();
}

start();
