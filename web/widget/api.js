/** The API client: requests to the archive, and its answers reduced to what the widget reads. */

export const MAX_QUESTION = 1000; // the API rejects longer questions
const MAX_SUGGESTIONS = 4;
const TIMEOUT_MS = 30000;
// Cross-origin, without cookies: the API needs none.
const CORS = { mode: "cors", credentials: "omit" };
const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

/** The API base as an absolute http(s) URL without a trailing slash, or null. */
export function apiBase(raw) {
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

/** Where a citation leads: the publisher's story if the archive knows it, else our article page. */
export const storyLink = (c, base) => safeLink(c.source_url, base) || safeLink(c.url, base);

/** At most max code points (the API counts like Python; never split a surrogate pair). */
export function clip(text, max) {
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
export function normalizeAnswer(json) {
  if (!json || typeof json !== "object" || typeof json.answer !== "string") return null;
  const citations = (Array.isArray(json.citations) ? json.citations : [])
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
      source_url: str(c.source_url),
    }));
  // The answer is its segments, each quote with its citation; a server older than segments
  // sends each citation's quote, which is the same thing.
  const segments = Array.isArray(json.segments)
    ? json.segments
        .filter((s) => s && typeof s.text === "string" && Number.isInteger(s.citation))
        .map((s) => ({ text: s.text, citation: s.citation }))
    : citations.map((c) => ({ text: c.quote, citation: c.n }));
  for (const c of citations) {
    const own = segments.filter((s) => s.citation === c.n).map((s) => s.text);
    if (own.length) c.quote = own.join(" ");
  }
  return {
    question: str(json.question) || "",
    answer: json.answer,
    abstained: json.abstained === true,
    took_ms: typeof json.took_ms === "number" ? json.took_ms : null,
    citations,
    segments,
  };
}

/** The starter questions in a "First?|Second?" attribute. */
export function parseSuggestions(raw) {
  return raw
    .split("|")
    .map((s) => clip(s.trim(), MAX_QUESTION))
    .filter(Boolean)
    .slice(0, MAX_SUGGESTIONS);
}

/** A request that failed: why, as a key of the strings map with its parameters, and the API's
 * own reason when it gave one (shown as it wrote it). */
export class ChatError extends Error {
  constructor(reason, { status = null, detail = null, params = {} } = {}) {
    super(detail || reason);
    this.reason = reason;
    this.status = status;
    this.detail = detail;
    this.params = params;
  }
}

/** Runs a request that is abandoned after TIMEOUT_MS, reading its body included. */
async function withTimeout(request) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    return await request(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /api/suggestions; any failure means no suggestions, never an error on the page. */
export async function fetchSuggestions(base) {
  try {
    return await withTimeout(async (signal) => {
      const response = await fetch(base + "/api/suggestions", {
        ...CORS,
        headers: { Accept: "application/json" },
        signal,
      });
      const body = response.ok ? await response.json() : null;
      const list = body && Array.isArray(body.suggestions) ? body.suggestions : [];
      return parseSuggestions(list.filter((s) => typeof s === "string").join("|"));
    });
  } catch {
    return [];
  }
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

/** The error for a request that never got a response. */
const unreachable = (err) => new ChatError(err && err.name === "AbortError" ? "timeout" : "offline");

/**
 * POST /api/chat with {question, top_k, filters, history}, as of the reader's today.
 * Resolves with {answer (normalized), json (as the server sent it)}; rejects with a ChatError.
 */
export function askArchive(base, request) {
  return withTimeout(async (signal) => {
    let response;
    try {
      response = await fetch(base + "/api/chat", {
        ...CORS,
        method: "POST",
        cache: "no-store",
        headers: JSON_HEADERS,
        body: JSON.stringify({ ...request, as_of: localToday() }),
        signal,
      });
    } catch (err) {
      throw unreachable(err);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      if (err && err.name === "AbortError") throw unreachable(err);
      /* not JSON: handled below by status */
    }
    const status = response.status;
    if (response.ok) {
      const answer = normalizeAnswer(body);
      if (!answer) throw new ChatError("unreadable", { status });
      return { answer, json: body };
    }
    if (status === 429) {
      // Readable cross-origin only if the API lists it in Access-Control-Expose-Headers.
      const s = retryAfterSeconds(response.headers.get("Retry-After"));
      throw new ChatError(s != null ? "busyFor" : "busy", { status, params: { s } });
    }
    const reason = status >= 500 ? "serverError" : "refused";
    throw new ChatError(reason, { status, detail: detailOf(body), params: { status } });
  });
}

/** POST /api/feedback: the reader's verdict on an answer and the passages it cited. */
export function sendFeedback(base, question, answer, verdict) {
  return withTimeout(async (signal) => {
    const response = await fetch(base + "/api/feedback", {
      ...CORS,
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({
        question,
        passages: answer.citations
          .filter((c) => c.paragraph != null)
          .map((c) => ({ article_id: c.article_id, paragraph: c.paragraph })),
        verdict,
      }),
      signal,
    });
    if (!response.ok) throw new ChatError("feedbackFailed", { status: response.status });
  });
}
