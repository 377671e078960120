/** The <dateline-chat> element: the launcher, the panel and the conversation in it, in Shadow DOM. */

import {
  ChatError,
  MAX_QUESTION,
  apiBase,
  askArchive,
  clip,
  fetchSuggestions,
  parseSuggestions,
  sendFeedback,
} from "./api.js";
import { Conversation } from "./conversation.js";
import { h, icon } from "./dom.js";
import { renderAnswer } from "./render.js";
import { direction, languageFor, translator } from "./strings.js";

export const TAG = "dateline-chat";
const COUNTER_FROM = 900; // the length counter shows from here on
const DEFAULT_TOP_K = 3;
// Under this width the floating panel is modal and covers the screen (widget.css says so too).
const NARROW = "(max-width: 479.98px)";
const FOCUSABLE = 'a[href], button:not([disabled]), textarea, [tabindex="0"]';

// One stylesheet for every element, filled by define(): constructed, so a page's style-src does
// not govern it.
const sheet = new CSSStyleSheet();
let scriptOrigin = location.origin; // where an element without api= sends its questions

/** Defines the element, styled by `css`; `origin` is where widget.js came from. */
export function define(css, origin) {
  sheet.replaceSync(css);
  scriptOrigin = origin;
  if (!customElements.get(TAG)) customElements.define(TAG, DatelineChat);
}

/** An attribute that is on unless absent or "false". */
export const flag = (v) => v != null && v !== "false";

/** An Error with the HTTP status it came with (null when the API was not reached). */
const failure = (message, status = null) => Object.assign(new Error(message), { status });

const reducedMotion = () =>
  typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;

/** Stops the page behind a modal panel from scrolling; returns how to undo it. */
function lockPageScroll() {
  // CSSOM writes, not style attributes: allowed under a CSP with style-src 'none'.
  const roots = [document.documentElement, document.body].filter(Boolean);
  const before = roots.map((el) => el.style.overflow);
  for (const el of roots) el.style.overflow = "hidden";
  return () => roots.forEach((el, i) => (el.style.overflow = before[i]));
}

class DatelineChat extends HTMLElement {
  static get observedAttributes() {
    return ["api", "title", "placeholder", "lang", "suggestions"];
  }

  #built = false;
  #floating = false;
  #api = null;
  #conversation = null;
  #queue = Promise.resolve();
  #busy = false;
  #stale = []; // failed turns whose Retry is withdrawn once a new question is asked
  #ui = {};
  #lang = "en";
  #t = translator("en");
  #suggestions = null; // the promise of this API's starter questions, fetched once
  #narrow = null; // matchMedia(NARROW), floating only
  #modal = false;
  #unlockScroll = null;
  #cut = false; // a paste was cut short by maxlength

  connectedCallback() {
    if (!this.#built) this.#build();
  }

  disconnectedCallback() {
    this.#setModal(false);
  }

  attributeChangedCallback(name) {
    if (!this.#built) return;
    if (name === "lang" || name === "suggestions") {
      this.#suggestions = null;
      this.#build();
    } else {
      this.#configure();
    }
  }

  /** Open the panel (floating mode) and put the caret in the question box. */
  open() {
    if (!this.#built) this.#build();
    if (this.#floating) this.#setOpen(true);
    this.#ui.input.focus({ preventScroll: this.#floating });
  }

  /** Close the panel (floating mode); focus goes back to the launcher if it was inside. */
  close() {
    if (!this.#built || !this.#floating) return;
    const hadFocus = this.shadowRoot.activeElement && this.#ui.panel.contains(this.shadowRoot.activeElement);
    this.#setOpen(false);
    if (hadFocus) this.#ui.launcher.focus();
  }

  /** Ask a question as if typed; resolves with the answer JSON, rejects on errors. */
  ask(text) {
    if (!this.#built) this.#build();
    const question = clip(String(text == null ? "" : text).trim(), MAX_QUESTION).trim();
    if (!question) return Promise.reject(failure(this.#t("empty")));
    if (this.#floating) this.#setOpen(true);
    const run = () => this.#request(question, this.#renderQuestion(question));
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  get isOpen() {
    return this.#built && !this.#ui.panel.hidden;
  }

  #emit(name, detail = null) {
    this.dispatchEvent(new CustomEvent("dateline:" + name, { bubbles: true, composed: true, detail }));
  }

  /** Builds (or, when the language changes, rebuilds) the whole UI in the reader's language. */
  #build() {
    const rebuilding = this.#built;
    const wasOpen = rebuilding ? this.isOpen : flag(this.getAttribute("open"));
    const draft = rebuilding ? this.#ui.input.value : "";
    this.#setModal(false);
    this.#built = true;
    this.#floating = this.getAttribute("mode") === "launcher";
    // The element's own lang, else the nearest ancestor's: the page's <html lang>.
    const host = this.closest("[lang]");
    this.#lang = languageFor(host && host.getAttribute("lang"));
    const t = (this.#t = translator(this.#lang));
    const dir = direction(this.#lang);
    const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
    shadow.adoptedStyleSheets = [sheet];
    const ui = (this.#ui = {});

    ui.title = h("h2", { class: "title", id: "dl-title" });
    ui.resetBtn = h(
      "button",
      {
        type: "button",
        class: "icon-btn",
        "aria-label": t("reset"),
        title: t("resetTip"),
        onclick: () => this.#reset(),
      },
      icon("reset", 17),
    );
    ui.closeBtn = this.#floating
      ? h("button", { type: "button", class: "icon-btn", onclick: () => this.close() }, icon("close"))
      : null;
    ui.log = h("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": t("conversation"),
      "aria-busy": "false",
      onkeydown: (e) => this.#typeIntoInput(e),
    });
    ui.suggestions = h("div", { class: "suggestions", hidden: true });
    ui.empty = h(
      "div",
      { class: "empty" },
      h("p", { class: "empty-title" }, t("emptyTitle")),
      h("p", null, t("emptyBody")),
      ui.suggestions,
    );
    ui.counter = h("p", { class: "counter", id: "dl-counter", hidden: true });
    ui.input = h("textarea", {
      class: "input",
      id: "dl-input",
      part: "input",
      rows: 1,
      maxlength: MAX_QUESTION,
      autocomplete: "off",
      enterkeyhint: "send",
      "aria-label": t("question"),
      oninput: () => this.#count(),
      onpaste: (e) => this.#notePaste(e),
      onkeydown: (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
          e.preventDefault();
          this.#submit();
        }
      },
    });
    ui.input.value = draft;
    ui.send = h("button", { type: "submit", class: "send", "aria-label": t("send") }, icon("send", 20));
    ui.form = h(
      "form",
      {
        class: "composer",
        onsubmit: (e) => {
          e.preventDefault();
          this.#submit();
        },
      },
      ui.input,
      ui.send,
    );
    ui.panel = h(
      "section",
      {
        class: "panel",
        id: "dl-panel",
        part: "panel",
        role: "dialog",
        "aria-modal": "false",
        dir,
        lang: this.#lang,
        onkeydown: (e) => this.#panelKey(e),
      },
      h(
        "div",
        { class: "head" },
        h("div", { class: "head-text" }, ui.title, h("p", { class: "subtitle" }, t("subtitle"))),
        ui.resetBtn,
        ui.closeBtn,
      ),
      ui.log,
      ui.form,
      ui.counter,
      h("p", { class: "foot" }, t("foot")),
    );

    // title="" keeps a host title attribute from turning into a tooltip over the whole widget.
    const root = h("div", { class: this.#floating ? "root floating" : "root inline", title: "" });
    if (this.#floating) {
      ui.launcherLabel = h("span", { class: "launcher-label" });
      ui.launcherIcon = icon("chat", 20);
      ui.launcher = h(
        "button",
        {
          type: "button",
          class: "launcher",
          part: "launcher",
          dir,
          lang: this.#lang,
          "aria-expanded": "false",
          "aria-controls": "dl-panel",
          onclick: () => (this.isOpen ? this.close() : this.open()),
        },
        ui.launcherIcon,
        ui.launcherLabel,
      );
      ui.panel.hidden = !wasOpen;
      root.append(h("div", { class: "dock" }, ui.launcher, ui.panel));
      if (!this.#narrow && typeof matchMedia === "function") {
        this.#narrow = matchMedia(NARROW);
        this.#narrow.addEventListener("change", () => this.#setModal(this.isOpen && this.#narrow.matches));
        // Focus that leaves a modal panel (a screen reader, a click on nothing) comes back.
        document.addEventListener("focusin", (e) => {
          if (this.#modal && e.target !== this) this.#ui.input.focus({ preventScroll: true });
        });
      }
    } else {
      root.append(ui.panel);
    }
    shadow.replaceChildren(root);
    this.#api = null; // #configure renders the conversation anew
    this.#configure();
    this.#syncLauncher();
    this.#count();
    if (this.isOpen && this.#floating) this.#setModal(this.#narrow && this.#narrow.matches);
  }

  #configure() {
    const ui = this.#ui;
    const t = this.#t;
    const title = (this.getAttribute("title") || "").trim() || t("title");
    ui.title.textContent = title;
    ui.panel.setAttribute("aria-label", title);
    ui.input.placeholder = (this.getAttribute("placeholder") || "").trim() || t("placeholder");
    if (ui.closeBtn) ui.closeBtn.setAttribute("aria-label", t("close", { title }));
    if (ui.launcherLabel) ui.launcherLabel.textContent = title;

    const raw = this.getAttribute("api");
    const api = apiBase(raw) || apiBase(scriptOrigin) || location.origin;
    if (raw && !apiBase(raw)) console.warn("dateline-chat: ignoring api=%o, not an http(s) URL", raw);
    if (api !== this.#api) {
      this.#api = api;
      this.#suggestions = null;
      this.#conversation = new Conversation(api);
      this.#renderAll();
    }
  }

  #setOpen(open) {
    const changed = open !== this.isOpen;
    this.#ui.panel.hidden = !open;
    this.#syncLauncher();
    this.#setModal(open && !!this.#narrow && this.#narrow.matches);
    if (open) {
      this.#scrollToEnd();
      if (!this.#conversation.turns.length) this.#suggest();
    }
    if (changed) this.#emit(open ? "open" : "close");
  }

  /** Full screen on a narrow viewport, the panel is modal: Tab stays inside, the page stays put. */
  #setModal(modal) {
    if (modal === this.#modal) return;
    this.#modal = modal;
    this.#ui.panel.setAttribute("aria-modal", String(modal));
    if (modal) {
      this.#unlockScroll = lockPageScroll();
    } else if (this.#unlockScroll) {
      this.#unlockScroll();
      this.#unlockScroll = null;
    }
  }

  #panelKey(e) {
    if (e.key === "Escape" && this.#floating) {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      this.#ui.launcher.focus();
    } else if (e.key === "Tab" && this.#modal) {
      const items = [...this.#ui.panel.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length);
      const active = this.shadowRoot.activeElement;
      const [first, last] = [items[0], items[items.length - 1]];
      if (e.shiftKey ? active === first : active === last) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      }
    }
  }

  /** Typing while an answer has focus goes to the question box, as if it had been there. */
  #typeIntoInput(e) {
    const typing = e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey;
    if (typing && e.target.classList.contains("answer")) this.#ui.input.focus({ preventScroll: true });
  }

  #syncLauncher() {
    const ui = this.#ui;
    if (!ui.launcher) return;
    const open = !ui.panel.hidden;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcherIcon.replaceWith((ui.launcherIcon = icon(open ? "chevron" : "chat", 20)));
  }

  /** The length counter: shown near the limit, and when a paste was cut to fit. */
  #count() {
    const ui = this.#ui;
    const n = ui.input.value.length;
    if (n < MAX_QUESTION) this.#cut = false;
    ui.counter.hidden = n < COUNTER_FROM;
    // A hidden counter would still be read out as the box's description: only near the limit.
    if (ui.counter.hidden) ui.input.removeAttribute("aria-describedby");
    else ui.input.setAttribute("aria-describedby", ui.counter.id);
    ui.counter.classList.toggle("at-limit", n >= MAX_QUESTION);
    const numbers = { n, max: MAX_QUESTION };
    ui.counter.replaceChildren(
      this.#cut ? this.#t("cut", numbers) + " " : "",
      h("span", { "aria-hidden": "true" }, this.#t("count", numbers)),
      h("span", { class: "sr-only" }, this.#t("countLabel", numbers)),
    );
  }

  #notePaste(e) {
    const input = this.#ui.input;
    const pasted = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
    const room = MAX_QUESTION - input.value.length + (input.selectionEnd - input.selectionStart);
    this.#cut = pasted.length > room;
  }

  #submit() {
    const text = this.#ui.input.value.trim();
    if (!text || this.#busy) return;
    this.#ui.input.value = "";
    this.#count();
    this.ask(text).catch(() => {
      /* shown inline with a Retry button */
    });
  }

  #reset() {
    this.#stale = [];
    this.#conversation.clear();
    this.#renderAll();
    this.#ui.input.focus();
  }

  /** top_k and filters from the element's attributes (data- ones on the script tag). */
  #options() {
    const k = Number(this.getAttribute("top-k"));
    const filters = {};
    for (const [attr, key] of [
      ["speaker", "speaker"],
      ["date-from", "date_from"],
      ["date-to", "date_to"],
    ]) {
      const value = (this.getAttribute(attr) || "").trim();
      if (value) filters[key] = value;
    }
    return {
      top_k: Number.isInteger(k) && k >= 1 && k <= 10 ? k : DEFAULT_TOP_K,
      ...(Object.keys(filters).length ? { filters } : {}),
    };
  }

  #setBusy(busy) {
    this.#busy = busy;
    this.#ui.log.setAttribute("aria-busy", String(busy));
    this.#ui.send.setAttribute("aria-disabled", String(busy));
  }

  async #request(question, turn) {
    this.#setBusy(true);
    const status = h(
      "div",
      { class: "status" },
      h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
      h("span", null, this.#t("searching")),
    );
    turn.append(status);
    this.#scrollToEnd();
    try {
      const { answer, json } = await askArchive(this.#api, {
        question,
        ...this.#options(),
        history: this.#conversation.history(),
      });
      status.remove();
      const entry = this.#conversation.add(question, answer);
      const shown = renderAnswer(entry, this.#view());
      // Focus in an empty question box moves to the answer, so Tab walks its sources next.
      const active = this.shadowRoot.activeElement;
      const waiting = (active === this.#ui.input || active === this.#ui.send) && !this.#ui.input.value;
      turn.append(shown);
      this.#scrollTo(turn);
      if (waiting) shown.focus({ preventScroll: true });
      this.#emit("answer", json);
      return json;
    } catch (err) {
      status.remove();
      const failed = this.#failure(err);
      this.#renderError(turn, question, failed);
      this.#emit("error", { message: failed.message, status: failed.status, question });
      throw failed;
    } finally {
      this.#setBusy(false);
    }
  }

  /** What the reader is told (and ask() rejects with): the API's reason if it gave one, else
   * ours in the panel's language. */
  #failure(err) {
    if (!(err instanceof ChatError)) return failure(this.#t("failed"));
    return failure(err.detail || this.#t(err.reason, err.params), err.status);
  }

  #renderAll() {
    const ui = this.#ui;
    ui.log.replaceChildren();
    const { turns } = this.#conversation;
    if (!turns.length) {
      ui.log.append(ui.empty);
      if (!this.#floating || this.isOpen) this.#suggest();
      return;
    }
    for (const entry of turns) {
      this.#renderQuestion(entry.question).append(renderAnswer(entry, this.#view()));
    }
    this.#scrollToEnd();
  }

  /** Starter questions for an empty conversation: the attribute's, else the API's. */
  #suggest() {
    if (!this.#suggestions) {
      const own = this.getAttribute("suggestions");
      this.#suggestions = own != null ? Promise.resolve(parseSuggestions(own)) : fetchSuggestions(this.#api);
    }
    const box = this.#ui.suggestions;
    this.#suggestions.then((questions) => {
      if (box !== this.#ui.suggestions || !questions.length) return; // rebuilt meanwhile
      box.replaceChildren(
        h("p", { class: "suggestions-label", id: "dl-suggestions" }, this.#t("suggestions")),
        h(
          "ul",
          { "aria-labelledby": "dl-suggestions" },
          ...questions.map((q) =>
            h(
              "li",
              null,
              h(
                "button",
                {
                  type: "button",
                  class: "suggestion",
                  part: "suggestion",
                  dir: "auto",
                  onclick: () => {
                    this.#ui.input.focus({ preventScroll: true });
                    this.ask(q).catch(() => {});
                  },
                },
                q,
              ),
            ),
          ),
        ),
      );
      box.hidden = false;
    });
  }

  /** What rendering an answer needs from this element (api and language are redrawn anew). */
  #view() {
    return {
      t: this.#t,
      lang: this.#lang,
      api: this.#api,
      vote: async (entry, verdict) => {
        await sendFeedback(this.#api, entry.question, entry.answer, verdict);
        entry.verdict = verdict;
        this.#conversation.save();
      },
    };
  }

  #renderQuestion(question) {
    this.#ui.empty.remove();
    for (const failed of this.#stale.splice(0)) failed();
    const asked = h("p", { class: "question", part: "question", dir: "auto" }, question);
    const turn = h("div", { class: "turn" }, asked);
    this.#ui.log.append(turn);
    return turn;
  }

  #renderError(turn, question, err) {
    const retry = h("button", { type: "button", class: "retry" }, this.#t("retry"));
    const alert = h(
      "div",
      { class: "alert", role: "alert" },
      icon("alert", 16),
      h("p", { class: "alert-text" }, err.message),
      retry,
    );
    const withdraw = () => {
      retry.remove();
      alert.removeAttribute("role");
    };
    retry.addEventListener("click", () => {
      alert.remove();
      this.#stale = this.#stale.filter((f) => f !== withdraw);
      this.#ui.input.focus({ preventScroll: true });
      const run = () => this.#request(question, turn);
      this.#queue = this.#queue.then(run, run).catch(() => {});
    });
    turn.append(alert);
    this.#stale.push(withdraw);
    this.#scrollToEnd();
  }

  #scrollTo(el) {
    const log = this.#ui.log;
    const top = el.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 12;
    log.scrollTo({ top: Math.max(0, top), behavior: reducedMotion() ? "auto" : "smooth" });
  }

  #scrollToEnd() {
    const log = this.#ui.log;
    log.scrollTop = log.scrollHeight;
  }
}
