/** The embed: the floating <dateline-chat> the script tag's data- attributes ask for, and what
 * Dateline.open(), close() and ask() do. */

import { TAG, define, flag } from "./element.js";
import { LANGUAGES } from "./strings.js";

// Script data- names and the element attributes they become.
const OPTIONS = {
  title: "title",
  placeholder: "placeholder",
  theme: "theme",
  position: "position",
  lang: "lang",
  suggestions: "suggestions",
  topK: "top-k",
  speaker: "speaker",
  dateFrom: "date-from",
  dateTo: "date-to",
};

/**
 * Called by widget.js once the parts are in: `css` is the stylesheet's text, `data` the script
 * tag's dataset and `origin` where the script came from. Returns what Dateline.* does.
 */
export function start({ css, data, origin }) {
  define(css, origin);
  let floating = null;

  function mountLauncher() {
    if (floating || !document.body) return;
    const el = document.createElement(TAG);
    el.setAttribute("mode", "launcher");
    el.setAttribute("api", data.api || origin);
    for (const [name, attr] of Object.entries(OPTIONS)) {
      // An empty data-suggestions means "none"; an empty anything else means "the default".
      if (data[name] || (name === "suggestions" && name in data)) el.setAttribute(attr, data[name]);
    }
    if (flag(data.open)) el.setAttribute("open", "");
    // Early in the Tab order, right after the page's own skip links, instead of after all of it.
    let next = document.body.firstElementChild;
    while (next && next.matches('a[href^="#"]')) next = next.nextElementSibling;
    document.body.insertBefore(el, next);
    floating = el;
  }

  if (data.launcher !== "false") {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", mountLauncher, { once: true });
    } else {
      mountLauncher();
    }
  }

  const target = () => (floating && floating.isConnected && floating) || document.querySelector(TAG);

  return Object.freeze({
    languages: LANGUAGES,
    open() {
      const el = target();
      if (el) el.open();
    },
    close() {
      const el = target();
      if (el) el.close();
    },
    ask(text) {
      const el = target();
      return el ? el.ask(text) : Promise.reject(new Error("Dateline: no chat widget on this page"));
    },
  });
}
