// Benchmarks in the browser, run by hand (open web/bench.html) or by tests/bench/run.mjs,
// which calls `window.ticketsrBench.run(config)` and saves what it returns.
import init, { Upscaler, selectPatches, prune } from '../pkg/ticketsr.js';

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

const SUITES = { tickets, pruning };

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
  for (const k of ['size', 'patch', 'reps']) if (k in config) config[k] = Number(config[k]);
  if (config.keeps) config.keeps = config.keeps.split(',').map(Number);
  if (config.sparsities) config.sparsities = config.sparsities.split(',').map(Number);
  window.ticketsrBench.run(config).catch((e) => { $('status').textContent = `Failed: ${e.message}`; });
});
