/** settings.html: the member's formats and defaults, the Overview's cards, feedback to SalesLens, account links. */
import { api } from "./api.js";
import { $ } from "./dom.js";
import { startPage } from "./shell.js";
import { errorState } from "./states.js";
import { initCards } from "./settings/cards.js";
import { initFeedback } from "./settings/feedback.js";
import { initFormats } from "./settings/formats.js";
import { onSaved, setSaved } from "./settings/prefs.js";

/** The shell reads the preferences too but carries on with defaults when that fails; here the failure matters. */
async function preferences(prefs) {
  return prefs?.overview_cards ? prefs : api("/me/preferences");
}

/** The page was hidden while it loaded, so follow a link such as settings.html#cards now. */
function showTarget() {
  const target = location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  if (!target) return;
  target.scrollIntoView({ block: "start" });
  target.focus({ preventScroll: true });
}

async function start() {
  const started = await startPage("settings");
  if (!started) return;
  const { prefs, fields, can } = started;
  $("#settings").hidden = false;

  const feedback = initFeedback({ canRead: can("audit:read") });
  try {
    setSaved(await preferences(prefs), fields?.currencies || []);
  } catch (error) {
    errorState($("#formats-area"), error);
    errorState($("#card-list"), error);
    $("#save-cards").disabled = $("#reset-cards").disabled = true;
    return;
  }
  initFormats();
  initCards();
  onSaved(() => feedback.formatsChanged());
  showTarget();
}

start();
