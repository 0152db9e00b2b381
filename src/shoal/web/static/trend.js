// The trend above the search results: the matching reports per day, week or month (the API's
// summary_interval, a Shoal extension), drawn as a small line chart in SVG. The interval follows the span of
// from/to: days up to two months, weeks up to about a year, else months (the last 12 when from is empty).

import { api, count, el } from "./shoal.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY = 86_400_000;
const WIDTH = 640;
const HEIGHT = 110;
const PAD = 8;

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

/** day, week or month for the span from..to (dates as YYYY-MM-DD; "" for none). */
export function intervalFor(from, to) {
  if (!from) return "month";
  const days = ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / DAY;
  return days <= 62 ? "day" : days <= 366 ? "week" : "month";
}

/** The chart of ``intervals`` ([{from, to, result_count}…], oldest first). */
export function lineChart(intervals, interval) {
  const max = Math.max(1, ...intervals.map((period) => period.result_count));
  const step = intervals.length > 1 ? (WIDTH - 2 * PAD) / (intervals.length - 1) : 0;
  const x = (index) => PAD + index * step;
  const y = (n) => HEIGHT - PAD - (n * (HEIGHT - 2 * PAD)) / max;
  const points = intervals.map((period, index) => `${x(index)},${y(period.result_count)}`).join(" ");
  const dots = intervals.map((period, index) =>
    svg(
      "circle",
      { cx: x(index), cy: y(period.result_count), r: 3, class: "trend-dot" },
      svg("title", {}, `${period.from} to ${period.to}: ${count(period.result_count)}`),
    ),
  );
  const first = intervals[0];
  const last = intervals[intervals.length - 1];
  const span = `${first.from} to ${last.to}`;
  const label = `Matching reports per ${interval}, ${span}`;
  const drawing = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": label, class: "trend-drawing" },
    svg("polyline", { points, class: "trend-line" }),
    ...dots,
  );
  const caption = el("figcaption", {}, el("strong", {}, `Matches per ${interval}`), ` · ${span} · highest ${count(max)}`);
  return el("figure", { className: "chart trend", "data-interval": interval }, caption, drawing);
}

/** Draw the trend of a search (its API parameters, from and to) into ``box``; hidden when it has no data. */
export async function showTrend(box, path, params, from, to) {
  const interval = intervalFor(from, to);
  try {
    const body = await api(path, new URLSearchParams([...params, ["summary_interval", interval]]));
    const intervals = body?.intervals || [];
    box.replaceChildren(intervals.length ? lineChart(intervals, interval) : "");
    box.hidden = !intervals.some((period) => period.result_count);
  } catch {
    box.hidden = true; // the results say what is wrong with the search; the chart is only beside them
  }
}
