// The stance page: classify pasted texts (with highlighted spans) and files (upload, pick the
// column, follow the progress, read the summary, download). Talks only to this server.
"use strict";

const LABELS = ["against", "for", "neutral"];
const T = {
  da: {
    skip: "Gå til indholdet",
    tagline: "Holdningen til jobcentrene i danske tekster: imod, for eller neutral.",
    settings: "Indstillinger", model: "Model", minscore: "Mindste sikkerhed",
    minscore_help: "Under denne sandsynlighed vises resultatet som \"usikker\".",
    texts: "Tekster", paste: "Indsæt en eller flere tekster",
    split: "Flere tekster adskilles af", split_blank: "en tom linje", split_line: "hver linjeskift",
    classify: "Klassificér", legend: "Fremhævet: de ord der trak mest mod etiketten.",
    against: "imod", for: "for", neutral: "neutral", uncertain: "usikker",
    against_long: "Imod jobcentrene", for_long: "For jobcentrene", neutral_long: "Neutral",
    file: "Fil", file_pick: "Vælg en fil (CSV, TSV, JSONL, TXT, Parquet eller Excel .xlsx)",
    column: "Kolonne med teksten", start: "Klassificér filen",
    uploading: "Sender filen …", running: "Klassificerer …", queued: "Venter i kø …", done: "Færdig",
    summary: "Resultat", label: "Etiket", count: "Antal", share: "Andel",
    corrected: "Andele rettet for modellens fejl (95 %-interval)", raw: "Rå andel",
    uncorrected: "Andele med 95 %-interval (ikke rettet for modellens fejl)", estimate: "Estimeret andel",
    corrected_share: "Rettet andel", interval: "95 %-interval",
    download: "Hent den mærkede fil", read: "Sådan læser du resultatet",
    against_means: "teksten er kritisk over for jobcentrene, deres ansatte eller deres måde at arbejde på.",
    for_means: "teksten er positiv over for jobcentrene eller forsvarer dem.",
    neutral_means: "teksten tager ikke stilling, eller handler ikke om jobcentrene.",
    accuracy: "Modellens træfsikkerhed på rigtige danske kommentarer og nyhedsafsnit (macro-F1, hvor 1 er altid rigtigt):",
    wrong: "Modellen kan tage fejl, især på enkelte tekster. Brug den til at tælle holdninger i mange tekster, ikke til at bedømme enkeltpersoner, og tjek den på et udsnit af dine egne tekster.",
    api: "API-dokumentation", empty: "Skriv eller indsæt mindst én tekst.",
    rows: (n, c, e, u) => `${n} rækker: ${c} klassificeret, ${u} usikre, ${e} med fejl (se kolonnen "error").`,
    no_score: "ikke oplyst i modelkortet", source: "kilde", lang: "English",
  },
  en: {
    skip: "Skip to the content",
    tagline: "Stance toward Danish jobcentres in Danish text: against, for or neutral.",
    settings: "Settings", model: "Model", minscore: "Minimum confidence",
    minscore_help: "Below this probability the result is shown as \"uncertain\".",
    texts: "Texts", paste: "Paste one or more texts",
    split: "Separate several texts by", split_blank: "a blank line", split_line: "each line break",
    classify: "Classify", legend: "Highlighted: the words that pushed most toward the label.",
    against: "against", for: "for", neutral: "neutral", uncertain: "uncertain",
    against_long: "Against the jobcentres", for_long: "For the jobcentres", neutral_long: "Neutral",
    file: "File", file_pick: "Choose a file (CSV, TSV, JSONL, TXT, Parquet or Excel .xlsx)",
    column: "Column with the text", start: "Classify the file",
    uploading: "Uploading the file …", running: "Classifying …", queued: "Waiting in line …", done: "Done",
    summary: "Result", label: "Label", count: "Count", share: "Share",
    corrected: "Shares corrected for the model's errors (95% interval)", raw: "Raw share",
    uncorrected: "Shares with 95% intervals (not corrected for the model's errors)", estimate: "Estimated share",
    corrected_share: "Corrected share", interval: "95% interval",
    download: "Download the labelled file", read: "How to read this",
    against_means: "the text is critical of the jobcentres, their staff or their ways of working.",
    for_means: "the text is positive about the jobcentres or defends them.",
    neutral_means: "the text takes no side, or is not about the jobcentres.",
    accuracy: "The model's accuracy on real Danish comments and news paragraphs (macro-F1, where 1 is always right):",
    wrong: "The model can be wrong, especially on single texts. Use it to count stances over many texts, not to judge individual people, and check it on a sample of your own texts.",
    api: "API documentation", empty: "Write or paste at least one text.",
    rows: (n, c, e, u) => `${n} rows: ${c} classified, ${u} uncertain, ${e} with errors (see the "error" column).`,
    no_score: "not stated in the model card", source: "source", lang: "Dansk",
  },
};

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("stance-lang") || "da";
let models = [];
let lastExplanations = [];
let lastJob = null;

function t(key) { return T[lang][key] ?? key; }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function setLanguage(next) {
  lang = next;
  localStorage.setItem("stance-lang", lang);
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  const button = $("lang");
  button.textContent = t("lang");
  button.lang = lang === "da" ? "en" : "da";
  showScore();
  renderResults();
  if (lastJob) renderSummary(lastJob);
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  return body;
}

function showError(id, message) {
  const node = $(id);
  node.textContent = message || "";
  node.hidden = !message;
}

// Settings ---------------------------------------------------------------------------------

async function loadModels() {
  const body = await api("/v1/models");
  models = body.models;
  const select = $("model");
  select.replaceChildren(...models.map((m) => el("option", { value: m.name }, m.name)));
  select.value = body.default;
  select.parentElement.hidden = models.length < 2;
  showScore();
}

function showScore() {
  const model = models.find((m) => m.name === $("model").value);
  const score = model?.real_text_score;
  $("score").textContent = score
    ? `${score.value} (${score.metric}; ${t("source")}: ${score.source})`
    : t("no_score");
}

function minScore() { return Number($("minscore").value); }

// Texts ------------------------------------------------------------------------------------

function splitTexts(raw) {
  const mode = document.querySelector("input[name=split]:checked").value;
  const parts = mode === "line" ? raw.split(/\r?\n/) : raw.split(/\r?\n\s*\r?\n/);
  return parts.map((s) => s.trim()).filter((s) => s);
}

async function classifyTexts() {
  showError("text-error", "");
  const texts = splitTexts($("text").value);
  if (!texts.length) { showError("text-error", t("empty")); return; }
  $("classify").disabled = true;
  try {
    const body = await api("/v1/explain", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ texts, model: $("model").value, top: 5 }),
    });
    lastExplanations = body.explanations;
    renderResults();
  } catch (error) {
    showError("text-error", error.message);
  } finally {
    $("classify").disabled = false;
  }
}

function bars(probabilities) {
  const grid = el("div", { class: "bars" });
  for (const label of LABELS) {
    const p = probabilities[label];
    const fill = el("span", { class: label });
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    const bar = el("div", { class: "bar", role: "img", "aria-label": `${t(label)} ${(100 * p).toFixed(0)} %` }, fill);
    grid.append(el("span", {}, t(label)), bar, el("span", { class: "num" }, `${(100 * p).toFixed(0)} %`));
  }
  return grid;
}

function highlighted(text, spans, label) {
  // offsets count Unicode code points, as Python does
  const chars = Array.from(text);
  const quote = el("p", { class: "quote" });
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    quote.append(chars.slice(at, span.start).join(""));
    quote.append(el("mark", { class: label, title: `${t(label)} +${span.weight.toFixed(3)}` }, chars.slice(span.start, span.end).join("")));
    at = span.end;
  }
  quote.append(chars.slice(at).join(""));
  return quote;
}

function renderResults() {
  const list = $("results");
  list.replaceChildren();
  const threshold = minScore();
  for (const e of lastExplanations) {
    const sure = e.score >= threshold;
    const verdict = sure ? t(`${e.predicted}_long`) : `${t("uncertain")} (${t(e.predicted)}?)`;
    list.append(el("li", {},
      el("p", { class: `verdict ${sure ? e.predicted : "uncertain"}` }, `${verdict} · ${(100 * e.score).toFixed(0)} %`),
      bars(e.probabilities),
      highlighted(e.text, e.spans[e.predicted] || [], e.predicted)));
  }
  $("legend").hidden = lastExplanations.length === 0;
}

// Files ------------------------------------------------------------------------------------

let currentJob = null;

function progress(labelKey, value) {
  $("progress-row").hidden = false;
  $("progress-label").dataset.i18n = labelKey;
  $("progress-label").textContent = t(labelKey);
  const bar = $("progress");
  if (value === null || value === undefined) bar.removeAttribute("value"); else bar.value = value;
}

function upload(file) {
  showError("file-error", "");
  $("summary").hidden = true;
  $("column-row").hidden = true;
  lastJob = null;
  const form = new FormData();
  form.append("file", file);
  const request = new XMLHttpRequest();
  request.open("POST", "/v1/jobs");
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) progress("uploading", event.loaded / event.total);
  };
  request.onload = () => {
    let body = null;
    try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
    if (request.status !== 201) {
      $("progress-row").hidden = true;
      showError("file-error", body?.error?.message || `HTTP ${request.status}`);
      return;
    }
    progress("uploading", 1);
    currentJob = body;
    const select = $("column");
    select.replaceChildren(...body.columns.map((c) => el("option", { value: c }, c)));
    if (body.suggested_column) select.value = body.suggested_column;
    $("column-row").hidden = false;
    select.focus();
  };
  request.onerror = () => showError("file-error", "HTTP error");
  progress("uploading", 0);
  request.send(form);
}

async function startJob() {
  if (!currentJob) return;
  showError("file-error", "");
  $("start").disabled = true;
  try {
    const score = minScore();
    await api(`/v1/jobs/${currentJob.id}/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text_column: $("column").value, model: $("model").value, min_score: score > 0 ? score : null }),
    });
    progress("queued", 0);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const job = await api(`/v1/jobs/${currentJob.id}`);
      if (job.state === "failed") throw new Error(job.error?.message || "failed");
      if (job.state === "done") { progress("done", 1); lastJob = job; renderSummary(job); break; }
      progress(job.state === "queued" ? "queued" : "running", job.progress);
    }
  } catch (error) {
    showError("file-error", error.message);
  } finally {
    $("start").disabled = false;
  }
}

function pct(x) {
  if (x === null || x === undefined) return "–";
  const number = new Intl.NumberFormat(lang === "da" ? "da-DK" : "en-GB", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  return `${number.format(100 * x)} %`;
}

function pick(row, names) {
  for (const name of names) if (row[name] !== undefined && row[name] !== null) return row[name];
  return undefined;
}

function renderSummary(job) {
  const s = job.summary;
  $("summary-rows").textContent = T[lang].rows(job.rows, job.classified - s.uncertain, job.failed - s.uncertain, s.uncertain);
  const body = $("counts").tBodies[0];
  body.replaceChildren();
  for (const label of LABELS) {
    const fill = el("span", { class: label });
    fill.style.width = `${(100 * (s.shares[label] || 0)).toFixed(1)}%`;
    body.append(el("tr", {}, el("td", {}, t(label)), el("td", { class: "num" }, String(s.counts[label])),
      el("td", {}, el("div", { class: "bar", role: "img", "aria-label": pct(s.shares[label]) }, fill), pct(s.shares[label]))));
  }
  const corrected = $("corrected");
  const rows = s.corrected?.rows || [];
  corrected.hidden = rows.length === 0;
  const heading = corrected.querySelector("h4");
  heading.dataset.i18n = s.corrected?.source === "none" ? "uncorrected" : "corrected";
  heading.textContent = t(heading.dataset.i18n);
  $("corrected-col").dataset.i18n = s.corrected?.source === "none" ? "estimate" : "corrected_share";
  $("corrected-col").textContent = t($("corrected-col").dataset.i18n);
  $("corrected-note").textContent = [s.corrected?.correction, ...(s.corrected?.warnings || [])].filter((x) => x).join(" ");
  const tbody = corrected.querySelector("tbody");
  tbody.replaceChildren();
  for (const row of rows) {
    const low = pick(row, ["low", "lower", "ci_low", "corrected_low"]);
    const high = pick(row, ["high", "upper", "ci_high", "corrected_high"]);
    const interval = pick(row, ["interval", "ci95", "corrected_ci95"]);
    const range = interval ? `${pct(interval[0])} – ${pct(interval[1])}` : `${pct(low)} – ${pct(high)}`;
    tbody.append(el("tr", {}, el("td", {}, t(row.label)),
      el("td", {}, pct(pick(row, ["raw_share", "raw", "share"]))),
      el("td", {}, pct(pick(row, ["corrected_share", "corrected", "estimate"]))), el("td", {}, range)));
  }
  $("download").href = job.download;
  $("summary").hidden = false;
}

// Start ------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("lang").addEventListener("click", () => setLanguage(lang === "da" ? "en" : "da"));
  $("classify").addEventListener("click", classifyTexts);
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) classifyTexts();
  });
  $("minscore").addEventListener("input", () => {
    $("minscore-value").textContent = minScore().toFixed(2);
    renderResults();
  });
  $("model").addEventListener("change", showScore);
  $("file").addEventListener("change", (event) => { if (event.target.files[0]) upload(event.target.files[0]); });
  $("start").addEventListener("click", startJob);
  setLanguage(lang);
  loadModels().catch((error) => showError("text-error", error.message));
});
