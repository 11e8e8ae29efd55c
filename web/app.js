// The demo page: load a model, take an image (bundled sample, file picker or drop),
// upscale it with the model on its winning-ticket patches (bicubic elsewhere) and with
// bicubic, compare them side by side, and show which patches won.
// `window.ticketsrDemo` exposes the page's state for the end-to-end tests.
import init, { Upscaler, downscale, metrics, selectPatches, ticketOverlay, patchGains, prune } from '../pkg/ticketsr.js';
import { guarded, onRestart } from '../pkg/revive.js';
import { FrameReader } from '../pkg/frames.js';
import { drawChart } from './chart.js';
import { drawLayers } from './layers.js';
import { startVideoPanel } from './video.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const backendChoice = params.get('backend') ?? 'auto';
// `?tile=N` caps the tile side (input pixels): smaller tiles, more progress steps.
const tileSize = params.has('tile') ? Number(params.get('tile')) : undefined;
// `?keep=`, `?scorer=`, `?patch=` preset the winning-ticket controls.
for (const [key, id] of [['keep', 'keep'], ['scorer', 'scorer'], ['patch', 'patch-size']]) {
  if (params.has(key)) document.getElementById(id).value = params.get(key);
}
const demo = (window.ticketsrDemo = {
  status: 'loading', runs: 0, error: null, result: null, info: null, tickets: null, evaluation: null, prune: null,
  restarts: 0,
});

let original = null;      // { bytes, label } of the model picked, before any pruning
let upscaler = null;      // the model (pruned when pruning is on)
let bicubic = null;       // the bicubic baseline at the model's scale
let image = null;         // ImageData as the user gave it
let imageName = '';
let controller = null;    // AbortController of the run in flight
// What one input has already cost: its LR version, bicubic upscaling and patch scores
// (per scorer and patch size), so moving the keep slider only reruns the sparse network.
let cache = null;
let generation = 0;       // bumped by every new image or model: the cache key
let tickets = null;       // { grid, scores, selected, gains } of the result on screen
let rerun = null;         // debounce timer of slider-driven runs

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  demo.error = message;
}

function clearError() {
  $('error').hidden = true;
  demo.error = null;
}

function setStatus(text) {
  $('status').textContent = text;
}

function draw(canvas, data) {
  canvas.width = data.width;
  canvas.height = data.height;
  canvas.getContext('2d').putImageData(data, 0, 0);
}

async function decode(blob, name) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`Could not read ${name} as an image.`);
  }
  return new FrameReader().read(bitmap, bitmap.width, bitmap.height);
}

async function loadModel(bytes, label) {
  const next = await Upscaler.create(bytes, { backend: backendChoice, tileSize });
  const info = next.info();
  const nextBicubic = await Upscaler.bicubic(info.model.scale, { backend: backendChoice, tileSize });
  upscaler?.dispose();
  bicubic?.dispose();
  upscaler = next;
  bicubic = nextBicubic;
  generation += 1;
  // The learned scorer predicts the default model's gains; it is offered with that model.
  const learned = info.model.name === 'upscalerjs-psnr-small-x2';
  if (learned) {
    next.loadScorer(new Uint8Array(await (await fetch('models/ticket-scorer-x2.safetensors')).arrayBuffer()));
  }
  $('learned-option').disabled = !learned;
  if (!learned && $('scorer').value === 'learned') $('scorer').value = 'laplacian';
  demo.info = info;
  const b = info.backend;
  const badge = $('backend');
  badge.textContent = `${b.kind === 'webgpu' ? 'WebGPU' : b.kind.toUpperCase()} · ${b.adapter}`;
  badge.className = `badge ${b.kind === 'cpu' ? 'cpu' : 'gpu'}`;
  badge.title = b.fallbackReason ? `WebGPU unavailable: ${b.fallbackReason}` : 'Where the network runs';
  $('model-name').textContent = `${label} (x${info.model.scale}, ${info.parameters.toLocaleString()} parameters)`;
}

/// The pruning panel's pass, or null when it is off.
function pruneMethod() {
  const [kind, variant] = $('prune-method').value.split(':');
  const sparsity = Number($('prune-sparsity').value) / 100;
  if (kind === 'channel') return { method: 'channel', sparsity, criterion: variant };
  if (kind === 'magnitude') return { method: 'magnitude', sparsity, scope: variant };
  if (kind === 'two-of-four') return { method: 'two-of-four' };
  return null;
}

function size(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(0)} KB`;
}

/// Loads the picked model, pruned as the panel says (pruning takes milliseconds on the
/// CPU; the network is then uploaded afresh).
async function loadPicked() {
  const method = pruneMethod();
  $('prune-sparsity').disabled = !method || method.method === 'two-of-four';
  $('prune-sparsity-value').textContent = `${$('prune-sparsity').value}%`;
  const link = $('prune-save');
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.classList.add('disabled');
  if (!method) {
    await loadModel(original.bytes, original.label);
    demo.prune = null;
    $('prune-summary').textContent = '';
    $('layers-figure').hidden = true;
    return;
  }
  const t = performance.now();
  const { model, before: b, after: a } = prune(original.bytes, method);
  const ms = performance.now() - t;
  await loadModel(model, `${original.label}, pruned`);
  $('prune-summary').textContent =
    `${a.parameters.toLocaleString()} of ${b.parameters.toLocaleString()} parameters (${a.nonzero.toLocaleString()} nonzero) · ` +
    `${Math.round(a.macsPerOutputPixel).toLocaleString()} of ${Math.round(b.macsPerOutputPixel).toLocaleString()} MACs per output pixel · ` +
    `file ${size(a.bytes)} of ${size(b.bytes)} · pruned in ${ms.toFixed(0)} ms`;
  drawLayers($('layers'), a.layers);
  $('layers-figure').hidden = false;
  link.href = URL.createObjectURL(new Blob([model], { type: 'application/octet-stream' }));
  link.download = `${upscaler.info().model.name}-pruned.safetensors`;
  link.classList.remove('disabled');
  demo.prune = { method, ...a, before: b };
}

/// Re-prunes the picked model as the panel changed, then reruns.
async function repruneAndRun() {
  if (!original) return;
  clearError();
  try {
    await loadPicked();
  } catch (e) {
    showError(`Pruning failed: ${e.message}`);
    demo.status = 'error';
    return;
  }
  await run();
}

async function setImage(data, name) {
  image = data;
  imageName = name;
  generation += 1;
  await run();
}

function fmt(v, digits) {
  return Number.isFinite(v) ? v.toFixed(digits) : '∞';
}

function fillRow(id, m, ms) {
  const cells = $(id).querySelectorAll('td');
  cells[0].textContent = m ? fmt(m.psnrRgb, 2) : '–';
  cells[1].textContent = m ? fmt(m.psnrY, 2) : '–';
  cells[2].textContent = m ? fmt(m.ssimY, 4) : '–';
  cells[3].textContent = ms.toFixed(0);
}

function keepRatio() {
  return Number($('keep').value) / 100;
}

function ticketOptions() {
  return { keep: keepRatio(), scorer: $('scorer').value, patchSize: Number($('patch-size').value) };
}

/// The cached LR input, bicubic baseline and scores for the current image, model and mode.
async function prepare(signal) {
  const scale = upscaler.info().model.scale;
  const evaluate = $('evaluate').checked;
  const key = `${generation}|${evaluate}`;
  if (cache?.key !== key) {
    const input = evaluate ? downscale(image, scale) : image;
    const t = performance.now();
    const base = await bicubic.upscale(input, { signal });
    cache = { key, scale, evaluate, input, base, bicubicMs: performance.now() - t, scores: new Map(), costs: new Map(), denseMs: null };
  }
  return cache;
}

async function scoresFor(c, { scorer, patchSize }, signal) {
  const key = `${scorer}/${patchSize}`;
  if (!c.scores.has(key)) {
    const needsOriginal = scorer === 'oracle' || scorer === 'stdo';
    if (needsOriginal && !c.evaluate) {
      throw new Error(`The ${scorer} scorer measures against the original: tick "Evaluate against the original".`);
    }
    setStatus(needsOriginal ? 'Scoring patches (runs dense SR once)…' : 'Scoring patches…');
    c.scores.set(key, await upscaler.scorePatches(c.input, { scorer, patchSize, reference: c.evaluate ? image : undefined }));
  }
  if (signal.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
  return c.scores.get(key);
}

function drawOverlay() {
  const canvas = $('overlay-canvas');
  const sr = $('sr-canvas');
  if (!tickets || !$('show-tickets').checked && !$('show-heat').checked) {
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  const layer = ticketOverlay(
    tickets.grid, cache.scale, tickets.scores,
    $('show-tickets').checked ? tickets.selected : [],
    $('show-heat').checked ? 0.3 : 0,
  );
  canvas.width = sr.width;
  canvas.height = sr.height;
  canvas.getContext('2d').putImageData(layer, 0, 0);
  demo.tickets.drawn += 1;
}

function select() {
  tickets.selected = selectPatches(tickets.scores, { keep: keepRatio() });
  Object.assign(demo.tickets, { keep: keepRatio(), selected: tickets.selected.length });
}

function showKeep() {
  const patches = tickets?.grid ? tickets.grid.cols * tickets.grid.rows : null;
  $('keep-value').textContent = `${$('keep').value}%` + (patches ? ` (${Math.round(keepRatio() * patches)} of ${patches})` : '');
}

/// Runs `body(signal)` as the page's one task: starting a task aborts the one in flight,
/// and the outcome (done, cancelled, or an error) reaches the status line.
async function task(status, body) {
  controller?.abort();
  const own = (controller = new AbortController());
  clearError();
  demo.status = status;
  $('cancel').disabled = false;
  $('run').disabled = true;
  try {
    await guarded(() => body(own.signal));
    if (controller === own) demo.status = 'done';
  } catch (e) {
    if (controller !== own) return;
    if (e.name === 'ModuleRestarted') {
      showError(e.message);
      demo.status = 'restarted';
    } else if (e.name === 'AbortError') {
      setStatus('Cancelled.');
      demo.status = 'cancelled';
    } else {
      showError(e.message);
      setStatus('Failed.');
      demo.status = 'error';
    }
  } finally {
    if (controller === own) {
      $('cancel').disabled = true;
      $('run').disabled = false;
      $('progress').value = 0;
    }
  }
}

async function run() {
  if (!upscaler || !image) return;
  clearTimeout(rerun);
  $('download').classList.add('disabled');
  await task('running', async (signal) => {
    const c = await prepare(signal);
    const { scale, input, base } = c;
    draw($('input-canvas'), input);
    $('input-size').textContent = `${input.width}×${input.height}`;
    const opts = ticketOptions();
    const scored = await scoresFor(c, opts, signal);
    tickets = { grid: scored.grid, scores: scored.scores, selected: [], gains: null };
    demo.tickets = { grid: scored.grid, patches: scored.grid.cols * scored.grid.rows, scorer: opts.scorer, patchSize: opts.patchSize, drawn: 0 };
    select();
    showKeep();
    const dense = opts.keep >= 1;
    setStatus(dense ? 'Upscaling…' : `Upscaling ${tickets.selected.length} winning-ticket patches…`);
    const onProgress = (done, total) => {
      $('progress').value = done / total;
      setStatus(`Upscaling: ${dense ? 'tile' : 'window batch'} ${done} of ${total}`);
    };
    const t0 = performance.now();
    const sr = dense
      ? await upscaler.upscale(input, { onProgress, signal })
      : await upscaler.upscale(input, { selected: tickets.selected, patchSize: opts.patchSize, onProgress, signal });
    const srMs = performance.now() - t0;
    if (dense) c.denseMs = srMs;
    draw($('sr-canvas'), sr);
    draw($('bicubic-canvas'), base);
    $('output-size').textContent = `${sr.width}×${sr.height}`;
    const scores = c.evaluate
      ? { model: metrics(sr, image, scale), bicubic: metrics(base, image, scale) }
      : null;
    tickets.gains = c.evaluate ? patchGains(sr, base, image, scale, opts.patchSize) : null;
    drawOverlay();
    fillRow('row-model', scores?.model, srMs);
    fillRow('row-bicubic', scores?.bicubic, c.bicubicMs);
    $('row-model').querySelector('th').textContent = dense ? 'model (dense)' : `model (keep ${Math.round(opts.keep * 100)}%)`;
    $('metrics').hidden = false;
    $('tickets-summary').textContent = dense
      ? `Dense SR on all ${demo.tickets.patches} patches: ${srMs.toFixed(0)} ms.`
      : `The network ran on ${tickets.selected.length} of ${demo.tickets.patches} patches (${opts.scorer}) in ${srMs.toFixed(0)} ms` +
        (c.denseMs ? `, ${(srMs / c.denseMs).toFixed(2)}× the ${c.denseMs.toFixed(0)} ms of dense SR.` : '; set keep to 100% to time dense SR.');
    const url = URL.createObjectURL(await new Promise((r) => $('sr-canvas').toBlob(r)));
    const link = $('download');
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = url;
    link.download = `${imageName.replace(/\.[^.]+$/, '') || 'image'}-x${scale}.png`;
    link.classList.remove('disabled');
    demo.runs += 1;
    demo.result = {
      input: [input.width, input.height],
      output: [sr.width, sr.height],
      srMs, bicubicMs: c.bicubicMs, denseMs: c.denseMs, scores,
      keep: opts.keep, selected: tickets.selected.length,
      sinceLoadMs: performance.now(),
    };
    setStatus(`Done in ${srMs.toFixed(0)} ms on ${demo.info.backend.adapter}.`);
  });
}

/// Sets the keep ratio to what a time budget pays for, at this device's measured cost.
async function fitBudget() {
  const ms = Number($('budget').value);
  if (!upscaler || !image) return;
  if (!(ms > 0)) {
    showError('Enter a time budget in milliseconds.');
    return;
  }
  let fitted = false;
  await task('measuring', async (signal) => {
    const c = await prepare(signal);
    const opts = ticketOptions();
    const key = `${opts.scorer}/${opts.patchSize}`;
    if (!c.costs.has(key)) {
      setStatus('Measuring the cost per patch: a warm-up, one patch, a quarter of them…');
      const onProgress = (done, total) => { $('progress').value = done / total; };
      c.costs.set(key, await upscaler.measurePatchCost(c.input, { scorer: opts.scorer, patchSize: opts.patchSize, onProgress, signal }));
    }
    const cost = c.costs.get(key);
    const { grid, scores } = await scoresFor(c, opts, signal);
    const k = selectPatches(scores, { budget: { ms, cost } }).length;
    const n = grid.cols * grid.rows;
    $('keep').value = String(Math.round((k / n) * 100));
    demo.budget = { ms, cost, patches: k, of: n };
    setStatus(`${cost.fixedMs.toFixed(0)} ms + ${cost.perPatchMs.toFixed(0)} ms per patch: ${k} of ${n} patches fit in ${ms} ms.`);
    fitted = true;
  });
  if (fitted) await run();
}

/// Evaluation mode's chart: PSNR against keep ratio for every scorer, dense and bicubic.
async function chartScorers() {
  if (!upscaler || !image) return;
  if (!$('evaluate').checked) {
    showError('The chart treats the image as the original: tick "Evaluate against the original" first.');
    return;
  }
  await task('evaluating', async (signal) => {
    const onProgress = (done, total) => {
      $('progress').value = done / total;
      setStatus(`Evaluating scorers: dense SR tile ${done} of ${total}`);
    };
    const evaluation = await upscaler.evaluatePatches(image, { patchSize: Number($('patch-size').value), onProgress, signal });
    demo.evaluation = evaluation;
    $('chart-figure').hidden = false;
    drawChart($('chart'), evaluation);
    setStatus('Scorers evaluated.');
  });
}

function showPatchTip(e) {
  const tip = $('patch-tip');
  const canvas = $('overlay-canvas');
  if (!tickets?.grid || !cache) { tip.hidden = true; return; }
  const g = tickets.grid;
  const x = (e.offsetX * canvas.width) / canvas.clientWidth / cache.scale;
  const y = (e.offsetY * canvas.height) / canvas.clientHeight / cache.scale;
  const col = Math.floor(x / g.patch);
  const row = Math.floor(y / g.patch);
  if (col < 0 || row < 0 || col >= g.cols || row >= g.rows) { tip.hidden = true; return; }
  const i = row * g.cols + col;
  const kept = tickets.selected.includes(i);
  const gain = tickets.gains ? ` · gain ${tickets.gains[i] >= 0 ? '+' : ''}${tickets.gains[i].toFixed(2)} dB` : '';
  tip.textContent = `patch ${i} (col ${col}, row ${row}) · score ${tickets.scores[i].toPrecision(4)}${gain} · ${kept ? 'ticket (SR)' : 'bicubic'}`;
  tip.style.left = `${e.offsetX + 12}px`;
  tip.style.top = `${e.offsetY + 12}px`;
  tip.hidden = false;
}

async function openFile(file) {
  try {
    await setImage(await decode(file, file.name), file.name);
  } catch (e) {
    showError(e.message);
    demo.status = 'error';
  }
}

async function loadSample() {
  const res = await fetch('media/astronaut-256.png');
  await setImage(await decode(await res.blob(), 'astronaut-256.png'), 'astronaut-256.png');
}

function wire() {
  $('image-file').addEventListener('change', (e) => e.target.files[0] && openFile(e.target.files[0]));
  $('sample').addEventListener('click', loadSample);
  $('run').addEventListener('click', run);
  $('cancel').addEventListener('click', () => controller?.abort());
  $('evaluate').addEventListener('change', run);
  $('keep').addEventListener('input', () => {
    // Instant feedback: the outlined tickets follow the slider; the network reruns
    // once the slider rests.
    if (tickets?.scores && cache) {
      select();
      drawOverlay();
    }
    showKeep();
    clearTimeout(rerun);
    rerun = setTimeout(run, 250);
  });
  $('scorer').addEventListener('change', run);
  let prunePending = null;
  $('prune-sparsity').addEventListener('input', () => {
    $('prune-sparsity-value').textContent = `${$('prune-sparsity').value}%`;
    clearTimeout(prunePending);
    prunePending = setTimeout(repruneAndRun, 250);
  });
  $('prune-method').addEventListener('change', repruneAndRun);
  $('patch-size').addEventListener('change', run);
  $('show-tickets').addEventListener('change', drawOverlay);
  $('show-heat').addEventListener('change', drawOverlay);
  $('evaluate-scorers').addEventListener('click', chartScorers);
  $('fit-budget').addEventListener('click', fitBudget);
  $('overlay-canvas').addEventListener('mousemove', showPatchTip);
  $('overlay-canvas').addEventListener('mouseleave', () => { $('patch-tip').hidden = true; });
  $('slider').addEventListener('input', (e) => {
    $('sr-canvas').style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
  });
  showKeep();
  $('model-select').addEventListener('change', async (e) => {
    if (e.target.value === 'upload') {
      $('model-file').click();
      return;
    }
    await switchModel(async () => new Uint8Array(await (await fetch(e.target.value)).arrayBuffer()), e.target.selectedOptions[0].text);
  });
  $('model-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    await switchModel(async () => new Uint8Array(await file.arrayBuffer()), file.name);
    e.target.value = '';
  });
  const zone = document.body;
  zone.addEventListener('dragover', (e) => { e.preventDefault(); $('drop-zone').classList.add('dragging'); });
  zone.addEventListener('dragleave', () => $('drop-zone').classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    $('drop-zone').classList.remove('dragging');
    const file = e.dataTransfer.files[0];
    if (file) openFile(file);
  });
}

async function switchModel(readBytes, label) {
  clearError();
  setStatus(`Loading ${label}…`);
  try {
    const previous = original;
    original = { bytes: await readBytes(), label };
    try {
      await guarded(loadPicked);
    } catch (e) {
      original = previous;
      throw e;
    }
    await run();
  } catch (e) {
    showError(`Could not load ${label}: ${e.message}`);
    setStatus(upscaler ? 'Kept the previous model.' : 'No model loaded.');
    demo.status = 'error';
  }
}

// The wasm module died (pkg/revive.js) and runs afresh: the upscalers were the old
// module's. Load the model again, say so, and leave the next run to the user.
onRestart(() => {
  demo.restarts += 1;
  upscaler = bicubic = null;
  cache = null;
  generation += 1;
  setStatus('The wasm module stopped and was restarted: loading the model again…');
  if (original) {
    guarded(loadPicked).then(
      () => setStatus('The wasm module stopped and was restarted: the model is loaded again, run again.'),
      (e) => showError(`Could not load the model again: ${e.message}`),
    );
  }
});

async function main() {
  wire();
  // `?video=clip` or `?video=pack` starts the video panel at once; `?worker=0` keeps its
  // engine on the page instead of a worker.
  const video = startVideoPanel(demo, { backend: backendChoice, worker: params.get('worker') !== '0' });
  if (video[params.get('video')]) video[params.get('video')]();
  try {
    await init();
    setStatus('Loading model…');
    const select = $('model-select');
    const wanted = params.get('model');
    if (wanted) {
      const option = [...select.options].find((o) => o.value === `models/${wanted}.safetensors`);
      if (!option) throw new Error(`there is no bundled model "${wanted}"`);
      select.value = option.value;
    }
    original = { bytes: new Uint8Array(await (await fetch(select.value)).arrayBuffer()), label: select.selectedOptions[0].text };
    await guarded(loadPicked);
    await loadSample();
  } catch (e) {
    showError(`Start-up failed: ${e.message}`);
    demo.status = 'error';
  }
}

main();
