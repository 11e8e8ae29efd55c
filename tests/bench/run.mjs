// Runs a browser benchmark suite (web/bench/bench.js) in headless Chromium on WebGPU, prints its
// table and saves it as JSON under tests/output/.
//   node bench/run.mjs tickets [--model upscalerjs-rdn-x2] [--size 256] [--patch 32]
//                              [--scorer laplacian] [--keeps 1,0.5,0.25,0.1] [--reps 2] [--context 4] [--backend cpu]
//   node bench/run.mjs pruning [--model upscalerjs-rdn-x2] [--size 128] [--sparsities 0,0.25,0.5,0.75] [--reps 3]
//   node bench/run.mjs video [--model ticketsr-espcn-x2] [--clip media/carphone-176.webm] [--count 12] [--keep 0.25]
//                            [--reuse 6] [--patch 16] [--long 2000 --longSize 32 --longMode dense|keep|reuse|gpu]
//                            [--gpuCanvas 1]   (on a browser that presents WebGPU canvases)
//   node bench/run.mjs peers [--model upscalerjs-rdn-x2] [--size 64] [--reps 3] [--gpu 0] [--cpu 0] [--others 0]
//                            [--threads 2 --isolated 1]   (the CPU rows also on 2 threads each; the page
//                                                          cross-origin isolated, as the peers' threads need)
//   node bench/run.mjs cold [--model upscalerjs-rdn-x2] [--size 64]   (navigation to first result)
//   node bench/run.mjs frontier [--models ticketsr-espcn-x2,ticketsr-wdsr-b-x2,upscalerjs-rdn-x2] [--size 128]
//                               [--sparsities 0.5] [--keeps 0.5,0.25] [--context 4] [--patch 16] [--backend auto|cpu]
// Every suite also takes --save FILE (where the JSON goes instead of tests/output/).
// TICKETSR_GPU=1 runs Chromium on the machine's GPU (Vulkan) instead of SwiftShader.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { start, OUTPUT } from '../e2e/browser.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string' }, image: { type: 'string' }, size: { type: 'string' }, patch: { type: 'string' },
    scorer: { type: 'string' }, keeps: { type: 'string' }, reps: { type: 'string' }, sparsities: { type: 'string' },
    clip: { type: 'string' }, count: { type: 'string' }, keep: { type: 'string' }, reuse: { type: 'string' },
    long: { type: 'string' }, longSize: { type: 'string' }, longMode: { type: 'string' }, gpuCanvas: { type: 'string' },
    gpu: { type: 'string' }, cpu: { type: 'string' }, others: { type: 'string' }, save: { type: 'string' }, context: { type: 'string' },
    models: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, isolated: { type: 'string' },
  },
});
const suite = positionals[0] ?? 'tickets';
const { save, isolated, ...options } = values;
const config = { suite, ...options };
for (const k of ['size', 'patch', 'reps', 'count', 'keep', 'reuse', 'long', 'longSize', 'gpuCanvas', 'gpu', 'cpu', 'others', 'context', 'threads']) if (k in config) config[k] = Number(config[k]);
if (config.keeps) config.keeps = config.keeps.split(',').map(Number);
if (config.sparsities) config.sparsities = config.sparsities.split(',').map(Number);
if (config.models) config.models = config.models.split(',');

const env = await start({ isolated: isolated === '1' });
try {
  const page = await env.browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // TF.js's threaded wasm starts a pool of half the cores the browser reports (4.11:
  // PTHREAD_POOL_SIZE), so on 2 cores it would run one thread: asked for N threads, the
  // page reports 2N cores, and every runtime is given N threads explicitly.
  if (config.threads > 1) {
    await page.addInitScript((n) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => n }), 2 * config.threads);
  }
  // The GPU process's resident memory: under SwiftShader the GPU's buffers live there, so
  // a leak of GPU memory shows in it (Linux /proc; null elsewhere).
  await page.exposeFunction('gpuProcessBytes', () => {
    try {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        let cmd;
        try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
        if (!cmd.includes('--type=gpu-process')) continue;
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return rss ? Number(rss[1]) * 1024 : null;
      }
    } catch { /* not Linux */ }
    return null;
  });
  await page.goto(`${env.base}/web/bench.html`);
  page.setDefaultTimeout(0);
  const result = await page.evaluate((c) => window.ticketsrBench.run(c), config);
  result.browser = env.browser.version();
  result.date = new Date().toISOString();
  console.log(`${suite}: ${result.model}, ${result.size.join('x')} in, on ${result.backend.kind} (${result.backend.adapter}), ${result.browser}`);
  console.table(result.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? +v.toFixed(3) : v]))));
  if (result.long) {
    console.log(`long run: ${result.long.frames} frames of ${result.long.size.join('x')}, ${result.long.mode}`);
    console.table(result.long.samples);
  }
  const long = result.long ? `-long${result.long.frames}` : '';
  const file = save ?? new URL(`bench-${suite}-${result.model}-${result.size[0]}${result.patch ? `-p${result.patch}` : ''}${long}.json`, OUTPUT).pathname;
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`saved ${file}`);
} finally {
  await env.stop();
}
