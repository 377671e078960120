/** An answer as the reader sees it: its sources, one card per article with each of its quotes,
 * then copy and feedback. Every server string goes into the DOM as text. */

import { storyLink } from "./api.js";
import { h, icon } from "./dom.js";

const NOTE_MS = 4000; // how long "Copied" stays
let passages = 0; // numbers the passages' ids, unique on the page

/**
 * The answer of one turn ({question, answer, verdict}), as seen through `view`: {t, lang, api,
 * vote(entry, verdict)}, where vote resolves once the verdict is recorded, or rejects.
 */
export function renderAnswer(entry, view) {
  const { answer } = entry;
  const { t } = view;
  if (answer.abstained) {
    return h(
      "div",
      { class: "answer abstained", part: "answer", tabindex: "-1", "data-abstained": "true" },
      h("p", { class: "abstain-label" }, icon("info", 14), t("notFound")),
      h("p", { class: "answer-text", dir: "auto" }, answer.answer),
      renderActions(entry, view),
    );
  }
  const sources = h("ol", { class: "sources", "aria-label": t("sources") });
  for (const group of byArticle(answer.citations)) {
    sources.append(renderCard(group, view));
  }
  return h("div", { class: "answer", part: "answer", tabindex: "-1" }, sources, renderActions(entry, view));
}

/** One article: its headline (a link to the story) once, then each cited passage. */
function renderCard(group, { t, lang, api }) {
  const [first] = group;
  const meta = [formatDate(first.date, lang), first.dateline, first.agency].filter(Boolean).join(" · ");
  const href = storyLink(first, api);
  const title = first.title || first.article_id;
  // One speaker for every quote is said once, under the headline.
  const speaker = group.every((c) => c.speaker === first.speaker) ? first.speaker : null;
  const list = h("ol", { class: "quotes" });
  for (const c of group) {
    list.append(renderQuote(c, !speaker, t));
  }
  return h(
    "li",
    { class: "card", part: "card", "data-article-id": first.article_id },
    h(
      "div",
      null,
      h(
        "h3",
        { class: "card-title", dir: "auto" },
        href
          ? h(
              "a",
              { class: "open", href, target: "_blank", rel: "noopener" },
              // The icon stays on the line of the last word, never alone on a line of its own.
              title.replace(/\S+$/, ""),
              h("span", { class: "nowrap" }, title.match(/\S*$/)[0], icon("external", 12, "flip")),
              h("span", { class: "sr-only" }, " " + t("newTab")),
            )
          : title,
      ),
      meta ? h("p", { class: "card-meta" }, meta) : null,
      speaker ? h("p", { class: "card-meta" }, renderSpeaker(speaker, t)) : null,
    ),
    list,
  );
}

function renderSpeaker(name, t) {
  return h(
    "span",
    { class: "speaker" },
    h("span", { class: "speaker-label" }, t("speaker") + " "),
    h("bdi", null, name),
  );
}

/** A cited passage, collapsed to its quote; the whole paragraph on demand. */
function renderQuote(c, withSpeaker, t) {
  const partial = c.quote.trim() !== "" && c.quote.trim() !== c.text.trim();
  const passage = h(
    "blockquote",
    { class: "passage", id: `dl-q${++passages}`, dir: "auto" },
    partial || !c.text ? c.quote : c.text,
  );
  const foot = h("p", { class: "quote-foot" });
  if (withSpeaker && c.speaker) foot.append(renderSpeaker(c.speaker, t));
  if (partial) {
    const toggle = h(
      "button",
      { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": passage.id },
      t("showParagraph"),
    );
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = t(open ? "showQuote" : "showParagraph");
      passage.replaceChildren(open ? highlightedPassage(c.text, c.quote, c.highlights) : c.quote);
    });
    foot.append(toggle);
  }
  return h(
    "li",
    { class: "quote", part: "quote", tabindex: "-1", "data-n": c.n, "data-article-id": c.article_id },
    h("span", { class: "chip", "aria-hidden": "true" }, String(c.n)),
    h("span", { class: "sr-only" }, t("source", { n: c.n })),
    passage,
    foot.childNodes.length ? foot : null,
  );
}

/** Copy (answers with sources) and thumbs up/down, with a quiet note of how it went. */
function renderActions(entry, { t, api, vote }) {
  const note = h("span", { class: "note", role: "status" });
  let noteTimer = 0;
  const say = (text, error = false) => {
    clearTimeout(noteTimer);
    note.textContent = text;
    note.classList.toggle("is-error", error);
  };
  const actions = h("div", { class: "actions" });
  if (!entry.answer.abstained) {
    actions.append(
      h(
        "button",
        {
          type: "button",
          class: "action copy",
          title: t("copyLabel"),
          "aria-label": t("copyLabel"),
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(plainAnswer(entry.answer, api));
              say(t("copied"));
              noteTimer = setTimeout(() => say(""), NOTE_MS);
            } catch {
              say(t("copyFailed"), true);
            }
          },
        },
        icon("copy", 15),
        h("span", { "aria-hidden": "true" }, t("copy")),
      ),
    );
  }
  // The verdict goes to the API once; a failure leaves the buttons to try again.
  const judge = async (verdict) => {
    for (const b of votes) b.disabled = true;
    say("");
    try {
      await vote(entry, verdict);
      for (const b of votes) b.setAttribute("aria-pressed", String(b.dataset.verdict === verdict));
      say(t("thanks"));
    } catch {
      for (const b of votes) b.disabled = false;
      say(t("feedbackFailed"), true);
    }
  };
  const votes = ["up", "down"].map((verdict) =>
    h(
      "button",
      {
        type: "button",
        class: "action vote",
        "data-verdict": verdict,
        title: t(verdict),
        "aria-label": t(verdict),
        "aria-pressed": String(entry.verdict === verdict),
        disabled: entry.verdict != null,
        onclick: () => judge(verdict),
      },
      icon(verdict, 15),
    ),
  );
  actions.append(...votes, note);
  if (entry.verdict) say(t("thanks"));
  return actions;
}

/** The quotes of an answer as plain text, each followed by where it comes from. */
function plainAnswer(answer, base) {
  return answer.citations
    .map((c) => {
      const source = [c.title || c.article_id, c.date, storyLink(c, base)].filter(Boolean);
      return `${c.quote || c.text}\n— ${source.join(", ")}`;
    })
    .join("\n\n");
}

/** Citations grouped by article, in order of first citation. */
function byArticle(citations) {
  const groups = new Map();
  for (const c of citations) {
    if (!groups.has(c.article_id)) groups.set(c.article_id, []);
    groups.get(c.article_id).push(c);
  }
  return [...groups.values()];
}

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

function formatDate(iso, lang) {
  if (!iso || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" }).format(
      new Date(iso + "T00:00:00Z"),
    );
  } catch {
    return iso;
  }
}
