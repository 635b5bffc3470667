/** The user's own account: profile name, password change, account deletion. */
import { api, session } from "../api.js";
import { $ } from "../dom.js";
import { go, onSubmit, watchPasswordRules } from "../ui.js";

export function initAccount(me, onProfileChanged) {
  $("#profile-name").value = me.name || "";
  onSubmit($("#profile-form"), async ({ name }) => {
    const updated = await api("/me", { method: "PATCH", body: { name } });
    onProfileChanged(updated);
    $("#profile-saved").hidden = false;
  });

  const newPassword = $("#new-password");
  watchPasswordRules(newPassword);
  onSubmit($("#password-form"), async (values, form) => {
    await api("/auth/change-password", { method: "POST", body: values });
    form.reset();
    newPassword.dispatchEvent(new Event("input"));
    $("#password-changed").hidden = false;
  });

  onSubmit($("#delete-account-form"), async ({ password }) => {
    await api("/me", { method: "DELETE", body: { password } });
    session.clear();
    go("index.html", { deleted: 1 });
  });
}
