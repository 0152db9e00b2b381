// What every page shares: the saved token, calls to the JSON API, DOM helpers, report cards, bar charts.

const TOKEN_KEY = "shoal.token";
const NUMBER = new Intl.NumberFormat("en");
const BANNER_LINES = 8; // the first lines of a service's answer shown on its card
const HEADERS_OF = new Set(["http", "https", "http-proxy", "ipp"]); // protocols whose banner is a status line
const ANY = null; // any context
const [TEXT, LINK, HASH] = ["text", "link", "hash"]; // how a fact's values are shown: a hash is a monospace link
/** A card's facts, in order: [label, how to find the values, how to show them]. A value is a link where searching
 *  for it finds more of the same (a product, an organisation, a fingerprint), and plain text where it is only
 *  read (a title, a URL, a date). ``find`` is [type, context] or a function of the report giving
 *  [value, search term or null, prefix] triples. */
const KEY_ITEMS = [
  ["products", ["product-tag", ANY], LINK],
  ["product info", ["product-info", ANY], TEXT],
  ["host", ["host", ""], TEXT],
  ["url", ["url", ANY], TEXT],
  ["PTR names", ["host", "dns-ptr"], TEXT],
  ["name servers", ["host", "dns-ns"], LINK],
  ["organisation", ["entity", ANY], LINK],
  ["AS", ["asn", ANY], LINK],
  ["country", ["geo-country", ANY], LINK],
  ["SSH host keys", hostKeys, HASH],
  ["HASSH", ["hassh-server", ANY], HASH],
  ["subject", ["subject", ANY], TEXT],
  ["issuer", ["issuer", ANY], LINK],
  ["certificate names", ["host", "cert-dns-name"], TEXT],
  ["valid", validity, TEXT],
  ["key", certificateKey, TEXT],
  ["certificate SHA-256", ["cert-sha256", ANY], HASH],
  ["JA4S", ["ja4s-hash", ANY], HASH],
  ["JA4X", ["ja4x-hash", ANY], HASH],
  ["JARM", ["jarm", ANY], HASH],
  ["favicon hash", ["obj-murmur3", "favicon"], LINK],
  ["CT log", ["ct-log", ANY], TEXT],
];
const PAGE_DATA = JSON.parse(document.getElementById("page-data").textContent);
/** The table of datasets, as the server renders it into every page: name → {path (its search endpoint), label,
 *  facets ([type, context, title] drawn beside its results), selectors}; the first is the default. */
export const DATASETS = PAGE_DATA.datasets;
/** The selection parameters of the search form, [name, JSON schema type], in the API's names. */
export const SELECTING = PAGE_DATA.selecting;
/** DB-IP's CC BY 4.0 licence asks for this link wherever its data (the ``entity`` names) is shown. */
export const DB_IP_URL = "https://db-ip.com";
const ATTRIBUTED_TYPES = new Set(["entity"]); // organisation names are DB-IP's (AS numbers: RouteViews, NRO)
const SIMPLE_CONTEXT = /^[A-Za-z0-9_.-]+$/;
const RETRIES = 4;
const PARALLEL_CALLS = 3; // Shoal runs at most 5 queries of one token at once
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const $ = (id) => document.getElementById(id);
export const count = (n) => NUMBER.format(n);
/** "1 report", "2 reports" (``many`` for irregular plurals). */
export const plural = (n, one, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export const hasToken = () => Boolean(token());

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `the server answered HTTP ${status}`);
    this.status = status;
    this.detail = body?.detail?.[0] || {};
  }
}

/** URL parameters from an object: empty values are left out, arrays repeat the parameter. */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    for (const one of [value].flat()) {
      if (one !== undefined && one !== null && one !== "" && one !== false) params.append(name, String(one));
    }
  }
  return params;
}

/** Call the API with the saved token: the JSON body, null for 204 (no results), or an ApiError.
 *  A 429 for too many queries at once (not a used-up quota) is retried after its Retry-After. */
export async function api(path, params = new URLSearchParams(), method = "GET") {
  const url = params.size ? `${path}?${params}` : path;
  for (let attempt = 1; ; attempt += 1) {
    let response;
    try {
      response = await fetch(url, { method, headers: { Authorization: `Bearer ${token()}` } });
    } catch {
      throw new ApiError(0, { error: "cannot reach the Shoal server" });
    }
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (response.status === 429 && body?.code === "too_many_requests" && attempt < RETRIES) {
      await sleep(1000 * Math.min(5, Number(response.headers.get("Retry-After")) || 1));
      continue;
    }
    if (response.status === 401) askForToken(body?.error || "unauthorized");
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }
}

/** ``job(item)`` for every item, at most ``width`` at a time (a token may run only a few queries at once). */
export async function inTurn(items, job, width = PARALLEL_CALLS) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** An element with attributes (on* become listeners) and children (strings become text, never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name === "className" ? "class" : name, value === true ? "" : value);
  }
  node.append(...children.flat(Infinity).filter((child) => child !== undefined && child !== null && child !== false));
  return node;
}

// -- the token and the header ---------------------------------------------------------------------------

function askForToken(message) {
  const state = $("login-state");
  state.textContent = token() ? `Token refused: ${message}` : "Paste an API token (shoal token create NAME).";
  state.className = "bad";
  $("token").focus();
}

function showTokenState() {
  const state = $("login-state");
  state.textContent = token() ? "Token saved in this browser." : "No token yet.";
  state.className = token() ? "good" : "bad";
}

/** Wire the header (token, jump box); ``onToken`` runs when a token is saved. */
export function initPage(onToken) {
  showTokenState();
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    localStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    showTokenState();
    onToken();
  });
  $("forget").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    showTokenState();
  });
  $("jump").addEventListener("submit", (event) => {
    event.preventDefault();
    const target = $("jump-target").value.trim();
    if (target) location.assign(jumpTarget(target));
  });
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;
const HOSTNAME = /^(?=.*[A-Za-z])[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+\.?$/;

/** Where the jump box goes: an address to its host page, a CIDR to its network, a host name to a search
 *  for it (``host:``), anything else to a free-text search. */
export function jumpTarget(text) {
  const [address, prefix] = text.split("/");
  if (IPV4.test(address) || IPV6.test(address)) {
    return prefix === undefined ? `/host/${encodeURIComponent(address)}` : `/cidr/${address}/${prefix}`;
  }
  const expression = HOSTNAME.test(text) ? `host:${text.replace(/\.$/, "")}` : text;
  return `/?${query({ expression })}`;
}

/** Show an API error (its message and hint) in ``box``. */
export function showProblem(box, error) {
  box.replaceChildren(el("p", {}, el("strong", {}, "Error: "), error.message));
  if (error.detail?.hint) box.append(el("p", { className: "hint" }, `Hint: ${error.detail.hint}`));
  box.hidden = false;
}

// -- reports --------------------------------------------------------------------------------------------

export function values(report, type, context = null) {
  const found = report.items.filter((i) => i.type === type && (context === null || i.context === context));
  return [...new Set(found.map((i) => i.value).filter((v) => v !== ""))];
}

export function targetOf(report) {
  const [ip = ""] = values(report, "ip", "");
  const [port] = values(report, "port-tcp", "");
  const [host] = values(report, "host", "");
  if (!ip) {
    // a logged certificate has no scanned address: name it by its first DNS name, else its subject
    const [name = values(report, "subject")[0] || "?"] = values(report, "host", "cert-dns-name");
    return { ip: "", port, text: name };
  }
  const address = `${ip.includes(":") ? `[${ip}]` : ip}${port ? `:${port}` : ""}`;
  return { ip, port, host, text: host ? `${host} ${address}` : address };
}

export function protocolOf(report) {
  return report.items.find((i) => i.type === "server-banner")?.context || "";
}

export function quote(value) {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/** The expression term matching one value exactly. */
export function termFor(type, value, context = null) {
  if (type === "port-tcp" && /^\d+$/.test(value)) return `port-tcp:${value}`;
  if (context && SIMPLE_CONTEXT.test(context)) return `${type};${context}=${quote(value)}`;
  return `${type}=${quote(value)}`;
}

export function searchLink(params, text) {
  return el("a", { href: `/?${query(params)}` }, text);
}

/** The credit DB-IP's licence asks for beside its data (entity and AS names from the bundled table). */
export function attribution() {
  return el(
    "a",
    { className: "attribution", href: DB_IP_URL, rel: "noopener", title: "IP to ASN data by DB-IP (CC BY 4.0)" },
    "IP data: DB-IP",
  );
}

function itemsTable(report) {
  const rows = report.items.map((item) =>
    el(
      "tr",
      {},
      el("td", {}, item.type),
      el("td", {}, item.context),
      el("td", {}, searchLink({ expression: termFor(item.type, item.value, item.context) }, item.value)),
      el("td", {}, item.is_metadata ? "metadata" : ""),
    ),
  );
  const head = ["type", "context", "value", ""].map((name) => el("th", { scope: "col" }, name));
  return el("table", { className: "items" }, el("thead", {}, el("tr", {}, head)), el("tbody", {}, rows));
}

/** Each SSH host key: its type and size, and its SHA-256 fingerprint as ssh-keygen prints it (a search for it). */
function hostKeys(report) {
  return report.items
    .filter((item) => item.type === "ssh-hostkey-sha256")
    .map((item) => {
      const [bits] = values(report, "ssh-hostkey-bits", item.context);
      const kind = [item.context, bits && `${bits} bits`].filter(Boolean).join(" ");
      return [`SHA256:${item.value}`, termFor(item.type, item.value, item.context), kind];
    });
}

/** A certificate's validity, "2026-01-01 to 2027-01-01", and whether it had expired when seen. */
export function validity(report) {
  const [from] = values(report, "cert-not-before");
  const [to] = values(report, "cert-not-after");
  if (!from && !to) return [];
  const expired = values(report, "cert-expired").includes("true") ? " (expired when seen)" : "";
  return [[`${from || "?"} to ${to || "?"}${expired}`, null]];
}

/** A certificate's key and signature: "rsa 2048 bits · sha256WithRSAEncryption · self-signed". */
export function certificateKey(report) {
  const [type] = values(report, "cert-key-type");
  const [bits] = values(report, "cert-key-bits");
  const [algorithm] = values(report, "cert-signature-algorithm");
  const selfSigned = values(report, "cert-self-signed").includes("true") && "self-signed";
  const parts = [[type, bits && `${bits} bits`].filter(Boolean).join(" "), algorithm, selfSigned].filter(Boolean);
  return parts.length ? [[parts.join(" · "), null]] : [];
}

/** The first lines of what the service answered: its banner, and for HTTP the response's header lines. */
function answerLines(report) {
  const banner = report.items.find((item) => item.type === "server-banner");
  if (!banner) return [];
  const lines = banner.value.split(/\r?\n/);
  if (HEADERS_OF.has(banner.context)) {
    for (const item of report.items) if (item.type === "http-header") lines.push(`${item.context}: ${item.value}`);
  }
  return lines;
}

function answerBlock(report) {
  const lines = answerLines(report);
  if (!lines.length) return null;
  const more = lines.length - BANNER_LINES;
  return el(
    "pre",
    { className: "answer", title: "The first lines of the service's answer" },
    lines.slice(0, BANNER_LINES).join("\n"),
    more > 0 && el("span", { className: "more" }, `\n… ${plural(more, "more line")} (all items below)`),
  );
}

/** A card's value as text or a search link (``prefix`` before it, e.g. a key's type). */
function factValue([value, term, prefix], hash) {
  const text = term
    ? el("a", { href: `/?${query({ expression: term })}`, title: `Search ${term}` }, value)
    : el("span", {}, value);
  if (hash) text.classList.add("hash");
  return el("span", { className: "value" }, prefix && [el("span", { className: "prefix" }, prefix), " "], text);
}

function keyFacts(report) {
  const keys = el("dl", { className: "key-items" });
  for (const [label, find, kind] of KEY_ITEMS) {
    const [type, context] = typeof find === "function" ? [] : find;
    const found = type
      ? values(report, type, context).map((value) => [value, kind !== TEXT && termFor(type, value, context)])
      : find(report);
    if (!found.length) continue;
    const shown = found.slice(0, 6).flatMap((fact, index) => [
      index > 0 && (fact[2] ? el("br") : ", "), // a value with a prefix (a host key's type) has a line of its own
      factValue(fact, kind === HASH),
    ]);
    const hidden = found.length > 6 && el("span", { className: "more" }, ` and ${count(found.length - 6)} more`);
    keys.append(el("dt", {}, label), el("dd", {}, shown, hidden, ATTRIBUTED_TYPES.has(type) && attribution()));
  }
  return keys;
}

/** One report: date, ip:port, protocol, title; the first lines of the answer; its key facts with aligned labels
 *  (plain values, links where a search for the value finds more); every item on demand. */
export function reportCard(report) {
  const target = targetOf(report);
  const [title] = values(report, "title");
  const protocol = protocolOf(report);
  const raw = el("details", { className: "raw" }, el("summary", {}, `All ${report.items.length} items`));
  raw.addEventListener("toggle", () => raw.open && raw.children.length === 1 && raw.append(itemsTable(report)));
  const head = el(
    "header",
    {},
    el("time", { datetime: report.date }, report.date),
    target.ip
      ? el("a", { className: "target", href: `/host/${encodeURIComponent(target.ip)}` }, target.text)
      : el("span", { className: "target" }, target.text),
    protocol && el("span", { className: "protocol" }, protocol),
    title && el("span", { className: "title" }, title),
    el("span", { className: "id", title: "report id" }, report.id),
  );
  return el("article", { className: "card", "data-id": report.id }, head, answerBlock(report), keyFacts(report), raw);
}

// -- charts ---------------------------------------------------------------------------------------------

const byCountThenValue = ([a, m], [b, n]) => n - m || a.localeCompare(b, "en", { numeric: true });

/** A summary as a bar chart. Clicking a value (or Enter on it) calls ``onPick(value, false)`` to keep only
 *  reports with it; Alt+click, or its ⊘ button, calls ``onPick(value, true)`` to leave them out. Then come
 *  ``other`` and the cardinality. ``compact``: no caption facts (the facets beside the results). */
export function barChart(type, summary, onPick, { title = type, context = null, compact = false } = {}) {
  const entries = Object.entries(summary.values).sort(byCountThenValue);
  const top = Math.max(1, ...entries.map(([, n]) => n));
  const bar = (n) => {
    const fill = el("span", { className: "fill" });
    fill.style.width = `${Math.min(100, Math.max(0.5, (100 * n) / top))}%`;
    return el("span", { className: "track" }, fill);
  };
  const rows = entries.map(([value, n]) => {
    const term = termFor(type, value, context);
    return el(
      "li",
      {},
      el(
        "button",
        {
          type: "button",
          className: "bar",
          title: `Refine with ${term} (Alt+click: leave it out)`,
          onclick: (event) => onPick(value, event.altKey),
        },
        el("span", { className: "label", title: value }, value),
        bar(n),
        el("span", { className: "n" }, count(n)),
      ),
      el(
        "button",
        {
          type: "button",
          className: "exclude",
          title: `Leave out ${term}`,
          "aria-label": `Leave out ${value}`,
          onclick: () => onPick(value, true),
        },
        "⊘",
      ),
    );
  });
  if (summary.other) {
    rows.push(
      el(
        "li",
        { className: "other" },
        el(
          "span",
          { className: "bar" },
          el("span", { className: "label" }, "other"),
          bar(summary.other),
          el("span", { className: "n" }, count(summary.other)),
        ),
      ),
    );
  }
  const facts = [plural(entries.length, "value"), `other ${count(summary.other)}`];
  facts.push(
    summary.cardinality === undefined ? "cardinality: enterprise tokens" : `cardinality ${count(summary.cardinality)}`,
  );
  const caption = compact ? [el("strong", {}, title)] : [el("strong", {}, title), ` · ${facts.join(" · ")}`];
  if (ATTRIBUTED_TYPES.has(type)) caption.push(" ", attribution());
  return el(
    "figure",
    { className: compact ? "chart facet" : "chart", "data-type": type },
    el("figcaption", {}, caption),
    el("ol", { className: "bars" }, rows),
  );
}

/** Heat level 0–4 of ``n`` against the largest value (log scale: a few big counts do not wash out the rest). */
export function heat(n, max) {
  return n ? Math.max(1, Math.ceil((4 * Math.log(n + 1)) / Math.log(max + 1))) : 0;
}
