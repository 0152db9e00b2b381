// The host page, as Shodan's: a header (PTR names, country, organisation and AS, tags, the honeypot flag, first
// and last seen), one card per open port (its newest report; the older ones folded underneath, loaded when
// opened), open ports over time (GET /v1/scan/ports once per day, week or longer window), the certificates
// it serves and the ones Certificate Transparency logs hold for it; what changed since a day (changes.js).
// Beside them, from the other datasets: who holds it (ip/summary: its registered network and domain), the names
// pointing at it (domain/fdns), the domains whose mail it receives (domain/mx) and its favicons (scan/favicons).
// Every value links to a search.

import {
  $,
  DATASETS,
  api,
  attribution,
  certificateKey,
  count,
  el,
  heat,
  initPage,
  inTurn,
  plural,
  query,
  reportCard,
  searchLink,
  termFor,
  validity,
  values,
} from "./shoal.js";
import { initChanges } from "./changes.js";

const ip = $("host").dataset.ip;
const DAY = 86_400_000;
const MAX_COLUMNS = 30;
const PORT_COUNTS_LIMIT = 1000;
const MAIL_NAMES = 4; // the names of the IP whose mail domains are looked up (as shoal host does)
/** Where an ip/summary part comes from, in words. */
const SOURCES = { net: "whois", bgpasn: "BGP", rdns: "reverse DNS" };

const iso = (time) => new Date(time).toISOString().slice(0, 10);

/** Consecutive [from, to] windows (inclusive days) covering the span in at most MAX_COLUMNS columns. */
function windows(first, last) {
  const start = Date.parse(first);
  const end = Date.parse(last);
  const days = Math.round((end - start) / DAY) + 1;
  const step = days <= MAX_COLUMNS ? 1 : days <= 7 * MAX_COLUMNS ? 7 : Math.ceil(days / MAX_COLUMNS);
  const result = [];
  for (let from = start; from <= end; from += step * DAY) {
    result.push({ from: iso(from), to: iso(Math.min(end, from + (step - 1) * DAY)) });
  }
  return result;
}

async function portsOverTime(first, last) {
  const spans = windows(first, last);
  const answers = await inTurn(spans, (span) => api("/v1/scan/ports", query({ ip, ...span })));
  const columns = answers.map((body) => body?.values || {});
  const honeypot = answers.some((body) => body?.honeypot);
  $("ports-source").textContent = honeypot
    ? "Observations of open TCP ports. This IP behaves like a scan honeypot: it answers on ports no real service uses."
    : "Observations of open TCP ports, per port and period.";
  const ports = [...new Set(columns.flatMap(Object.keys))].sort((a, b) => a - b);
  const max = Math.max(1, ...columns.flatMap(Object.values));
  const head = el(
    "tr",
    {},
    el("th", { scope: "col" }, "port"),
    spans.map((span) => el("th", { scope: "col", title: `${span.from} to ${span.to}` }, span.from.slice(5))),
  );
  const rows = ports.map((port) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, port),
      spans.map((span, index) => {
        const n = columns[index][port] || 0;
        const label = `port ${port}, ${span.from} to ${span.to}: ${n}`;
        const cell = n
          ? searchLink({ ip, expression: `port-tcp:${port}`, from: span.from, to: span.to }, count(n))
          : "";
        return el("td", { className: `h${heat(n, max)}`, title: label }, cell);
      }),
    ),
  );
  const table = el("table", { className: "heat" }, el("thead", {}, head), el("tbody", {}, rows));
  $("ports").replaceChildren(ports.length ? table : el("p", { className: "empty" }, "No open ports seen."));
  return honeypot;
}

// -- the header ---------------------------------------------------------------------------------------------

/** The values of ``type`` over the reports, each once, most frequent first. */
function common(reports, type, context = null) {
  const tally = new Map();
  for (const report of reports)
    for (const value of values(report, type, context)) tally.set(value, (tally.get(value) || 0) + 1);
  return [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([value]) => value);
}

function links(type, found, context = null) {
  return found.map((value) => searchLink({ expression: termFor(type, value, context) }, value));
}

const source = (part) => el("span", { className: "source" }, ` (${SOURCES[part.context] || part.context})`);

/** ip/summary's entity: its name, its network (a link to the network page) and where it was found. A name from
 *  BGP may be the bundled table's, DB-IP's, whose licence asks for the credit. */
function registered(entity) {
  if (!entity) return [];
  const credit = entity.context === "bgpasn" && attribution();
  return [
    el("span", {}, entity.name),
    " · ",
    el("a", { href: `/cidr/${entity.cidr}` }, entity.cidr),
    source(entity),
    credit,
  ];
}

/** ip/summary's domain: the registrable domain, a search for its names (host: matches its subdomains too). */
function registeredDomain(domain) {
  if (!domain) return [];
  return [searchLink({ expression: `host:${domain.apex_domain}` }, domain.apex_domain), source(domain)];
}

/** The header: what the newest reports say about the address, the honeypot flag (the open-port rule's, from
 *  scan/ports, or the honeypot enricher's items), and what the other datasets know (``known``: its
 *  registration, the names pointing at it, the domains whose mail it receives). */
function showSummary(latest, ptrNames, honeypot, known) {
  const entities = common(latest, "entity");
  const honeypots = common(latest, "honeypot");
  const rows = [
    ["Country", links("geo-country", common(latest, "geo-country"))],
    ["Organisation", entities.length ? [links("entity", entities), attribution()] : []],
    ["AS", links("asn", common(latest, "asn"))],
    ["Registration", registered(known.registration?.entity)],
    ["Domain", registeredDomain(known.registration?.domain)],
    ["Names pointing here", links("host", known.forwardNames)],
    ["Receives mail for", links("host", known.mailFor)],
    ["Tags", links("product-tag", common(latest, "product-tag"))],
    [
      "Honeypot",
      honeypot || honeypots.length ? [el("strong", { className: "flag" }, "likely"), links("honeypot", honeypots)] : [],
    ],
  ].filter(([, content]) => content.length);
  $("host-summary").replaceChildren(...rows.flatMap(([name, content]) => [el("dt", {}, name), el("dd", {}, content)]));
  const names = $("host-names");
  names.hidden = !ptrNames.length;
  names.replaceChildren(...links("host", ptrNames).map((link) => el("span", { className: "ptr" }, link)));
}

// -- services: one card per port -----------------------------------------------------------------------------

function serviceCard(report, reportsOnPort) {
  const card = reportCard(report);
  const [port] = values(report, "port-tcp", "");
  const older = (reportsOnPort || 1) - 1;
  if (!port || older < 1) return card;
  const history = el(
    "details",
    { className: "history" },
    el("summary", {}, `${plural(older, "older report")} on port ${port}`),
  );
  const list = el("div", { className: "history-list" });
  const more = el("button", { type: "button", hidden: true }, "Load older reports");
  let page = 0;
  const load = async () => {
    more.disabled = true;
    try {
      const body = await api(DATASETS.protocols.path, query({ ip, expression: `port-tcp:${port}`, page }));
      page += 1;
      list.append(...(body?.results || []).filter((r) => r.id !== report.id).map(reportCard));
      more.hidden = page >= (body?.pages || 0);
    } catch (error) {
      list.append(el("p", { className: "empty" }, `Error: ${error.message}`));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", load);
  history.addEventListener("toggle", () => history.open && page === 0 && load());
  history.append(list, more);
  card.append(history);
  return card;
}

// -- certificates --------------------------------------------------------------------------------------------

function certificatesOf(reports) {
  const found = new Map();
  for (const report of reports) {
    const [subject = ""] = values(report, "subject");
    const [issuer = ""] = values(report, "issuer");
    const [sha256 = ""] = values(report, "cert-sha256");
    if (!subject && !issuer && !sha256) continue;
    const key = sha256 || `${subject}\n${issuer}`;
    const known = found.get(key) || {
      subject,
      issuer,
      sha256,
      names: new Set(),
      ips: new Set(),
      ports: new Set(),
      logs: new Set(),
      valid: validity(report)[0]?.[0],
      key: certificateKey(report)[0]?.[0],
      ja4x: values(report, "ja4x-hash")[0],
    };
    for (const name of values(report, "host", "cert-dns-name")) known.names.add(name);
    for (const address of values(report, "ip", "cert-ip-address")) known.ips.add(address);
    for (const port of values(report, "port-tcp", "")) known.ports.add(port);
    for (const log of values(report, "ct-log")) known.logs.add(log);
    known.first = !known.first || report.date < known.first ? report.date : known.first;
    known.last = !known.last || report.date > known.last ? report.date : known.last;
    found.set(key, known);
  }
  return [...found.values()];
}

/** A fingerprint's link, in the monospace face fingerprints are read in. */
function hash(link) {
  link.classList.add("hash");
  return link;
}

/** One certificate: each field a search (``dataset``: where the search goes). */
function certificateCard(cert, dataset = "") {
  const find = (type, value, context = null) =>
    searchLink({ expression: termFor(type, value, context), dataset }, value);
  const list = (type, found, context) => [...found].map((value) => find(type, value, context));
  const selfSigned = cert.subject && cert.subject === cert.issuer;
  const rows = [
    ["subject", cert.subject && find("subject", cert.subject)],
    ["issuer", cert.issuer && [find("issuer", cert.issuer), selfSigned && " (self-signed)"]],
    ["DNS names", list("host", cert.names, "cert-dns-name")],
    ["IP addresses", list("ip", cert.ips, "cert-ip-address")],
    ["valid", cert.valid],
    ["key", cert.key],
    ["SHA-256", cert.sha256 && hash(find("cert-sha256", cert.sha256))],
    ["JA4X", cert.ja4x && hash(find("ja4x-hash", cert.ja4x))],
    ["ports", [...cert.ports].join(", ")],
    ["CT logs", [...cert.logs].join(", ")],
    ["seen", cert.first === cert.last ? cert.first : `${cert.first} to ${cert.last}`],
  ].filter(([, value]) => [value].flat().filter(Boolean).length);
  return el(
    "dl",
    { className: "certificate" },
    rows.map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
}

function showCertificates(box, certificates, dataset, none) {
  box.replaceChildren(
    ...(certificates.length
      ? certificates.map((cert) => certificateCard(cert, dataset))
      : [el("p", { className: "empty" }, none)]),
  );
}

// -- favicons ------------------------------------------------------------------------------------------------

/** One favicon (the newest fetch of its URL): the URL, and its Shodan hash as a search of the services that
 *  serve it (``obj-murmur3;favicon=``, Shodan's ``http.favicon.hash:``), as on the report cards. */
function faviconCard(report) {
  const [murmur3] = values(report, "obj-murmur3", "favicon");
  const [sha256] = values(report, "obj-sha256", "favicon");
  const rows = [
    ["URL", values(report, "url", "")[0]],
    ["hash", murmur3 && hash(searchLink({ expression: termFor("obj-murmur3", murmur3, "favicon") }, murmur3))],
    ["SHA-256", sha256 && el("span", { className: "hash" }, sha256)],
    ["port", values(report, "port-tcp", "")[0]],
    ["seen", report.date],
  ].filter(([, value]) => value);
  return el(
    "dl",
    { className: "favicon" },
    rows.map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
}

function showFavicons(favicons) {
  $("favicons").replaceChildren(
    ...(favicons.length ? favicons.map(faviconCard) : [el("p", { className: "empty" }, "No favicon fetched from it.")]),
  );
}

/** The domains whose mail exchanger is one of the IP's names (its forward names, then its PTR names): one
 *  domain/mx search for the first MAIL_NAMES of them, each matched exactly. */
async function mailFor(names) {
  const asked = [...new Set(names)].slice(0, MAIL_NAMES);
  if (!asked.length) return [];
  const expression = asked.map((name) => termFor("host", name, "dns-mx")).join(" or ");
  const body = await api(DATASETS.mx.path, query({ expression, most_recent: "true" }));
  return common(body?.results || [], "host", "");
}

// -- the page ------------------------------------------------------------------------------------------------

/** Every page of a search (at most ``pages`` of them), concatenated. */
async function allPages(path, params, pages = 10) {
  const first = await api(path, params);
  if (!first) return [];
  const rest = await inTurn(
    Array.from({ length: Math.min(first.pages, pages) - 1 }, (_, index) => index + 1),
    (page) => api(path, query({ ...Object.fromEntries(params), page })),
  );
  return [first, ...rest].flatMap((body) => body?.results || []);
}

async function load() {
  const facts = $("host-facts");
  try {
    const [latest, counts, all, rdns, ct, registration, fdns, favicons] = await inTurn(
      [
        () => allPages(DATASETS.protocols.path, query({ ip, most_recent: "true" })),
        () => api(DATASETS.protocols.path, query({ ip, summarize: "port-tcp", summary_limit: PORT_COUNTS_LIMIT })),
        () => api(DATASETS.protocols.path, query({ ip })),
        () => api(DATASETS.rdns.path, query({ ip })),
        () => api(DATASETS.ct.path, query({ ip, indirect: "true" })),
        () => api("/v1/ip/summary", query({ ip })),
        () => api(DATASETS.fdns.path, query({ ip, most_recent: "true" })),
        () => allPages(DATASETS.favicons.path, query({ ip, most_recent: "true" })),
      ],
      (call) => call(),
    );
    const ptrNames = common(rdns?.results || [], "host", "dns-ptr");
    const forwardNames = common(fdns?.results || [], "host", "");
    const known = { registration, forwardNames, mailFor: await mailFor([...forwardNames, ...ptrNames]) };
    showFavicons(favicons);
    showCertificates(
      $("ct-certificates"),
      certificatesOf(ct?.results || []),
      "ct",
      "No certificate in the CT logs names it.",
    );
    if (!all) {
      const honeypot = await portsOverTime(iso(Date.now() - 29 * DAY), iso(Date.now()));
      const portsSeen = Boolean($("ports").querySelector("table"));
      const logged = Boolean(ct?.results?.length);
      const others = [registration, forwardNames.length, known.mailFor.length, favicons.length];
      if (!ptrNames.length && !logged && !portsSeen && !others.some(Boolean)) {
        nothingKnown();
        return;
      }
      facts.textContent = "No service reported for this IP. What else is known:";
      showSummary([], ptrNames, honeypot, known);
      // no service report: no service to have opened, closed or changed, no certificate it served
      for (const id of ["services", "changes", "certificates"]) section(id).hidden = true;
      section("ports").hidden = !portsSeen;
      section("favicons").hidden = !favicons.length;
      section("ct-certificates").hidden = !logged;
      $("ports-source").textContent += " The last 30 days.";
      return;
    }
    const perPort = counts?.summary.values || {};
    const portOf = (report) => Number(values(report, "port-tcp", "")[0] || 0);
    latest.sort((a, b) => portOf(a) - portOf(b));
    $("services").replaceChildren(...latest.map((report) => serviceCard(report, perPort[portOf(report)])));
    showCertificates($("certificates"), certificatesOf([...latest, ...all.results]), "", "No certificate seen.");
    const newest = all.results[0].date;
    const last = all.pages > 1 ? await api(DATASETS.protocols.path, query({ ip, page: all.pages - 1 })) : all;
    const oldest = last.results.at(-1).date;
    const capped = all.result_count > all.pages * 100; // the API pages through the newest 10,000 only
    const ports = latest.map(portOf).filter(Boolean);
    facts.textContent = [
      plural(all.result_count, "report"),
      `${capped ? "the 10,000th newest on" : "first seen"} ${oldest}`,
      `last seen ${newest}`,
      `${plural(ports.length, "port")}: ${ports.join(", ")}`,
    ].join(" · ");
    showSummary(latest, ptrNames, await portsOverTime(oldest, newest), known);
  } catch (error) {
    facts.textContent = `Error: ${error.message}`;
  }
}

/** The section that holds the element ``id``. */
const section = (id) => $(id).closest("section");

/** An address no dataset knows anything about: one line saying so, and a search of its network instead. */
function nothingKnown() {
  for (const part of $("host").querySelectorAll("section, .links")) part.hidden = true;
  $("host-facts").replaceChildren(
    el(
      "span",
      { className: "nothing" },
      `Nothing known about ${ip}`,
      " · ",
      searchLink({ ip: network }, "search its network"),
      ` (${network})`,
    ),
  );
}

const network = ip.includes(":") ? `${ip}/64` : `${ip.split(".").slice(0, 3).join(".")}.0/24`;
$("host-network").href = `/cidr/${network}`;
$("host-network").textContent = `Its network (${network})`;
const showChanges = initChanges(ip);
initPage(() => {
  load();
  showChanges();
});
load();
showChanges();
