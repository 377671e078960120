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

  // The launcher goes in once the page is parsed; Dateline.* waits for it, then finds an element.
  const parsed =
    document.readyState === "loading"
      ? new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }))
      : Promise.resolve();
  if (data.launcher !== "false") parsed.then(mountLauncher);
  const target = () =>
    parsed.then(() => (floating && floating.isConnected && floating) || document.querySelector(TAG));

  return Object.freeze({
    languages: LANGUAGES,
    open() {
      target().then((el) => el && el.open());
    },
    close() {
      target().then((el) => el && el.close());
    },
    ask(text) {
      return target().then((el) =>
        el ? el.ask(text) : Promise.reject(new Error("Dateline: no chat widget on this page")),
      );
    },
  });
}
