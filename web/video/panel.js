// The page's video panel: a clip (bundled, or the user's file) or a content pack plays in
// a <video> element (its own controls pause and seek), and every frame it presents is
// upscaled (dense, winning tickets, temporal reuse, or the pack's models for that frame)
// in a Web Worker where the browser allows, else in the page, then drawn beside the
// browser's own smooth scaling with a compare slider. Dense SR can also run on the GPU end
// to end: the frame (an ImageBitmap) is copied to a texture, upscaled and drawn into a
// WebGPU canvas the worker owns, never read back to the CPU. A slow device skips frames rather
// than queueing them: the newest presented frame is always the next one upscaled.
// `demo.video` exposes the panel's state to the end-to-end tests.
import { $ } from '../page.js';
import { state } from '../state.js';
import { InlineRunner, WorkerRunner } from './runners.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The panel's part of the page's state (`state.video`); `shown` is `demo.video`. */
function panel() {
  return state.video;
}

const status = (text) => { $('video-status').textContent = text; };

function fail(e) {
  const { shown } = panel();
  shown.error = e.message;
  shown.status = 'error';
  status(`Video: ${e.message}`);
}

async function getRunner() {
  const v = panel();
  if (v.runner) return v.runner;
  if (v.worker && typeof Worker !== 'undefined' && typeof OffscreenCanvas !== 'undefined') {
    v.runner = new WorkerRunner();
  } else {
    v.runner = new InlineRunner(v.worker ? 'page (this browser has no workers with OffscreenCanvas)' : 'page (?worker=0)');
  }
  return v.runner;
}

/** Loads into the worker, or, where it fails there or has no GPU the page has, here. */
async function load(op, args) {
  const v = panel();
  const r = await getRunner();
  try {
    const value = await r.call(op, args);
    const cpuOnly = value?.backend?.kind === 'cpu' && v.backend !== 'cpu' && 'gpu' in navigator;
    if (r.where !== 'worker' || !cpuOnly) return value;
    r.close();
    v.runner = new InlineRunner('page (no WebGPU in workers here)');
  } catch (e) {
    if (r.where !== 'worker') throw e;
    r.close();
    v.runner = new InlineRunner(`page (the worker failed: ${e.message})`);
  }
  return v.runner.call(op, args);
}

function options() {
  const mode = $('video-mode').value;
  const keep = Number($('video-keep').value) / 100;
  const reuse = Number($('video-reuse').value);
  const patchSize = Number($('video-patch').value);
  return {
    dense: {},
    gpu: null,
    keep: { keep, patchSize },
    reuse: { reuse, patchSize },
    'keep+reuse': { keep, reuse, patchSize },
  }[mode];
}

function restartStats() {
  const v = panel();
  v.generation += 1;
  v.times = [];
  v.done = [];
  Object.assign(v.shown, { frames: 0, dropped: 0, fps: 0, msPerFrame: 0, last: null, mode: v.isPack ? 'pack' : $('video-mode').value });
  v.runner?.call('reset').catch(() => {});
}

function show(result, ms, gen) {
  const v = panel();
  const { shown } = v;
  if (gen !== v.generation) return;
  const { width, height } = result.image ?? result;
  const [srCanvas, bicubicCanvas] = [$('video-sr'), $('video-bicubic')];
  v.gpuCanvas.hidden = !result.gpu;
  srCanvas.hidden = !!result.gpu;
  if (bicubicCanvas.width !== width || bicubicCanvas.height !== height) {
    srCanvas.width = bicubicCanvas.width = width;
    srCanvas.height = bicubicCanvas.height = height;
  }
  if (result.image) srCanvas.getContext('2d').putImageData(result.image, 0, 0);
  bicubicCanvas.getContext('2d').drawImage(v.nextBicubic, 0, 0);
  v.times = [...v.times.slice(-29), ms];
  v.done = [...v.done.slice(-29), performance.now()];
  const rate = v.done.length > 1 ? ((v.done.length - 1) * 1000) / (v.done[v.done.length - 1] - v.done[0]) : 0;
  const { image: _, ...report } = result;
  Object.assign(shown, {
    status: 'playing', frames: shown.frames + 1, fps: rate, msPerFrame: median(v.times), last: report,
    output: [width, height], index: result.index ?? null,
  });
  const cost = report.patches
    ? ` · network on ${report.computed} of ${report.patches} patches` + (report.reused ? `, ${report.reused} reused` : '') +
      (report.interpolated ? `, ${report.interpolated} bicubic` : '')
    : '';
  $('video-stats').textContent =
    `${rate ? rate.toFixed(1) : '–'} fps · ${shown.msPerFrame.toFixed(0)} ms per frame` +
    (v.isPack ? ` · pack frame ${result.index}` : cost) + ` · ${shown.dropped} skipped · runs in the ${v.runner.where}`;
}

async function upscaleFrames(job) {
  const v = panel();
  v.busy = true;
  while (job) {
    const { bitmap, meta } = job;
    const gen = v.generation;
    const [w, h] = [bitmap.width, bitmap.height];
    const s = v.scale;
    v.shown.input = [w, h];
    if (v.nextBicubic?.width !== w * s || v.nextBicubic?.height !== h * s) v.nextBicubic = new OffscreenCanvas(w * s, h * s);
    const ctx = v.nextBicubic.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w * s, h * s);
    const t = performance.now();
    try {
      const index = Math.round(meta.mediaTime * v.fps);
      const gpu = !v.isPack && $('video-mode').value === 'gpu';
      if (gpu) await giveGpuCanvas();
      const result = await v.runner.call('frame', { bitmap, options: options(), index, gpu }, [bitmap]);
      show(result, performance.now() - t, gen);
    } catch (e) {
      if (e.name === 'ModuleRestarted') {
        // The engine loads its model again and goes on with the next frame.
        v.shown.restarts += 1;
        status(`Video: ${e.message}`);
      } else if (gen === v.generation) {
        $('video').pause();
        fail(e);
        if ($('video-mode').value === 'gpu') await recoverFromGpu(e);
      }
    }
    job = v.latest;
    v.latest = null;
  }
  v.busy = false;
}

function watch() {
  const video = $('video');
  video.requestVideoFrameCallback(async (now, meta) => {
    watch();
    const v = panel();
    if (!v.runner || v.shown.status === 'loading') return;
    const bitmap = await createImageBitmap(video);
    if (v.busy) {
      if (v.latest) {
        v.latest.bitmap.close();
        v.shown.dropped += 1;
      }
      v.latest = { bitmap, meta };
      return;
    }
    upscaleFrames({ bitmap, meta });
  });
}

/**
 * A failed GPU canvas can take the device with it (this headless Chromium on SwiftShader
 * loses it on any WebGPU canvas presentation): start a fresh engine with a fresh canvas,
 * go back to dense SR and say why.
 */
async function recoverFromGpu(e) {
  const v = panel();
  v.runner.close();
  v.runner = null;
  v.gpuGiven = null;
  const fresh = v.gpuCanvas.cloneNode();
  v.gpuCanvas.replaceWith(fresh);
  v.gpuCanvas = fresh;
  v.gpuCanvas.hidden = true;
  $('video-sr').hidden = false;
  $('video-mode').value = 'dense';
  try {
    await useModel($('video-model').value);
    restartStats();
    v.shown.error = null;
    status(`Video: the GPU end-to-end mode failed here (${e.message}); back to dense SR on a fresh engine.`);
    await $('video').play();
  } catch (again) {
    fail(again);
  }
}

/** Hands the WebGPU canvas to the engine once (a canvas is transferred only once). */
async function giveGpuCanvas() {
  const v = panel();
  if (v.gpuGiven === v.runner) return;
  if (v.gpuGiven) throw new Error('the GPU canvas belongs to another engine: reload the page');
  const canvas = v.runner.where === 'worker' ? v.gpuCanvas.transferControlToOffscreen() : v.gpuCanvas;
  v.gpuGiven = v.runner;
  await v.runner.call('canvas', { canvas }, v.runner.where === 'worker' ? [canvas] : []);
}

async function play(src, what) {
  const v = panel();
  const video = $('video');
  v.shown.source = what;
  status(`Video: loading ${what}…`);
  restartStats();
  video.src = src;
  try {
    await video.play();
  } catch (e) {
    throw new Error(`${what} is not a video this browser can play (${e.message})`);
  }
  status(`Video: ${what}, x${v.scale}`);
}

async function useModel(url) {
  const v = panel();
  v.shown.status = 'loading';
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const info = await load('model', { bytes, backend: v.backend });
  Object.assign(v.shown, { info, manifest: null, where: v.runner.where });
  v.scale = info.model.scale;
  v.isPack = false;
  $('video-mode').disabled = false;
  $('video-model').disabled = false;
  v.shown.status = 'ready';
}

async function playClip(url, label) {
  const v = panel();
  try {
    if (v.isPack || !v.shown.info) await useModel($('video-model').value);
    await play(url, label);
  } catch (e) {
    fail(e);
  }
}

async function playPack(url) {
  const v = panel();
  try {
    v.shown.status = 'loading';
    status('Video: loading the content pack…');
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const { manifest, video: mp4 } = await load('pack', { bytes, backend: v.backend });
    Object.assign(v.shown, { manifest, info: null, where: v.runner.where });
    v.scale = manifest.scale;
    v.fps = manifest.fps;
    v.isPack = true;
    v.shown.status = 'ready';
    $('video-mode').disabled = true;
    $('video-model').disabled = true;
    await play(URL.createObjectURL(new Blob([mp4], { type: 'video/mp4' })), `content pack (${manifest.method.kind}, ${manifest.frames} frames)`);
  } catch (e) {
    fail(e);
  }
}

/**
 * Wires the video panel. `demo` is the page's test-visible state; `backend` the page's
 * backend choice; `worker` false keeps the engine on the page. Returns `{ clip, pack }`,
 * which play the bundled clip and content pack.
 */
export function startVideoPanel(demo, { backend, worker }) {
  const shown = (demo.video = {
    status: 'idle', where: null, source: null, mode: null, frames: 0, dropped: 0, fps: 0, msPerFrame: 0,
    last: null, input: null, output: null, index: null, error: null, info: null, manifest: null, restarts: 0,
  });
  state.video = {
    shown, backend, worker,
    runner: null,
    scale: 2,
    fps: 25,            // of a pack's frames: maps media time to frame index
    isPack: false,
    busy: false,
    latest: null,       // the newest presented frame waiting for the engine
    generation: 0,      // bumped on every new source or mode: late results are dropped
    times: [],          // ms per frame of the last frames
    done: [],           // completion times of the last frames
    nextBicubic: null,  // the browser-scaled version of the frame in flight
    gpuCanvas: $('video-sr-gpu'),
    gpuGiven: null,     // the runner that owns the GPU canvas
  };
  const bundled = {
    clip: () => playClip('media/carphone-176.webm', 'bundled clip (carphone, 176×144)'),
    pack: () => playPack('media/bikes-x2-stdo-k2.tsrpack'),
  };
  $('video-clip').addEventListener('click', bundled.clip);
  $('video-pack').addEventListener('click', bundled.pack);
  $('video-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (file) playClip(URL.createObjectURL(file), file.name);
    e.target.value = '';
  });
  $('video-model').addEventListener('change', async () => {
    try {
      await useModel($('video-model').value);
      restartStats();
      if ($('video').paused && $('video').src) await $('video').play();
    } catch (e) {
      fail(e);
    }
  });
  for (const id of ['video-mode', 'video-reuse', 'video-patch']) $(id).addEventListener('change', restartStats);
  $('video-keep').addEventListener('input', () => {
    $('video-keep-value').textContent = `${$('video-keep').value}%`;
    restartStats();
  });
  $('video-slider').addEventListener('input', (e) => {
    $('video-sr').style.clipPath = panel().gpuCanvas.style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
  });
  $('video').addEventListener('seeking', () => panel().runner?.call('reset').catch(() => {}));
  $('video').addEventListener('error', () => fail(new Error(`${shown.source ?? 'the video'} could not be decoded by this browser`)));
  watch();
  return bundled;
}
