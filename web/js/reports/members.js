/** The company's members (`GET /members`, read once per page), offered as checkboxes wherever mail can go. */
import { api } from "../api.js";
import { checkRow } from "./sections.js";

let members = null;

export function loadMembers() {
  members ??= api("/members").then((answer) => answer.members).catch((error) => {
    members = null;
    throw error;
  });
  return members;
}

const memberLabel = (member) => (member.name ? `${member.name} (${member.email})` : member.email);

/**
 * One checkbox per member called `name` (value: the e-mail), ids prefixed with `prefix`, `chosen` e-mails ticked.
 * Addresses chosen earlier that are no longer members stay listed (ticked) so saving says what is wrong with them.
 */
export function memberChecks(list, prefix, name, chosen = []) {
  const wanted = new Set(chosen.map((email) => email.toLowerCase()));
  const known = new Set(list.map((member) => member.email.toLowerCase()));
  const gone = chosen.filter((email) => !known.has(email.toLowerCase())).map((email) => ({ email, name: "" }));
  return [...list, ...gone].map((member, index) => checkRow(`${prefix}-${index}`, name, member.email,
    known.has(member.email.toLowerCase()) ? memberLabel(member) : `${member.email} (no longer a member)`,
    wanted.has(member.email.toLowerCase())));
}
