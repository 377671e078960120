/*!
 * Dateline chat widget: ask the news archive, get back quoted passages with their sources.
 *
 * One tag, no build step, no dependencies. Embed with
 *   <script src="https://HOST/widget.js" defer></script>
 * Options (data- attributes on that tag): data-api, data-title, data-placeholder,
 * data-theme (light|dark|auto), data-position (bottom-right|bottom-left), data-open,
 * data-launcher="false" (no floating launcher, e.g. when the page only uses <dateline-chat>),
 * data-lang (default: the page's <html lang>), data-suggestions ("First?|Second?"; "" for none;
 * default: GET /api/suggestions), data-top-k (1..10), data-speaker, data-date-from, data-date-to.
 * Inline: <dateline-chat api="https://HOST" title="…"></dateline-chat> (the same options without data-).
 * JS: Dateline.open(), Dateline.close(), Dateline.ask(text) -> Promise of the answer JSON; each
 * waits for the widget to load. Dateline.languages once it has (customElements.whenDefined).
 * Events on the element (bubbling, composed): dateline:open, dateline:close,
 * dateline:answer (detail: the answer JSON), dateline:error (detail: {message, status, question}).
 * Parts: launcher, panel, question, answer, card, quote, suggestion, input.
 *
 * This file only loads the widget. Its parts sit next to it under widget/VERSION/: the native ES
 * modules in MODULES below and widget.css, fetched with CORS.
 *
 * Security model: every string from the server goes into the DOM through text nodes only;
 * links are made only for http(s) URLs; styles come only from one constructed stylesheet
 * (adoptedStyleSheets, its text fetched), so the widget runs under a CSP with style-src 'none'
 * and Trusted Types: script-src and connect-src naming the API's origin are all it needs.
 */
(() => {
  "use strict";

  const MARK = Symbol.for("dateline.widget");
  if (window[MARK]) return; // the script was included twice: the first copy owns the page
  window[MARK] = true;

  // Captured now: document.currentScript is only set while this script runs.
  const script = document.currentScript;
  const scriptData = (script && script.dataset) || {};
  const scriptOrigin = (() => {
    try {
      return new URL(script && script.src ? script.src : location.href).origin;
    } catch {
      return location.origin;
    }
  })();

  let widget = null; // what the loaded parts let Dateline.* do

  const dateline = {
    version: "0.1.0",
    get languages() {
      return widget ? widget.languages : [];
    },
    open() {
      loading.then((loaded) => loaded && loaded.open());
    },
    close() {
      loading.then((loaded) => loaded && loaded.close());
    },
    ask(text) {
      return loading.then((loaded) =>
        loaded ? loaded.ask(text) : Promise.reject(new Error("Dateline: the widget did not load")),
      );
    },
  };

  // Every module, asked for at once: left to find each other through their imports, they would
  // arrive one level of imports per round trip.
  const MODULES = ["embed.js", "element.js", "render.js", "conversation.js", "api.js", "strings.js", "dom.js"];

  /** The parts, all requested at once. The release in their path keeps parts of two releases
   * from meeting in a browser's cache. */
  async function load() {
    const from = script && script.src ? script.src : scriptOrigin + "/";
    const parts = new URL(`widget/${dateline.version}/`, from);
    const [css, embed] = await Promise.all([
      fetch(new URL("widget.css", parts), { mode: "cors", credentials: "omit" }).then((response) => {
        if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status}`);
        return response.text();
      }),
      ...MODULES.map((name) => import(new URL(name, parts).href)),
    ]);
    widget = embed.start({ css, data: scriptData, origin: scriptOrigin });
    return widget;
  }

  const loading = load().catch((err) => {
    console.error("Dateline: the widget could not load:", err);
    return null;
  });
  window.Dateline = Object.freeze(dateline);
})();
