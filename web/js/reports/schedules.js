/**
 * "Schedules": reports e-mailed every week or month to members. The list says when each runs (the API's own
 * words) and when it runs next; those who may make reports add, change and delete them with the form below it.
 */
import { api, clearErrors } from "../api.js";
import { $, el } from "../dom.js";
import { moment, plural } from "../format.js";
import { browserZone, timeZoneGroups } from "../settings/choices.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";
import { dataTable } from "../tables.js";
import { busy } from "../ui.js";
import { memberChecks } from "./members.js";
import { sectionChecks, sectionTitle, ticked } from "./sections.js";

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const LAST = "last";

let schedules = [];
let editing = null;   // the schedule the form changes; null for a new one
let context = null;   // {canEdit, members, me, zone}

const hourLabel = (hour) => `${String(hour).padStart(2, "0")}:00`;
const announce = (text) => {
  $("#schedules-status").textContent = text;
};

function actionsCell(schedule) {
  const edit = el("button", { type: "button", class: "button secondary small", "data-action": "edit" }, "Edit",
                  el("span", { class: "visually-hidden" }, ` ${schedule.name}`));
  const remove = el("button", { type: "button", class: "button danger-outline small", "data-action": "delete" },
                    "Delete", el("span", { class: "visually-hidden" }, ` ${schedule.name}`));
  edit.addEventListener("click", () => openForm(schedule, edit));
  remove.addEventListener("click", () => {
    if (!confirm(`Delete the schedule “${schedule.name}”? Its e-mails stop; reports it made stay in your list.`)) return;
    busy(remove, $("#schedules"), async () => {
      await api(`/report-schedules/${encodeURIComponent(schedule.schedule_id)}`, { method: "DELETE" });
      if (editing?.schedule_id === schedule.schedule_id) closeForm();
      await load();
      announce(`Schedule “${schedule.name}” deleted.`);
      $("#schedule-add").focus();
    });
  });
  return el("span", { class: "row-actions" }, edit, remove);
}

function render() {
  const area = $("#schedule-list");
  if (!schedules.length) {
    emptyState(area, context.canEdit
      ? "No schedules yet. Add one to have a report e-mailed every week or month."
      : "No schedules yet. Owners, admins and analysts can set one up to e-mail reports every week or month.");
    return;
  }
  const columns = [
    { key: "name", label: "Name", rowHeader: true, className: "cell-name" },
    { key: "when", label: "When", format: (value, row) => [value, row.enabled ? null : " ",
      row.enabled ? null : el("span", { class: "pill", "data-tone": "medium" }, "Paused")] },
    { key: "next_run_at", label: "Next report", className: "cell-dates",
      format: (value, row) => (row.enabled && value ? `${moment(value)} (${context.zone})` : "—") },
    { key: "recipients", label: "Sent to", className: "cell-wrap", format: (value) => (value || []).join(", ") },
    { key: "sections", label: "Sections", className: "cell-wrap",
      format: (value) => el("span", { title: (value || []).map(sectionTitle).join(", ") },
                             plural((value || []).length, "section")) },
    { key: "last_run_at", label: "Last sent", className: "cell-dates", format: (value) => (value ? moment(value) : "Not yet") },
    ...(context.canEdit ? [{ key: "schedule_id", label: "Actions", className: "cell-actions",
                             format: (value, row) => actionsCell(row) }] : []),
  ];
  const table = dataTable(columns, schedules, { caption: "Report schedules", id: "schedule-table" });
  // On a phone each schedule is a block of lines, each saying what it is (reports.css shows these labels).
  for (const row of table.querySelectorAll("tbody tr")) {
    for (const [index, cell] of [...row.children].entries()) cell.dataset.label = columns[index].label;
  }
  ready(area, table);
}

async function load() {
  schedules = (await api("/report-schedules")).schedules;
  render();
}

// ---------------------------------------------------------------- the form

function buildForm() {
  $("#schedule-weekday").replaceChildren(...WEEKDAYS.map((name, index) => el("option", { value: index }, name)));
  $("#schedule-day").replaceChildren(
    ...Array.from({ length: 28 }, (_, index) => el("option", { value: index + 1 }, `Day ${index + 1}`)),
    el("option", { value: LAST }, "The last day of the month"));
  $("#schedule-hour").replaceChildren(...Array.from({ length: 24 }, (_, hour) => el("option", { value: hour },
                                                                                     hourLabel(hour))));
  $("#zone-list").replaceChildren(...timeZoneGroups(context.zone).flatMap(({ zones }) => zones)
    .map(({ value, label }) => el("option", { value, label })));
  for (const radio of document.querySelectorAll('input[name="frequency"]')) radio.addEventListener("change", frequencyShown);
}

function frequencyShown() {
  const monthly = $("#schedule-monthly").checked;
  $("#weekday-field").hidden = monthly;
  $("#day-field").hidden = !monthly;
}

function fill(schedule) {
  const form = $("#schedule-form");
  $("#schedule-name").value = schedule?.name || "Weekly sales report";
  $(schedule?.frequency === "monthly" ? "#schedule-monthly" : "#schedule-weekly").checked = true;
  $("#schedule-weekday").value = String(schedule?.weekday ?? 0);
  $("#schedule-day").value = schedule?.day === -1 ? LAST : String(schedule?.day ?? 1);
  $("#schedule-hour").value = String(schedule?.hour ?? 8);
  $("#schedule-timezone").value = schedule?.timezone || context.zone;
  $("#schedule-recipients").replaceChildren(...memberChecks(context.members, "schedule-recipient", "recipients",
                                                            schedule ? schedule.recipients : [context.me.email]));
  $("#schedule-sections").replaceChildren(...sectionChecks("schedule-section", schedule ? schedule.sections : null));
  $("#schedule-enabled").checked = schedule ? schedule.enabled : true;
  frequencyShown();
  $("#schedule-form-title").textContent = schedule ? `Change “${schedule.name}”` : "New schedule";
  form.dataset.mode = schedule ? "edit" : "new";
}

let opener = null;

function openForm(schedule, from) {
  editing = schedule;
  opener = from;
  fill(schedule);
  const form = $("#schedule-form");
  clearErrors(form);
  form.hidden = false;
  form.scrollIntoView({ block: "nearest" });
  $("#schedule-name").focus();
}

function closeForm() {
  $("#schedule-form").hidden = true;
  editing = null;
  if (opener?.isConnected) opener.focus();
  opener = null;
}

function body(form) {
  const monthly = $("#schedule-monthly").checked;
  const day = $("#schedule-day").value;
  return {
    name: $("#schedule-name").value.trim(),
    frequency: monthly ? "monthly" : "weekly",
    weekday: monthly ? null : Number($("#schedule-weekday").value),
    day: monthly ? (day === LAST ? LAST : Number(day)) : null,
    hour: Number($("#schedule-hour").value),
    timezone: $("#schedule-timezone").value.trim(),
    recipients: ticked(form, "recipients"),
    sections: ticked(form, "sections"),
    filters: editing?.filters || {},
    enabled: $("#schedule-enabled").checked,
  };
}

function initForm() {
  buildForm();
  const form = $("#schedule-form");
  form.noValidate = true;
  $("#schedule-add").addEventListener("click", (event) => openForm(null, event.currentTarget));
  $("#schedule-cancel").addEventListener("click", closeForm);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.target.closest("[role=combobox]")) closeForm();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#schedule-save"), form, async () => {
      const path = editing ? `/report-schedules/${encodeURIComponent(editing.schedule_id)}` : "/report-schedules";
      const saved = await api(path, { method: editing ? "PUT" : "POST", body: body(form) });
      await load();
      closeForm();
      announce(`Schedule “${saved.name}” saved: ${saved.when}.`);
    });
  });
}

/** `members` may be null when the member list could not be read: the list still shows, the form does not. */
export async function initSchedules({ canEdit, members, me, zone }) {
  context = { canEdit: canEdit && Boolean(members), members: members || [], me, zone: zone || browserZone() };
  if (context.canEdit) initForm();
  else $("#schedule-add").hidden = true;
  skeleton($("#schedule-list"));
  try {
    await load();
  } catch (error) {
    errorState($("#schedule-list"), error);
  }
}
