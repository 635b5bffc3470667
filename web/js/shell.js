/**
 * The frame of every signed-in page: the top bar (navigation that collapses into a menu on small screens,
 * global search, the user's email, log out), the user's profile and saved preferences, the company's fields
 * catalogue, and `[data-permission]` elements shown only to roles that hold the permission.
 */
import { api, session, showError } from "./api.js";
import { $, el } from "./dom.js";
import { configureFormat } from "./format.js";
import { setCatalogue } from "./metrics.js";
import { initSearch } from "./search.js";
import { go } from "./ui.js";

export const PAGES = [
  { id: "overview", href: "overview.html", label: "Overview" },
  { id: "explore", href: "explore.html", label: "Explore" },
  { id: "forecasts", href: "forecasts.html", label: "Forecasts" },
  { id: "customers", href: "customers.html", label: "Customers" },
  { id: "products", href: "products.html", label: "Products" },
  { id: "recommendations", href: "recommendations.html", label: "Recs & leads" },
  { id: "reports", href: "reports.html", label: "Reports" },
  { id: "data", href: "data.html", label: "Data" },
  { id: "settings", href: "settings.html", label: "Settings" },
];

let user = null;

/** The signed-in user (`GET /me`, read once by `startPage`), for modules deeper in the page. */
export const signedInUser = () => user;

function topbar(current) {
  const nav = el("nav", { class: "topbar-nav", id: "main-nav", "aria-label": "Main" },
    PAGES.map((page) => el("a", { href: page.href, "aria-current": page.id === current ? "page" : null },
                             page.label)));
  const toggle = el("button", { class: "button secondary small nav-toggle", type: "button",
                                "aria-expanded": "false", "aria-controls": "main-nav" }, "Menu");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
  const search = el("div", { class: "topbar-search", role: "search" },
    el("label", { for: "global-search", class: "visually-hidden" }, "Search products, customers, categories, regions"),
    el("input", { id: "global-search", type: "search", placeholder: "Search products, customers…" }));
  const user = el("div", { class: "topbar-user" },
    el("a", { id: "topbar-email", class: "muted", href: "home.html", "aria-current": current === "account" ? "page" : null,
              title: "Your account" }, "Account"),
    el("button", { id: "logout", class: "button secondary small", type: "button" }, "Log out"));
  return [el("a", { class: "brand", href: "overview.html" },
             el("img", { src: "favicon.svg", alt: "", width: 28, height: 28 }), "SalesLens"),
          toggle, nav, search, user];
}

/** `[data-permission]` shows only to holders of the permission, `[data-permission-absent]` only to others. */
export function applyPermissions(permissions, root = document) {
  for (const node of root.querySelectorAll("[data-permission]")) {
    node.hidden = !permissions.includes(node.dataset.permission);
  }
  for (const node of root.querySelectorAll("[data-permission-absent]")) {
    node.hidden = permissions.includes(node.dataset.permissionAbsent);
  }
}

async function logout() {
  await api("/auth/logout", { method: "POST" }).catch(() => null);
  session.clear();
  sessionStorage.removeItem("saleslens.pseudonymise.passphrase"); // a remembered passphrase ends with the session
  go("index.html", { loggedout: 1 });
}

/**
 * Start a signed-in page: draw the top bar, load the user, their preferences and (unless `fields` is false)
 * the company's fields, apply formats and permissions. Resolves to `{me, prefs, fields}`, or null after the
 * error has been shown in `#page` (or the browser was sent to the login page).
 */
export async function startPage(current, { fields = true } = {}) {
  if (!session.signedIn) {
    location.replace("index.html");
    return null;
  }
  const bar = $("#topbar");
  bar.replaceChildren(...topbar(current));
  $("#logout").addEventListener("click", logout);
  try {
    const [me, prefs, catalogue] = await Promise.all([
      api("/me"),
      api("/me/preferences").catch(() => ({})), // the defaults still make a usable page
      fields ? api("/explore/fields").catch(() => null) : null,
    ]);
    user = me;
    configureFormat(prefs, catalogue?.currencies || []);
    setCatalogue(catalogue);
    $("#topbar-email").title = `Your account (${me.email})`;
    applyPermissions(me.permissions);
    initSearch($("#global-search"));
    document.body.dataset.role = me.role;
    return { me, prefs, fields: catalogue, can: (permission) => me.permissions.includes(permission) };
  } catch (error) {
    showError($("#page"), error);
    return null;
  } finally {
    const loading = $("#loading");
    if (loading) loading.hidden = true;
  }
}
