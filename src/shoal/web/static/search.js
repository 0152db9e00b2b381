// The search page: the form mirrors the URL (?expression=…&page=…), so every search can be linked and the
// Back button works. Results come from GET /v1/scan/protocols, the chart from the same call with summarize.

import { $, ApiError, api, barChart, count, el, initPage, query, reportCard, showProblem, termFor } from "./shoal.js";

const FIELDS = ["expression", "ip", "from", "to", "slop", "summarize", "summary_limit"];
const FLAGS = ["most_recent", "indirect", "host_in_url"];
const DEFAULT_SUMMARY_LIMIT = 20;
const form = $("search");
let cardinalityAllowed = true;

function readForm() {
  const state = Object.fromEntries(FIELDS.map((name) => [name, $(name).value.trim()]));
  for (const name of FLAGS) state[name] = $(name).checked;
  return state;
}

function fillForm(params) {
  for (const name of FIELDS) $(name).value = params.get(name) || "";
  for (const name of FLAGS) $(name).checked = params.get(name) === "true";
}

/** The API parameters selecting reports (everything but paging and the summary). */
function selection(state) {
  return query({
    expression: state.expression,
    ip: state.ip,
    from: state.from,
    to: state.to,
    slop: state.slop,
    most_recent: state.most_recent && "true",
    indirect: state.indirect && "true",
    host_in_url: state.host_in_url && "true",
  });
}

function pageOf(params) {
  const page = Number.parseInt(params.get("page") || "0", 10);
  return Number.isFinite(page) && page > 0 ? page : 0;
}

/** Put the form (and a page number) in the URL, then search. */
function go(page) {
  const state = readForm();
  const params = selection(state);
  for (const name of ["summarize", "summary_limit"]) if (state.summarize && state[name]) params.set(name, state[name]);
  if (page) params.set("page", String(page));
  history.pushState(null, "", `/?${params}`);
  run();
}

function clearProblems() {
  $("query-error").hidden = true;
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** The expression with the bad span marked, as the CLI's caret does. */
function highlighted(text, start, end) {
  const mark = el("mark", {}, text.slice(start, end) || " ");
  return el("pre", { className: "highlight" }, text.slice(0, start), mark, text.slice(Math.max(start, end)));
}

function showError(error) {
  const box = $("query-error");
  if (!(error instanceof ApiError)) throw error;
  showProblem(box, error);
  const { parameter, start, end } = error.detail;
  const input = FIELDS.includes(parameter) && $(parameter); // the form's fields are named as the parameters
  if (!input) return;
  input.setAttribute("aria-invalid", "true");
  if (input.id === "expression" && Number.isInteger(start)) {
    box.firstChild.after(highlighted(input.value, start, end));
    input.focus();
    input.setSelectionRange(start, Math.max(start + 1, end));
  }
}

function showResults(body, page) {
  const results = $("results");
  const pager = $("pager");
  results.replaceChildren();
  if (!body) {
    results.append(el("p", { className: "empty" }, "No report matches."));
    pager.hidden = $("export").hidden = true;
    return;
  }
  const capped =
    body.result_count > body.pages * 100 ? " (the API pages through the newest 10,000; export for all)" : "";
  results.append(
    el("p", { className: "count" }, `${count(body.result_count)} reports · page ${page + 1} of ${body.pages}${capped}`),
    ...body.results.map(reportCard),
  );
  $("page-state").textContent = `Page ${page + 1} of ${body.pages}`;
  $("previous").disabled = page === 0;
  $("next").disabled = page + 1 >= body.pages;
  pager.hidden = body.pages < 2;
  $("export").hidden = false;
}

async function loadSummary(state) {
  const params = selection(state);
  params.set("summarize", state.summarize);
  params.set("summary_limit", state.summary_limit || String(DEFAULT_SUMMARY_LIMIT));
  if (cardinalityAllowed) params.set("summary_cardinality", "true");
  try {
    return await api("/v1/scan/protocols", params);
  } catch (error) {
    if (error.status !== 403 || !cardinalityAllowed) throw error;
    cardinalityAllowed = false; // a normal token: draw the chart without the cardinality
    return loadSummary(state);
  }
}

function refine(type, value) {
  const term = termFor(type, value);
  const current = $("expression").value.trim();
  $("expression").value = !current
    ? term
    : /\bor\b/i.test(current)
      ? `(${current}) and ${term}`
      : `${current} and ${term}`;
  go(0);
}

function showSummary(state, body) {
  const box = $("summary");
  box.hidden = false;
  box.replaceChildren(
    body
      ? barChart(state.summarize, body.summary, (value) => refine(state.summarize, value))
      : el("p", { className: "empty" }, `No ${state.summarize} values in the matching reports.`),
  );
}

async function run() {
  const params = new URLSearchParams(location.search);
  fillForm(params);
  clearProblems();
  const state = readForm();
  const page = pageOf(params);
  $("summary").hidden = !state.summarize;
  if (!params.size) return;
  const results = $("results");
  results.setAttribute("aria-busy", "true");
  const search = selection(state);
  if (page) search.set("page", String(page));
  const searching = api("/v1/scan/protocols", search);
  const summarising = state.summarize ? loadSummary(state) : null;
  try {
    const [body, summary] = await Promise.all([searching, summarising]);
    showResults(body, page);
    if (state.summarize) showSummary(state, summary);
  } catch (error) {
    results.replaceChildren();
    $("summary").hidden = $("pager").hidden = $("export").hidden = true;
    showError(error);
  } finally {
    results.setAttribute("aria-busy", "false");
  }
}

async function exportAll(format) {
  const stateBox = $("export-state");
  const params = selection(readForm());
  params.set("format", format);
  stateBox.textContent = "Preparing the export…";
  try {
    const link = await api("/v1/scan/protocols/export/link", params, "POST");
    if (!link) {
      stateBox.textContent = "Nothing to export.";
      return;
    }
    el("a", { href: link.url, download: `shoal-export.${format}` }).click();
    stateBox.textContent = `Downloading ${count(link.result_count)} reports as ${format.toUpperCase()}.`;
  } catch (error) {
    stateBox.textContent = `Export failed: ${error.message}`;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  go(0);
});
$("previous").addEventListener("click", () => go(pageOf(new URLSearchParams(location.search)) - 1));
$("next").addEventListener("click", () => go(pageOf(new URLSearchParams(location.search)) + 1));
for (const button of document.querySelectorAll("#export button")) {
  button.addEventListener("click", () => exportAll(button.dataset.format));
}
for (const example of document.querySelectorAll("button.example")) {
  example.addEventListener("click", () => {
    $("expression").value = example.textContent;
    $("expression").focus();
  });
}
document.addEventListener("keydown", (event) => {
  if (event.key === "/" && !["INPUT", "TEXTAREA"].includes(document.activeElement?.tagName)) {
    event.preventDefault();
    $("expression").focus();
  }
});
window.addEventListener("popstate", run);
initPage(run);
run();
