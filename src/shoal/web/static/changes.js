// The host page's changes: what opened, closed and changed on the address since a day (30 days ago unless the
// visitor picks another), from GET /v1/scan/protocols/diff (a Shoal extension), each change old → new.

import { api, el, query } from "./shoal.js";

const DAY = 86_400_000;
const DEFAULT_DAYS = 30;

const where = (service) => `${service.port}${service.transport === "udp" ? "/udp" : ""}`;
const shown = (value) => (value === null ? "(none)" : value);

function changeList(service) {
  return el(
    "ul",
    {},
    service.changes.map((change) =>
      el("li", {}, el("strong", {}, change.field), ": ", el("del", {}, shown(change.old)), " → ", el("ins", {}, shown(change.new))),
    ),
  );
}

/** The diff's three lists, each service a line. */
export function changesOf(body) {
  const items = [
    ...body.opened.map((s) => el("li", { className: "opened" }, `opened ${where(s)} (first seen ${s.report.date})`)),
    ...body.closed.map((s) => el("li", { className: "closed" }, `closed ${where(s)} (last seen ${s.last_seen})`)),
    ...body.changed.map((s) =>
      el("li", { className: "changed" }, `changed ${where(s)} (${s.old.date} → ${s.new.date})`, changeList(s)),
    ),
  ];
  return el("ul", { className: "changes-list" }, items);
}

/** Wire the form of the changes section of the host page of ``ip``, and show the default span. */
export function initChanges(ip) {
  const since = document.getElementById("changes-since");
  const box = document.getElementById("changes");
  since.value = new Date(Date.now() - DEFAULT_DAYS * DAY).toISOString().slice(0, 10);
  const show = async () => {
    box.replaceChildren(el("p", { className: "note" }, "Loading…"));
    try {
      const body = await api("/v1/scan/protocols/diff", query({ ip, since: since.value }));
      box.replaceChildren(body ? changesOf(body) : el("p", { className: "empty" }, `Nothing changed since ${since.value}.`));
    } catch (error) {
      box.replaceChildren(el("p", { className: "empty" }, `Error: ${error.message}`));
    }
  };
  document.getElementById("changes-form").addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  return show;
}
