/** The team: members (with role changes and removal for those allowed), invitations. */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { busy, copyButton, onSubmit } from "../ui.js";

const ROLES = ["owner", "admin", "analyst", "viewer"];
const memberPath = (userId) => `/members/${encodeURIComponent(userId)}`;

/** Mirrors the API's rule: only owners grant, change or remove the owner role; others manage the rest. */
const canManage = (me, role) => me.role === "owner" || role !== "owner";

function roleSelect(member, me, area) {
  const select = el("select", { name: "role", "data-user-id": member.user_id, "aria-label": `Role of ${member.email}` },
    ROLES.map((role) => el("option", { value: role, selected: role === member.role }, role)));
  select.addEventListener("change", () => busy(select, area, async () => {
    try {
      await api(memberPath(member.user_id), { method: "PATCH", body: { role: select.value } });
    } catch (error) {
      select.value = member.role;
      throw error;
    }
    member.role = select.value;
    if (member.user_id === me.user_id) location.reload();  // our own permissions changed
  }));
  return select;
}

function removeButton(member, me, area, reload) {
  const button = el("button", { type: "button", class: "button danger-outline small remove-member",
    "data-user-id": member.user_id, "aria-label": `Remove ${member.email}` }, "Remove");
  button.addEventListener("click", () => {
    const who = member.name || member.email;
    if (!confirm(`Remove ${who} from ${me.tenant.name}? They lose access immediately.`)) return;
    busy(button, area, async () => {
      await api(memberPath(member.user_id), { method: "DELETE" });
      await reload();
    });
  });
  return button;
}

function memberRow(member, me, area, reload) {
  const can = (permission) => me.permissions.includes(permission);
  const isMe = member.user_id === me.user_id;
  return el("tr", { "data-user-id": member.user_id },
    el("td", {}, member.name || "—", isMe ? el("span", { class: "muted" }, " (you)") : null),
    el("td", {}, member.email),
    el("td", {}, can("members:change_role") ? roleSelect(member, me, area) : el("span", { class: "badge" }, member.role)),
    el("td", { class: "cell-actions" },
      can("members:remove") && !isMe && canManage(me, member.role) ? removeButton(member, me, area, reload) : null));
}

function invitationItem(invitation, area, reload) {
  const revoke = el("button", { type: "button", class: "button secondary small",
    "aria-label": `Revoke the invitation for ${invitation.email}` }, "Revoke");
  revoke.addEventListener("click", () => busy(revoke, area, async () => {
    await api(`/invitations/${encodeURIComponent(invitation.invitation_id)}`, { method: "DELETE" });
    await reload();
  }));
  const expires = new Date(invitation.expires_at).toLocaleDateString();
  return el("li", { "data-invitation-id": invitation.invitation_id },
    el("span", {}, invitation.email, " ", el("span", { class: "badge" }, invitation.role),
      el("span", { class: "muted" }, ` · expires ${expires}`)),
    revoke);
}

function initInvitations(me) {
  const list = $("#invitations");
  const area = $("#invitations-area");
  const reload = () => busy(null, area, async () => {
    const { invitations } = await api("/invitations");
    list.replaceChildren(...(invitations.length
      ? invitations.map((invitation) => invitationItem(invitation, area, reload))
      : [el("li", { class: "muted" }, "No pending invitations.")]));
  });

  const roleSelectInput = $("#invite-role");
  roleSelectInput.replaceChildren(...ROLES.filter((role) => canManage(me, role)).map((role) =>
    el("option", { value: role, selected: role === "viewer" }, role)));

  const result = $("#invite-result");
  onSubmit($("#invite-form"), async (values, form) => {
    result.hidden = true;
    const invitation = await api("/invitations", { method: "POST", body: values });
    $("#invite-summary").textContent = `Invitation created for ${invitation.email} as ${invitation.role}.`;
    $("#invite-url").value = invitation.accept_url;
    result.hidden = false;
    form.reset();
    roleSelectInput.value = "viewer";
    await reload();
  });

  copyButton($("#copy-invite"), $("#invite-url"));

  reload();
}

export function initTeam(me) {
  const body = $("#members tbody");
  const area = $("#members-area");
  const reload = () => busy(null, area, async () => {
    const { members } = await api("/members");
    body.replaceChildren(...members.map((member) => memberRow(member, me, area, reload)));
  });
  reload();
  if (me.permissions.includes("members:invite")) initInvitations(me);
}
