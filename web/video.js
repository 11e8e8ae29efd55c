// The page's video panel: a clip (bundled, or the user's file) or a content pack plays in
// a <video> element (its own controls pause and seek), and every frame it presents is
// upscaled (dense, winning tickets, temporal reuse, or the pack's models for that frame)
// in a Web Worker where the browser allows, else in the page, then drawn beside the
// browser's own smooth scaling with a compare slider. Dense SR can also run on the GPU end
// to end: the frame (an ImageBitmap) is copied to a texture, upscaled and drawn into a
// WebGPU canvas the worker owns, never read back to the CPU. A slow device skips frames rather
// than queueing them: the newest presented frame is always the next one upscaled.
// `demo.video` exposes the panel's state to the end-to-end tests.
import { FrameEngine, handle } from './video-engine.js';

const $ = (id) => document.getElementById(id);

/** The engine in a module worker: requests are messages, frames ImageBitmaps moved there. */
class WorkerRunner {
  where = 'worker';
  #worker = new Worker(new URL('./video-worker.js', import.meta.url), { type: 'module' });
  #id = 0;
  #pending = new Map();

  constructor() {
    this.#worker.onmessage = ({ data: { id, value, error, restarted } }) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (error === undefined) p?.resolve(value);
      else p?.reject(Object.assign(new Error(error), restarted ? { name: 'ModuleRestarted' } : {}));
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      for (const p of this.#pending.values()) p.reject(new Error(`the video worker failed: ${e.message ?? 'could not start'}`));
      this.#pending.clear();
    };
  }

  call(op, args = {}, transfer = []) {
    return new Promise((resolve, reject) => {
      const id = (this.#id += 1);
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, args }, transfer);
    });
  }

  close() {
    this.#worker.terminate();
  }
}

/** The same engine on the page's own thread. */
class InlineRunner {
  #engine = FrameEngine.create();

  constructor(where) {
    this.where = where;
  }

  async call(op, args = {}) {
    return (await handle(await this.#engine, op, args))[0];
  }

  close() {
    this.#engine.then((e) => e.dispose());
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Wires the video panel. `demo` is the page's test-visible state; `backend` the page's
 * backend choice; `worker` false keeps the engine on the page. Returns `{ clip, pack }`,
 * which play the bundled clip and content pack.
 */
export function startVideoPanel(demo, { backend, worker }) {
  const video = $('video');
  const srCanvas = $('video-sr');
  let gpuCanvas = $('video-sr-gpu');
  let gpuGiven = null;     // the runner that owns the GPU canvas
  const bicubicCanvas = $('video-bicubic');
  const state = (demo.video = {
    status: 'idle', where: null, source: null, mode: null, frames: 0, dropped: 0, fps: 0, msPerFrame: 0,
    last: null, input: null, output: null, index: null, error: null, info: null, manifest: null, restarts: 0,
  });
  let runner = null;
  let scale = 2;
  let fps = 25;            // of a pack's frames: maps media time to frame index
  let isPack = false;
  let busy = false;
  let latest = null;       // the newest presented frame waiting for the engine
  let generation = 0;      // bumped on every new source or mode: late results are dropped
  let times = [];          // ms per frame of the last frames
  let done = [];           // completion times of the last frames
  let nextBicubic = null;  // the browser-scaled version of the frame in flight

  const status = (text) => { $('video-status').textContent = text; };
  const fail = (e) => {
    state.error = e.message;
    state.status = 'error';
    status(`Video: ${e.message}`);
  };

  async function getRunner() {
    if (runner) return runner;
    if (worker && typeof Worker !== 'undefined' && typeof OffscreenCanvas !== 'undefined') {
      runner = new WorkerRunner();
    } else {
      runner = new InlineRunner(worker ? 'page (this browser has no workers with OffscreenCanvas)' : 'page (?worker=0)');
    }
    return runner;
  }

  /** Loads into the worker, or, where it fails there or has no GPU the page has, here. */
  async function load(op, args) {
    const r = await getRunner();
    try {
      const value = await r.call(op, args);
      const cpuOnly = value?.backend?.kind === 'cpu' && backend !== 'cpu' && 'gpu' in navigator;
      if (r.where !== 'worker' || !cpuOnly) return value;
      r.close();
      runner = new InlineRunner('page (no WebGPU in workers here)');
    } catch (e) {
      if (r.where !== 'worker') throw e;
      r.close();
      runner = new InlineRunner(`page (the worker failed: ${e.message})`);
    }
    return runner.call(op, args);
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
    generation += 1;
    times = [];
    done = [];
    Object.assign(state, { frames: 0, dropped: 0, fps: 0, msPerFrame: 0, last: null, mode: isPack ? 'pack' : $('video-mode').value });
    runner?.call('reset').catch(() => {});
  }

  function show(result, ms, gen) {
    if (gen !== generation) return;
    const { width, height } = result.image ?? result;
    gpuCanvas.hidden = !result.gpu;
    srCanvas.hidden = !!result.gpu;
    if (bicubicCanvas.width !== width || bicubicCanvas.height !== height) {
      srCanvas.width = bicubicCanvas.width = width;
      srCanvas.height = bicubicCanvas.height = height;
    }
    if (result.image) srCanvas.getContext('2d').putImageData(result.image, 0, 0);
    bicubicCanvas.getContext('2d').drawImage(nextBicubic, 0, 0);
    times = [...times.slice(-29), ms];
    done = [...done.slice(-29), performance.now()];
    const rate = done.length > 1 ? ((done.length - 1) * 1000) / (done[done.length - 1] - done[0]) : 0;
    const { image: _, ...report } = result;
    Object.assign(state, {
      status: 'playing', frames: state.frames + 1, fps: rate, msPerFrame: median(times), last: report,
      output: [width, height], index: result.index ?? null,
    });
    const cost = report.patches
      ? ` · network on ${report.computed} of ${report.patches} patches` + (report.reused ? `, ${report.reused} reused` : '') +
        (report.interpolated ? `, ${report.interpolated} bicubic` : '')
      : '';
    $('video-stats').textContent =
      `${rate ? rate.toFixed(1) : '–'} fps · ${state.msPerFrame.toFixed(0)} ms per frame` +
      (isPack ? ` · pack frame ${result.index}` : cost) + ` · ${state.dropped} skipped · runs in the ${runner.where}`;
  }

  async function upscaleFrames(job) {
    busy = true;
    while (job) {
      const { bitmap, meta } = job;
      const gen = generation;
      const [w, h] = [bitmap.width, bitmap.height];
      state.input = [w, h];
      if (nextBicubic?.width !== w * scale || nextBicubic?.height !== h * scale) nextBicubic = new OffscreenCanvas(w * scale, h * scale);
      const ctx = nextBicubic.getContext('2d');
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bitmap, 0, 0, w * scale, h * scale);
      const t = performance.now();
      try {
        const index = Math.round(meta.mediaTime * fps);
        const gpu = !isPack && $('video-mode').value === 'gpu';
        if (gpu) await giveGpuCanvas();
        const result = await runner.call('frame', { bitmap, options: options(), index, gpu }, [bitmap]);
        show(result, performance.now() - t, gen);
      } catch (e) {
        if (e.name === 'ModuleRestarted') {
          // The engine loads its model again and goes on with the next frame.
          state.restarts += 1;
          status(`Video: ${e.message}`);
        } else if (gen === generation) {
          video.pause();
          fail(e);
          if ($('video-mode').value === 'gpu') await recoverFromGpu(e);
        }
      }
      job = latest;
      latest = null;
    }
    busy = false;
  }

  function watch() {
    video.requestVideoFrameCallback(async (now, meta) => {
      watch();
      if (!runner || state.status === 'loading') return;
      const bitmap = await createImageBitmap(video);
      if (busy) {
        if (latest) {
          latest.bitmap.close();
          state.dropped += 1;
        }
        latest = { bitmap, meta };
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
    runner.close();
    runner = null;
    gpuGiven = null;
    const fresh = gpuCanvas.cloneNode();
    gpuCanvas.replaceWith(fresh);
    gpuCanvas = fresh;
    gpuCanvas.hidden = true;
    srCanvas.hidden = false;
    $('video-mode').value = 'dense';
    try {
      await useModel($('video-model').value);
      restartStats();
      state.error = null;
      status(`Video: the GPU end-to-end mode failed here (${e.message}); back to dense SR on a fresh engine.`);
      await video.play();
    } catch (again) {
      fail(again);
    }
  }

  /** Hands the WebGPU canvas to the engine once (a canvas is transferred only once). */
  async function giveGpuCanvas() {
    if (gpuGiven === runner) return;
    if (gpuGiven) throw new Error('the GPU canvas belongs to another engine: reload the page');
    const canvas = runner.where === 'worker' ? gpuCanvas.transferControlToOffscreen() : gpuCanvas;
    gpuGiven = runner;
    await runner.call('canvas', { canvas }, runner.where === 'worker' ? [canvas] : []);
  }

  async function play(src, what) {
    state.source = what;
    status(`Video: loading ${what}…`);
    restartStats();
    video.src = src;
    try {
      await video.play();
    } catch (e) {
      throw new Error(`${what} is not a video this browser can play (${e.message})`);
    }
    status(`Video: ${what}, x${scale}`);
  }

  async function useModel(url) {
    state.status = 'loading';
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const info = await load('model', { bytes, backend });
    Object.assign(state, { info, manifest: null, where: runner.where });
    scale = info.model.scale;
    isPack = false;
    $('video-mode').disabled = false;
    $('video-model').disabled = false;
    state.status = 'ready';
  }

  async function playClip(url, label) {
    try {
      if (isPack || !state.info) await useModel($('video-model').value);
      await play(url, label);
    } catch (e) {
      fail(e);
    }
  }

  async function playPack(url) {
    try {
      state.status = 'loading';
      status('Video: loading the content pack…');
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const { manifest, video: mp4 } = await load('pack', { bytes, backend });
      Object.assign(state, { manifest, info: null, where: runner.where });
      ({ scale, fps } = manifest);
      isPack = true;
      state.status = 'ready';
      $('video-mode').disabled = true;
      $('video-model').disabled = true;
      await play(URL.createObjectURL(new Blob([mp4], { type: 'video/mp4' })), `content pack (${manifest.method.kind}, ${manifest.frames} frames)`);
    } catch (e) {
      fail(e);
    }
  }

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
      if (video.paused && video.src) await video.play();
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
    srCanvas.style.clipPath = gpuCanvas.style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
  });
  video.addEventListener('seeking', () => runner?.call('reset').catch(() => {}));
  video.addEventListener('error', () => fail(new Error(`${state.source ?? 'the video'} could not be decoded by this browser`)));
  watch();
  return bundled;
}
