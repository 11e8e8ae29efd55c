// Benchmarks in the browser, run by hand (open web/bench.html) or by tests/bench/run.mjs,
// which calls `window.ticketsrBench.run(config)` and saves what it returns.
import init, { Upscaler, selectPatches, prune } from '../pkg/ticketsr.js';
import { FrameEngine } from './video-engine.js';

const $ = (id) => document.getElementById(id);

async function loadImage(url, size) {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const side = Math.min(size, bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(side, side);
  const sx = Math.floor((bitmap.width - side) / 2);
  const sy = Math.floor((bitmap.height - side) / 2);
  canvas.getContext('2d').drawImage(bitmap, sx, sy, side, side, 0, 0, side, side);
  return canvas.getContext('2d').getImageData(0, 0, side, side);
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function show(rows) {
  if (!rows.length) return;
  const keys = Object.keys(rows[0]);
  $('results').tHead.innerHTML = `<tr>${keys.map((k) => `<th>${k}</th>`).join('')}</tr>`;
  $('results').tBodies[0].innerHTML = rows
    .map((r) => `<tr>${keys.map((k) => `<td>${typeof r[k] === 'number' ? +r[k].toFixed(3) : r[k]}</td>`).join('')}</tr>`)
    .join('');
}

/// Patch-sparse upscaling at each keep ratio against dense SR, one frame size. A frame's
/// time includes scoring and selecting its patches; keep 1 is the plain dense path.
async function tickets({ model = 'upscalerjs-rdn-x2', image = 'media/astronaut-256.png', size = 256, patch = 32, scorer = 'laplacian', keeps = [1, 0.5, 0.25, 0.1], reps = 2 }) {
  const up = await Upscaler.create(new Uint8Array(await (await fetch(`models/${model}.safetensors`)).arrayBuffer()), {});
  const info = up.info();
  $('backend').textContent = `${info.backend.kind} · ${info.backend.adapter}`;
  const input = await loadImage(image, size);
  const rows = [];
  try {
    for (const keep of keeps) {
      let selected = null;
      const frame = async () => {
        if (keep >= 1) return up.upscale(input, {});
        const { scores } = await up.scorePatches(input, { scorer, patchSize: patch });
        selected = selectPatches(scores, { keep });
        return up.upscale(input, { selected, patchSize: patch });
      };
      $('status').textContent = `keep ${keep}: warming up…`;
      const warmMs = await timed(frame);
      const times = [];
      for (let r = 0; r < reps; r += 1) {
        $('status').textContent = `keep ${keep}: repetition ${r + 1} of ${reps}…`;
        times.push(await timed(frame));
      }
      const patches = Math.ceil(input.width / patch) * Math.ceil(input.height / patch);
      rows.push({
        keep, patches: selected ? selected.length : patches, of: patches,
        work: selected ? up.patchWork(input.width, input.height, patch, selected) : 1,
        warm_up_ms: warmMs, median_ms: median(times), min_ms: Math.min(...times),
      });
      rows.forEach((r) => { r.ratio_to_dense = r.median_ms / rows[0].median_ms; });
      show(rows);
    }
  } finally {
    up.dispose();
  }
  $('status').textContent = 'Done.';
  return { suite: 'tickets', model, image, size: [input.width, input.height], patch, scorer, reps, backend: info.backend, halo: info.halo, rows };
}

/// Dense upscaling with the model channel-pruned at each sparsity (and, for contrast,
/// unstructured and 2:4 pruned, which dense kernels run no faster), one frame size.
async function pruning({ model = 'upscalerjs-rdn-x2', image = 'media/astronaut-256.png', size = 128, sparsities = [0, 0.25, 0.5, 0.75], reps = 3 }) {
  const bytes = new Uint8Array(await (await fetch(`models/${model}.safetensors`)).arrayBuffer());
  const input = await loadImage(image, size);
  const variants = [
    ...sparsities.map((s) => ({ label: `channel ${Math.round(s * 100)}%`, method: { method: 'channel', sparsity: s } })),
    { label: 'magnitude 50%', method: { method: 'magnitude', sparsity: 0.5 } },
    { label: '2:4', method: { method: 'two-of-four' } },
  ];
  const rows = [];
  let backend = null;
  for (const { label, method } of variants) {
    const { model: pruned, after } = prune(bytes, method);
    const up = await Upscaler.create(pruned, {});
    backend = up.info().backend;
    $('backend').textContent = `${backend.kind} · ${backend.adapter}`;
    try {
      $('status').textContent = `${label}: warming up…`;
      const warmMs = await timed(() => up.upscale(input, {}));
      const times = [];
      for (let r = 0; r < reps; r += 1) {
        $('status').textContent = `${label}: repetition ${r + 1} of ${reps}…`;
        times.push(await timed(() => up.upscale(input, {})));
      }
      rows.push({
        pruning: label, parameters: after.parameters, nonzero: after.nonzero, macs_per_out_px: after.macsPerOutputPixel,
        warm_up_ms: warmMs, median_ms: median(times), min_ms: Math.min(...times),
      });
    } finally {
      up.dispose();
    }
    rows.forEach((r) => { r.ratio_to_dense = r.median_ms / rows[0].median_ms; r.mac_ratio = r.macs_per_out_px / rows[0].macs_per_out_px; });
    show(rows);
  }
  $('status').textContent = 'Done.';
  return { suite: 'pruning', model, image, size: [input.width, input.height], reps, backend, rows };
}

/// The first `count` frames a clip presents while it plays, as ImageData, centre-cropped
/// to `size` when given.
async function clipFrames(url, count, size) {
  const video = Object.assign(document.createElement('video'), { muted: true, playsInline: true, src: url });
  await video.play();
  const frames = [];
  await new Promise((resolve) => {
    const grab = () => {
      const [w, h] = [video.videoWidth, video.videoHeight];
      const [cw, ch] = size ? [Math.min(size, w), Math.min(size, h)] : [w, h];
      const canvas = new OffscreenCanvas(cw, ch);
      canvas.getContext('2d').drawImage(video, (w - cw) >> 1, (h - ch) >> 1, cw, ch, 0, 0, cw, ch);
      frames.push(canvas.getContext('2d').getImageData(0, 0, cw, ch));
      if (frames.length >= count || video.ended) resolve();
      else video.requestVideoFrameCallback(grab);
    };
    video.requestVideoFrameCallback(grab);
  });
  video.pause();
  return frames;
}

/// Memory a long run could leak: wasm linear memory, (with Chromium's precise memory info)
/// the JS heap after a garbage collection where the page may force one, and the GPU
/// process's resident memory where the runner reports it (tests/bench/run.mjs).
async function memory(engine) {
  globalThis.gc?.();
  return {
    wasm_bytes: await engine.memory(),
    js_heap_bytes: performance.memory?.usedJSHeapSize ?? null,
    gpu_process_bytes: (await globalThis.gpuProcessBytes?.()) ?? null,
  };
}

/// Video: ms per frame over the same frames of a clip in each mode (dense, tickets,
/// temporal reuse, both, and with `gpuCanvas` dense SR on the GPU end to end), each mode starting
/// afresh after one warm-up frame; then, with `long` > 0, that many frames in a row of
/// `longMode` (dense, keep, reuse or gpu; the clip's frames cropped to `longSize`, over
/// and over) with the memory at five points along the way.
async function video({ model = 'ticketsr-espcn-x2', clip = 'media/carphone-176.webm', count = 12, keep = 0.25, reuse = 6, patch = 16, long = 0, longSize = 32, longMode = 'dense', gpuCanvas = false }) {
  const engine = await FrameEngine.create();
  const info = await engine.useModel(new Uint8Array(await (await fetch(`models/${model}.safetensors`)).arrayBuffer()), 'auto');
  $('backend').textContent = `${info.backend.kind} · ${info.backend.adapter}`;
  const frames = await clipFrames(clip, count);
  const modes = {
    dense: {},
    [`keep ${keep}`]: { keep, patchSize: patch },
    [`reuse ${reuse}`]: { reuse, patchSize: patch },
    [`keep ${keep} + reuse ${reuse}`]: { keep, reuse, patchSize: patch },
  };
  // Dense SR on the GPU end to end (frame to texture to network to canvas, nothing read
  // back), with `gpuCanvas`: opt-in, since a browser that cannot present a WebGPU canvas
  // (headless Chromium on SwiftShader) loses the device on it.
  const gpu = gpuCanvas && info.backend.kind === 'webgpu';
  if (gpu) engine.useCanvas(new OffscreenCanvas(1, 1));
  const onGpu = async (frame) => {
    const bitmap = await createImageBitmap(frame);
    try {
      return await engine.drawOnGpu(bitmap);
    } finally {
      bitmap.close();
    }
  };
  if (gpu) modes['dense, GPU end to end'] = 'gpu';
  const run = (frame, options) => (options === 'gpu' ? onGpu(frame) : engine.frame(frame, { options }));
  const rows = [];
  let longRun = null;
  try {
    for (const [mode, options] of Object.entries(modes)) {
      $('status').textContent = `${mode}: warming up…`;
      await run(frames[0], options);
      engine.reset();
      const times = [];
      const sums = { computed: 0, reused: 0, interpolated: 0, work: 0 };
      for (const [i, frame] of frames.entries()) {
        $('status').textContent = `${mode}: frame ${i + 1} of ${frames.length}…`;
        const t = performance.now();
        const r = await run(frame, options);
        times.push(performance.now() - t);
        if (r.gpu) Object.assign(r, { patches: 1, computed: 1, reused: 0, interpolated: 0, work: 1 });
        for (const k of Object.keys(sums)) sums[k] += (k === 'work' ? r.work : r[k] / r.patches) / frames.length;
      }
      rows.push({ mode, median_ms: median(times), mean_ms: times.reduce((a, b) => a + b) / times.length, first_ms: times[0], ...sums });
      rows.forEach((r) => { r.ratio_to_dense = r.median_ms / rows[0].median_ms; });
      show(rows);
    }
    if (long > 0) {
      const small = await clipFrames(clip, count, longSize);
      const options = { dense: {}, keep: modes[`keep ${keep}`], reuse: modes[`reuse ${reuse}`], gpu: 'gpu' }[longMode];
      if (!options || (options === 'gpu' && !gpu)) throw new Error(`long runs are dense, keep, reuse or gpu (on WebGPU), not ${longMode}`);
      const samples = [];
      const t0 = performance.now();
      for (let i = 0; i <= long; i += 1) {
        if (i % Math.max(1, Math.floor(long / 4)) === 0 || i === long) {
          samples.push({ frame: i, seconds: (performance.now() - t0) / 1000, ...(await memory(engine)) });
          $('status').textContent = `long run: frame ${i} of ${long}…`;
        }
        if (i < long) await run(small[i % small.length], options);
      }
      longRun = { frames: long, size: [small[0].width, small[0].height], mode: longMode, samples };
    }
  } finally {
    engine.dispose();
  }
  $('status').textContent = 'Done.';
  return { suite: 'video', model, clip, size: [frames[0].width, frames[0].height], frames: frames.length, patch, backend: info.backend, rows, long: longRun };
}

const SUITES = { tickets, pruning, video };

window.ticketsrBench = {
  ready: init(),
  async run(config) {
    await this.ready;
    const suite = SUITES[config.suite];
    if (!suite) throw new Error(`unknown suite "${config.suite}" (one of ${Object.keys(SUITES).join(', ')})`);
    return suite(config);
  },
};

$('start').addEventListener('click', () => {
  const p = Object.fromEntries(new URLSearchParams(location.search));
  const config = { suite: p.suite ?? 'tickets', ...p };
  for (const k of ['size', 'patch', 'reps', 'count', 'keep', 'reuse', 'long', 'longSize', 'gpuCanvas']) if (k in config) config[k] = Number(config[k]);
  if (config.keeps) config.keeps = config.keeps.split(',').map(Number);
  if (config.sparsities) config.sparsities = config.sparsities.split(',').map(Number);
  window.ticketsrBench.run(config).catch((e) => { $('status').textContent = `Failed: ${e.message}`; });
});
