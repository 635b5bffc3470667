/** forgot.html: step 1 sends a reset code, step 2 sets the new password with it. */
import { api } from "./api.js";
import { $ } from "./dom.js";
import { go, onSubmit, query, watchPasswordRules } from "./ui.js";

const askForm = $("#forgot-form");
const resetForm = $("#reset-form");
let email = "";

function showStep(second) {
  askForm.hidden = second;
  resetForm.hidden = !second;
  (second ? $("#code") : $("#email")).focus();
}

$("#email").value = query("email");
watchPasswordRules($("#new-password"));
$("#change-email").addEventListener("click", () => showStep(false));

onSubmit(askForm, async (values) => {
  const { delivery } = await api("/auth/forgot-password", { method: "POST", body: values, auth: false });
  email = values.email;
  const where = delivery?.destination || email;
  $("#sent-to").textContent = `If an account uses ${email}, we've sent a code to ${where}. Enter it with your new password.`;
  showStep(true);
});

onSubmit(resetForm, async ({ code, password }) => {
  await api("/auth/reset-password", { method: "POST", body: { email, code, password }, auth: false });
  go("index.html", { reset: 1 });
});
