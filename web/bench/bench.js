// Benchmarks in the browser, run by hand (open web/bench.html) or by tests/bench/run.mjs,
// which calls `window.ticketsrBench.run(config)` and saves what it returns.
import init, { Upscaler, selectPatches, prune, exportOnnx } from '../../pkg/ticketsr.js';
import { FrameEngine } from '../video/engine.js';
import { FrameReader, everyFrame } from '../../pkg/frames.js';
import { withThreads } from '../../pkg/threads.js';
import { measureFrontier, median, timeRuns, upscaleTickets } from '../frontier/measure.js';

const $ = (id) => document.getElementById(id);

/// The central `size` x `size` (at most) of a picture of `[w, h]`.
const centre = ([w, h], size) => {
  const [cw, ch] = [Math.min(size, w), Math.min(size, h)];
  return { x: (w - cw) >> 1, y: (h - ch) >> 1, width: cw, height: ch };
};

async function loadImage(url, size) {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const side = Math.min(size, bitmap.width, bitmap.height);
  const crop = centre([bitmap.width, bitmap.height], side);
  return new FrameReader().read(bitmap, side, side, crop);
}

/// `run` once to warm up, then `reps` times, the status line saying which: the times every
/// suite reports, and the last run's result.
const repeated = (label, reps, run) => timeRuns(label, reps, run, (text) => { $('status').textContent = text; });

/// Rows as a table. Cells are text, never markup: names and figures can come from the
/// page's query string.
function show(rows) {
  if (!rows.length) return;
  const keys = Object.keys(rows[0]);
  const row = (tag, values) => {
    const tr = document.createElement('tr');
    tr.append(...values.map((v) => Object.assign(document.createElement(tag), { textContent: v })));
    return tr;
  };
  $('results').tHead.replaceChildren(row('th', keys));
  $('results').tBodies[0].replaceChildren(...rows.map((r) => row('td', keys.map((k) => (typeof r[k] === 'number' ? String(+r[k].toFixed(3)) : String(r[k]))))));
}

/// Patch-sparse upscaling at each keep ratio against dense SR, one frame size. A frame's
/// time includes scoring and selecting its patches; keep 1 is the plain dense path.
/// `backend`: 'cpu' for the CPU fallback (wasm), else the page's default (WebGPU).
async function tickets({ model = 'upscalerjs-rdn-x2', image = 'media/astronaut-256.png', size = 256, patch = 32, scorer = 'laplacian', keeps = [1, 0.5, 0.25, 0.1], reps = 2, context, backend }) {
  const up = await Upscaler.create(new Uint8Array(await (await fetch(`models/${model}.safetensors`)).arrayBuffer()), backend === 'cpu' ? { backend } : {});
  if (scorer === 'learned') up.loadScorer(new Uint8Array(await (await fetch('models/ticket-scorer-x2.safetensors')).arrayBuffer()));
  const info = up.info();
  $('backend').textContent = `${info.backend.kind} · ${info.backend.adapter}`;
  const input = await loadImage(image, size);
  const rows = [];
  try {
    for (const keep of keeps) {
      let selected = null;
      const frame = async () => {
        if (keep >= 1) return up.upscale(input, {});
        const run = await upscaleTickets(up, input, { scorer, patch, keep, context });
        selected = run.selected;
        return run.image;
      };
      const { times } = await repeated(`keep ${keep}`, reps, frame);
      const patches = Math.ceil(input.width / patch) * Math.ceil(input.height / patch);
      rows.push({
        keep, patches: selected ? selected.length : patches, of: patches,
        work: selected ? up.patchWork(input.width, input.height, patch, selected, context) : 1,
        ...times,
      });
      rows.forEach((r) => { r.ratio_to_dense = r.median_ms / rows[0].median_ms; });
      show(rows);
    }
  } finally {
    up.dispose();
  }
  $('status').textContent = 'Done.';
  return { suite: 'tickets', model, image, size: [input.width, input.height], patch, scorer, reps, context: context ?? info.halo, backend: info.backend, halo: info.halo, rows };
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
      const { times } = await repeated(label, reps, () => up.upscale(input, {}));
      rows.push({
        pruning: label, parameters: after.parameters, nonzero: after.nonzero, macs_per_out_px: after.macsPerOutputPixel,
        ...times,
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

/// Quality against measured time on the user's device (web/frontier/measure.js), the
/// bundled x2 models by default.
async function frontier({
  image = 'media/astronaut-256.png', size = 128, models = ['ticketsr-espcn-x2', 'ticketsr-wdsr-b-x2', 'upscalerjs-rdn-x2'],
  sparsities = [0.5], keeps = [0.5, 0.25], context = 4, patch = 16, scorer = 'laplacian', reps = 2, backend = 'auto',
}) {
  const hr = await loadImage(image, size);
  const bytes = await Promise.all(models.map(async (name) => ({ name, bytes: new Uint8Array(await (await fetch(`models/${name}.safetensors`)).arrayBuffer()) })));
  const { points, backend: device } = await measureFrontier(hr, bytes, {
    sparsities, keeps, context, patch, scorer, reps, backend,
    onStatus: (text) => { $('status').textContent = text; },
    onPoint: show,
  });
  $('backend').textContent = `${device.kind} · ${device.adapter}`;
  $('status').textContent = 'Done.';
  return { suite: 'frontier', model: models.length === 1 ? models[0] : 'models', models, image, size: [hr.width, hr.height], scale: 2, context, patch, scorer, reps, backend: device, rows: points };
}

/// The first `count` frames a clip presents while it plays, as ImageData, centre-cropped
/// to `size` when given.
async function clipFrames(url, count, size) {
  const video = Object.assign(document.createElement('video'), { muted: true, playsInline: true, src: url });
  await video.play();
  const frames = [];
  const reader = new FrameReader();
  await everyFrame(video, () => {
    const crop = centre([video.videoWidth, video.videoHeight], size ?? Infinity);
    frames.push(reader.read(video, crop.width, crop.height, crop));
    return frames.length < count && !video.ended;
  }).done;
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


/// The peers' packages, installed as the tests' dev dependencies (tests/package.json) and
/// served from there: nothing is fetched from a CDN.
const NM = '../tests/node_modules';

function script(src) {
  return new Promise((resolve, reject) => {
    const s = Object.assign(document.createElement('script'), { src });
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

/// RGB of an RGBA image or of planar / interleaved floats, as 8-bit values the way each
/// runtime would store them (rounded, clamped), for the parity PSNR.
const toByte = (v, range) => Math.min(255, Math.max(0, Math.round((v * 255) / range)));

function psnr(a, b) {
  let se = 0;
  for (let i = 0; i < a.length; i += 1) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

const rgbOfImage = (img) => Uint8Array.from({ length: (img.data.length / 4) * 3 }, (_, i) => img.data[Math.floor(i / 3) * 4 + (i % 3)]);

/// ticketsr on one backend, dense or with options (tickets, a pruned model file).
async function ticketsrRunner(bytes, input, backend, options = {}) {
  let up = await Upscaler.create(bytes, { backend, plainKernels: options.plainKernels ?? false });
  if (options.threads > 1) up = await withThreads(up, bytes, { threads: options.threads });
  let selected = null;
  if (options.keep) {
    const { scores } = await up.scorePatches(input, { scorer: 'laplacian', patchSize: options.patchSize });
    selected = selectPatches(scores, { keep: options.keep });
  }
  const info = up.info();
  return {
    backend: `${info.backend.kind} · ${info.backend.adapter}${up.threads > 1 ? ` · ${up.threads} threads` : ''}`,
    macsPerInputPixel: info.macsPerInputPixel * (selected ? up.patchWork(input.width, input.height, options.patchSize, selected) : 1),
    run: async () => rgbOfImage(await up.upscale(input, selected ? { selected, patchSize: options.patchSize } : {})),
    dispose: () => up.dispose(),
  };
}

let tfLoaded = null;
/// `threads`: the wasm backends' threads, fixed when each first starts (needs a
/// cross-origin-isolated page; without one they run one thread whatever is asked).
const loadTf = (threads) => (tfLoaded ??= (async () => {
  // TF.js 4.11 (the version UpscalerJS 1.0 asks for) calls GPUAdapter.requestAdapterInfo(),
  // which browsers replaced with the `info` attribute; without this its WebGPU backend
  // fails to start in current Chromium.
  if (globalThis.GPUAdapter && !GPUAdapter.prototype.requestAdapterInfo) {
    GPUAdapter.prototype.requestAdapterInfo = function requestAdapterInfo() { return Promise.resolve(this.info); };
  }
  await script(`${NM}/@tensorflow/tfjs/dist/tf.min.js`);
  await script(`${NM}/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js`);
  await script(`${NM}/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`);
  await script(`${NM}/@upscalerjs/default-model/dist/umd/index.min.js`);
  await script(`${NM}/upscaler/dist/browser/umd/upscaler.min.js`);
  window.tf.wasm.setWasmPaths(new URL(`${NM}/@tensorflow/tfjs-backend-wasm/dist/`, location.href).href);
  window.tf.wasm.setThreadsCount(threads);
})());

/// UpscalerJS with its default model (the weights of ticketsr's upscalerjs-rdn-x2) on a
/// TF.js backend, whole image in one piece as ticketsr runs it here.
async function upscalerjsRunner(input, backend, threads = 1) {
  await loadTf(threads);
  const { tf } = window;
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  const model = { ...window.DefaultUpscalerJSModel, path: `${NM}/@upscalerjs/default-model/models/model.json` };
  const upscaler = new window.Upscaler({ model });
  await upscaler.getModel();
  return {
    backend: `TF.js ${tf.getBackend()}${tf.getBackend() === 'wasm' ? ` · ${tf.wasm.getThreadsCount()} threads` : ''}`,
    run: async () => {
      // From the pixels' values, not tf.browser.fromPixels: on WebGPU that copies the image
      // through the browser's external-image path, which SwiftShader fails silently.
      const y = await upscaler.execute(tf.tensor3d(rgbOfImage(input), [input.height, input.width, 3], 'int32'), { output: 'tensor' });
      const data = await y.data();
      y.dispose();
      return Uint8Array.from(data, (v) => toByte(v, 255));
    },
    dispose: () => upscaler.dispose(),
  };
}

let ortLoaded = null;
const loadOrt = (threads) => (ortLoaded ??= (async () => {
  await script(`${NM}/onnxruntime-web/dist/ort.webgpu.min.js`);
  window.ort.env.wasm.wasmPaths = new URL(`${NM}/onnxruntime-web/dist/`, location.href).href;
  window.ort.env.wasm.numThreads = threads;
})());

/// ONNX Runtime Web on the model exported by ticketsr (`exportOnnx`, as `ticketsr
/// export-onnx` writes it), with the WebGPU or the wasm execution provider.
async function ortRunner(bytes, input, provider, threads = 1) {
  await loadOrt(threads);
  const { ort } = window;
  const session = await ort.InferenceSession.create(exportOnnx(bytes), { executionProviders: [provider] });
  const { width: w, height: h, data } = input;
  const planes = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i += 1) for (let c = 0; c < 3; c += 1) planes[c * w * h + i] = data[i * 4 + c] / 255;
  return {
    backend: `ORT ${provider}${provider === 'wasm' ? ` · ${crossOriginIsolated ? threads : 1} threads` : ''}`,
    run: async () => {
      const out = await session.run({ input: new ort.Tensor('float32', planes, [1, 3, h, w]) });
      const y = await out.output.getData(true);
      const [, , oh, ow] = out.output.dims;
      const n = oh * ow;
      return Uint8Array.from({ length: 3 * n }, (_, i) => toByte(y[(i % 3) * n + Math.floor(i / 3)], 1));
    },
    dispose: () => session.release(),
  };
}

/// ticketsr against the in-browser SR runtimes a user could pick instead, on the same
/// input in this one browser: on the same weights (UpscalerJS's default model, run by
/// UpscalerJS on TF.js and by ONNX Runtime Web from ticketsr's ONNX export) on the GPU and
/// on the CPU, with parity as the PSNR of each output against ticketsr's on that device;
/// and ticketsr's other bundled models, tickets and a channel-pruned model for scale.
/// `threads` > 1: ticketsr's CPU path also on that many workers, and the peers' wasm
/// backends on that many threads (on a cross-origin-isolated page: `--isolated 1`).
async function peers({ image = 'media/astronaut-256.png', size = 64, reps = 3, model = 'upscalerjs-rdn-x2', gpu = 1, cpu = 1, others = 1, threads = 1 }) {
  const input = await loadImage(image, size);
  const modelBytes = async (name) => new Uint8Array(await (await fetch(`models/${name}.safetensors`)).arrayBuffer());
  const bytes = await modelBytes(model);
  const pixels = input.width * input.height;
  let macs = null;
  const reference = {};
  const rows = [];
  // UpscalerJS runs its own model package: the same weights only as upscalerjs-rdn-x2.
  const upscalerjs = model === 'upscalerjs-rdn-x2';
  const entries = [];
  for (const [device, on, tfBackend, ortProvider] of [['gpu', gpu, 'webgpu', 'webgpu'], ['cpu', cpu, 'wasm', 'wasm']]) {
    if (!on) continue;
    const backend = device === 'gpu' ? 'webgpu' : 'cpu';
    entries.push({ runtime: 'ticketsr', device, weights: model, make: () => ticketsrRunner(bytes, input, backend), reference: true });
    if (device === 'cpu' && threads > 1) {
      entries.push({ runtime: `ticketsr, ${threads} threads`, device, weights: model, make: () => ticketsrRunner(bytes, input, backend, { threads }) });
    }
    entries.push({ runtime: 'ticketsr, plain kernels', device, weights: model, make: () => ticketsrRunner(bytes, input, backend, { plainKernels: true }) });
    if (upscalerjs) entries.push({ runtime: 'UpscalerJS', device, weights: model, make: () => upscalerjsRunner(input, tfBackend, threads) });
    entries.push({ runtime: 'ONNX Runtime Web', device, weights: model, make: () => ortRunner(bytes, input, ortProvider, threads) });
  }
  if (others && gpu) {
    entries.push(
      { runtime: 'ticketsr, tickets keep 0.25', device: 'gpu', weights: model, parity: false, make: () => ticketsrRunner(bytes, input, 'webgpu', { keep: 0.25, patchSize: 16 }) },
      { runtime: 'ticketsr, channel-pruned 50%', device: 'gpu', weights: `${model} pruned`, make: () => ticketsrRunner(prune(bytes, { method: 'channel', sparsity: 0.5 }).model, input, 'webgpu') },
    );
    for (const other of ['ticketsr-espcn-x2', 'ticketsr-wdsr-b-x2'].filter((m) => m !== model)) {
      const b = await modelBytes(other);
      entries.push({ runtime: 'ticketsr', device: 'gpu', weights: other, make: () => ticketsrRunner(b, input, 'webgpu') });
    }
  }
  for (const e of entries) {
    const label = `${e.runtime} (${e.device}, ${e.weights})`;
    $('status').textContent = `${label}: loading…`;
    const row = { runtime: e.runtime, device: e.device, weights: e.weights };
    let runner = null;
    try {
      runner = await e.make();
      row.backend = runner.backend;
      const { output, times } = await repeated(label, reps, () => runner.run());
      Object.assign(row, times);
      if (e.reference) macs = runner.macsPerInputPixel;
      const m = runner.macsPerInputPixel ?? (e.weights === model ? macs : null);
      if (m) {
        row.gflop = (2 * m * pixels) / 1e9;
        row.gflop_per_s = row.gflop / (row.median_ms / 1000);
      }
      if (e.reference) reference[e.device] = { output, ms: row.median_ms };
      else if (e.weights === model && e.parity !== false && reference[e.device]) row.parity_psnr_db = psnr(output, reference[e.device].output);
    } catch (err) {
      row.error = String(err.message ?? err).slice(0, 200);
    } finally {
      runner?.dispose();
    }
    if (reference[e.device] && row.median_ms) row.ratio_ticketsr_to_this = reference[e.device].ms / row.median_ms;
    rows.push(row);
    show(rows);
  }
  $('status').textContent = 'Done.';
  return { suite: 'peers', model, image, size: [input.width, input.height], reps, rows, backend: { kind: 'several', adapter: rows[0].backend ?? '' } };
}

/// Cold start, in a fresh browser (tests/bench/run.mjs starts one per run): milliseconds
/// from the navigation (`performance.now()`'s origin) to the module compiled and
/// instantiated, the model fetched and on the device, and the first upscaled image.
async function cold({ model = 'upscalerjs-rdn-x2', image = 'media/astronaut-256.png', size = 64 }) {
  const moduleMs = await window.ticketsrBench.ready;
  const input = await loadImage(image, size);
  const up = await Upscaler.create(new Uint8Array(await (await fetch(`models/${model}.safetensors`)).arrayBuffer()), {});
  const modelMs = performance.now();
  await up.upscale(input, {});
  const firstMs = performance.now();
  const info = up.info();
  up.dispose();
  const rows = [
    { step: 'module ready', ms: moduleMs },
    { step: 'model on the device', ms: modelMs },
    { step: 'first result', ms: firstMs },
  ];
  show(rows);
  $('status').textContent = 'Done.';
  return { suite: 'cold', model, image, size: [input.width, input.height], backend: info.backend, rows };
}

const SUITES = { tickets, pruning, video, peers, cold, frontier };

window.ticketsrBench = {
  /// When the module was ready, in ms since the navigation (the cold suite reports it).
  ready: init().then(() => performance.now()),
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
  for (const k of ['size', 'patch', 'reps', 'count', 'keep', 'reuse', 'long', 'longSize', 'gpuCanvas', 'gpu', 'cpu', 'others', 'context']) if (k in config) config[k] = Number(config[k]);
  if (config.keeps) config.keeps = config.keeps.split(',').map(Number);
  if (config.sparsities) config.sparsities = config.sparsities.split(',').map(Number);
  if (config.models) config.models = config.models.split(',');
  window.ticketsrBench.run(config).catch((e) => { $('status').textContent = `Failed: ${e.message}`; });
});
