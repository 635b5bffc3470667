/** home.html: the signed-in user's account; each section shows only if `/me` grants its permission. */
import { api, session } from "./api.js";
import { $ } from "./dom.js";
import { busy, go, onClick } from "./ui.js";
import { initAccount } from "./home/account.js";
import { initAudit } from "./home/audit.js";
import { initCompany } from "./home/company.js";
import { initTeam } from "./home/team.js";

/** Show each `[data-permission]` element only to users who hold that permission. */
function applyPermissions(permissions) {
  for (const node of document.querySelectorAll("[data-permission]")) {
    node.hidden = !permissions.includes(node.dataset.permission);
  }
}

function renderIdentity(me) {
  $("#greeting").textContent = `Hello, ${me.name || me.email}`;
  $("#company-name").textContent = me.tenant?.name ?? "";
  $("#role").textContent = me.role;
  $("#user-email").textContent = me.email;
  $("#topbar-email").textContent = me.email;
}

async function start() {
  onClick($("#logout"), $("#page"), async () => {
    await api("/auth/logout", { method: "POST" }).catch(() => null);
    session.clear();
    go("index.html", { loggedout: 1 });
  });

  const me = await busy(null, $("#page"), () => api("/me"));
  $("#loading").hidden = true;
  if (!me) return;

  const can = (permission) => me.permissions.includes(permission);
  applyPermissions(me.permissions);
  renderIdentity(me);
  $("#account").hidden = false;

  initAccount(me, renderIdentity);
  initCompany(me);
  if (can("members:read")) initTeam(me);
  if (can("audit:read")) initAudit();
}

if (session.signedIn) start();
else location.replace("index.html");
