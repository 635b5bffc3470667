/**
 * Follow reports that are still being made: `GET /reports/{id}` every 1.5 s until each is ready or failed. Polling
 * pauses while the page is hidden (a background tab costs the API nothing) and stops when the page is left.
 */
import { api } from "../api.js";

const INTERVAL_MS = 1500;
export const FINISHED = new Set(["ready", "failed"]);

/** `onUpdate(report)` hears every answer; watch(id) adds a report, the poller stops itself when none is left. */
export function poller(onUpdate) {
  const watched = new Set();
  let timer = null;
  let stopped = false;
  let asking = false;

  const schedule = () => {
    clearTimeout(timer);
    timer = null;
    if (!stopped && watched.size && document.visibilityState === "visible") timer = setTimeout(tick, INTERVAL_MS);
  };

  async function tick() {
    if (asking || stopped) return;
    asking = true;
    await Promise.all([...watched].map(async (id) => {
      try {
        const report = await api(`/reports/${encodeURIComponent(id)}`);
        if (FINISHED.has(report.status)) watched.delete(id);
        onUpdate(report);
      } catch (error) {
        if (error.status === 404) watched.delete(id); // deleted with its company, or never ours
        // anything else (a network blip): ask again on the next tick
      }
    }));
    asking = false;
    schedule();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tick();
    else schedule();
  });
  window.addEventListener("pagehide", () => {
    stopped = true;
    clearTimeout(timer);
  });
  window.addEventListener("pageshow", (event) => { // back from the browser's page cache: carry on
    if (!event.persisted) return;
    stopped = false;
    tick();
  });

  return {
    watch(id) {
      if (watched.has(id)) return;
      watched.add(id);
      if (!timer) schedule();
    },
  };
}
