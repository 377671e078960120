/*!
 * Dateline chat widget: ask the news archive, get back quoted passages with their sources.
 *
 * One file, no build step, no dependencies. Embed with
 *   <script src="https://HOST/widget.js" defer></script>
 * Options (data- attributes on that tag): data-api, data-title, data-placeholder,
 * data-theme (light|dark|auto), data-position (bottom-right|bottom-left), data-open,
 * data-launcher="false" (no floating launcher, e.g. when the page only uses <dateline-chat>),
 * data-lang (default: the page's <html lang>), data-suggestions ("First?|Second?"; "" for none;
 * default: GET /api/suggestions), data-top-k (1..10), data-speaker, data-date-from, data-date-to.
 * Inline: <dateline-chat api="https://HOST" title="…"></dateline-chat> (the same options without data-).
 * JS: Dateline.open(), Dateline.close(), Dateline.ask(text) -> Promise of the answer JSON.
 * Events on the element (bubbling, composed): dateline:open, dateline:close,
 * dateline:answer (detail: the answer JSON), dateline:error (detail: {message, status, question}).
 * Parts: launcher, panel, question, answer, card, quote, suggestion, input.
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
  const MAX_QUESTION = 1000; // the API rejects longer questions
  const COUNTER_FROM = 900; // the length counter shows from here on
  const MAX_SUGGESTIONS = 4;
  const DEFAULT_TOP_K = 3;
  const MAX_HISTORY = 20; // turns sent with each question
  const MAX_ANSWER_IN_HISTORY = 20000; // the API's limit per history answer
  const MAX_SEGMENTS_IN_HISTORY = 10; // ... and on the segments sent back with it
  const MAX_STORED = 50; // turns kept in sessionStorage
  // The API refuses bodies over 64 KiB (and that refusal carries no CORS headers), so the
  // history sent along is trimmed, oldest turns first, to stay well below it.
  const HISTORY_BYTES = 48 * 1024;
  const TIMEOUT_MS = 30000;
  const NOTE_MS = 4000; // how long "Copied" stays
  // Under this width the floating panel covers the screen and is modal; the CSS uses it too.
  const NARROW = "(max-width: 479.98px)";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const FOCUSABLE = 'a[href], button:not([disabled]), textarea, [tabindex="0"]';

  const reducedMotion = () =>
    typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;

  /* ---------------------------------------------------------------- strings */

  // Every word the widget shows. {name} is filled in; a key a language lacks falls back to English.
  const STRINGS = {
    en: {
      title: "Ask the archive",
      subtitle: "Answers quoted from archived articles",
      placeholder: "Ask about the news…",
      emptyTitle: "Ask the news archive",
      emptyBody: "Every answer is made of sentences quoted from archived articles, each with its source.",
      suggestions: "Try asking",
      question: "Your question",
      send: "Send question",
      reset: "Start a new conversation",
      resetTip: "New conversation",
      close: "Close {title}",
      conversation: "Conversation",
      foot: "Answers quote archived articles word for word.",
      searching: "Searching the archive…",
      notFound: "Not found in the archive",
      sources: "Sources",
      source: "Source {n}",
      speaker: "Speaker:",
      showParagraph: "Show paragraph",
      showQuote: "Show quote only",
      newTab: "(opens in a new tab)",
      copy: "Copy",
      copyLabel: "Copy the answer with its sources",
      copied: "Copied",
      copyFailed: "Couldn't copy",
      up: "Helpful",
      down: "Not helpful",
      thanks: "Thanks",
      feedbackFailed: "Couldn't send your feedback. Try again.",
      retry: "Retry",
      count: "{n} / {max}",
      countLabel: "{n} of {max} characters",
      cut: "Questions can be {max} characters long; the rest was left out.",
      timeout: "The archive took too long to answer. Try again.",
      offline: "Couldn't reach the archive. Check your connection and try again.",
      unreadable: "The archive sent a reply this page can't read.",
      busyFor: "Too many questions; try again in {s} s.",
      busy: "Too many questions; try again in a moment.",
      serverError: "The archive ran into a problem (HTTP {status}).",
      refused: "The question couldn't be answered (HTTP {status}).",
      failed: "Something went wrong. Try again.",
      empty: "The question is empty.",
    },
    de: {
      title: "Das Archiv fragen",
      subtitle: "Antworten als Zitate aus archivierten Artikeln",
      placeholder: "Fragen Sie nach den Nachrichten …",
      emptyTitle: "Fragen Sie das Nachrichtenarchiv",
      emptyBody: "Jede Antwort besteht aus Sätzen, die wörtlich aus archivierten Artikeln zitiert sind – jeder mit seiner Quelle.",
      suggestions: "Fragen Sie zum Beispiel",
      question: "Ihre Frage",
      send: "Frage senden",
      reset: "Neues Gespräch beginnen",
      resetTip: "Neues Gespräch",
      close: "{title} schließen",
      conversation: "Gespräch",
      foot: "Die Antworten zitieren archivierte Artikel wörtlich.",
      searching: "Das Archiv wird durchsucht …",
      notFound: "Nicht im Archiv gefunden",
      sources: "Quellen",
      source: "Quelle {n}",
      speaker: "Sprecher:",
      showParagraph: "Absatz zeigen",
      showQuote: "Nur das Zitat zeigen",
      newTab: "(öffnet in einem neuen Tab)",
      copy: "Kopieren",
      copyLabel: "Antwort mit Quellen kopieren",
      copied: "Kopiert",
      copyFailed: "Kopieren nicht möglich",
      up: "Hilfreich",
      down: "Nicht hilfreich",
      thanks: "Danke",
      feedbackFailed: "Ihre Rückmeldung konnte nicht gesendet werden. Versuchen Sie es erneut.",
      retry: "Erneut versuchen",
      count: "{n} / {max}",
      countLabel: "{n} von {max} Zeichen",
      cut: "Fragen dürfen {max} Zeichen lang sein; der Rest wurde weggelassen.",
      timeout: "Das Archiv hat zu lange gebraucht. Versuchen Sie es erneut.",
      offline: "Das Archiv ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
      unreadable: "Das Archiv hat eine Antwort geschickt, die diese Seite nicht lesen kann.",
      busyFor: "Zu viele Fragen; versuchen Sie es in {s} s erneut.",
      busy: "Zu viele Fragen; versuchen Sie es gleich noch einmal.",
      serverError: "Beim Archiv ist ein Fehler aufgetreten (HTTP {status}).",
      refused: "Die Frage konnte nicht beantwortet werden (HTTP {status}).",
      failed: "Etwas ist schiefgegangen. Versuchen Sie es erneut.",
      empty: "Die Frage ist leer.",
    },
    fr: {
      title: "Interroger les archives",
      subtitle: "Réponses citées d’articles archivés",
      placeholder: "Posez une question sur l’actualité…",
      emptyTitle: "Interrogez les archives de presse",
      emptyBody: "Chaque réponse est faite de phrases citées mot pour mot d’articles archivés, chacune avec sa source.",
      suggestions: "Essayez par exemple",
      question: "Votre question",
      send: "Envoyer la question",
      reset: "Commencer une nouvelle conversation",
      resetTip: "Nouvelle conversation",
      close: "Fermer {title}",
      conversation: "Conversation",
      foot: "Les réponses citent les articles archivés mot pour mot.",
      searching: "Recherche dans les archives…",
      notFound: "Introuvable dans les archives",
      sources: "Sources",
      source: "Source {n}",
      speaker: "Propos de\u00a0:",
      showParagraph: "Afficher le paragraphe",
      showQuote: "Afficher la citation seule",
      newTab: "(s’ouvre dans un nouvel onglet)",
      copy: "Copier",
      copyLabel: "Copier la réponse et ses sources",
      copied: "Copié",
      copyFailed: "Copie impossible",
      up: "Utile",
      down: "Pas utile",
      thanks: "Merci",
      feedbackFailed: "Votre avis n’a pas pu être envoyé. Réessayez.",
      retry: "Réessayer",
      count: "{n} / {max}",
      countLabel: "{n} caractères sur {max}",
      cut: "Une question compte au plus {max} caractères\u00a0; la suite a été coupée.",
      timeout: "Les archives ont mis trop de temps à répondre. Réessayez.",
      offline: "Impossible de joindre les archives. Vérifiez votre connexion et réessayez.",
      unreadable: "Les archives ont envoyé une réponse que cette page ne sait pas lire.",
      busyFor: "Trop de questions\u00a0; réessayez dans {s}\u00a0s.",
      busy: "Trop de questions\u00a0; réessayez dans un instant.",
      serverError: "Les archives ont rencontré un problème (HTTP {status}).",
      refused: "Cette question n’a pas pu recevoir de réponse (HTTP {status}).",
      failed: "Une erreur s’est produite. Réessayez.",
      empty: "La question est vide.",
    },
    es: {
      title: "Pregunta al archivo",
      subtitle: "Respuestas citadas de artículos archivados",
      placeholder: "Pregunta sobre las noticias…",
      emptyTitle: "Pregunta al archivo de noticias",
      emptyBody: "Cada respuesta se compone de frases citadas textualmente de artículos archivados, cada una con su fuente.",
      suggestions: "Prueba a preguntar",
      question: "Tu pregunta",
      send: "Enviar pregunta",
      reset: "Empezar una conversación nueva",
      resetTip: "Conversación nueva",
      close: "Cerrar {title}",
      conversation: "Conversación",
      foot: "Las respuestas citan artículos archivados palabra por palabra.",
      searching: "Buscando en el archivo…",
      notFound: "No se encontró en el archivo",
      sources: "Fuentes",
      source: "Fuente {n}",
      speaker: "Habla:",
      showParagraph: "Ver el párrafo",
      showQuote: "Ver solo la cita",
      newTab: "(se abre en una pestaña nueva)",
      copy: "Copiar",
      copyLabel: "Copiar la respuesta con sus fuentes",
      copied: "Copiado",
      copyFailed: "No se pudo copiar",
      up: "Útil",
      down: "No es útil",
      thanks: "Gracias",
      feedbackFailed: "No se pudo enviar tu opinión. Inténtalo de nuevo.",
      retry: "Reintentar",
      count: "{n} / {max}",
      countLabel: "{n} de {max} caracteres",
      cut: "Las preguntas pueden tener hasta {max} caracteres; se omitió el resto.",
      timeout: "El archivo tardó demasiado en responder. Inténtalo de nuevo.",
      offline: "No se pudo conectar con el archivo. Comprueba tu conexión e inténtalo de nuevo.",
      unreadable: "El archivo envió una respuesta que esta página no puede leer.",
      busyFor: "Demasiadas preguntas; inténtalo de nuevo en {s} s.",
      busy: "Demasiadas preguntas; inténtalo de nuevo en un momento.",
      serverError: "El archivo tuvo un problema (HTTP {status}).",
      refused: "No se pudo responder a la pregunta (HTTP {status}).",
      failed: "Algo salió mal. Inténtalo de nuevo.",
      empty: "La pregunta está vacía.",
    },
    ru: {
      title: "Спросить архив",
      subtitle: "Ответы — цитаты из архивных статей",
      placeholder: "Спросите о новостях…",
      emptyTitle: "Спросите архив новостей",
      emptyBody: "Каждый ответ состоит из дословных цитат из архивных статей, и у каждой указан источник.",
      suggestions: "Попробуйте спросить",
      question: "Ваш вопрос",
      send: "Отправить вопрос",
      reset: "Начать новый разговор",
      resetTip: "Новый разговор",
      close: "Закрыть «{title}»",
      conversation: "Разговор",
      foot: "Ответы дословно цитируют архивные статьи.",
      searching: "Поиск в архиве…",
      notFound: "В архиве не найдено",
      sources: "Источники",
      source: "Источник {n}",
      speaker: "Говорит:",
      showParagraph: "Показать абзац",
      showQuote: "Только цитата",
      newTab: "(откроется в новой вкладке)",
      copy: "Копировать",
      copyLabel: "Скопировать ответ с источниками",
      copied: "Скопировано",
      copyFailed: "Не удалось скопировать",
      up: "Полезно",
      down: "Не помогло",
      thanks: "Спасибо",
      feedbackFailed: "Не удалось отправить отзыв. Попробуйте ещё раз.",
      retry: "Повторить",
      count: "{n} / {max}",
      countLabel: "{n} из {max} символов",
      cut: "В вопросе может быть не больше {max} символов; остальное отброшено.",
      timeout: "Архив слишком долго не отвечал. Попробуйте ещё раз.",
      offline: "Не удалось связаться с архивом. Проверьте подключение и попробуйте ещё раз.",
      unreadable: "Архив прислал ответ, который эта страница не может прочитать.",
      busyFor: "Слишком много вопросов; попробуйте через {s} с.",
      busy: "Слишком много вопросов; попробуйте чуть позже.",
      serverError: "В архиве произошла ошибка (HTTP {status}).",
      refused: "На вопрос не удалось ответить (HTTP {status}).",
      failed: "Что-то пошло не так. Попробуйте ещё раз.",
      empty: "Вопрос пуст.",
    },
    ar: {
      title: "اسأل الأرشيف",
      subtitle: "إجابات مقتبسة من مقالات مؤرشفة",
      placeholder: "اسأل عن الأخبار…",
      emptyTitle: "اسأل أرشيف الأخبار",
      emptyBody: "كل إجابة مؤلفة من جمل مقتبسة حرفيًا من مقالات مؤرشفة، ولكلٍّ منها مصدرها.",
      suggestions: "جرّب أن تسأل",
      question: "سؤالك",
      send: "أرسل السؤال",
      reset: "ابدأ محادثة جديدة",
      resetTip: "محادثة جديدة",
      close: "إغلاق {title}",
      conversation: "المحادثة",
      foot: "تقتبس الإجابات المقالات المؤرشفة حرفيًا.",
      searching: "جارٍ البحث في الأرشيف…",
      notFound: "لم يُعثر عليه في الأرشيف",
      sources: "المصادر",
      source: "المصدر {n}",
      speaker: "المتحدث:",
      showParagraph: "اعرض الفقرة",
      showQuote: "اعرض الاقتباس فقط",
      newTab: "(يُفتح في علامة تبويب جديدة)",
      copy: "نسخ",
      copyLabel: "انسخ الإجابة مع مصادرها",
      copied: "تم النسخ",
      copyFailed: "تعذّر النسخ",
      up: "مفيد",
      down: "غير مفيد",
      thanks: "شكرًا",
      feedbackFailed: "تعذّر إرسال رأيك. حاول مرة أخرى.",
      retry: "أعد المحاولة",
      count: "{n} / {max}",
      countLabel: "{n} من {max} حرف",
      cut: "يمكن أن يبلغ السؤال {max} حرف؛ وحُذف الباقي.",
      timeout: "استغرق الأرشيف وقتًا طويلًا في الرد. حاول مرة أخرى.",
      offline: "تعذّر الوصول إلى الأرشيف. تحقّق من اتصالك وحاول مرة أخرى.",
      unreadable: "أرسل الأرشيف ردًّا لا تستطيع هذه الصفحة قراءته.",
      busyFor: "أسئلة كثيرة جدًا؛ حاول مرة أخرى بعد {s} ث.",
      busy: "أسئلة كثيرة جدًا؛ حاول مرة أخرى بعد قليل.",
      serverError: "واجه الأرشيف مشكلة (HTTP {status}).",
      refused: "تعذّرت الإجابة عن السؤال (HTTP {status}).",
      failed: "حدث خطأ ما. حاول مرة أخرى.",
      empty: "السؤال فارغ.",
    },
    he: {
      title: "שאלו את הארכיון",
      subtitle: "תשובות מצוטטות מכתבות בארכיון",
      placeholder: "שאלו על החדשות…",
      emptyTitle: "שאלו את ארכיון החדשות",
      emptyBody: "כל תשובה בנויה ממשפטים שמצוטטים מילה במילה מכתבות בארכיון, וכל משפט עם המקור שלו.",
      suggestions: "נסו לשאול",
      question: "השאלה שלכם",
      send: "שליחת השאלה",
      reset: "התחלת שיחה חדשה",
      resetTip: "שיחה חדשה",
      close: "סגירת {title}",
      conversation: "שיחה",
      foot: "התשובות מצטטות כתבות מהארכיון מילה במילה.",
      searching: "מחפשים בארכיון…",
      notFound: "לא נמצא בארכיון",
      sources: "מקורות",
      source: "מקור {n}",
      speaker: "דובר:",
      showParagraph: "הצגת הפסקה",
      showQuote: "הצגת הציטוט בלבד",
      newTab: "(נפתח בכרטיסייה חדשה)",
      copy: "העתקה",
      copyLabel: "העתקת התשובה עם המקורות",
      copied: "הועתק",
      copyFailed: "ההעתקה נכשלה",
      up: "מועיל",
      down: "לא מועיל",
      thanks: "תודה",
      feedbackFailed: "לא הצלחנו לשלוח את המשוב. נסו שוב.",
      retry: "ניסיון נוסף",
      count: "{n} / {max}",
      countLabel: "{n} מתוך {max} תווים",
      cut: "שאלה יכולה להכיל עד {max} תווים; השאר הושמט.",
      timeout: "הארכיון לא ענה בזמן. נסו שוב.",
      offline: "אין חיבור לארכיון. בדקו את החיבור ונסו שוב.",
      unreadable: "הארכיון שלח תשובה שהדף הזה לא יכול לקרוא.",
      busyFor: "יותר מדי שאלות; נסו שוב בעוד {s} שניות.",
      busy: "יותר מדי שאלות; נסו שוב בעוד רגע.",
      serverError: "אירעה תקלה בארכיון (HTTP {status}).",
      refused: "לא ניתן היה לענות על השאלה (HTTP {status}).",
      failed: "משהו השתבש. נסו שוב.",
      empty: "השאלה ריקה.",
    },
  };
  const RTL = new Set(["ar", "he"]);

  /** The built-in language for a BCP 47 tag ("de-AT" -> "de"), English for any other. */
  function languageFor(tag) {
    const primary = String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
    return Object.hasOwn(STRINGS, primary) ? primary : "en";
  }

  /** t(key, {name: value}) in one language. */
  function translator(lang) {
    const own = STRINGS[lang];
    return (key, params = {}) =>
      (own[key] ?? STRINGS.en[key]).replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
  }

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
  text-align: start;
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

p, h2, h3, ol, ul, li, blockquote { margin: 0; padding: 0; }
ol, ul { list-style: none; }
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
.flip:dir(rtl) { transform: scaleX(-1); }
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
  padding-block: 0;
  padding-inline: 16px 20px;
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
  padding-block: 14px;
  padding-inline: 18px 12px;
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
.suggestions { margin-top: 18px; display: flex; flex-direction: column; gap: 8px; }
.suggestions-label {
  font-size: 11.5px;
  font-weight: 700;
  letter-spacing: 0.04em;
  text-transform: uppercase;
}
.suggestions ul { display: flex; flex-direction: column; align-items: center; gap: 8px; }
.suggestion {
  display: inline-block;
  max-width: 100%;
  padding: 8px 14px;
  border: 1px solid var(--border);
  border-radius: 18px;
  background: var(--bg);
  color: var(--text);
  font-size: 13.5px;
  line-height: 1.4;
  text-align: start;
  overflow-wrap: anywhere;
}
.suggestion:hover { border-color: var(--accent); color: var(--accent); }

.turn { display: flex; flex-direction: column; gap: 12px; }
.question {
  align-self: flex-end;
  max-width: 85%;
  padding: 9px 14px;
  border-radius: 16px;
  border-end-end-radius: 4px;
  background: var(--accent);
  color: var(--accent-text);
  font-size: 14px;
  line-height: 1.45;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.answer { display: flex; flex-direction: column; gap: 10px; border-radius: 12px; scroll-margin: 12px; }
.answer:focus-visible { outline-width: 1px; outline-offset: 6px; }
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

/* ---- sources: one card per article, its quotes inside */
.sources { display: flex; flex-direction: column; gap: 10px; }
.card {
  display: flex;
  flex-direction: column;
  gap: 10px;
  padding: 12px 14px;
  border: 1px solid var(--border);
  border-radius: 12px;
  background: var(--surface);
}
.card-title {
  font-size: 13px;
  font-weight: 650;
  line-height: 1.35;
  color: var(--text);
  overflow-wrap: anywhere;
}
.card-title a { color: inherit; border-radius: 3px; }
.card-title a:hover { color: var(--accent); }
.nowrap { white-space: nowrap; }
.card-title svg { display: inline-block; vertical-align: -1px; margin-inline-start: 4px; color: var(--muted); }
.card-meta { margin-top: 2px; font-size: 12px; line-height: 1.4; color: var(--muted); overflow-wrap: anywhere; }
.quotes { display: flex; flex-direction: column; gap: 12px; }
.quote {
  display: grid;
  grid-template-columns: auto minmax(0, 1fr);
  gap: 4px 10px;
  border-radius: 8px;
  transition: box-shadow 0.2s ease;
  scroll-margin: 12px;
}
.chip {
  grid-row: span 2;
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-width: 20px;
  height: 20px;
  margin-top: 2px;
  padding: 0 6px;
  border-radius: 10px;
  background: var(--accent-soft);
  color: var(--accent);
  font-size: 11px;
  font-weight: 700;
  line-height: 1;
}
.passage {
  margin: 0;
  font-size: 14px;
  line-height: 1.55;
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
.quote-foot {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 2px 12px;
  font-size: 12px;
  line-height: 1.4;
  color: var(--muted);
}
.speaker { color: var(--text); font-weight: 600; overflow-wrap: anywhere; }
.speaker-label { color: var(--muted); font-weight: 400; }
.toggle { color: var(--accent); font-weight: 600; border-radius: 4px; }
.toggle:hover { text-decoration: underline; }

/* ---- copy and feedback */
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; color: var(--muted); font-size: 12.5px; }
.action {
  display: inline-flex;
  align-items: center;
  gap: 6px;
  height: 30px;
  padding: 0 8px;
  border-radius: 8px;
  color: var(--muted);
}
.action:hover { background: var(--surface); color: var(--text); }
.action[aria-pressed="true"] { color: var(--accent); opacity: 1; }
.note { margin-inline-start: 6px; }
.note.is-error { color: var(--danger); }

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
.counter { padding: 0 16px 4px; font-size: 12px; line-height: 1.4; color: var(--muted); text-align: end; }
.counter.at-limit { color: var(--danger); font-weight: 600; }
.foot { padding: 0 16px 10px; font-size: 11.5px; line-height: 1.4; color: var(--muted); text-align: center; }

@media ${NARROW} {
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
    chevron: ["M6 9l6 6 6-6"],
    close: ["M18 6 6 18", "M6 6l12 12"],
    send: ["M12 19V5", "M5 12l7-7 7 7"],
    reset: ["M3 12a9 9 0 1 0 3-6.7", "M3 4v5h5"],
    external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"],
    info: ["M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0z", "M12 16v-4", "M12 8h.01"],
    alert: ["M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0z", "M12 8v4", "M12 16h.01"],
    copy: [
      "M11 9h9a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z",
      "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1",
    ],
    up: [
      "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3z",
      "M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3",
    ],
    down: [
      "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3z",
      "M17 2h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17",
    ],
  };

  function icon(name, size = 18, className = null) {
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
    if (className) svg.setAttribute("class", className);
    for (const d of ICONS[name]) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.append(path);
    }
    return svg;
  }

  /** Stops the page behind a modal panel from scrolling; returns how to undo it. */
  function lockPageScroll() {
    // CSSOM writes, not style attributes: allowed under a CSP with style-src 'none'.
    const roots = [document.documentElement, document.body].filter(Boolean);
    const before = roots.map((el) => el.style.overflow);
    for (const el of roots) el.style.overflow = "hidden";
    return () => roots.forEach((el, i) => (el.style.overflow = before[i]));
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

  /** Where a citation leads: the publisher's story if the archive knows it, else our article page. */
  const storyLink = (c, base) => safeLink(c.source_url, base) || safeLink(c.url, base);

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

  /** The starter questions in a "First?|Second?" attribute. */
  function parseSuggestions(raw) {
    return raw
      .split("|")
      .map((s) => clip(s.trim(), MAX_QUESTION))
      .filter(Boolean)
      .slice(0, MAX_SUGGESTIONS);
  }

  /** GET /api/suggestions; any failure means no suggestions, never an error on the page. */
  async function fetchSuggestions(base) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(base + "/api/suggestions", {
        mode: "cors",
        credentials: "omit",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      const body = response.ok ? await response.json() : null;
      const list = body && Array.isArray(body.suggestions) ? body.suggestions : [];
      return parseSuggestions(list.filter((s) => typeof s === "string").join("|"));
    } catch {
      return [];
    } finally {
      clearTimeout(timer);
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

  class ChatError extends Error {
    constructor(message, status = null) {
      super(message);
      this.status = status;
    }
  }

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

  /* ---------------------------------------------------------------- element */

  class DatelineChat extends HTMLElement {
    static get observedAttributes() {
      return ["api", "title", "placeholder", "lang", "suggestions"];
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
    #lang = "en";
    #t = translator("en");
    #ids = 0;
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
      if (!question) return Promise.reject(new ChatError(this.#t("empty")));
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
      const dir = RTL.has(this.#lang) ? "rtl" : "ltr";
      const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
      shadow.adoptedStyleSheets = [sheet()];
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
      let api = apiBase(raw) || apiBase(scriptOrigin) || location.origin;
      if (raw && !apiBase(raw)) console.warn("dateline-chat: ignoring api=%o, not an http(s) URL", raw);
      if (api !== this.#api) {
        this.#api = api;
        this.#suggestions = null;
        this.#conversation = new Conversation(api);
        this.#turns = this.#conversation.load();
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
        if (!this.#turns.length) this.#suggest();
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

    /** The error for a request that never got a response. */
    #unreachable(err) {
      return new ChatError(this.#t(err && err.name === "AbortError" ? "timeout" : "offline"));
    }

    /** POST /api/chat: resolves with {answer (normalized), json (as the server sent it)}. */
    async #fetchAnswer(question) {
      const t = this.#t;
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
              ...this.#options(),
              history: this.#history(),
              as_of: localToday(),
            }),
            signal: controller.signal,
          });
        } catch (err) {
          throw this.#unreachable(err);
        }
        let body = null;
        try {
          body = await response.json();
        } catch (err) {
          if (err && err.name === "AbortError") throw this.#unreachable(err);
          /* not JSON: handled below by status */
        }
        const status = response.status;
        if (response.ok) {
          const answer = normalizeAnswer(body);
          if (!answer) throw new ChatError(t("unreadable"), status);
          return { answer, json: body };
        }
        const detail = detailOf(body);
        if (status === 429) {
          // Readable cross-origin only if the API lists it in Access-Control-Expose-Headers.
          const s = retryAfterSeconds(response.headers.get("Retry-After"));
          throw new ChatError(s != null ? t("busyFor", { s }) : t("busy"), status);
        }
        throw new ChatError(detail || t(status >= 500 ? "serverError" : "refused", { status }), status);
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
        h("span", null, this.#t("searching")),
      );
      turn.append(status);
      this.#scrollToEnd();
      try {
        const { answer, json } = await this.#fetchAnswer(question);
        status.remove();
        // Re-read first: another widget on this page may share the conversation.
        const stored = this.#conversation.load();
        const entry = { question, answer, verdict: null };
        this.#turns = [...(stored.length > this.#turns.length ? stored : this.#turns), entry];
        this.#conversation.save(this.#turns);
        const shown = this.#renderAnswer(entry);
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
        const failure = err instanceof ChatError ? err : new ChatError(this.#t("failed"));
        this.#renderError(turn, question, failure);
        this.#emit("error", { message: failure.message, status: failure.status, question });
        throw failure;
      } finally {
        this.#setBusy(false);
      }
    }

    #renderAll() {
      const ui = this.#ui;
      ui.log.replaceChildren();
      if (!this.#turns.length) {
        ui.log.append(ui.empty);
        if (!this.#floating || this.isOpen) this.#suggest();
        return;
      }
      for (const entry of this.#turns) {
        this.#renderQuestion(entry.question).append(this.#renderAnswer(entry));
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

    #renderQuestion(question) {
      this.#ui.empty.remove();
      for (const failed of this.#stale.splice(0)) failed();
      const asked = h("p", { class: "question", part: "question", dir: "auto" }, question);
      const turn = h("div", { class: "turn" }, asked);
      this.#ui.log.append(turn);
      return turn;
    }

    #renderAnswer(entry) {
      const { answer } = entry;
      const t = this.#t;
      if (answer.abstained) {
        return h(
          "div",
          { class: "answer abstained", part: "answer", tabindex: "-1", "data-abstained": "true" },
          h("p", { class: "abstain-label" }, icon("info", 14), t("notFound")),
          h("p", { class: "answer-text", dir: "auto" }, answer.answer),
          this.#renderActions(entry),
        );
      }
      const sources = h("ol", { class: "sources", "aria-label": t("sources") });
      for (const group of byArticle(answer.citations)) {
        sources.append(this.#renderCard(group));
      }
      return h(
        "div",
        { class: "answer", part: "answer", tabindex: "-1" },
        sources,
        this.#renderActions(entry),
      );
    }

    /** One article: its headline (a link to the story) once, then each cited passage. */
    #renderCard(group) {
      const [first] = group;
      const meta = [formatDate(first.date, this.#lang), first.dateline, first.agency].filter(Boolean).join(" · ");
      const href = storyLink(first, this.#api);
      const title = first.title || first.article_id;
      // One speaker for every quote is said once, under the headline.
      const speaker = group.every((c) => c.speaker === first.speaker) ? first.speaker : null;
      const list = h("ol", { class: "quotes" });
      for (const c of group) {
        list.append(this.#renderQuote(c, !speaker));
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
                  h("span", { class: "sr-only" }, " " + this.#t("newTab")),
                )
              : title,
          ),
          meta ? h("p", { class: "card-meta" }, meta) : null,
          speaker ? h("p", { class: "card-meta" }, this.#renderSpeaker(speaker)) : null,
        ),
        list,
      );
    }

    #renderSpeaker(name) {
      return h(
        "span",
        { class: "speaker" },
        h("span", { class: "speaker-label" }, this.#t("speaker") + " "),
        h("bdi", null, name),
      );
    }

    /** A cited passage, collapsed to its quote; the whole paragraph on demand. */
    #renderQuote(c, withSpeaker) {
      const t = this.#t;
      const partial = c.quote.trim() !== "" && c.quote.trim() !== c.text.trim();
      const passage = h(
        "blockquote",
        { class: "passage", id: `dl-q${++this.#ids}`, dir: "auto" },
        partial || !c.text ? c.quote : c.text,
      );
      const foot = h("p", { class: "quote-foot" });
      if (withSpeaker && c.speaker) foot.append(this.#renderSpeaker(c.speaker));
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
    #renderActions(entry) {
      const t = this.#t;
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
                  await navigator.clipboard.writeText(plainAnswer(entry.answer, this.#api));
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
            onclick: () => this.#sendFeedback(entry, verdict, votes, say),
          },
          icon(verdict, 15),
        ),
      );
      actions.append(...votes, note);
      if (entry.verdict) say(t("thanks"));
      return actions;
    }

    /** POST /api/feedback for one answer; the turn remembers its verdict. */
    async #sendFeedback(entry, verdict, votes, say) {
      const t = this.#t;
      for (const b of votes) b.disabled = true;
      say("");
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      try {
        const response = await fetch(this.#api + "/api/feedback", {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({
            question: entry.question,
            passages: entry.answer.citations
              .filter((c) => c.paragraph != null)
              .map((c) => ({ article_id: c.article_id, paragraph: c.paragraph })),
            verdict,
          }),
          signal: controller.signal,
        });
        if (!response.ok) throw new ChatError(t("feedbackFailed"), response.status);
        entry.verdict = verdict;
        this.#conversation.save(this.#turns);
        for (const b of votes) b.setAttribute("aria-pressed", String(b.dataset.verdict === verdict));
        say(t("thanks"));
      } catch {
        for (const b of votes) b.disabled = false;
        say(t("feedbackFailed"), true);
      } finally {
        clearTimeout(timer);
      }
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

  if (!customElements.get(TAG)) customElements.define(TAG, DatelineChat);

  /* ------------------------------------------------------ floating + global */

  let floating = null;
  function flag(v) {
    return v != null && v !== "false";
  }

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

  function mountLauncher() {
    if (floating || !document.body) return;
    const el = document.createElement(TAG);
    el.setAttribute("mode", "launcher");
    el.setAttribute("api", scriptData.api || scriptOrigin);
    for (const [name, attr] of Object.entries(OPTIONS)) {
      // An empty data-suggestions means "none"; an empty anything else means "the default".
      if (scriptData[name] || (name === "suggestions" && name in scriptData)) el.setAttribute(attr, scriptData[name]);
    }
    if (flag(scriptData.open)) el.setAttribute("open", "");
    // Early in the Tab order, right after the page's own skip links, instead of after all of it.
    let next = document.body.firstElementChild;
    while (next && next.matches('a[href^="#"]')) next = next.nextElementSibling;
    document.body.insertBefore(el, next);
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
    languages: Object.freeze(Object.keys(STRINGS)),
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
