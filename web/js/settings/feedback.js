/**
 * "Send us feedback" (any member, POST /feedback) and, for those who may read it, "Feedback from your team"
 * (GET /feedback, newest first, 50 at a time).
 */
import { ApiError, api } from "../api.js";
import { $, el } from "../dom.js";
import { moment, number } from "../format.js";
import { busy, notify, onSubmit } from "../ui.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";

const MAX_MESSAGE = 4000;
const PAGE_SIZE = 50;
const KINDS = { idea: "Idea", problem: "Problem", question: "Question" };

/** Where the member was before Settings (same site only), so the team knows which page the feedback is about. */
function fromPage() {
  try {
    const referrer = new URL(document.referrer);
    if (referrer.origin === location.origin && !referrer.pathname.endsWith("/settings.html")) {
      return referrer.pathname.slice(0, 200);
    }
  } catch {
    // no referrer: the feedback is about Settings itself
  }
  return location.pathname.slice(0, 200);
}

function counter(textarea) {
  const update = () => {
    const left = MAX_MESSAGE - textarea.value.length;
    const note = $("#feedback-count");
    note.textContent = `${number(textarea.value.length)} of ${number(MAX_MESSAGE)} characters`;
    note.dataset.near = String(left < 200);
  };
  textarea.addEventListener("input", update);
  update();
}

function feedbackRow(note) {
  return el("tr", { "data-feedback": note.feedback_id },
    el("td", { class: "cell-dates" }, el("time", { datetime: note.created_at }, moment(note.created_at))),
    el("td", { class: "cell-who" }, note.email || "—"),
    el("td", {}, el("span", { class: "pill", "data-kind": note.kind }, KINDS[note.kind] || note.kind)),
    el("td", { class: "cell-message" }, el("p", { class: "message" }, note.message),
       note.page ? el("p", { class: "hint" }, `Sent from ${note.page}`) : null));
}

function teamFeedback() {
  const area = $("#team-feedback-area");
  const more = $("#team-feedback-more");
  let next = null;
  let body = null;

  const table = () => {
    body = el("tbody");
    return el("div", { class: "table-wrap" }, el("table", { id: "team-feedback-table" },
      el("caption", { class: "visually-hidden" }, "Feedback from your team, newest first"),
      el("thead", {}, el("tr", {},
        ["When", "From", "Kind", "Message"].map((title) => el("th", { scope: "col" }, title)))),
      body));
  };

  const load = async (older = false) => {
    if (!older) {
      next = null;
      more.hidden = true;
      skeleton(area);
    }
    try {
      const params = new URLSearchParams({ limit: PAGE_SIZE });
      if (older && next) params.set("next", next);
      const page = await api(`/feedback?${params}`);
      if (!older && !page.feedback.length) {
        emptyState(area, "No feedback from your team yet. What anyone in your company sends with the form above appears here.");
      } else {
        if (!older) ready(area, table());
        body.append(...page.feedback.map(feedbackRow));
      }
      next = page.next || null;
      more.hidden = !next;
    } catch (error) {
      errorState(area, error);
    }
  };

  more.addEventListener("click", () => busy(more, $("#team-feedback"), () => load(true)));
  $("#reload-team-feedback").addEventListener("click", () => load());
  return load;
}

export function initFeedback({ canRead }) {
  const form = $("#feedback-form");
  const message = $("#feedback-message");
  counter(message);
  const reloadTeam = canRead ? teamFeedback() : null;
  reloadTeam?.();
  const formatsChanged = () => {
    message.dispatchEvent(new Event("input"));
    reloadTeam?.();
  };

  onSubmit(form, async ({ kind, message: text }) => {
    if (!text) {
      throw new ApiError(400, { error: { message: "Your message is empty.", details: [
        { field: "message", problem: "Write what you would like to tell us, then send it." }] } });
    }
    const answer = await api("/feedback", { method: "POST", body: { kind, message: text, page: fromPage() } });
    notify($("#feedback-sent"), answer.sent
      ? "Thanks — sent to the SalesLens team."
      : "Thanks — your feedback is saved; the e-mail to the SalesLens team will follow.");
    message.value = "";
    message.dispatchEvent(new Event("input"));
    await reloadTeam?.();
  });
  return { formatsChanged };
}
