// sdkit explore: sliders, live trajectories, the fan of an ensemble, checks.
// Plain JavaScript and SVG, no libraries: the page works offline.
"use strict";

const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

const state = {
  model: null, sliders: {}, scenarios: {}, scenario: null, values: {},
  baseline: null, run: null, fan: null, checks: null, variables: [],
};
const byKey = {};  // every output variable the page may draw, by its Python-safe name

// ---------------------------------------------------------------- requests
// Every request carries a growing sequence number; a newer request of the same kind
// supersedes an older one. At most one request of each kind is in flight; the newest
// waiting one is sent when it returns, and answers older than the newest sent are dropped.
const client = Math.random().toString(36).slice(2, 12);
let sequence = 0;
const newest = {}, inFlight = {}, waiting = {};

function point() {
  const base = state.scenarios[state.scenario ?? ""].values;
  const values = {};
  for (const [key, value] of Object.entries(state.values)) {
    if (value !== base[key]) values[key] = value;
  }
  return { scenario: state.scenario, values };
}

function fanOptions() {
  return { samples: Number($("samples").value), spread: Number($("spread").value) / 100, seed: 0 };
}

function ask(kind, extra, onAnswer, lane = kind) {
  const body = { client: `${client}:${lane}`, seq: ++sequence, point: point(), variables: state.variables.map((v) => v.key), ...extra };
  newest[lane] = body.seq;
  if (inFlight[lane]) { waiting[lane] = [kind, body, onAnswer, lane]; return; }
  send(kind, body, onAnswer, lane);
}

async function send(kind, body, onAnswer, lane) {
  inFlight[lane] = true;
  const started = performance.now();
  try {
    const response = await fetch(`/api/${kind}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (body.seq === newest[lane] && !answer.superseded) {
      if (answer.error) showMessage(answer.error); else { showMessage(""); onAnswer(answer, performance.now() - started); }
    }
  } catch (error) {
    showMessage(`${kind}: ${error}`);
  } finally {
    inFlight[lane] = false;
    const next = waiting[lane];
    delete waiting[lane];
    if (next) send(...next);
  }
}

function showMessage(text) { $("message").textContent = text; }

// ---------------------------------------------------------------- start-up
async function start() {
  for (;;) {
    const status = await (await fetch("/api/status")).json();
    $("bar").style.width = `${(100 * status.done) / status.steps}%`;
    $("step").textContent = status.error ? `failed: ${status.error}` : `${status.step} (${status.seconds} s)`;
    if (status.state === "ready") break;
    if (status.state === "failed") return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const model = await (await fetch("/api/model")).json();
  state.model = model;
  for (const s of model.sliders) state.sliders[s.key] = s;
  for (const s of model.scenarios) state.scenarios[s.name ?? ""] = s;
  $("title").textContent = `sdkit explore · ${model.model}`;
  document.title = `sdkit explore · ${model.model}`;
  $("save-file").value = model.model.replace(/\.mdl$/i, "") + ".explore.scenarios.toml";
  buildScenarioPicker(model);
  buildSliders(model);
  for (const v of [...model.outputs, ...model.variables]) byKey[v.key] = v;
  state.variables = model.variables;
  buildVariablePicker(model);
  buildPanels();
  $("loading").hidden = true;
  $("main").hidden = false;
  const asked = new URLSearchParams(location.search);  // e.g. ?scenario=versailles&uncertainty=1
  $("uncertainty").checked = asked.get("uncertainty") === "1";
  const wanted = asked.get("scenario");
  chooseScenario(wanted !== null && wanted in state.scenarios ? wanted || null : model.scenario);
  if (!model.has_checks) $("check-summary").textContent = "the model has no checks file (<model>.checks.toml)";
  document.body.dataset.ready = "true";
}

function buildScenarioPicker(model) {
  const select = $("scenario");
  for (const s of model.scenarios) {
    const option = new Option(s.name ?? "(model file's values)", s.name ?? "");
    option.title = s.description;
    select.add(option);
  }
  select.addEventListener("change", () => chooseScenario(select.value || null));
}

function formatNumber(value) {
  return Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}

function buildSliders(model) {
  const aside = $("sliders");
  const groups = {};
  for (const s of model.sliders) {
    if (!groups[s.group]) {
      const details = document.createElement("details");
      details.open = Object.keys(groups).length === 0;
      details.innerHTML = `<summary></summary>`;
      details.firstChild.textContent = s.group;
      aside.append(details);
      groups[s.group] = details;
    }
    const row = document.createElement("div");
    row.className = "slider";
    row.dataset.key = s.key;
    const label = document.createElement("label");
    label.textContent = s.key;
    const range = s.range_from === "model" ? "range from the model file" : "range: 0 to twice the value (the model file gives none)";
    row.title = `${s.key} [${s.units || "dimensionless"}], ${formatNumber(s.low)} to ${formatNumber(s.high)} (${range})\n${s.description}`;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: s.low, max: s.high, step: "any", id: `slider-${s.key}` });
    label.htmlFor = input.id;
    const output = document.createElement("output");
    input.addEventListener("input", () => {
      const steps = Math.round((Number(input.value) - s.low) / s.step);
      setValue(s.key, Number((s.low + steps * s.step).toPrecision(12)));
      refresh();
    });
    row.append(label, input, output);
    groups[s.group].append(row);
  }
}

function setValue(key, value) {
  state.values[key] = value;
  const row = document.querySelector(`.slider[data-key="${CSS.escape(key)}"]`);
  row.querySelector("input").value = value;
  row.querySelector("output").textContent = formatNumber(value);
  const base = state.scenarios[state.scenario ?? ""].values[key];
  row.classList.toggle("changed", value !== base);
}

function chooseScenario(name, keepValues = false) {
  state.scenario = name;
  $("scenario").value = name ?? "";
  const values = state.scenarios[name ?? ""].values;
  if (!keepValues) for (const [key, value] of Object.entries(values)) setValue(key, value);
  state.baseline = null;
  state.fan = null;
  ask("run", { point: { scenario: name, values: {} } }, (answer) => {
    state.baseline = answer;
    document.body.dataset.baselineSeq = answer.seq;
    draw();
  }, "baseline");
  refresh();
}

function askFan() {
  ask("fan", { fan: fanOptions() }, (answer, ms) => { state.fan = answer; document.body.dataset.fanSeq = answer.seq; $("latency").textContent = `fan of ${answer.samples} ${ms.toFixed(0)} ms`; draw(); });
}

function refresh() {
  ask("run", {}, (answer, ms) => { state.run = answer; document.body.dataset.runSeq = answer.seq; $("latency").textContent = `run ${ms.toFixed(0)} ms`; draw(); });
  if ($("uncertainty").checked) askFan();
  if (state.model.has_checks) ask("checks", {}, (answer) => { state.checks = answer; drawChecks(); });
  if (state.loopsAvailable !== false) ask("loops", {}, (answer) => { state.loopsAvailable = answer.available; drawLoops(answer); });
  ask("command", {}, (answer) => { $("command").textContent = answer.command; });
  drawChecksPending();
}

// ---------------------------------------------------------------- drawing
const W = 360, H = 210, M = { left: 46, right: 10, top: 22, bottom: 30 };

function buildVariablePicker(model) {
  const box = $("variable-list");
  for (const v of model.outputs) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "checkbox", value: v.key });
    input.checked = state.variables.some((chosen) => chosen.key === v.key);
    label.title = v.description;
    label.append(input, ` ${v.name}`);
    box.append(label);
  }
  box.addEventListener("change", () => {
    const checked = new Set([...box.querySelectorAll("input:checked")].map((input) => input.value));
    const kept = state.variables.filter((v) => checked.has(v.key));  // the panels stay in their order,
    const chosen = [...kept, ...[...checked].filter((key) => !kept.some((v) => v.key === key)).map((key) => byKey[key])];  // new ones last
    if (chosen.length === 0 || chosen.length > 24) { showMessage("choose 1 to 24 variables"); return; }
    state.variables = chosen;
    buildPanels();
    chooseScenario(state.scenario, true);
  });
}

function buildPanels() {
  const plots = $("plots");
  plots.replaceChildren();
  state.run = state.baseline = state.fan = null;
  for (const v of state.variables) {
    const panel = document.createElement("div");
    panel.className = "panel";
    panel.title = `${v.name} [${v.units || "dimensionless"}]\n${v.description}`;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.dataset.variable = v.key;
    panel.append(svg);
    plots.append(panel);
  }
}

function niceTicks(low, high, count) {
  const span = high - low || 1;
  const raw = span / count, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(10)));
  return ticks;
}

function yRange(arrays) {
  let low = Infinity, high = -Infinity;
  for (const values of arrays) for (const v of values) if (v !== null) { low = Math.min(low, v); high = Math.max(high, v); }
  if (!isFinite(low)) return [0, 1];
  if (low >= 0 && high <= 1) return [0, 1];
  const pad = (high - low) * 0.05 || Math.abs(high) * 0.05 || 1;
  return [low - pad, high + pad];
}

function pathOf(times, values, x, y) {
  let d = "", pen = "M";
  values.forEach((v, i) => {
    if (v === null) { pen = "M"; return; }
    d += `${pen}${x(times[i]).toFixed(2)},${y(v).toFixed(2)}`;
    pen = "L";
  });
  return d;
}

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent.append(node);
  return node;
}

function drawPanel(svg, variable) {
  const key = variable.key;
  const run = state.run, base = state.baseline, fan = $("uncertainty").checked ? state.fan : null;
  if (!run) return;
  const lines = run.series[key], labels = run.elements[key];
  const bands = fan ? fan.bands[key] : [];
  const arrays = [...lines, ...(base ? base.series[key] : []), ...bands.flatMap((b) => [b.q05, b.q95])];
  const [low, high] = yRange(arrays);
  const times = run.times, t0 = times[0], t1 = times[times.length - 1];
  const x = (t) => M.left + ((t - t0) / (t1 - t0)) * (W - M.left - M.right);
  const y = (v) => H - M.bottom - ((v - low) / (high - low)) * (H - M.top - M.bottom);
  svg.replaceChildren();
  element("text", { x: M.left, y: 14, class: "title" }, svg).textContent = `${variable.name}${variable.units && variable.units !== "Dmnl" ? ` [${variable.units}]` : ""}`;
  for (const t of niceTicks(low, high, 4)) {
    element("line", { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: "grid" }, svg);
    element("text", { x: M.left - 4, y: y(t) + 4, "text-anchor": "end" }, svg).textContent = formatNumber(t);
  }
  for (const t of niceTicks(t0, t1, 5)) {
    element("text", { x: x(t), y: H - M.bottom + 14, "text-anchor": "middle" }, svg).textContent = formatNumber(t);
  }
  element("text", { x: (M.left + W - M.right) / 2, y: H - 3, "text-anchor": "middle" }, svg).textContent = "Time";
  element("line", { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: "axis" }, svg);
  element("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }, svg);
  bands.forEach((band, i) => {
    const color = COLORS[i % COLORS.length], ft = fan.times;
    const area = (lo, hi) => pathOf(ft, hi, x, y) + pathOf([...ft].reverse(), [...lo].reverse(), x, y).replace(/^M/, "L") + "Z";
    element("path", { d: area(band.q05, band.q95), fill: color, "fill-opacity": 0.15, "data-role": "band90" }, svg);
    element("path", { d: area(band.q25, band.q75), fill: color, "fill-opacity": 0.3, "data-role": "band50" }, svg);
    element("path", { d: pathOf(ft, band.q50, x, y), class: "median", stroke: color, "data-role": "median" }, svg);
  });
  if (base) base.series[key].forEach((values) => element("path", { d: pathOf(base.times, values, x, y), class: "baseline", "data-role": "baseline" }, svg));
  lines.forEach((values, i) => {
    const path = element("path", { d: pathOf(times, values, x, y), class: "current", stroke: COLORS[i % COLORS.length], "data-role": "current", "data-element": labels[i] }, svg);
    path.dataset.values = JSON.stringify(values);
    path.dataset.times = JSON.stringify(times);
  });
  if (labels.length > 1) labels.forEach((label, i) => {
    element("text", { x: W - M.right - 4, y: M.top + 10 + 12 * i, "text-anchor": "end", style: `fill: ${COLORS[i % COLORS.length]}` }, svg).textContent = label;
  });
}

function draw() {
  for (const v of state.variables) drawPanel(document.querySelector(`svg[data-variable="${CSS.escape(v.key)}"]`), v);
  $("outcome").textContent = state.run && state.run.outcome ? `outcome: ${state.run.outcome.replaceAll("_", " ")}` : "";
}

function drawLoops(answer) {
  const box = $("loops");
  box.replaceChildren();
  const head = document.createElement("p");
  head.textContent = answer.available ? "dominant loops (share of the run):" : "loop dominance: not available for this model";
  head.title = answer.reason || "Loops That Matter: the loop with the largest |loop score| at each time step";
  box.append(head);
  const list = document.createElement("ol");
  list.id = "loop-list";
  for (const loop of answer.loops) {
    const item = document.createElement("li");
    const cycle = loop.variables.join(" → ");
    item.textContent = `${loop.polarity === "balancing" ? "B" : loop.polarity === "reinforcing" ? "R" : "?"} ${loop.name || (cycle.length > 40 ? cycle.slice(0, 39) + "…" : cycle)}: ${(100 * loop.share).toFixed(0)} %`;
    item.title = `${loop.id} (${loop.polarity}): ${cycle}`;
    list.append(item);
  }
  box.append(list);
}

function drawChecksPending() { if (state.model.has_checks) $("check-summary").textContent = "checking…"; }

function drawChecks() {
  const c = state.checks, list = $("check-list");
  const changed = Object.keys(c.set).length;
  $("check-summary").textContent = `${c.passed} passed, ${c.failed} failed, ${c.expected_to_fail} expected to fail` + (changed ? ` (with ${changed} slider value${changed > 1 ? "s" : ""} set on every scenario)` : "");
  list.replaceChildren();
  const failedFirst = [...c.checks].sort((a, b) => (a.passed || a.xfail ? 1 : 0) - (b.passed || b.xfail ? 1 : 0));
  for (const r of failedFirst) {
    const item = document.createElement("li");
    item.className = r.passed ? "pass" : r.xfail ? "xfail" : "fail";
    item.title = `${r.description}\nscenario ${r.scenario}: ${r.value === null ? "no value" : formatNumber(r.value)} ${r.op} ${r.threshold === null ? "?" : formatNumber(r.threshold)}${r.note ? `\n${r.note}` : ""}${r.xfail ? `\nexpected to fail: ${r.xfail}` : ""}`;
    item.innerHTML = `<span class="mark"></span><span class="id"></span><span class="margin"></span>`;
    item.children[0].textContent = r.passed ? "✓" : "✗";
    item.children[1].textContent = r.id;
    item.children[2].textContent = r.margin === null ? "—" : (r.margin >= 0 ? "+" : "") + formatNumber(r.margin);
    list.append(item);
  }
}

// ---------------------------------------------------------------- buttons
$("reset").addEventListener("click", () => chooseScenario(state.scenario));
$("uncertainty").addEventListener("change", () => { if ($("uncertainty").checked) askFan(); else draw(); });
for (const id of ["samples", "spread"]) $(id).addEventListener("change", () => { if ($("uncertainty").checked) askFan(); });

$("copy").addEventListener("click", () => ask("command", {}, async (answer) => {
  $("command").textContent = answer.command;
  try { await navigator.clipboard.writeText(answer.command); showMessage(""); $("latency").textContent = "command copied"; }
  catch { window.getSelection().selectAllChildren($("command")); $("latency").textContent = "command selected: copy it with Ctrl-C"; }
}));

$("save").addEventListener("click", () => $("save-dialog").showModal());
$("save-dialog").addEventListener("close", () => {
  if ($("save-dialog").returnValue !== "save") return;
  ask("save", { file: $("save-file").value, name: $("save-name").value, description: $("save-description").value },
    (answer) => { $("latency").textContent = `saved ${answer.name} in ${answer.file}; run it with: ${answer.command}`; });
});

$("export").addEventListener("click", async () => {
  const format = $("format").value;
  const body = { client, seq: ++sequence, point: point(), format, fan: $("uncertainty").checked ? fanOptions() : null, variables: state.variables.map((v) => v.key) };
  $("latency").textContent = "drawing the figure…";
  const response = await fetch("/api/figure", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) { showMessage((await response.json()).error); return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${state.model.model.replace(/\.mdl$/i, "")}-view.${format}`;
  link.click();
  $("latency").textContent = `exported ${link.download}`;
});

start();
