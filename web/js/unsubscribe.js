/**
 * unsubscribe.html?token=…: the link in a scheduled report's e-mail. It only says what it will do until the button
 * is pressed, because mail scanners open links on their own; then `POST /unsubscribe` (public: the token is the
 * proof) and its answer.
 */
import { ApiError, api } from "./api.js";
import { $ } from "./dom.js";
import { notify, onSubmit, query } from "./ui.js";

const form = $("#unsubscribe-form");
const token = query("token").trim();

if (!token) {
  $("#what").textContent = "This link is incomplete: it has no code saying which report to stop. Open the link " +
    "from the e-mail again, or copy the whole address into your browser.";
  $("#unsubscribe").disabled = true;
}

onSubmit(form, async () => {
  if (!token) throw new ApiError(400, { error: { message: "This link has no unsubscribe code." } });
  const answer = await api("/unsubscribe", { method: "POST", body: { token }, auth: false });
  form.hidden = true;
  notify($("#unsubscribed"), answer.email ? `${answer.message} (${answer.email})` : answer.message);
});
