/** The drill-down path above the answer: "All sales › Bikes › Road Bike Pro › Order lines", each crumb a link. */
import { el } from "../dom.js";
import { crumbs, pageQuery } from "./drill.js";

/** Draw the crumbs of `state` in `nav` (hidden when the view was not reached by drilling). */
export function renderBreadcrumbs(nav, state, trail, available, navigate) {
  const list = crumbs(state, trail, available);
  nav.hidden = list.length < 2;
  nav.replaceChildren(el("ol", {}, list.map((crumb, index) => {
    if (index === list.length - 1) return el("li", {}, el("span", { "aria-current": "page" }, crumb.label));
    const link = el("a", { href: `?${pageQuery(crumb.state, crumb.trail)}` }, crumb.label);
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // new tab: let it be
      event.preventDefault();
      navigate(crumb.state, crumb.trail);
    });
    return el("li", {}, link);
  })));
}
