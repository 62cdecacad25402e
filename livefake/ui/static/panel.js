// livefake control panel. Plain JavaScript, no build step. Every control goes through the same
// HTTP API that scripts use (see the README): GET /api/state, PATCH /api/settings, ...
"use strict";

// The page's own link carries the token once; the answer set a cookie, so drop it from the URL.
if (location.search.includes("token=")) history.replaceState(null, "", "/");

// Controls with their own widgets; every other setting is drawn from the schema.
const DEDICATED = new Set(["swap.face", "swap.model", "swap.reference", "swap.faces", "swap.select_point",
  "swap.enabled", "output.sinks", "source.spec"]);
const HIDDEN_SECTIONS = new Set(["source"]);
const PREVIEW_LATENCY = [];  // capture -> shown on this page, ms, one per preview frame
window.livefakePreview = { latencies: PREVIEW_LATENCY, frames: 0, lastIndex: -1 };

const $ = (id) => document.getElementById(id);
let state = null;
let schema = null;
let previewAbort = null;

function say(text, ok = false) {
  const box = $("message");
  box.textContent = text;
  box.className = ok ? "ok" : "";
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    if (body instanceof FormData) options.body = body;
    else { options.body = JSON.stringify(body); options.headers["content-type"] = "application/json"; }
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    say(data.error || `${method} ${path}: ${response.status}`);
    throw new Error(data.error || String(response.status));
  }
  return data;
}

async function patch(changes) {
  try {
    const answer = await api("PATCH", "/api/settings", changes);
    say("applied", true);
    if (state) { state.settings = answer.settings; showSettings(); }
  } catch (error) {
    await refresh();  // the server kept its settings: put the controls back
  }
}

// ---- settings drawn from the schema ----------------------------------------------------------

function settingId(section, name) { return `setting-${section || "top"}-${name}`; }

function makeControl(section, name, spec) {
  const id = settingId(section, name);
  const row = document.createElement("div");
  row.className = "setting";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = name.replaceAll("_", " ");
  if (spec.help) label.title = spec.help;
  row.append(label);
  const send = (value) => patch(section ? { [section]: { [name]: value } } : { [name]: value });
  let input;
  if (spec.kind === "bool") {
    input = Object.assign(document.createElement("input"), { type: "checkbox" });
    input.addEventListener("change", () => send(input.checked));
  } else if (spec.kind === "choice") {
    input = document.createElement("select");
    for (const choice of spec.choices) input.append(new Option(String(choice), String(choice)));
    input.addEventListener("change", () => send(input.value));
  } else if ((spec.kind === "int" || spec.kind === "float") && spec.range) {
    input = Object.assign(document.createElement("input"), { type: "range", min: spec.range[0], max: spec.range[1] });
    input.step = spec.kind === "int" ? 1 : "any";
    input.addEventListener("input", () => { row.querySelector("output").value = formatNumber(Number(input.value)); });
    input.addEventListener("change", () => send(spec.kind === "int" ? parseInt(input.value, 10) : roundFloat(Number(input.value))));
  } else if (spec.kind === "int" || spec.kind === "float") {
    input = Object.assign(document.createElement("input"), { type: "number", step: spec.kind === "int" ? 1 : "any" });
    input.addEventListener("change", () => send(input.value === "" && spec.optional ? null : Number(input.value)));
  } else if (spec.kind === "pair") {
    input = Object.assign(document.createElement("input"), { type: "text", placeholder: "x, y" });
    input.addEventListener("change", () => send(input.value.split(",").map(Number)));
  } else if (spec.kind === "list") {
    input = Object.assign(document.createElement("input"), { type: "text", placeholder: "a, b" });
    input.addEventListener("change", () => send(input.value.split(",").map((v) => v.trim()).filter(Boolean)));
  } else {
    input = Object.assign(document.createElement("input"), { type: "text" });
    input.addEventListener("change", () => send(input.value === "" && spec.optional ? null : input.value));
  }
  input.id = id;
  input.dataset.kind = spec.kind;
  if (spec.live === false) { input.disabled = true; row.classList.add("off"); row.title = "fixed while running"; }
  row.append(input, document.createElement("output"));
  return row;
}

function drawSettings() {
  const box = $("settings");
  box.replaceChildren();
  for (const [section, fields] of Object.entries(schema)) {
    if (HIDDEN_SECTIONS.has(section)) continue;
    const set = document.createElement("fieldset");
    set.id = `section-${section || "top"}`;
    set.append(Object.assign(document.createElement("legend"), { textContent: section || "run" }));
    for (const [name, spec] of Object.entries(fields)) {
      if (!DEDICATED.has(`${section}.${name}`)) set.append(makeControl(section, name, spec));
    }
    box.append(set);
  }
}

function formatNumber(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

function roundFloat(value) { return Number(value.toPrecision(4)); }

function showValue(input, value) {
  if (document.activeElement === input && input.type !== "checkbox") return;  // the user is editing it
  const kind = input.dataset.kind;
  if (kind === "bool") input.checked = Boolean(value);
  else if (Array.isArray(value)) input.value = value.join(", ");
  else input.value = value === null || value === undefined ? "" : String(value);
  const shown = input.parentElement.querySelector("output");
  if (shown) shown.value = input.type !== "range" ? "" : value === null || value === undefined ? "auto" : formatNumber(value);
}

function showSettings() {
  const settings = state.settings;
  for (const [section, fields] of Object.entries(schema)) {
    const values = section ? settings[section] || {} : settings;
    for (const name of Object.keys(fields)) {
      const input = $(settingId(section, name));
      if (input) showValue(input, values[name]);
    }
  }
  const swap = settings.swap || {};
  const on = swap.enabled !== false;
  $("swap-toggle").textContent = on ? "swap: on" : "swap: off";
  $("swap-toggle").classList.toggle("on", on);
  $("face-name").textContent = swap.model ? `model ${baseName(swap.model)}` : `photo ${baseName(swap.face || "")}`;
  showOutputs(settings.output || {});
}

function baseName(path) { return String(path).split(/[\\/]/).pop(); }

// ---- face, outputs, source, doctor -------------------------------------------------------------

function showLists() {
  const photos = $("photo-list");
  const face = (state.settings.swap || {}).face;
  const names = state.photos.map(baseName);
  if (photos.options.length !== names.length || [...photos.options].some((o, i) => o.value !== state.photos[i])) {
    photos.replaceChildren(...state.photos.map((path, i) => new Option(names[i], path)));
  }
  if (face && state.photos.includes(face)) photos.value = face;
  const models = $("model-list");
  if (models.options.length !== state.models.length + 1) {
    models.replaceChildren(new Option("(photo swap)", ""), ...state.models.map((p) => new Option(baseName(p), p)));
  }
  models.value = (state.settings.swap || {}).model || "";
  const each = $("each-photos");
  if (each.options.length !== state.photos.length || [...each.options].some((o, i) => o.value !== state.photos[i])) {
    each.replaceChildren(...state.photos.map((path, i) => new Option(names[i], path)));
  }
  if (document.activeElement !== each) {
    const chosen = new Set((state.settings.swap || {}).faces || []);
    for (const option of each.options) option.selected = chosen.has(option.value);
  }
  const source = state.source;
  const granted = source.granted ? `${source.granted.width}×${source.granted.height} @ ${source.granted.fps.toFixed(1)} fps` : "not started";
  $("source-info").textContent = `${source.spec}: ${granted}` + (source.cameras.length ? ` · cameras: ${source.cameras.join(", ")}` : "");
}

function showOutputs(output) {
  const sinks = output.sinks || [];
  $("out-vcam").checked = sinks.includes("vcam");
  const url = $("out-stream-url").value.trim();
  $("out-stream").checked = sinks.some((s) => /^(udp|tcp|rtmp):\/\//.test(s) && (s === url || document.activeElement !== $("out-stream-url")));
  const stream = sinks.find((s) => /^(udp|tcp|rtmp):\/\//.test(s));
  if (stream && document.activeElement !== $("out-stream-url")) $("out-stream-url").value = stream;
  $("sink-list").textContent = `sinks: ${sinks.join(", ") || "none"}`;
  const recording = state && state.recording;
  $("record").textContent = recording ? `■ stop (${baseName(recording)})` : "● record";
  $("record").classList.toggle("recording", Boolean(recording));
}

function setSink(spec, on) {
  const sinks = ((state.settings.output || {}).sinks || []).filter((s) => s !== spec);
  patch({ output: { sinks: on ? [...sinks, spec] : sinks } });
}

async function toggleRecording() {
  try {
    if (state.recording) await api("DELETE", "/api/record", {});
    else await api("POST", "/api/record", { file: $("record-name").value.trim() });
    say(state.recording ? "recording stopped" : "recording", true);
  } catch (error) { /* said */ }
  await refresh();
}

async function uploadPhoto(file, use) {
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    await api("POST", `/api/photos?use=${use}`, form);
    say(`${use === "reference" ? "reference" : "face"}: ${file.name}`, true);
  } catch (error) { /* said */ }
  await refresh();
}

async function stepPhoto(step) {
  try { await api("POST", "/api/photos/step", { step }); } catch (error) { /* said */ }
  await refresh();
}

async function showDoctor() {
  const { findings } = await api("GET", "/api/doctor");
  $("doctor").replaceChildren(...findings.map((f) => {
    const item = document.createElement("li");
    item.className = f.ok ? "ok" : "miss";
    item.textContent = `${f.ok ? "ok" : "missing"} · ${f.name}: ${f.summary}` + (!f.ok && f.fix ? ` — fix: ${f.fix}` : "");
    return item;
  }));
}

// ---- preview: MJPEG read with fetch, so each picture's capture time can be read ---------------

function view() { return document.querySelector("input[name=view]:checked").value; }

function findSequence(buffer, bytes, from) {
  outer: for (let i = from; i <= buffer.length - bytes.length; i++) {
    for (let j = 0; j < bytes.length; j++) if (buffer[i + j] !== bytes[j]) continue outer;
    return i;
  }
  return -1;
}

async function runPreview() {
  if (previewAbort) previewAbort.abort();
  previewAbort = new AbortController();
  const canvas = $("preview");
  const context = canvas.getContext("2d");
  const blank = new TextEncoder().encode("\r\n\r\n");
  let buffer = new Uint8Array(0);
  try {
    const response = await fetch(`/api/preview.mjpeg?view=${view()}`, { signal: previewAbort.signal });
    const reader = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(buffer.length + value.length);
      joined.set(buffer); joined.set(value, buffer.length); buffer = joined;
      for (;;) {
        const end = findSequence(buffer, blank, 0);
        if (end < 0) break;
        const head = new TextDecoder().decode(buffer.subarray(0, end));
        const field = (name) => { const m = head.match(new RegExp(`${name}: *([0-9.]+)`, "i")); return m ? Number(m[1]) : NaN; };
        const length = field("Content-Length");
        if (buffer.length < end + 4 + length) break;
        const jpeg = buffer.slice(end + 4, end + 4 + length);
        buffer = buffer.slice(end + 4 + length);
        const bitmap = await createImageBitmap(new Blob([jpeg], { type: "image/jpeg" }));
        if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
          canvas.width = bitmap.width; canvas.height = bitmap.height;
        }
        context.drawImage(bitmap, 0, 0);
        bitmap.close();
        const latency = Date.now() - field("X-Capture-Ms");
        PREVIEW_LATENCY.push(latency);
        if (PREVIEW_LATENCY.length > 2000) PREVIEW_LATENCY.shift();
        window.livefakePreview.frames += 1;
        window.livefakePreview.lastIndex = field("X-Frame-Index");
        $("preview-info").textContent = `frame ${field("X-Frame-Index")} · ${latency.toFixed(0)} ms after capture`;
      }
    }
  } catch (error) {
    if (error.name === "AbortError") return;
  }
  setTimeout(runPreview, 1000);  // the server went away or the stream broke: try again
}

// ---- latency graph ------------------------------------------------------------------------------

const HISTORY = 120;  // points: 2 minutes at one a second
let graph = null;
let graphStages = "";
const series = { t: [], p50: [], p95: [], fps: [], preview: [], stages: {} };

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function updateGraph(recent) {
  const stages = Object.keys(recent.stages_ms || {}).sort();
  series.t.push(Date.now() / 1000);
  series.p50.push(recent.latency_p50_ms);
  series.p95.push(recent.latency_p95_ms);
  series.fps.push(recent.fps);
  series.preview.push(median(PREVIEW_LATENCY.slice(-30)));
  for (const name of stages) (series.stages[name] ||= new Array(series.t.length - 1).fill(null)).push(recent.stages_ms[name]);
  for (const name of Object.keys(series.stages)) if (!stages.includes(name)) series.stages[name].push(null);
  for (const list of [series.t, series.p50, series.p95, series.fps, series.preview, ...Object.values(series.stages)]) {
    while (list.length > HISTORY) list.shift();
  }
  const names = Object.keys(series.stages).sort();
  if (!graph || graphStages !== names.join(",")) makeGraph(names);
  graph.setData([series.t, series.p50, series.p95, series.preview, ...names.map((n) => series.stages[n]), series.fps]);
}

function makeGraph(stageNames) {
  if (graph) graph.destroy();
  graphStages = stageNames.join(",");
  const colours = ["#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const ms = (label, stroke, dash) => ({ label, stroke, dash, width: 1.5, scale: "ms", value: (u, v) => v == null ? "–" : `${v.toFixed(1)} ms` });
  graph = new uPlot({
    width: 640, height: 220,
    scales: { x: { time: true }, ms: { auto: true }, fps: { auto: true } },
    axes: [{}, { scale: "ms", label: "ms" }, { scale: "fps", side: 1, label: "fps", grid: { show: false } }],
    series: [
      {},
      ms("capture→sink p50", "#1f77b4"),
      ms("capture→sink p95", "#ff7f0e", [4, 4]),
      ms("preview shown", "#2ca02c"),
      ...stageNames.map((name, i) => ms(name, colours[i % colours.length], [2, 3])),
      { label: "fps", stroke: "#000", scale: "fps", width: 1, value: (u, v) => v == null ? "–" : v.toFixed(1) },
    ],
  }, [[], [], [], [], ...stageNames.map(() => []), []], $("graph"));
}

// ---- state polling, shortcuts, wiring -------------------------------------------------------------

async function refresh() {
  try {
    state = await api("GET", "/api/state");
  } catch (error) { $("status").textContent = "not connected"; return; }
  showSettings();
  showLists();
  const recent = state.recent;
  const stats = state.stats;
  const p = (v) => v == null ? "–" : v.toFixed(1);
  $("status").textContent = `${p(recent.fps)} fps · capture→sink p50 ${p(recent.latency_p50_ms)} ms, p95 ${p(recent.latency_p95_ms)} ms · ${stats.dropped} dropped · frame ${recent.last_index ?? "–"}`;
  updateGraph(recent);
}

function toggleSwap() {
  const on = (state.settings.swap || {}).enabled !== false;
  patch({ swap: { enabled: !on } });
}

function onKey(event) {
  const tag = event.target.tagName;
  if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === " ") { event.preventDefault(); toggleSwap(); }
  else if (event.key === "ArrowLeft") { event.preventDefault(); stepPhoto(-1); }
  else if (event.key === "ArrowRight") { event.preventDefault(); stepPhoto(1); }
  else if (event.key === "r" || event.key === "R") { event.preventDefault(); toggleRecording(); }
}

function wire() {
  $("swap-toggle").addEventListener("click", toggleSwap);
  $("photo-prev").addEventListener("click", () => stepPhoto(-1));
  $("photo-next").addEventListener("click", () => stepPhoto(1));
  $("photo-list").addEventListener("change", (e) => patch({ swap: { face: e.target.value, model: null } }));
  $("model-list").addEventListener("change", (e) => patch({ swap: e.target.value ? { model: e.target.value, face: null } : { model: null } }));
  $("photo-upload").addEventListener("change", (e) => { if (e.target.files[0]) uploadPhoto(e.target.files[0], "face"); e.target.value = ""; });
  $("reference-upload").addEventListener("change", (e) => { if (e.target.files[0]) uploadPhoto(e.target.files[0], "reference"); e.target.value = ""; });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer.files[0]) uploadPhoto(e.dataTransfer.files[0], "face");
  });
  $("each-photos").addEventListener("change", (e) => patch({ swap: { faces: [...e.target.selectedOptions].map((o) => o.value) } }));
  $("out-vcam").addEventListener("change", (e) => setSink("vcam", e.target.checked));
  $("out-stream").addEventListener("change", (e) => setSink($("out-stream-url").value.trim(), e.target.checked));
  $("record").addEventListener("click", toggleRecording);
  for (const radio of document.querySelectorAll("input[name=view]")) radio.addEventListener("change", runPreview);
  $("preview").addEventListener("click", (e) => {
    const box = e.target.getBoundingClientRect();
    api("POST", "/api/click", { x: (e.clientX - box.left) / box.width, y: (e.clientY - box.top) / box.height })
      .then(() => say("swapping only the clicked face", true), () => {});
  });
  document.addEventListener("keydown", onKey);
}

async function start() {
  wire();
  schema = await api("GET", "/api/schema");
  drawSettings();
  await refresh();
  runPreview();
  showDoctor().catch(() => {});
  setInterval(refresh, 1000);
}

start();
