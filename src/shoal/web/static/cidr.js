// The network page: GET /v1/scan/ipports as a heat map of IPs × ports (observation counts per cell).

import { $, api, count, el, heat, initPage, query, showProblem } from "./shoal.js";

const MAX_COLUMNS = 60;
const ROWS_AT_ONCE = 256;
const form = $("network");

const ipv4Key = (address) => address.split(".").reduce((n, part) => n * 256n + BigInt(part), 0n);

/** A number ordering addresses: IPv4 first, then IPv6 (keys from 2**128 up). */
function addressKey(address) {
  if (!address.includes(":")) return ipv4Key(address);
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const last = right.length ? right : left;
  if (last.at(-1)?.includes(".")) {
    const v4 = ipv4Key(last.pop());
    last.push((v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
  }
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((n, group) => n * 65536n + BigInt(`0x${group}`), 1n);
}

const byAddress = (a, b) => {
  const [x, y] = [addressKey(a), addressKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

function draw(answer, params) {
  const grid = Object.fromEntries(Object.entries(answer?.values || {}).map(([ip, ports]) => [ip, ports.values]));
  const other = answer?.other || 0;
  const ips = Object.keys(grid).sort(byAddress);
  const spread = {};
  for (const ports of Object.values(grid))
    for (const port of Object.keys(ports)) spread[port] = (spread[port] || 0) + 1;
  const shown = Object.keys(spread)
    .sort((a, b) => spread[b] - spread[a] || a - b)
    .slice(0, MAX_COLUMNS)
    .sort((a, b) => a - b);
  const max = Math.max(1, ...Object.values(grid).flatMap(Object.values));
  const hidden = Object.keys(spread).length - shown.length;
  const facts = [`${count(ips.length)} IPs with open ports`, `${count(Object.keys(spread).length)} ports`];
  if (hidden) facts.push(`the ${MAX_COLUMNS} ports open on most IPs are shown`);
  if (other) facts.push(`${count(other)} more IPs not listed (split the network)`);
  if (!params.get("from")) facts.push("the last 30 days (set From for earlier days)");
  $("network-facts").textContent = facts.join(" · ");
  if (!ips.length) {
    $("heatmap").replaceChildren(el("p", { className: "empty" }, "No open ports in this network."));
    return;
  }
  const head = el(
    "tr",
    {},
    el("th", { scope: "col" }, "IP"),
    shown.map((port) => el("th", { scope: "col" }, port)),
  );
  const row = (address) => {
    const tr = el(
      "tr",
      { "data-ip": address },
      el("th", { scope: "row" }, el("a", { href: `/host/${address}` }, address)),
    );
    for (const port of shown) {
      const cell = tr.insertCell();
      const n = grid[address][port];
      if (!n) continue;
      cell.className = `h${heat(n, max)}`;
      cell.textContent = n;
      cell.title = `${address}:${port}: ${n} observations (click to search)`;
      cell.dataset.port = port;
    }
    return tr;
  };
  // Up to 1,024 × 60 cells: plain cells with one click handler, drawn ROWS_AT_ONCE rows at a time, keep the
  // page fast; the keyboard path is each IP's link to its host page.
  const body = el("tbody");
  const more = el("button", { type: "button", id: "more-ips" });
  const drawMore = () => {
    const drawn = body.rows.length;
    body.append(...ips.slice(drawn, drawn + ROWS_AT_ONCE).map(row));
    more.textContent = `Show ${count(Math.min(ROWS_AT_ONCE, ips.length - body.rows.length))} more IPs`;
    more.hidden = body.rows.length >= ips.length;
  };
  more.addEventListener("click", drawMore);
  const table = el("table", { className: "heat clickable" }, el("thead", {}, head), body);
  table.addEventListener("click", (event) => {
    const port = event.target.dataset?.port;
    if (!port) return;
    const ip = event.target.parentElement.dataset.ip;
    const dates = { from: params.get("from"), to: params.get("to") };
    location.assign(`/?${query({ ip, expression: `port-tcp:${port}`, ...dates })}`);
  });
  drawMore();
  $("heatmap").replaceChildren(table, more);
}

async function show() {
  const network = $("cidr").value.trim();
  if (!network) return;
  const params = query({ ip: network, from: $("from").value, to: $("to").value });
  $("network-error").hidden = true;
  $("network-facts").textContent = "Loading…";
  try {
    draw(await api("/v1/scan/ipports", params), params);
  } catch (error) {
    $("network-facts").textContent = "";
    showProblem($("network-error"), error);
  }
}

const initial = new URLSearchParams(location.search);
$("from").value = initial.get("from") || "";
$("to").value = initial.get("to") || "";
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const dates = query({ from: $("from").value, to: $("to").value });
  location.assign(`/cidr/${$("cidr").value.trim()}${dates.size ? `?${dates}` : ""}`);
});
initPage(show);
show();
