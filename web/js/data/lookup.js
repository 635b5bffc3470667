/** "Look up a customer": a raw customer id and the passphrase give the pseudonym SalesLens knows the customer by,
 * computed in the browser like the uploads' (nothing is sent), with a link to the customer's sales in Explore. */
import { ApiError } from "../api.js";
import { $ } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { onSubmit } from "../ui.js";
import { keyFor, rememberedPassphrase } from "./privacy.js";
import { MIN_PASSPHRASE, pseudonym } from "./pseudonymise.js";

const fieldError = (field, message) => new ApiError(400, { error: {
  code: "validation_error", message, details: [{ field, problem: message }],
} });

export function initLookup() {
  const details = $("#lookup");
  const secret = $("#lookup-passphrase");
  const result = $("#lookup-result");
  details.addEventListener("toggle", () => {
    if (details.open && !secret.value) secret.value = $("#passphrase").value || rememberedPassphrase();
  });
  for (const input of [$("#lookup-id"), secret]) input.addEventListener("input", () => { result.hidden = true; });

  onSubmit($("#lookup-form"), async ({ customer }) => {
    result.hidden = true;
    if (!customer) throw fieldError("customer", "Type the customer's id as it is in your own files.");
    if ([...secret.value].length < MIN_PASSPHRASE) {
      throw fieldError("lookup_passphrase", `Type the passphrase you pseudonymised with (at least ${MIN_PASSPHRASE} characters).`);
    }
    const made = await pseudonym(await keyFor(secret.value), customer);
    if (!made) throw fieldError("customer", "That is an empty customer id.");
    $("#lookup-raw").textContent = customer;
    $("#lookup-pseudonym").value = made;
    $("#lookup-explore").href = exploreHref({ dimensions: ["month"], range: "all", view: "bar",
                                               filters: { customer: [made] } });
    result.hidden = false;
  });

  $("#lookup-copy").addEventListener("click", async () => {
    const field = $("#lookup-pseudonym");
    try {
      await navigator.clipboard.writeText(field.value);
      $("#lookup-copied").textContent = "Copied.";
    } catch {
      field.select();
      $("#lookup-copied").textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
    }
  });
}
