/** Company-wide actions for those allowed: export everything, delete everything. */
import { api, session } from "../api.js";
import { $ } from "../dom.js";
import { go, onClick, onSubmit } from "../ui.js";

/** Only http(s) links from the API become hrefs. */
function safeHref(url) {
  const parsed = new URL(url, location.href);
  if (!["http:", "https:"].includes(parsed.protocol)) throw new Error(`refusing link ${parsed.protocol}`);
  return parsed.href;
}

export function initCompany(me) {
  onClick($("#export"), $("#export-area"), async () => {
    const { url, expires_in: expiresIn } = await api("/tenant/export", { method: "POST" });
    $("#export-link").href = safeHref(url);
    const minutes = Math.max(1, Math.round(Number(expiresIn || 0) / 60));
    $("#export-expiry").textContent = `The link works for ${minutes} minute${minutes === 1 ? "" : "s"}.`;
    $("#export-ready").hidden = false;
  });

  $("#delete-tenant-name").textContent = me.tenant?.name ?? "";
  onSubmit($("#delete-tenant-form"), async ({ confirm }) => {
    await api("/tenant", { method: "DELETE", body: { confirm } });
    session.clear();
    go("index.html", { deleted: "company" });
  });
}
