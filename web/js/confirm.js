/** confirm.html: enter the emailed code, or ask for a new one. */
import { api } from "./api.js";
import { $ } from "./dom.js";
import { go, notify, onClick, onSubmit, query } from "./ui.js";

const form = $("#confirm-form");
$("#email").value = query("email");
(query("email") ? $("#code") : $("#email")).focus();

onSubmit(form, async ({ email, code }) => {
  await api("/auth/confirm", { method: "POST", body: { email, code }, auth: false });
  go("index.html", { confirmed: 1 });
});

onClick($("#resend"), form, async () => {
  const email = $("#email").value.trim();
  const { delivery } = await api("/auth/resend-code", { method: "POST", body: { email }, auth: false });
  notify($("#resend-status"), `We sent a new code to ${delivery?.destination || email}.`);
});
