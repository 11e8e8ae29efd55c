// Winning tickets on the page's image: score the patches (cached per image, scorer and
// patch size), keep the patches the learned scorer predicts to gain (the default, with the
// model it was trained for), the share the slider asks for or what a time budget pays
// for, run the network on them only and show the result.
import { metrics, patchGains, selectPatches, downscale } from '../../pkg/ticketsr.js';
import { $, draw, setStatus, showError, task } from '../page.js';
import { demo, settings, state } from '../state.js';
import { showResult } from '../image/result.js';
import { drawOverlay } from './overlay.js';

function keepRatio() {
  return Number($('keep').value) / 100;
}

/// "Only where SR gains": checked, and offered (the learned scorer is loaded).
function gainsOnly() {
  const box = $('gains-only');
  return box.checked && !box.disabled;
}

/// The controls that gains-only selection overrides follow it: the learned scorer picks,
/// the share is what it predicts to gain.
export function syncSelection() {
  const gains = gainsOnly();
  $('keep').disabled = gains;
  $('scorer').disabled = gains;
  if (gains) $('scorer').value = 'learned';
  showKeep();
}

/// LR pixels of context around the patches; undefined: the network's receptive radius (exact).
function contextPx() {
  const v = $('context').value;
  return v === '' ? undefined : Number(v);
}

function ticketOptions() {
  return { keep: keepRatio(), gainsOnly: gainsOnly(), scorer: $('scorer').value, patchSize: Number($('patch-size').value), context: contextPx() };
}

/// The cached LR input, bicubic baseline and scores for the current image, model and mode.
async function prepare(signal) {
  const scale = state.upscaler.info().model.scale;
  const evaluate = $('evaluate').checked;
  const key = `${state.generation}|${evaluate}`;
  if (state.cache?.key !== key) {
    const input = evaluate ? downscale(state.image, scale) : state.image;
    const t = performance.now();
    const base = await state.bicubic.upscale(input, { signal });
    state.cache = { key, scale, evaluate, input, base, bicubicMs: performance.now() - t, scores: new Map(), costs: new Map(), denseMs: null };
  }
  return state.cache;
}

async function scoresFor(c, { scorer, patchSize }, signal) {
  const key = `${scorer}/${patchSize}`;
  if (!c.scores.has(key)) {
    const needsOriginal = scorer === 'oracle' || scorer === 'stdo';
    if (needsOriginal && !c.evaluate) {
      throw new Error(`The ${scorer} scorer measures against the original: tick "Evaluate against the original".`);
    }
    setStatus(needsOriginal ? 'Scoring patches (runs dense SR once)…' : 'Scoring patches…');
    c.scores.set(key, await state.upscaler.scorePatches(c.input, { scorer, patchSize, reference: c.evaluate ? state.image : undefined }));
  }
  if (signal.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
  return c.scores.get(key);
}

function select() {
  const gains = gainsOnly();
  state.tickets.selected = selectPatches(state.tickets.scores, gains ? 'gains' : { keep: keepRatio() });
  const n = state.tickets.scores.length;
  Object.assign(demo.tickets, { keep: gains ? state.tickets.selected.length / n : keepRatio(), gainsOnly: gains, selected: state.tickets.selected.length });
}

function showKeep() {
  const grid = state.tickets?.grid;
  const patches = grid ? grid.cols * grid.rows : null;
  if (gainsOnly()) {
    const k = state.tickets?.selected?.length;
    $('keep-value').textContent = patches && k !== undefined ? `gains only (${k} of ${patches})` : 'gains only';
    return;
  }
  $('keep-value').textContent = `${$('keep').value}%` + (patches ? ` (${Math.round(keepRatio() * patches)} of ${patches})` : '');
}

export async function run() {
  if (!state.upscaler || !state.image) return;
  clearTimeout(state.rerun);
  $('download').classList.add('disabled');
  await task('running', async (signal) => {
    const c = await prepare(signal);
    const { scale, input, base } = c;
    draw($('input-canvas'), input);
    $('input-size').textContent = `${input.width}×${input.height}`;
    const opts = ticketOptions();
    const scored = await scoresFor(c, opts, signal);
    const tickets = (state.tickets = { grid: scored.grid, scores: scored.scores, selected: [], gains: null });
    demo.tickets = { grid: scored.grid, patches: scored.grid.cols * scored.grid.rows, scorer: opts.scorer, patchSize: opts.patchSize, drawn: 0 };
    select();
    showKeep();
    const dense = !opts.gainsOnly && opts.keep >= 1;
    setStatus(dense ? 'Upscaling…' : `Upscaling ${tickets.selected.length} winning-ticket patches…`);
    const onProgress = (done, total) => {
      $('progress').value = done / total;
      setStatus(`Upscaling: ${dense ? 'tile' : 'window batch'} ${done} of ${total}`);
    };
    const t0 = performance.now();
    const sr = dense
      ? await state.upscaler.upscale(input, { onProgress, signal })
      : await state.upscaler.upscale(input, { selected: tickets.selected, patchSize: opts.patchSize, context: opts.context, onProgress, signal });
    const srMs = performance.now() - t0;
    if (dense) c.denseMs = srMs;
    const { image } = state;
    const scores = c.evaluate ? { model: metrics(sr, image, scale), bicubic: metrics(base, image, scale) } : null;
    tickets.gains = c.evaluate ? patchGains(sr, base, image, scale, opts.patchSize) : null;
    const n = demo.tickets.patches;
    const label = dense ? 'model (dense)' : opts.gainsOnly ? `model where it gains (${tickets.selected.length} of ${n})` : `model (keep ${Math.round(opts.keep * 100)}%)`;
    await showResult({ sr, base, scores, srMs, bicubicMs: c.bicubicMs, label, scale });
    drawOverlay();
    $('tickets-summary').textContent = dense
      ? `Dense SR on all ${demo.tickets.patches} patches: ${srMs.toFixed(0)} ms.`
      : `The network ran on ${tickets.selected.length} of ${n} patches (${opts.gainsOnly ? 'those the learned scorer predicts to gain over bicubic' : opts.scorer}) in ${srMs.toFixed(0)} ms` +
        (c.denseMs ? `, ${(srMs / c.denseMs).toFixed(2)}× the ${c.denseMs.toFixed(0)} ms of dense SR.` : '; set keep to 100% to time dense SR.');
    demo.runs += 1;
    demo.result = {
      input: [input.width, input.height],
      output: [sr.width, sr.height],
      srMs, bicubicMs: c.bicubicMs, denseMs: c.denseMs, scores,
      keep: demo.tickets.keep, gainsOnly: opts.gainsOnly, selected: tickets.selected.length, context: dense ? null : opts.context ?? null,
      sinceLoadMs: performance.now(),
    };
    setStatus(`Done in ${srMs.toFixed(0)} ms on ${demo.info.backend.adapter}.`);
  });
}

/// Sets the keep ratio to what a time budget pays for, at this device's measured cost.
async function fitBudget() {
  const ms = Number($('budget').value);
  if (!state.upscaler || !state.image) return;
  if (!(ms > 0)) {
    showError('Enter a time budget in milliseconds.');
    return;
  }
  let fitted = false;
  // A budget sets the share: it is a keep ratio, not gains only.
  $('gains-only').checked = false;
  syncSelection();
  await task('measuring', async (signal) => {
    const c = await prepare(signal);
    const opts = ticketOptions();
    const key = `${opts.scorer}/${opts.patchSize}/${opts.context}`;
    if (!c.costs.has(key)) {
      setStatus('Measuring the cost per patch: a warm-up, one patch, a quarter of them…');
      const onProgress = (done, total) => { $('progress').value = done / total; };
      c.costs.set(key, await state.upscaler.measurePatchCost(c.input, { scorer: opts.scorer, patchSize: opts.patchSize, context: opts.context, onProgress, signal }));
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

export function wireTickets() {
  // `?keep=`, `?scorer=`, `?patch=`, `?context=` preset the controls; a keep ratio or a scorer asked
  // for turns gains only off, `?gains=1` (or `0`) sets it.
  const { params } = settings;
  for (const [key, id] of [['keep', 'keep'], ['scorer', 'scorer'], ['patch', 'patch-size'], ['context', 'context']]) {
    if (params.has(key)) $(id).value = params.get(key);
  }
  $('gains-only').checked = params.has('gains') ? params.get('gains') !== '0' : !params.has('keep') && !params.has('scorer');
  $('gains-only').addEventListener('change', () => {
    syncSelection();
    run();
  });
  $('run').addEventListener('click', run);
  $('cancel').addEventListener('click', () => state.controller?.abort());
  $('evaluate').addEventListener('change', run);
  $('keep').addEventListener('input', () => {
    // Instant feedback: the outlined tickets follow the slider; the network reruns
    // once the slider rests.
    if (state.tickets?.scores && state.cache) {
      select();
      drawOverlay();
    }
    showKeep();
    clearTimeout(state.rerun);
    state.rerun = setTimeout(run, 250);
  });
  $('scorer').addEventListener('change', run);
  $('patch-size').addEventListener('change', run);
  $('context').addEventListener('change', run);
  $('fit-budget').addEventListener('click', fitBudget);
  syncSelection();
}
