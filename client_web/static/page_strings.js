// Strings for a page the server rendered in Chinese: every [data-s] element
// (placeholders from its data-s-args JSON) and the document title get their
// {zh, en} names from a string table, so they follow language switches.

import { setNames } from "./i18n.js";

/** Apply `table` (from i18n.stringTable) under root; the title from titleKey. */
export function applyPageStrings(table, titleKey, root = document) {
  const title = document.querySelector("title");
  if (title && titleKey) setNames(title, table.names(titleKey));
  for (const el of root.querySelectorAll("[data-s]")) {
    let vars = {};
    try {
      vars = el.dataset.sArgs ? JSON.parse(el.dataset.sArgs) : {};
    } catch {
      vars = {};
    }
    setNames(el, table.names(el.dataset.s, vars));
  }
}
