/** DOM primitives shared by every module. Text always goes in as text nodes, never as HTML. */

export const $ = (selector, root = document) => root.querySelector(selector);

/**
 * Build an element: `el("td", {class: "muted"}, "text", childNode)`.
 * Attributes set to `false`, `null` or `undefined` are left out; `true` sets an empty attribute.
 * Children that are not nodes become text nodes, so data can never inject markup.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
