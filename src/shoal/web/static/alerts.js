// The alerts page: the token's alerts (GET /v1/alerts), a form to make one (POST /v1/alerts; "Watch this search"
// on the search page opens it with the search filled in), and per alert a test event, its deliveries, delete.

import { $, DATASETS, api, el, initPage, plural, query, showProblem } from "./shoal.js";

const TRIGGERS = ["new", "changed", "gone"];

function fillFromUrl() {
  const params = new URLSearchParams(location.search);
  $("alert-query").value = params.get("query") || "";
  $("alert-ip").value = params.get("ip") || "";
  if (DATASETS[params.get("dataset")]) $("alert-dataset").value = params.get("dataset");
}

const path = (alert) => `/v1/alerts/${encodeURIComponent(alert.id)}`;

function delivery(one) {
  const outcome = one.outcome ? ` · ${one.outcome}` : "";
  return el("li", {}, `${one.event} · ${plural(one.services, "service")} · ${one.status} · `,
    `${plural(one.attempts, "attempt")}${outcome}`);
}

function card(alert) {
  const state = el("span", { role: "status" });
  const deliveries = el("ul");
  const history = el("details", {}, el("summary", {}, "Deliveries"), deliveries);
  history.addEventListener("toggle", async () => {
    if (!history.open) return;
    try {
      const shown = await api(path(alert));
      deliveries.replaceChildren(...shown.deliveries.map(delivery));
      if (!shown.deliveries.length) deliveries.append(el("li", {}, "None yet."));
    } catch (error) {
      deliveries.replaceChildren(el("li", {}, error.message));
    }
  });
  const test = async () => {
    try {
      await api(`${path(alert)}/test`, new URLSearchParams(), "POST");
      state.textContent = "A test event is queued.";
    } catch (error) {
      state.textContent = error.message;
    }
  };
  const remove = async () => {
    try {
      await api(path(alert), new URLSearchParams(), "DELETE");
      load();
    } catch (error) {
      state.textContent = error.message;
    }
  };
  return el(
    "article",
    { className: "card" },
    el("h2", {}, alert.name),
    el("p", {}, el("code", {}, alert.query || "every report"), ` in ${alert.dataset}`, alert.ip ? ` at ${alert.ip}` : ""),
    el("p", {}, `${alert.triggers.join(", ")} → ${alert.webhook}`, alert.signed ? " (signed)" : ""),
    el("p", {}, el("button", { type: "button", onclick: test }, "Send a test"), " ",
      el("button", { type: "button", onclick: remove }, "Delete"), " ", state),
    history,
  );
}

async function load() {
  const box = $("alerts");
  try {
    const body = await api("/v1/alerts");
    $("alerts-state").textContent = plural(body.alerts.length, "alert");
    box.replaceChildren(...body.alerts.map(card));
  } catch (error) {
    $("alerts-state").textContent = error.message;
    box.replaceChildren();
  }
}

$("alert-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("alert-error").hidden = true;
  const params = query({
    name: $("alert-name").value.trim(),
    query: $("alert-query").value.trim(),
    dataset: $("alert-dataset").value,
    ip: $("alert-ip").value.trim(),
    trigger: TRIGGERS.filter((name) => $(`trigger-${name}`).checked).join(","),
    webhook: $("alert-webhook").value.trim(),
    secret: $("alert-secret").value,
  });
  try {
    await api("/v1/alerts", params, "POST");
    $("alert-name").value = $("alert-secret").value = "";
    load();
  } catch (error) {
    showProblem($("alert-error"), error);
  }
});
fillFromUrl();
initPage(load);
load();
