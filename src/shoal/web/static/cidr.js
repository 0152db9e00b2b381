// The network page: GET /v1/scan/ipports as a heat map of IPs × ports (observation counts per cell).

import { $, api, el, heat, initPage, plural, query, showProblem } from "./shoal.js";

const MIN_COLUMNS = 4;
const IP_COLUMN_PX = 150; // the widest IPv4 address, in the table's font
const PORT_COLUMN_PX = 38; // a five-digit port, in the table's font
const OTHER_COLUMN_PX = 130;
const OTHERS_LISTED = 4;
const ROWS_AT_ONCE = 256;
const REDRAW_MS = 200;
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

/** How many port columns fit beside the IP column at the heat map's current width. */
function columnsThatFit() {
  const width = $("heatmap").clientWidth || document.documentElement.clientWidth;
  return Math.max(MIN_COLUMNS, Math.floor((width - IP_COLUMN_PX - OTHER_COLUMN_PX) / PORT_COLUMN_PX));
}

/** Draw the heat map with ``fit`` port columns; if it came out wider than its box (the estimate of a column's
 *  width was short), draw it once more with as many columns as the measured widths allow. */
function draw(answer, params, fit = columnsThatFit(), measured = false) {
  const grid = Object.fromEntries(Object.entries(answer?.values || {}).map(([ip, ports]) => [ip, ports.values]));
  const other = answer?.other || 0;
  const ips = Object.keys(grid).sort(byAddress);
  const spread = {};
  for (const ports of Object.values(grid))
    for (const port of Object.keys(ports)) spread[port] = (spread[port] || 0) + 1;
  const network = params.get("ip");
  const recent = !params.get("from"); // the API's default window
  const heatmap = $("heatmap");
  if (!ips.length) {
    const days = recent ? " in the last 30 days (set From for earlier days)" : "";
    $("network-facts").textContent = `No open port seen in ${network}${days}.`;
    heatmap.replaceChildren();
    heatmap.hidden = true;
    return;
  }
  heatmap.hidden = false;
  const shown = Object.keys(spread)
    .sort((a, b) => spread[b] - spread[a] || a - b)
    .slice(0, fit)
    .sort((a, b) => a - b);
  const visible = new Set(shown);
  const max = Math.max(1, ...Object.values(grid).flatMap(Object.values));
  const hidden = Object.keys(spread).length - shown.length;
  const facts = [plural(ips.length, "IP"), `${plural(Object.keys(spread).length, "port")} open`];
  if (hidden)
    facts.push(`columns for the ${plural(shown.length, "port")} open on most IPs, the others in the last column`);
  if (other) facts.push(`${plural(other, "more IP")} not listed (split the network)`);
  if (recent) facts.push("the last 30 days (set From for earlier days)");
  $("network-facts").textContent = facts.join(" · ");
  const head = el(
    "tr",
    {},
    el("th", { scope: "col" }, "IP"),
    shown.map((port) => el("th", { scope: "col" }, port)),
    hidden ? el("th", { scope: "col", className: "others" }, "other ports") : null,
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
    if (hidden) {
      const rest = Object.keys(grid[address])
        .filter((port) => !visible.has(port))
        .sort((a, b) => a - b);
      const cell = tr.insertCell();
      cell.className = "others";
      cell.textContent =
        rest.length > OTHERS_LISTED
          ? `${rest.slice(0, OTHERS_LISTED).join(", ")}, … ${rest.length - OTHERS_LISTED} more`
          : rest.join(", ");
    }
    return tr;
  };
  // Up to 1,024 rows: plain cells with one click handler, drawn ROWS_AT_ONCE rows at a time, keep the page
  // fast; the keyboard path is each IP's link to its host page.
  const body = el("tbody");
  const more = el("button", { type: "button", id: "more-ips" });
  const drawMore = () => {
    const drawn = body.rows.length;
    body.append(...ips.slice(drawn, drawn + ROWS_AT_ONCE).map(row));
    more.textContent = `Show ${plural(Math.min(ROWS_AT_ONCE, ips.length - body.rows.length), "more IP")}`;
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
  const scroll = el("div", { className: "heat-scroll" }, table);
  heatmap.replaceChildren(scroll, more);
  const excess = scroll.scrollWidth - scroll.clientWidth;
  if (excess > 0 && !measured && shown.length > MIN_COLUMNS) {
    const cells = [...head.cells].slice(1, 1 + shown.length);
    const column = cells.reduce((sum, cell) => sum + cell.offsetWidth, 0) / cells.length;
    draw(answer, params, Math.max(MIN_COLUMNS, shown.length - Math.ceil(excess / column)), true);
  }
}

let drawn = null; // [answer, params] of the heat map on screen, to draw again when the width changes

async function show() {
  const network = $("cidr").value.trim();
  if (!network) return;
  const params = query({ ip: network, from: $("from").value, to: $("to").value });
  $("network-error").hidden = true;
  $("network-facts").textContent = "Loading…";
  try {
    drawn = [await api("/v1/scan/ipports", params), params];
    draw(...drawn);
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
let resizing = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => drawn && draw(...drawn), REDRAW_MS);
});
initPage(show);
show();
