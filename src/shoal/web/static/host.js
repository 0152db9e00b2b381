// The host page: every report of one IP as a timeline, its open ports over time (GET /v1/scan/ports once per
// day, week or longer window), and the certificates its reports carry.

import { $, api, count, el, heat, initPage, inTurn, query, reportCard, searchLink, values } from "./shoal.js";

const ip = $("host").dataset.ip;
const DAY = 86_400_000;
const MAX_COLUMNS = 30;
const certificates = new Map();
let nextPage = 0;

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
  $("ports-source").textContent = answers.some((body) => body?.honeypot)
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
}

function noteCertificate(report) {
  const [subject = ""] = values(report, "subject");
  const [issuer = ""] = values(report, "issuer");
  const [sha256 = ""] = values(report, "cert-sha256");
  if (!subject && !issuer && !sha256) return;
  const key = sha256 || `${subject}\n${issuer}`;
  const known = certificates.get(key) || {
    subject,
    issuer,
    sha256,
    names: new Set(),
    ips: new Set(),
    ports: new Set(),
  };
  for (const name of values(report, "host", "cert-dns-name")) known.names.add(name);
  for (const address of values(report, "ip", "cert-ip-address")) known.ips.add(address);
  for (const port of values(report, "port-tcp", "")) known.ports.add(port);
  known.first = !known.first || report.date < known.first ? report.date : known.first;
  known.last = !known.last || report.date > known.last ? report.date : known.last;
  certificates.set(key, known);
}

function showCertificates() {
  const cards = [...certificates.values()].map((cert) => {
    const rows = [
      ["subject", cert.subject],
      ["issuer", cert.subject && cert.subject === cert.issuer ? `${cert.issuer} (self-signed)` : cert.issuer],
      ["DNS names", [...cert.names].join(", ")],
      ["IP addresses", [...cert.ips].join(", ")],
      ["SHA-256", cert.sha256],
      ["ports", [...cert.ports].join(", ")],
      ["seen", cert.first === cert.last ? cert.first : `${cert.first} to ${cert.last}`],
    ].filter(([, value]) => value);
    return el(
      "dl",
      { className: "certificate" },
      rows.map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
    );
  });
  $("certificates").replaceChildren(
    ...(cards.length ? cards : [el("p", { className: "empty" }, "No certificate seen.")]),
  );
}

function addToTimeline(reports) {
  const timeline = $("timeline");
  for (const report of reports) {
    let day = timeline.lastElementChild;
    if (day?.dataset.date !== report.date) {
      day = el("li", { "data-date": report.date }, el("h3", {}, el("time", { datetime: report.date }, report.date)));
      timeline.append(day);
    }
    day.append(reportCard(report));
    noteCertificate(report);
  }
  showCertificates();
}

async function loadPage() {
  const body = await api("/v1/scan/protocols", query({ ip, page: nextPage }));
  nextPage += 1;
  addToTimeline(body?.results || []);
  $("more").hidden = nextPage >= (body?.pages || 0);
  return body;
}

async function load() {
  const facts = $("host-facts");
  certificates.clear();
  nextPage = 0;
  $("timeline").replaceChildren();
  try {
    const first = await loadPage();
    if (!first) {
      facts.textContent = "No reports for this IP; open ports in the last 30 days:";
      await portsOverTime(iso(Date.now() - 29 * DAY), iso(Date.now()));
      return;
    }
    const newest = first.results[0].date;
    const last = first.pages > 1 ? await api("/v1/scan/protocols", query({ ip, page: first.pages - 1 })) : first;
    const oldest = last.results.at(-1).date;
    const capped = first.result_count > first.pages * 100; // the API pages through the newest 10,000 only
    const ports = new Set(first.results.filter((r) => r.date === newest).flatMap((r) => values(r, "port-tcp", "")));
    facts.textContent = [
      `${count(first.result_count)} reports`,
      `${capped ? "the 10,000th newest on" : "first seen"} ${oldest}`,
      `last seen ${newest}`,
      `ports on ${newest}: ${[...ports].join(", ")}`,
    ].join(" · ");
    await portsOverTime(oldest, newest);
  } catch (error) {
    facts.textContent = `Error: ${error.message}`;
  }
}

const network = ip.includes(":") ? `${ip}/64` : `${ip.split(".").slice(0, 3).join(".")}.0/24`;
$("host-network").href = `/cidr/${network}`;
$("host-network").textContent = `Its network (${network})`;
$("more").addEventListener("click", () =>
  loadPage().catch((error) => ($("host-facts").textContent = `Error: ${error.message}`)),
);
initPage(load);
load();
