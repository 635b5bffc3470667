/** index.html: log in, and the notices other pages send the user here with. */
import { api, session } from "./api.js";
import { $ } from "./dom.js";
import { go, notify, onSubmit } from "./ui.js";

const NOTICES = {
  "confirmed=1": ["Email confirmed — log in.", "success"],
  "reset=1": ["Password changed — log in with your new password.", "success"],
  "loggedout=1": ["You're logged out. See you soon.", "info"],
  "deleted=1": ["Your account has been deleted.", "info"],
  "deleted=company": ["Your company and all its data have been deleted.", "info"],
  "expired=1": ["Your session has ended. Log in again to continue.", "warning"],
};

for (const [name, value] of new URLSearchParams(location.search)) {
  const notice = NOTICES[`${name}=${value}`];
  if (notice) notify($("#notice"), ...notice);
}

onSubmit($("#login-form"), async ({ email, password }) => {
  try {
    session.save(await api("/auth/login", { method: "POST", body: { email, password }, auth: false }));
  } catch (error) {
    if (error.code === "not_confirmed") return go("confirm.html", { email });
    throw error;
  }
  return go("overview.html");
});
