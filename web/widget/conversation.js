/** The conversation in this tab: its turns, kept in sessionStorage per API, and the history sent
 * back with each question so that follow-ups ("what else did he say?") are understood. */

import { MAX_QUESTION, clip, normalizeAnswer } from "./api.js";

const MAX_HISTORY = 20; // turns sent with each question
const MAX_ANSWER_IN_HISTORY = 20000; // the API's limit per history answer
const MAX_SEGMENTS_IN_HISTORY = 10; // ... and on the segments sent back with it
const MAX_STORED = 50; // turns kept in sessionStorage
// The API refuses a body over its limit (DATELINE_MAX_BODY_BYTES, 64 KiB by default) with 413,
// and the question with it, so the history sent along is trimmed, oldest turns first, to stay
// well below the default.
const HISTORY_BYTES = 48 * 1024;
const utf8 = new TextEncoder();

/** The turns ({question, answer, verdict}, oldest first); storage may be disabled or full, so
 * nothing here throws. */
export class Conversation {
  #key;

  constructor(base) {
    this.#key = "dateline-chat:" + base;
    this.turns = this.#load();
  }

  /** A new answered turn; the stored turns are read first, as another widget on this page may
   * share the conversation. */
  add(question, answer) {
    const stored = this.#load();
    const entry = { question, answer, verdict: null };
    this.turns = [...(stored.length > this.turns.length ? stored : this.turns), entry];
    this.save();
    return entry;
  }

  save() {
    try {
      sessionStorage.setItem(this.#key, JSON.stringify({ v: 1, turns: this.turns.slice(-MAX_STORED) }));
    } catch {
      /* private mode or quota: the conversation just won't survive a reload */
    }
  }

  clear() {
    this.turns = [];
    try {
      sessionStorage.removeItem(this.#key);
    } catch {
      /* nothing to clear */
    }
  }

  /** The latest turns, oldest first, within the API's count limit and our byte budget. */
  history() {
    const turns = [];
    let bytes = 0;
    for (const t of this.turns.slice(-MAX_HISTORY).reverse()) {
      const turn = {
        question: clip(t.question, MAX_QUESTION),
        answer: clip(t.answer.answer, MAX_ANSWER_IN_HISTORY),
        // What it quoted, so a follow-up quotes something new.
        segments: t.answer.segments
          .slice(0, MAX_SEGMENTS_IN_HISTORY)
          .map((s) => ({ text: clip(s.text, MAX_ANSWER_IN_HISTORY), citation: s.citation })),
      };
      bytes += utf8.encode(JSON.stringify(turn)).length;
      if (bytes > HISTORY_BYTES) break;
      turns.unshift(turn);
    }
    return turns;
  }

  #load() {
    try {
      const data = JSON.parse(sessionStorage.getItem(this.#key) || "null");
      if (!data || !Array.isArray(data.turns)) return [];
      return data.turns
        .filter((t) => t && typeof t.question === "string")
        .map((t) => ({
          question: t.question,
          answer: normalizeAnswer(t.answer),
          verdict: t.verdict === "up" || t.verdict === "down" ? t.verdict : null,
        }))
        .filter((t) => t.answer);
    } catch {
      return [];
    }
  }
}
