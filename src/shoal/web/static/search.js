// The search page: the form mirrors the URL (?expression=…&dataset=…&page=…), so every search can be linked
// and the Back button works. The box is sent as the API's free-text `query` (bare words search every type,
// as Shodan's box does; `type:value` terms keep their meaning). Counts and facets are over services (the
// newest report of each: the form's most_recent box is ticked unless the URL says most_recent=false), and
// say so; unticked, every dated report counts. Results come from the dataset's endpoint;
// beside them, facets: the top values of a few types over the same reports (one summary call each, drawn
// as they arrive, not fetched again when paging). A chart of any type comes from the same call with summarize;
// above the results, a line chart of the matches over time (trend.js).

import {
  $,
  ApiError,
  DATASETS,
  SELECTING,
  api,
  barChart,
  el,
  hasToken,
  inTurn,
  initPage,
  plural,
  query,
  reportCard,
  showProblem,
  termFor,
} from "./shoal.js";
import { showTrend } from "./trend.js";

const FLAGS = SELECTING.filter(([, kind]) => kind === "boolean").map(([name]) => name);
const TICKED = new Set(SELECTING.filter(([, kind, shown]) => kind === "boolean" && shown === true).map(([name]) => name));
const INPUTS = SELECTING.filter(([, kind]) => kind !== "boolean").map(([name]) => name);
const FIELDS = ["expression", "dataset", ...INPUTS, "summarize", "summary_limit"];
const DEFAULT_SUMMARY_LIMIT = 20;
const FACET_LIMIT = 5;
const DEFAULT_DATASET = Object.keys(DATASETS)[0];
const NO_TOKEN = "Paste an API token above to see what this server holds.";
const WIDE_SCREEN = matchMedia("(min-width: 761px)"); // narrower: a phone's layout (shoal.css)
const form = $("search");
let cardinalityAllowed = true;
let hostsCounted = { key: "", n: 0 }; // the selection whose hosts were counted, and how many
let facetsShown = ""; // the selection the facets were drawn for

function readForm() {
  const state = Object.fromEntries(FIELDS.map((name) => [name, $(name).value.trim()]));
  for (const name of FLAGS) state[name] = $(name).checked;
  if (!DATASETS[state.dataset]) state.dataset = DEFAULT_DATASET;
  return state;
}

function fillForm(params) {
  for (const name of FIELDS) $(name).value = params.get(name) || "";
  $("dataset").value = DATASETS[params.get("dataset")] ? params.get("dataset") : DEFAULT_DATASET;
  for (const name of FLAGS) $(name).checked = params.has(name) ? params.get(name) === "true" : TICKED.has(name);
}

/** The form's fields that select reports besides the box, as the API names them. */
const selecting = (state) =>
  Object.fromEntries(SELECTING.map(([name, kind]) => [name, kind === "boolean" ? state[name] && "true" : state[name]]));

/** The same fields in the page's URL: a box ticked by default is written only when unticked (=false). */
const pageSelecting = (state) =>
  Object.fromEntries(
    SELECTING.map(([name, kind]) => {
      if (kind !== "boolean") return [name, state[name]];
      if (TICKED.has(name)) return [name, !state[name] && "false"];
      return [name, state[name] && "true"];
    }),
  );

/** What a result count counts, [one, many]: services (the newest report of each) with most_recent, else
 *  dated reports. */
const unitOf = (state) =>
  state.most_recent ? [DATASETS[state.dataset].unit, DATASETS[state.dataset].units] : ["report", "reports"];
/** The dataset as a parameter: none for the default one. */
const datasetParam = (state) => (state.dataset === DEFAULT_DATASET ? "" : state.dataset);

/** The page's own URL parameters: the form as it is. */
function pageParams(state) {
  const params = query({ expression: state.expression, dataset: datasetParam(state), ...pageSelecting(state) });
  for (const name of ["summarize", "summary_limit"]) if (state.summarize && state[name]) params.set(name, state[name]);
  return params;
}

/** The API parameters selecting reports (everything but paging and the summary): the box is free text. */
function selection(state) {
  return query({ query: state.expression, ...selecting(state) });
}

const endpoint = (state) => DATASETS[state.dataset].path;

function pageOf(params) {
  const page = Number.parseInt(params.get("page") || "0", 10);
  return Number.isFinite(page) && page > 0 ? page : 0;
}

/** Put the form (and a page number) in the URL, then search. */
function go(page) {
  const params = pageParams(readForm());
  if (page) params.set("page", String(page));
  history.pushState(null, "", `/?${params}`);
  return run();
}

/** Another page of the same search: from the top of the page, focus on the results. */
async function turnTo(page) {
  await go(page);
  window.scrollTo({ top: 0 });
  $("results").focus({ preventScroll: true });
}

const TERM_NAMES = /(?:^|[\s(])([A-Za-z][A-Za-z0-9_-]*)(?:;[^\s:=]*)?[:=]/g;
const KNOWN_TYPES = new Set([...document.querySelectorAll("#types option")].map((option) => option.value));
KNOWN_TYPES.add("search-term");

/** Edit distance (insertions, deletions, substitutions) between two short words. */
function distance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/** In free text a ``name:`` whose name is no type is searched as words (so ``http://x`` works); a name close
 *  to a type is probably a typo: say so beside the box, as the CLI and the expression checker do. */
function noteWords(text) {
  const note = $("words-note");
  const unknown = [...text.matchAll(TERM_NAMES)].map((match) => match[1]).filter((name) => !KNOWN_TYPES.has(name));
  const typos = unknown
    .map((name) => {
      const [best] = [...KNOWN_TYPES]
        .map((type) => [distance(name.toLowerCase(), type), type])
        .sort((x, y) => x[0] - y[0]);
      return best && best[0] <= 2 ? `${name} is not a type, so it was searched as words: did you mean ${best[1]}?` : "";
    })
    .filter(Boolean);
  note.textContent = typos.join(" ");
  note.hidden = !typos.length;
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
  const { start, end } = error.detail;
  const parameter = error.detail.parameter === "query" ? "expression" : error.detail.parameter;
  const input = FIELDS.includes(parameter) && $(parameter); // the form's fields are named as the parameters
  if (!input) return;
  input.setAttribute("aria-invalid", "true");
  if (input.id === "expression" && Number.isInteger(start)) {
    box.firstChild.after(highlighted(input.value, start, end));
    input.focus();
    input.setSelectionRange(start, Math.max(start + 1, end));
  }
}

/** Whether a page of results should ask for ``host_count`` (Shoal, any token): the distinct hosts (scanned
 *  addresses) the matches are on, in a dataset of addresses; counted on the first page, kept for the next. */
function asksHosts(state, page) {
  const key = `${state.dataset}?${selection(state)}`;
  return DATASETS[state.dataset].hosts && (page === 0 || hostsCounted.key !== key);
}

/** The hosts of this selection: from the page that asked, or as counted for an earlier page of it. */
function hostsOf(state, body) {
  const key = `${state.dataset}?${selection(state)}`;
  if (body && Number.isInteger(body.host_count)) hostsCounted = { key, n: body.host_count };
  return DATASETS[state.dataset].hosts && hostsCounted.key === key ? hostsCounted.n : null;
}

function showResults(body, page, state) {
  const results = $("results");
  const pager = $("pager");
  results.replaceChildren();
  $("export").hidden = !body;
  if (!body) {
    results.append(el("p", { className: "empty" }, "No report matches."));
    pager.hidden = true;
    return;
  }
  const capped =
    body.result_count > body.pages * 100 ? " (the API pages through the newest 10,000; export for all)" : "";
  const [unit, units] = unitOf(state);
  const hosts = hostsOf(state, body);
  results.append(
    el(
      "p",
      { className: "count" },
      el("span", { className: "hosts" }, hosts === null ? "" : `${plural(hosts, "host")} · `),
      `${plural(body.result_count, unit, units)} · page ${page + 1} of ${body.pages}${capped}`,
    ),
    ...body.results.map(reportCard),
  );
  $("page-state").textContent = `Page ${page + 1} of ${body.pages}`;
  $("previous").disabled = page === 0;
  $("next").disabled = page + 1 >= body.pages;
  pager.hidden = body.pages < 2;
}

async function loadSummary(state) {
  const params = selection(state);
  params.set("summarize", state.summarize);
  params.set("summary_limit", state.summary_limit || String(DEFAULT_SUMMARY_LIMIT));
  if (cardinalityAllowed) params.set("summary_cardinality", "true");
  try {
    return await api(endpoint(state), params);
  } catch (error) {
    if (error.status !== 403 || !cardinalityAllowed) throw error;
    cardinalityAllowed = false; // a normal token: draw the chart without the cardinality
    return loadSummary(state);
  }
}

/** Add ``term`` to the box (``exclude``: as ``not term``) and search again. */
function refine(term, exclude) {
  const current = $("expression").value.trim();
  const added = exclude ? `not ${term}` : term;
  $("expression").value = !current
    ? added
    : /\bor\b/i.test(current)
      ? `(${current}) and ${added}`
      : `${current} and ${added}`;
  go(0);
}

function showSummary(state, body) {
  const box = $("summary");
  box.hidden = false;
  box.replaceChildren(
    body
      ? barChart(state.summarize, body.summary, (value, exclude) => refine(termFor(state.summarize, value), exclude))
      : el("p", { className: "empty" }, `No ${state.summarize} values in the matching reports.`),
  );
}

/** The facets of this selection, each drawn as soon as its summary arrives (an error hides that facet). */
async function loadFacets(state) {
  const key = `${state.dataset}?${selection(state)}`;
  if (key === facetsShown) return;
  facetsShown = key;
  const box = $("facets");
  const facets = DATASETS[state.dataset].facets; // [type, context or null, title]: what Shodan shows beside results
  const slots = facets.map(([type]) => el("div", { className: "facet-slot", "data-type": type }));
  const counted = state.most_recent
    ? `Counts of ${DATASETS[state.dataset].units} (the newest report of each)`
    : "Counts of dated reports";
  box.replaceChildren(
    el("h2", { className: "visually-hidden" }, "Top values"),
    el("p", { className: "note facets-counted" }, counted),
    ...slots,
  );
  box.hidden = false;
  await inTurn(
    facets.map((facet, index) => [facet, slots[index]]),
    async ([[type, context, title], slot]) => {
      const params = selection(state);
      params.set("summarize", type);
      params.set("summary_limit", String(FACET_LIMIT));
      if (context !== null) params.set("summary_context", context);
      let body = null;
      try {
        body = await api(endpoint(state), params);
      } catch {
        body = null; // e.g. a type this store has never seen: no facet, the search itself says what is wrong
      }
      if (facetsShown !== key) return;
      const pick = (value, exclude) => refine(termFor(type, value, context), exclude);
      slot.replaceChildren(body ? barChart(type, body.summary, pick, { title, context, compact: true }) : "");
    },
  );
}

/** The options folded on a phone (unless one is set), open on a wider screen; the fold says how many are set (a
 * box counts when it is not as it starts: most_recent is ticked from the start). */
function foldOptions(state) {
  const set =
    [...INPUTS, "summarize"].filter((name) => state[name]).length +
    FLAGS.filter((name) => state[name] !== TICKED.has(name)).length;
  $("advanced-state").textContent = set ? `(${set} set)` : "";
  $("advanced").open = WIDE_SCREEN.matches || set > 0;
}

/** The landing page (no search yet): what the server holds, example searches, links to the help and /docs. */
async function showLanding() {
  $("results").replaceChildren();
  $("summary").hidden = $("pager").hidden = $("export").hidden = $("facets").hidden = true;
  facetsShown = "";
  $("landing").hidden = false;
  const held = $("held");
  const path = DATASETS[DEFAULT_DATASET].path;
  if (!hasToken()) {
    held.textContent = NO_TOKEN; // not asked for yet: the page only shows it where it is needed
    return;
  }
  try {
    const [reports, services] = await inTurn([{}, { most_recent: "true" }], (params) => api(path, query(params)));
    held.textContent = reports
      ? [
          plural(reports.result_count, "report"),
          `${plural(services?.result_count || 0, "service")} (ip:port, the newest report of each)`,
          `newest scan ${reports.results[0].date}`,
        ].join(" · ")
      : "No reports yet: import some (shoal import) or scan (shoal scan).";
  } catch (error) {
    held.textContent = error.status === 401 ? NO_TOKEN : `Error: ${error.message}`;
  }
}

async function run() {
  const params = new URLSearchParams(location.search);
  fillForm(params);
  clearProblems();
  const state = readForm();
  const page = pageOf(params);
  foldOptions(state);
  $("summary").hidden = !state.summarize;
  $("watch").href = `/alerts?${query({ query: state.expression, dataset: datasetParam(state), ip: state.ip })}`;
  noteWords(state.expression);
  if (!params.size) return showLanding();
  $("landing").hidden = true;
  const results = $("results");
  results.setAttribute("aria-busy", "true");
  const search = selection(state);
  if (page) search.set("page", String(page));
  if (asksHosts(state, page)) search.set("host_count", "true");
  const searching = api(endpoint(state), search);
  const summarising = state.summarize ? loadSummary(state) : null;
  try {
    const [body, summary] = await Promise.all([searching, summarising]);
    showResults(body, page, state);
    if (state.summarize) showSummary(state, summary);
    if (body) {
      loadFacets(state);
      showTrend($("trend"), endpoint(state), selection(state), state.from, state.to);
    } else $("facets").hidden = $("trend").hidden = true;
  } catch (error) {
    results.replaceChildren();
    $("summary").hidden = $("pager").hidden = $("export").hidden = $("facets").hidden = $("trend").hidden = true;
    facetsShown = "";
    showError(error);
  } finally {
    results.setAttribute("aria-busy", "false");
  }
}

async function exportAll(format) {
  const stateBox = $("export-state");
  const state = readForm();
  const params = selection(state);
  params.set("format", format);
  if (datasetParam(state)) params.set("dataset", datasetParam(state));
  stateBox.textContent = "Preparing the export…";
  try {
    const link = await api("/v1/scan/protocols/export/link", params, "POST");
    if (!link) {
      stateBox.textContent = "Nothing to export.";
      return;
    }
    el("a", { href: link.url, download: true }).click(); // named by the server: dataset, search and day
    stateBox.textContent = `Downloading ${plural(link.result_count, "report")} as ${format.toUpperCase()}.`;
  } catch (error) {
    stateBox.textContent = `Export failed: ${error.message}`;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  go(0);
});
$("dataset").addEventListener("change", () => go(0));
$("previous").addEventListener("click", () => turnTo(pageOf(new URLSearchParams(location.search)) - 1));
$("next").addEventListener("click", () => turnTo(pageOf(new URLSearchParams(location.search)) + 1));
for (const button of document.querySelectorAll("#export button")) {
  button.addEventListener("click", () => exportAll(button.dataset.format));
}
for (const example of document.querySelectorAll("button.example")) {
  example.addEventListener("click", () => {
    $("expression").value = example.textContent;
    $("expression").focus();
  });
}
function openSyntax() {
  $("syntax").open = true;
}
$("syntax-link").addEventListener("click", openSyntax);
if (location.hash === "#syntax") openSyntax();
document.addEventListener("keydown", (event) => {
  if (event.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) {
    event.preventDefault();
    $("expression").focus();
  }
});
window.addEventListener("popstate", run);
initPage(run);
run();
