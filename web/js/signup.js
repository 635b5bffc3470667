/** signup.html: create a company and its owner, or join one with `?invitation=TOKEN`. */
import { api } from "./api.js";
import { $ } from "./dom.js";
import { go, onSubmit, query, watchPasswordRules } from "./ui.js";

const invitation = query("invitation");
if (invitation) {
  $("#company-field").hidden = true;
  $("#invitation-note").hidden = false;
  $("#title").textContent = "Join your team";
  $("#signup-lead").textContent = "Create your login to get started.";
}
$("#email").value = query("email");
watchPasswordRules($("#password"));

onSubmit($("#signup-form"), async (values) => {
  const body = invitation ? { ...values, invitation } : values;
  const created = await api("/auth/signup", { method: "POST", body, auth: false });
  go("confirm.html", { email: created?.email || values.email });
});
