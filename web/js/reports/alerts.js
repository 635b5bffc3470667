/**
 * "Alerts": what the analysis should warn about (unusual days, a forecast missed, more customers at risk), how
 * serious it must be, and who hears of it: members by e-mail and a webhook signed with a secret SalesLens makes.
 * The secret is shown once, when it is made or rotated. Read-only for those without `alerts:manage`.
 */
import { api } from "../api.js";
import { $ } from "../dom.js";
import { moment } from "../format.js";
import { errorState } from "../states.js";
import { busy, copyButton } from "../ui.js";
import { memberChecks } from "./members.js";
import { ticked } from "./sections.js";

const KINDS = ["anomalies", "forecast_miss", "churn_jump"];

function fill(settings, members) {
  const rules = settings.rules || {};
  $("#alerts-enabled").checked = Boolean(settings.enabled);
  $("#alert-severity").value = rules.min_severity || "medium";
  for (const kind of KINDS) $(`#alert-${kind}`).checked = Boolean(rules[kind]);
  $("#alert-lookback").value = rules.lookback_days ?? 7;
  $("#alert-churn-share").value = Math.round(Number(rules.churn_jump_share ?? 0.2) * 1000) / 10;
  $("#alert-churn-min").value = rules.churn_jump_min ?? 3;
  $("#alert-recipients").replaceChildren(...memberChecks(members, "alert-recipient", "email_to", settings.email_to || []));
  $("#alert-webhook").value = settings.webhook_url || "";
  const hint = settings.webhook_url && settings.webhook_secret_hint;
  $("#secret-hint").hidden = !hint;
  $("#secret-hint-value").textContent = hint || "";
  $("#rotate-secret").hidden = !settings.webhook_url;
  $("#alerts-updated").textContent = settings.updated_at
    ? `Last changed ${moment(settings.updated_at)} by ${settings.updated_by || "someone in your team"}.`
    : "Not changed yet: these are the defaults.";
}

/** Numbers as typed; what is not a number goes to the API as typed so its message names the field. */
const numeric = (input) => (input.value.trim() === "" || Number.isNaN(Number(input.value)) ? input.value
  : Number(input.value));

function body(form) {
  const share = numeric($("#alert-churn-share"));
  return {
    enabled: $("#alerts-enabled").checked,
    rules: {
      min_severity: $("#alert-severity").value,
      ...Object.fromEntries(KINDS.map((kind) => [kind, $(`#alert-${kind}`).checked])),
      lookback_days: numeric($("#alert-lookback")),
      churn_jump_share: typeof share === "number" ? Math.round(share * 10) / 1000 : share,
      churn_jump_min: numeric($("#alert-churn-min")),
    },
    email_to: ticked(form, "email_to"),
    webhook_url: $("#alert-webhook").value.trim(),
  };
}

/** The secret in the answer, once: shown with a copy button until the next save. */
function showSecret(secret) {
  const box = $("#secret-once");
  box.hidden = !secret;
  $("#secret-value").value = secret || "";
  if (secret) $("#secret-value").focus();
}

export async function initAlerts({ canManage, members }) {
  const form = $("#alerts-form");
  const area = $("#alerts-area");
  let settings;
  try {
    settings = await api("/alert-settings");
  } catch (error) {
    errorState(area, error);
    return;
  }
  const editable = canManage && Boolean(members);
  fill(settings, members || []);
  $("#alerts-fields").disabled = !editable;
  $("#alerts-readonly").hidden = editable;
  $("#alerts-actions").hidden = !editable;
  if (!editable) return;

  copyButton($("#copy-secret"), $("#secret-value"));
  form.noValidate = true;
  const saved = (answer, message) => {
    fill(answer, members);
    showSecret(answer.webhook_secret);
    const note = $("#alerts-saved");
    note.textContent = message;
    note.hidden = false;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#alerts-save"), form, async () => {
      saved(await api("/alert-settings", { method: "PUT", body: body(form) }), "Alert settings saved.");
    });
  });
  $("#rotate-secret").addEventListener("click", () => {
    if (!confirm("Make a new webhook secret? The old one stops working at once: update your receiver with the new one.")) return;
    busy($("#rotate-secret"), form, async () => {
      saved(await api("/alert-settings/rotate-secret", { method: "POST" }), "A new webhook secret is made.");
    });
  });
  form.addEventListener("input", () => {
    $("#alerts-saved").hidden = true;
  });
}
