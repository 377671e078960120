/*!
 * Dateline chat widget: ask the news archive, get back quoted passages with their sources.
 *
 * One file, no build step, no dependencies. Embed with
 *   <script src="https://HOST/widget.js" defer></script>
 * Options (data- attributes on that tag): data-api, data-title, data-placeholder,
 * data-theme (light|dark|auto), data-position (bottom-right|bottom-left), data-open,
 * data-launcher="false" (no floating launcher, e.g. when the page only uses <dateline-chat>).
 * Inline: <dateline-chat api="https://HOST" title="…"></dateline-chat>.
 * JS: Dateline.open(), Dateline.close(), Dateline.ask(text) -> Promise of the answer JSON.
 *
 * Security model: every string from the server goes into the DOM through text nodes only;
 * links are made only for http(s) URLs; styles come only from one constructed stylesheet
 * (adoptedStyleSheets), so the widget runs under a CSP with style-src 'none' and Trusted Types.
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

  const TAG = "dateline-chat";
  const DEFAULTS = {
    title: "Ask the archive",
    placeholder: "Ask about the news…",
    subtitle: "Answers quoted from archived articles",
  };
  const MAX_QUESTION = 1000; // the API rejects longer questions
  const MAX_HISTORY = 20; // turns sent with each question
  const MAX_ANSWER_IN_HISTORY = 20000; // the API's limit per history answer
  const MAX_STORED = 50; // turns kept in sessionStorage
  // The API refuses bodies over 64 KiB (and that refusal carries no CORS headers), so the
  // history sent along is trimmed, oldest turns first, to stay well below it.
  const HISTORY_BYTES = 48 * 1024;
  const TIMEOUT_MS = 30000;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const reducedMotion = () =>
    typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;

  /* ------------------------------------------------------------------ styles */

  // One dark palette for data-theme="dark" and for "auto" under prefers-color-scheme: dark.
  const DARK_PALETTE = `
  --bg: #16181d;
  --surface: #1e2128;
  --text: #e9ebee;
  --muted: #9ba3ae;
  --border: #30353e;
  --accent: var(--dateline-accent, #7aa2ff);
  --accent-text: #0b1020;
  --mark-bg: #6b5500;
  --mark-text: #fff7d6;
  --danger: #ffb4ab;
  --danger-bg: #3b1c1a;
  --danger-border: #6b2b26;
  --shadow: 0 16px 48px rgba(0, 0, 0, 0.55), 0 2px 8px rgba(0, 0, 0, 0.35);
  color-scheme: dark;
`;
  const CSS = `
:host { all: initial; display: block; }
:host([hidden]) { display: none; }
/* The floating copy belongs to us, not the page: page rules (even !important ones) lose. */
:host([mode="launcher"]) { all: initial !important; display: block !important; }

*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }

.root {
  --bg: #ffffff;
  --surface: #f5f6f8;
  --text: #17191c;
  --muted: #5c6470;
  --border: #e1e4e9;
  --accent: var(--dateline-accent, #1d4ed8);
  --accent-text: #ffffff;
  --accent-soft: color-mix(in srgb, var(--accent) 13%, transparent);
  --mark-bg: #fde68a;
  --mark-text: #17191c;
  --danger: #b42318;
  --danger-bg: #fef3f2;
  --danger-border: #fecdca;
  --shadow: 0 16px 48px rgba(15, 23, 42, 0.18), 0 2px 8px rgba(15, 23, 42, 0.08);
  color-scheme: light;
  display: block;
  margin: 0;
  padding: 0;
  color: var(--text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
    "Liberation Sans", Arial, sans-serif;
  font-size: 14px;
  font-weight: 400;
  font-style: normal;
  line-height: 1.5;
  letter-spacing: normal;
  text-align: left;
  text-transform: none;
  white-space: normal;
  -webkit-font-smoothing: antialiased;
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
:host([theme="dark"]) .root {
${DARK_PALETTE}}
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"]):not([theme="dark"])) .root {
${DARK_PALETTE}  }
}

p, h2, ol, li, blockquote { margin: 0; padding: 0; }
ol { list-style: none; }
button {
  all: unset;
  box-sizing: border-box;
  cursor: pointer;
  font: inherit;
  color: inherit;
}
button:disabled, button[aria-disabled="true"] { cursor: default; opacity: 0.55; }
a { color: var(--accent); text-decoration: none; font: inherit; }
a:hover { text-decoration: underline; }
:focus { outline: none; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
svg { display: block; flex: none; }
.sr-only {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}

/* ---- floating dock and launcher */
.dock {
  position: fixed;
  z-index: 2147483647;
  right: max(20px, env(safe-area-inset-right));
  bottom: max(20px, env(safe-area-inset-bottom));
  display: flex;
  flex-direction: column-reverse;
  align-items: flex-end;
  gap: 12px;
}
:host([position="bottom-left"]) .dock {
  right: auto;
  left: max(20px, env(safe-area-inset-left));
  align-items: flex-start;
}
.launcher {
  display: inline-flex;
  align-items: center;
  gap: 8px;
  height: 48px;
  padding: 0 20px 0 16px;
  border-radius: 24px;
  background: var(--accent);
  color: var(--accent-text);
  font-size: 15px;
  font-weight: 600;
  line-height: 1;
  white-space: nowrap;
  box-shadow: var(--shadow);
  transition: transform 0.15s ease, box-shadow 0.15s ease;
}
.launcher:hover { transform: translateY(-1px); }
.launcher:focus-visible { outline-offset: 3px; }

/* ---- panel */
.panel {
  display: flex;
  flex-direction: column;
  overflow: hidden;
  background: var(--bg);
  color: var(--text);
  border: 1px solid var(--border);
  border-radius: 16px;
}
.floating .panel {
  width: min(400px, calc(100vw - 32px));
  height: min(640px, calc(100vh - 104px));
  box-shadow: var(--shadow);
  transition: opacity 0.18s ease, transform 0.18s ease;
}
@starting-style {
  .floating .panel { opacity: 0; transform: translateY(8px); }
}
.inline .panel { width: 100%; height: var(--dateline-height, 560px); }

.head {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 14px 12px 14px 18px;
  border-bottom: 1px solid var(--border);
}
.head-text { flex: 1; min-width: 0; }
.title {
  font-size: 15px;
  font-weight: 650;
  line-height: 1.3;
  color: var(--text);
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.subtitle { font-size: 12px; line-height: 1.4; color: var(--muted); }
.icon-btn {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  width: 34px;
  height: 34px;
  border-radius: 9px;
  color: var(--muted);
}
.icon-btn:hover { background: var(--surface); color: var(--text); }

.log {
  flex: 1;
  min-height: 0;
  position: relative;
  overflow-y: auto;
  overscroll-behavior: contain;
  padding: 18px 18px 8px;
  display: flex;
  flex-direction: column;
  gap: 20px;
}
.empty { margin: auto 0; padding: 8px 6px 24px; text-align: center; color: var(--muted); }
.empty-title { font-size: 16px; font-weight: 650; color: var(--text); margin-bottom: 6px; }
.empty p { font-size: 13.5px; line-height: 1.55; }

.turn { display: flex; flex-direction: column; gap: 12px; }
.question {
  align-self: flex-end;
  max-width: 85%;
  padding: 9px 14px;
  border-radius: 16px 16px 4px 16px;
  background: var(--accent);
  color: var(--accent-text);
  font-size: 14px;
  line-height: 1.45;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.answer { display: flex; flex-direction: column; gap: 12px; }
.answer-text { font-size: 14.5px; line-height: 1.6; overflow-wrap: anywhere; }
.cite {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-width: 19px;
  height: 19px;
  margin: 0 1px;
  padding: 0 5px;
  border-radius: 10px;
  background: var(--accent-soft);
  color: var(--accent);
  font-size: 11px;
  font-weight: 700;
  line-height: 1;
  vertical-align: 1px;
}
.cite:hover { background: var(--accent); color: var(--accent-text); }
.abstained {
  padding: 12px 14px;
  border: 1px dashed var(--border);
  border-radius: 12px;
  background: var(--surface);
  color: var(--muted);
}
.abstained .answer-text { font-size: 14px; color: var(--text); }
.abstain-label {
  display: flex;
  align-items: center;
  gap: 6px;
  font-size: 11.5px;
  font-weight: 700;
  letter-spacing: 0.04em;
  text-transform: uppercase;
  color: var(--muted);
}

.sources-label {
  font-size: 11.5px;
  font-weight: 700;
  letter-spacing: 0.04em;
  text-transform: uppercase;
  color: var(--muted);
}
.cards { display: flex; flex-direction: column; gap: 10px; }
.card {
  display: flex;
  flex-direction: column;
  gap: 8px;
  padding: 12px 14px;
  border: 1px solid var(--border);
  border-radius: 12px;
  background: var(--surface);
  transition: border-color 0.2s ease, box-shadow 0.2s ease;
  scroll-margin: 12px;
}
.card.is-target { border-color: var(--accent); box-shadow: 0 0 0 3px var(--accent-soft); }
.card-head { display: flex; align-items: flex-start; gap: 10px; }
.card-n {
  flex: none;
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-width: 22px;
  height: 22px;
  padding: 0 6px;
  border-radius: 11px;
  background: var(--accent);
  color: var(--accent-text);
  font-size: 11.5px;
  font-weight: 700;
  line-height: 1;
}
.card-heading { min-width: 0; display: flex; flex-direction: column; gap: 2px; }
.card-title {
  font-size: 13.5px;
  font-weight: 650;
  line-height: 1.35;
  color: var(--text);
  overflow-wrap: anywhere;
}
.card-meta { font-size: 12px; line-height: 1.4; color: var(--muted); overflow-wrap: anywhere; }
.passage {
  margin: 0;
  padding: 0 0 0 12px;
  border-left: 3px solid var(--border);
  font-size: 13.5px;
  line-height: 1.6;
  color: var(--text);
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
mark {
  background: var(--mark-bg);
  color: var(--mark-text);
  padding: 1px 0;
  border-radius: 2px;
  -webkit-box-decoration-break: clone;
  box-decoration-break: clone;
}
.card-foot {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 6px 12px;
  font-size: 12.5px;
}
.speaker { color: var(--text); font-weight: 600; overflow-wrap: anywhere; }
.speaker-label { color: var(--muted); font-weight: 400; }
.open {
  display: inline-flex;
  align-items: center;
  gap: 4px;
  margin-left: auto;
  font-weight: 600;
  border-radius: 4px;
}

.status { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 13.5px; }
.dots { display: inline-flex; gap: 4px; }
.dots span {
  width: 6px; height: 6px; border-radius: 50%; background: var(--accent);
  animation: dl-pulse 1.2s infinite ease-in-out;
}
.dots span:nth-child(2) { animation-delay: 0.15s; }
.dots span:nth-child(3) { animation-delay: 0.3s; }
@keyframes dl-pulse { 0%, 80%, 100% { opacity: 0.25; } 40% { opacity: 1; } }

.alert {
  display: flex;
  align-items: flex-start;
  gap: 10px;
  padding: 10px 12px;
  border: 1px solid var(--danger-border);
  border-radius: 12px;
  background: var(--danger-bg);
  color: var(--danger);
  font-size: 13.5px;
  line-height: 1.45;
}
.alert-text { flex: 1; min-width: 0; padding-top: 3px; overflow-wrap: anywhere; }
.alert svg { margin-top: 4px; }
.retry {
  flex: none;
  padding: 5px 12px;
  border: 1px solid currentColor;
  border-radius: 8px;
  font-size: 13px;
  font-weight: 600;
}
.retry:hover { background: var(--bg); }

.composer {
  display: flex;
  align-items: flex-end;
  gap: 8px;
  margin: 0;
  padding: 12px 14px 8px;
  border-top: 1px solid var(--border);
  background: var(--bg);
}
.input {
  flex: 1;
  min-width: 0;
  display: block;
  margin: 0;
  min-height: 44px;
  max-height: 140px;
  padding: 11px 14px;
  border: 1px solid var(--border);
  border-radius: 12px;
  background: var(--bg);
  color: var(--text);
  font: inherit;
  font-size: 14.5px;
  line-height: 1.45;
  resize: none;
  field-sizing: content;
  overflow-y: auto;
  box-shadow: none;
  appearance: none;
}
.input::placeholder { color: var(--muted); opacity: 1; }
.input:focus-visible { outline: 2px solid var(--accent); outline-offset: -1px; border-color: transparent; }
.send {
  flex: none;
  display: inline-flex;
  align-items: center;
  justify-content: center;
  width: 44px;
  height: 44px;
  border-radius: 12px;
  background: var(--accent);
  color: var(--accent-text);
}
.foot { padding: 0 16px 10px; font-size: 11.5px; line-height: 1.4; color: var(--muted); text-align: center; }

@media (max-width: 479.98px) {
  .floating .panel {
    position: fixed;
    inset: 0;
    width: 100%;
    height: 100%;
    max-height: none;
    border: 0;
    border-radius: 0;
    box-shadow: none;
  }
  .launcher { width: 54px; height: 54px; padding: 0; justify-content: center; border-radius: 50%; }
  .launcher-label {
    position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden;
    clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
  }
  .input { font-size: 16px; } /* iOS zooms into smaller inputs */
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after {
    animation: none !important;
    transition: none !important;
    scroll-behavior: auto !important;
  }
  .launcher:hover { transform: none; }
}
`;

  let sharedSheet = null;
  function sheet() {
    if (!sharedSheet) {
      sharedSheet = new CSSStyleSheet();
      sharedSheet.replaceSync(CSS);
    }
    return sharedSheet;
  }

  /* ---------------------------------------------------------------- DOM kit */

  /** Element builder: props become attributes, strings become text nodes (never HTML). */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value == null || value === false) continue;
        if (key === "class") el.className = value;
        else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child != null && child !== false) el.append(child);
    }
    return el;
  }

  const ICONS = {
    chat: [
      "M21 11.5a8.4 8.4 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.4 8.4 0 0 1-3.8-.9L3 21l1.9-5.7a8.4 8.4 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.4 8.4 0 0 1 3.8-.9h.5a8.5 8.5 0 0 1 8 8v.5z",
    ],
    down: ["M6 9l6 6 6-6"],
    close: ["M18 6 6 18", "M6 6l12 12"],
    send: ["M12 19V5", "M5 12l7-7 7 7"],
    reset: ["M3 12a9 9 0 1 0 3-6.7", "M3 4v5h5"],
    external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"],
    info: ["M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0z", "M12 16v-4", "M12 8h.01"],
    alert: ["M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0z", "M12 8v4", "M12 16h.01"],
  };

  function icon(name, size = 18) {
    const svg = document.createElementNS(SVG_NS, "svg");
    for (const [k, v] of Object.entries({
      viewBox: "0 0 24 24",
      width: size,
      height: size,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": 2,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
      "aria-hidden": "true",
      focusable: "false",
    })) {
      svg.setAttribute(k, String(v));
    }
    for (const d of ICONS[name]) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.append(path);
    }
    return svg;
  }

  /* ------------------------------------------------------------ data layer */

  /** The API base as an absolute http(s) URL without a trailing slash, or null. */
  function apiBase(raw) {
    if (!raw) return null;
    try {
      const url = new URL(raw, document.baseURI);
      if (url.protocol !== "http:" && url.protocol !== "https:") return null;
      return (url.origin + url.pathname).replace(/\/+$/, "");
    } catch {
      return null;
    }
  }

  /** An absolute http(s) link for a server-given URL, or null (javascript:, data:, junk…). */
  function safeLink(raw, base) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      // Root-relative paths hang off the API base, so a base like https://host/dateline works.
      const url =
        raw.startsWith("/") && !raw.startsWith("//") ? new URL(base + raw) : new URL(raw, base + "/");
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  const utf8 = new TextEncoder();

  /** At most max code points (the API counts like Python; never split a surrogate pair). */
  function clip(text, max) {
    if (text.length <= max) return text;
    return Array.from(text).slice(0, max).join("");
  }

  const str = (v) => (typeof v === "string" ? v : v == null ? null : String(v));

  /** The reader's own today, YYYY-MM-DD: "this week" means their week, not the server's. */
  function localToday() {
    const now = new Date();
    const two = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
  }

  /** The answer JSON reduced to known fields of known types; null if it is not an answer. */
  function normalizeAnswer(json) {
    if (!json || typeof json !== "object" || typeof json.answer !== "string") return null;
    const citations = Array.isArray(json.citations) ? json.citations : [];
    return {
      question: str(json.question) || "",
      answer: json.answer,
      abstained: json.abstained === true,
      took_ms: typeof json.took_ms === "number" ? json.took_ms : null,
      citations: citations
        .filter((c) => c && typeof c === "object")
        .map((c, i) => ({
          n: Number.isInteger(c.n) ? c.n : i + 1,
          article_id: str(c.article_id) || "",
          title: str(c.title) || "",
          date: str(c.date),
          dateline: str(c.dateline),
          agency: str(c.agency),
          paragraph: Number.isInteger(c.paragraph) ? c.paragraph : null,
          text: str(c.text) || "",
          quote: str(c.quote) || "",
          highlights: Array.isArray(c.highlights) ? c.highlights : [],
          speaker: str(c.speaker),
          url: str(c.url),
        })),
    };
  }

  /** FastAPI's {"detail": ...}: a string, or for 422 a list whose first item has a msg. */
  function detailOf(body) {
    if (!body || typeof body !== "object") return null;
    const { detail } = body;
    if (typeof detail === "string" && detail.trim()) return detail.trim().slice(0, 500);
    if (Array.isArray(detail) && detail[0] && typeof detail[0].msg === "string") {
      return detail[0].msg.slice(0, 500);
    }
    return null;
  }

  /** Retry-After as whole seconds (delta-seconds or HTTP-date), or null. */
  function retryAfterSeconds(header) {
    if (!header) return null;
    const value = header.trim();
    if (/^\d+$/.test(value)) return Math.max(1, parseInt(value, 10));
    const when = Date.parse(value);
    return Number.isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
  }

  class ChatError extends Error {}

  /** Conversation for this tab, per API base; storage may be disabled or full, so never throw. */
  class Conversation {
    constructor(base) {
      this.key = "dateline-chat:" + base;
    }
    load() {
      try {
        const data = JSON.parse(sessionStorage.getItem(this.key) || "null");
        if (!data || !Array.isArray(data.turns)) return [];
        return data.turns
          .filter((t) => t && typeof t.question === "string")
          .map((t) => ({ question: t.question, answer: normalizeAnswer(t.answer) }))
          .filter((t) => t.answer);
      } catch {
        return [];
      }
    }
    save(turns) {
      try {
        sessionStorage.setItem(this.key, JSON.stringify({ v: 1, turns: turns.slice(-MAX_STORED) }));
      } catch {
        /* private mode or quota: the conversation just won't survive a reload */
      }
    }
    clear() {
      try {
        sessionStorage.removeItem(this.key);
      } catch {
        /* nothing to clear */
      }
    }
  }

  /* -------------------------------------------------------------- rendering */

  /** The passage with the quoted character ranges wrapped in <mark>. */
  function highlightedPassage(text, quote, highlights) {
    // The API counts offsets in code points (Python str); JS strings count UTF-16 units.
    const chars = Array.from(text);
    const ranges = [];
    for (const range of highlights) {
      if (!Array.isArray(range) || range.length < 2) continue;
      let [start, end] = [Number(range[0]), Number(range[1])];
      if (!Number.isInteger(start) || !Number.isInteger(end)) continue;
      start = Math.max(0, Math.min(start, chars.length));
      end = Math.max(start, Math.min(end, chars.length));
      if (end > start) ranges.push([start, end]);
    }
    if (!ranges.length && quote) {
      const at = text.indexOf(quote);
      if (at >= 0) {
        const start = Array.from(text.slice(0, at)).length;
        ranges.push([start, start + Array.from(quote).length]);
      }
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    const out = document.createDocumentFragment();
    let pos = 0;
    for (const [start, end] of merged) {
      if (start > pos) out.append(chars.slice(pos, start).join(""));
      out.append(h("mark", null, chars.slice(start, end).join("")));
      pos = end;
    }
    if (pos < chars.length) out.append(chars.slice(pos).join(""));
    return out;
  }

  function formatDate(iso) {
    if (!iso || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(
        new Date(iso + "T00:00:00Z"),
      );
    } catch {
      return iso;
    }
  }

  /* ---------------------------------------------------------------- element */

  class DatelineChat extends HTMLElement {
    static get observedAttributes() {
      return ["api", "title", "placeholder"];
    }

    #built = false;
    #floating = false;
    #api = null;
    #conversation = null;
    #turns = [];
    #queue = Promise.resolve();
    #busy = false;
    #stale = []; // failed turns whose Retry is withdrawn once a new question is asked
    #ui = {};

    connectedCallback() {
      if (!this.#built) this.#build();
    }

    attributeChangedCallback() {
      if (this.#built) this.#configure();
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
      if (!question) return Promise.reject(new ChatError("The question is empty."));
      if (this.#floating) this.#setOpen(true);
      const run = () => this.#request(question, this.#renderQuestion(question));
      const result = this.#queue.then(run, run);
      this.#queue = result.catch(() => {});
      return result;
    }

    get isOpen() {
      return this.#built && !this.#ui.panel.hidden;
    }

    #build() {
      this.#built = true;
      this.#floating = this.getAttribute("mode") === "launcher";
      const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
      shadow.adoptedStyleSheets = [sheet()];
      const ui = this.#ui;

      ui.title = h("h2", { class: "title", id: "dl-title" });
      ui.resetBtn = h(
        "button",
        { type: "button", class: "icon-btn", onclick: () => this.#reset() },
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
        "aria-label": "Conversation",
        "aria-busy": "false",
      });
      ui.empty = h(
        "div",
        { class: "empty" },
        h("p", { class: "empty-title" }, "Ask the news archive"),
        h(
          "p",
          null,
          "Every answer is made of sentences quoted from archived articles, each with its source.",
        ),
      );
      ui.input = h("textarea", {
        class: "input",
        id: "dl-input",
        rows: 1,
        maxlength: MAX_QUESTION,
        autocomplete: "off",
        enterkeyhint: "send",
        "aria-label": "Your question",
        onkeydown: (e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
            e.preventDefault();
            this.#submit();
          }
        },
      });
      ui.send = h(
        "button",
        { type: "submit", class: "send", "aria-label": "Send question" },
        icon("send", 20),
      );
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
          role: "dialog",
          onkeydown: (e) => {
            if (e.key === "Escape" && this.#floating) {
              e.preventDefault();
              e.stopPropagation();
              this.close();
              this.#ui.launcher.focus();
            }
          },
        },
        h(
          "div",
          { class: "head" },
          h("div", { class: "head-text" }, ui.title, h("p", { class: "subtitle" }, DEFAULTS.subtitle)),
          ui.resetBtn,
          ui.closeBtn,
        ),
        ui.log,
        ui.form,
        h("p", { class: "foot" }, "Answers quote archived articles word for word."),
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
            "aria-expanded": "false",
            "aria-controls": "dl-panel",
            onclick: () => (this.isOpen ? this.close() : this.open()),
          },
          ui.launcherIcon,
          ui.launcherLabel,
        );
        ui.panel.hidden = !this.hasAttribute("open") || this.getAttribute("open") === "false";
        root.append(h("div", { class: "dock" }, ui.launcher, ui.panel));
      } else {
        root.append(ui.panel);
      }
      shadow.replaceChildren(root);
      this.#configure();
      this.#syncLauncher();
    }

    #configure() {
      const ui = this.#ui;
      const title = (this.getAttribute("title") || "").trim() || DEFAULTS.title;
      ui.title.textContent = title;
      ui.panel.setAttribute("aria-label", title);
      ui.input.placeholder = (this.getAttribute("placeholder") || "").trim() || DEFAULTS.placeholder;
      ui.resetBtn.setAttribute("aria-label", "Start a new conversation");
      ui.resetBtn.title = "New conversation";
      if (ui.closeBtn) ui.closeBtn.setAttribute("aria-label", "Close " + title);
      if (ui.launcherLabel) ui.launcherLabel.textContent = title;

      const raw = this.getAttribute("api");
      let api = apiBase(raw) || apiBase(scriptOrigin) || location.origin;
      if (raw && !apiBase(raw)) console.warn("dateline-chat: ignoring api=%o, not an http(s) URL", raw);
      if (api !== this.#api) {
        this.#api = api;
        this.#conversation = new Conversation(api);
        this.#turns = this.#conversation.load();
        this.#renderAll();
      }
    }

    #setOpen(open) {
      this.#ui.panel.hidden = !open;
      this.#syncLauncher();
      if (open) this.#scrollToEnd();
    }

    #syncLauncher() {
      const ui = this.#ui;
      if (!ui.launcher) return;
      const open = !ui.panel.hidden;
      ui.launcher.setAttribute("aria-expanded", String(open));
      ui.launcherIcon.replaceWith((ui.launcherIcon = icon(open ? "down" : "chat", 20)));
    }

    #submit() {
      const text = this.#ui.input.value.trim();
      if (!text || this.#busy) return;
      this.#ui.input.value = "";
      this.ask(text).catch(() => {
        /* shown inline with a Retry button */
      });
    }

    #reset() {
      this.#turns = [];
      this.#stale = [];
      this.#conversation.clear();
      this.#renderAll();
      this.#ui.input.focus();
    }

    /** The latest turns, oldest first, within the API's count limit and our byte budget. */
    #history() {
      const turns = [];
      let bytes = 0;
      for (const t of this.#turns.slice(-MAX_HISTORY).reverse()) {
        const turn = {
          question: clip(t.question, MAX_QUESTION),
          answer: clip(t.answer.answer, MAX_ANSWER_IN_HISTORY),
        };
        bytes += utf8.encode(JSON.stringify(turn)).length;
        if (bytes > HISTORY_BYTES) break;
        turns.unshift(turn);
      }
      return turns;
    }

    #setBusy(busy) {
      this.#busy = busy;
      this.#ui.log.setAttribute("aria-busy", String(busy));
      this.#ui.send.setAttribute("aria-disabled", String(busy));
    }

    async #fetchAnswer(question) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      try {
        let response;
        try {
          response = await fetch(this.#api + "/api/chat", {
            method: "POST",
            mode: "cors",
            credentials: "omit",
            cache: "no-store",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify({
              question,
              top_k: 3,
              history: this.#history(),
              as_of: localToday(),
            }),
            signal: controller.signal,
          });
        } catch (err) {
          throw new ChatError(
            err && err.name === "AbortError"
              ? "The archive took too long to answer. Try again."
              : "Couldn't reach the archive. Check your connection and try again.",
          );
        }
        let body = null;
        try {
          body = await response.json();
        } catch {
          /* not JSON: handled below by status */
        }
        if (response.ok) {
          const answer = normalizeAnswer(body);
          if (!answer) throw new ChatError("The archive sent a reply this page can't read.");
          return answer;
        }
        const detail = detailOf(body);
        if (response.status === 429) {
          // Readable cross-origin only if the API lists it in Access-Control-Expose-Headers.
          const seconds = retryAfterSeconds(response.headers.get("Retry-After"));
          throw new ChatError(
            seconds != null
              ? `Too many questions; try again in ${seconds} s.`
              : "Too many questions; try again in a moment.",
          );
        }
        if (response.status >= 500) {
          throw new ChatError(detail || `The archive ran into a problem (HTTP ${response.status}).`);
        }
        throw new ChatError(detail || `The question couldn't be answered (HTTP ${response.status}).`);
      } catch (err) {
        if (err instanceof ChatError) throw err;
        throw new ChatError(
          err && err.name === "AbortError"
            ? "The archive took too long to answer. Try again."
            : "Couldn't reach the archive. Check your connection and try again.",
        );
      } finally {
        clearTimeout(timer);
      }
    }

    async #request(question, turn) {
      this.#setBusy(true);
      const status = h(
        "div",
        { class: "status" },
        h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
        h("span", null, "Searching the archive…"),
      );
      turn.append(status);
      this.#scrollToEnd();
      try {
        const answer = await this.#fetchAnswer(question);
        status.remove();
        turn.append(this.#renderAnswer(answer, this.#turns.length));
        // Re-read first: another widget on this page may share the conversation.
        const stored = this.#conversation.load();
        this.#turns = [...(stored.length > this.#turns.length ? stored : this.#turns), { question, answer }];
        this.#conversation.save(this.#turns);
        this.#scrollTo(turn);
        return answer;
      } catch (err) {
        status.remove();
        this.#renderError(turn, question, err);
        throw err;
      } finally {
        this.#setBusy(false);
      }
    }

    #renderAll() {
      const ui = this.#ui;
      ui.log.replaceChildren();
      if (!this.#turns.length) {
        ui.log.append(ui.empty);
        return;
      }
      this.#turns.forEach((t, i) => {
        const turn = this.#renderQuestion(t.question);
        turn.append(this.#renderAnswer(t.answer, i));
      });
      this.#scrollToEnd();
    }

    #renderQuestion(question) {
      this.#ui.empty.remove();
      for (const failed of this.#stale.splice(0)) failed();
      const turn = h("div", { class: "turn" }, h("p", { class: "question" }, question));
      this.#ui.log.append(turn);
      return turn;
    }

    #renderAnswer(answer, index) {
      const cards = new Map();
      const text = h("p", { class: "answer-text" });
      const byN = new Map(answer.citations.map((c) => [c.n, c]));
      // Split on the [n] markers; only markers with a citation become buttons.
      let last = 0;
      for (const m of answer.answer.matchAll(/\[(\d{1,4})\]/g)) {
        const n = Number(m[1]);
        if (answer.abstained || !byN.has(n)) continue;
        text.append(answer.answer.slice(last, m.index));
        text.append(
          h(
            "button",
            {
              type: "button",
              class: "cite",
              "aria-label": `Source ${n}`,
              onclick: () => this.#focusCard(cards.get(n)),
            },
            String(n),
          ),
        );
        last = m.index + m[0].length;
      }
      text.append(answer.answer.slice(last));

      if (answer.abstained) {
        return h(
          "div",
          { class: "answer abstained", "data-abstained": "true" },
          h("p", { class: "abstain-label" }, icon("info", 14), "Not found in the archive"),
          text,
        );
      }
      const list = h("ol", { class: "cards", "aria-label": "Sources" });
      for (const c of answer.citations) {
        const card = this.#renderCard(c, index);
        cards.set(c.n, card);
        list.append(card);
      }
      const count = answer.citations.length;
      return h(
        "div",
        { class: "answer" },
        text,
        count ? h("p", { class: "sources-label" }, count === 1 ? "1 source" : `${count} sources`) : null,
        count ? list : null,
      );
    }

    #renderCard(c, index) {
      const meta = [formatDate(c.date), c.dateline, c.agency, c.paragraph ? `¶ ${c.paragraph}` : null]
        .filter(Boolean)
        .join(" · ");
      const heading = h("div", { class: "card-heading" }, h("p", { class: "card-title" }, c.title || c.article_id));
      if (meta) heading.append(h("p", { class: "card-meta" }, meta));
      const href = safeLink(c.url, this.#api);
      const foot = h("div", { class: "card-foot" });
      if (c.speaker) {
        foot.append(h("p", { class: "speaker" }, h("span", { class: "speaker-label" }, "Speaker: "), c.speaker));
      }
      if (href) {
        foot.append(
          h(
            "a",
            { class: "open", href, target: "_blank", rel: "noopener" },
            "Open article",
            h("span", { class: "sr-only" }, " (opens in a new tab)"),
            icon("external", 13),
          ),
        );
      }
      return h(
        "li",
        {
          class: "card",
          tabindex: "-1",
          "data-n": c.n,
          "data-article-id": c.article_id,
          "data-turn": index,
        },
        h("div", { class: "card-head" }, h("span", { class: "card-n", "aria-hidden": "true" }, String(c.n)), heading),
        h("blockquote", { class: "passage" }, highlightedPassage(c.text, c.quote, c.highlights)),
        foot.childNodes.length ? foot : null,
      );
    }

    #renderError(turn, question, err) {
      const message = err instanceof ChatError ? err.message : "Something went wrong. Try again.";
      const retry = h("button", { type: "button", class: "retry" }, "Retry");
      const alert = h(
        "div",
        { class: "alert", role: "alert" },
        icon("alert", 16),
        h("p", { class: "alert-text" }, message),
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

    #focusCard(card) {
      if (!card) return;
      this.#scrollTo(card);
      card.classList.add("is-target");
      card.focus({ preventScroll: true });
      card.addEventListener("blur", () => card.classList.remove("is-target"), { once: true });
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

  if (!customElements.get(TAG)) customElements.define(TAG, DatelineChat);

  /* ------------------------------------------------------ floating + global */

  let floating = null;
  const flag = (v) => v != null && v !== "false";

  function mountLauncher() {
    if (floating || !document.body) return;
    const el = document.createElement(TAG);
    el.setAttribute("mode", "launcher");
    el.setAttribute("api", scriptData.api || scriptOrigin);
    for (const name of ["title", "placeholder", "theme", "position"]) {
      if (scriptData[name]) el.setAttribute(name, scriptData[name]);
    }
    if (flag(scriptData.open)) el.setAttribute("open", "");
    document.body.append(el);
    floating = el;
  }

  if (scriptData.launcher !== "false") {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", mountLauncher, { once: true });
    } else {
      mountLauncher();
    }
  }

  const target = () =>
    (floating && floating.isConnected && floating) || document.querySelector(TAG);

  window.Dateline = Object.freeze({
    version: "0.1.0",
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
})();
