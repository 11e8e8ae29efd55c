// The JS boundary, swept with hostile input (issue 17): every entry point given absurd
// sizes, counts, options and bytes rejects with an Error that names the problem, and the
// module still upscales afterwards (the wasm aborts on a panic, which would end it). Small
// inputs on the CPU backend: about a second of work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './browser.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** In the page: `outcomes(cases)` runs each case and says how it ended ('accepted', or the error). */
const OUTCOMES = () => {
  globalThis.outcomes = async (cases) => {
    const out = {};
    for (const [name, call] of Object.entries(cases)) {
      try {
        await call();
        out[name] = 'accepted';
      } catch (e) {
        out[name] = e instanceof Error ? `Error: ${e.message}` : `not an Error: ${String(e)}`;
      }
    }
    return out;
  };
};

test('every entry point refuses hostile input with an Error and the module survives', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(OUTCOMES);
  await page.goto(`${env.base}/web/bench.html`);
  const results = await page.evaluate(async () => {
    await window.ticketsrBench.ready;
    const m = await import('../pkg/ticketsr.js');
    const image = (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4).map((_, i) => (i * 37) % 256) });
    const img = image(16, 16);
    const model = new Uint8Array(await (await fetch('models/ticketsr-espcn-x2.safetensors')).arrayBuffer());
    const up = await m.Upscaler.create(model, { backend: 'cpu' });
    const cases = {
      'image claiming 1e6 x 1e6': () => up.upscale({ width: 1e6, height: 1e6, data: new Uint8Array(4) }, {}),
      'image data of the wrong length': () => up.upscale({ width: 16, height: 16, data: new Uint8Array(10) }, {}),
      'image side not an integer': () => up.upscale({ width: 1.5, height: 16, data: new Uint8Array(96) }, {}),
      'patchSize 1e9': () => up.upscale(img, { keep: 0.5, patchSize: 1e9 }),
      'patchSize 2^31 when scoring': () => up.scorePatches(img, { patchSize: 2 ** 31 }),
      'selected longer than the grid': () => up.upscale(img, { selected: new Uint32Array(100), patchSize: 8 }),
      'selected with 2^25 entries': () => up.upscale(img, { selected: new Uint32Array(2 ** 25), patchSize: 8 }),
      'selected outside the grid': () => up.upscale(img, { selected: [0, 4], patchSize: 8 }),
      'keep and selected together': () => up.upscale(img, { keep: 0.5, selected: [0] }),
      'a misspelt option': () => m.Upscaler.create(model, { backend: 'cpu', tilesize: 8 }),
      'a misspelt upscale option': () => up.upscale(img, { keep: 0.5, patchsize: 8 }),
      'a misspelt frame option': () => up.stream().next(img, { reuse: 6, kep: 0.5 }),
      'a misspelt scoring option': () => up.scorePatches(img, { patchsize: 8 }),
      'an evaluation option misspelt': () => up.evaluatePatches(img, { keepz: [0.5] }),
      'a cost option of another call': () => up.measurePatchCost(img, { scorers: ['gradient'] }),
      'a cost with more context than the radius': () => up.measurePatchCost(img, { context: 1e6 }),
      'more context than the radius': () => up.upscale(img, { keep: 0.5, patchSize: 8, context: 1e6 }),
      'patchWork with more context than the radius': () => up.patchWork(16, 16, 8, [0], 1e6),
      'gains only with a scorer that ranks': () => up.upscale(img, { gainsOnly: true, scorer: 'gradient', patchSize: 8 }),
      'gains only and keep together': () => up.upscale(img, { gainsOnly: true, keep: 0.5 }),
      'tileSize 1e9': () => m.Upscaler.create(model, { backend: 'cpu', tileSize: 1e9 }),
      'tileSize 0': () => m.Upscaler.create(model, { backend: 'cpu', tileSize: 0 }),
      'a corrupt model': () => m.Upscaler.create(model.slice(0, 100), { backend: 'cpu' }),
      'bytes that are not a model': () => m.Upscaler.create(new Uint8Array(64).fill(255), { backend: 'cpu' }),
      'bicubic x1000': () => m.Upscaler.bicubic(1000, { backend: 'cpu' }),
      'a corrupt pack': () => m.ContentPack.load(model, { backend: 'cpu' }),
      'patchWork with a huge patch': () => up.patchWork(16, 16, 1e9, []),
      'patchWork outside the grid': () => up.patchWork(16, 16, 8, [99]),
      'downscale x1000': () => m.downscale(img, 1000),
      'metrics of different sizes': () => m.metrics(img, image(8, 8), 0),
      'metrics shaving everything': () => m.metrics(img, img, 8),
      'patchGains with patch 0': () => m.patchGains(img, img, img, 2, 0),
      'an overlay of a 16384 grid x8': () => m.ticketOverlay({ width: 16384, height: 16384, patch: 512, cols: 32, rows: 32 }, 8, new Float32Array(1024), [], 0.5),
      'selectPatches keep NaN': () => m.selectPatches([1, 2, 3], { keep: NaN }),
      'selectPatches with no scores': () => m.selectPatches(null, { keep: 0.5 }),
      'prune with sparsity 7': () => m.prune(model, { method: 'channel', sparsity: 7 }),
      'prune a corrupt model': () => m.prune(model.slice(0, 50), { method: 'magnitude', sparsity: 0.5 }),
      'exportOnnx of garbage': () => m.exportOnnx(new Uint8Array(8)),
      'a stream frame of 1e6 x 1e6': () => up.stream().next({ width: 1e6, height: 1e6, data: new Uint8Array(4) }, {}),
      'a stream frame with a huge patch': () => up.stream().next(img, { patchSize: 1e9 }),
    };
    const out = await outcomes(cases);
    // Still alive: the same upscaler and a new one both work.
    const after = await up.upscale(img, { keep: 0.5, patchSize: 8 });
    const again = await (await m.Upscaler.create(model, { backend: 'cpu' })).upscale(img, {});
    return { out, alive: [after.width, after.height, again.width, again.height] };
  });
  const wrong = Object.entries(results.out).filter(([, result]) => !result.startsWith('Error: '));
  assert.deepEqual(wrong, [], 'every case rejects with an Error');
  // The refusals that name their limit.
  assert.match(results.out['patchSize 1e9'], /outside 4\.\.=512/);
  assert.match(results.out['selected with 2^25 entries'], /more than 16777216/);
  assert.match(results.out['selected longer than the grid'], /100 patches selected in a grid of 4/);
  assert.match(results.out['tileSize 1e9'], /tile side 1000000000/);
  assert.match(results.out['a misspelt option'], /unknown option `tilesize`/);
  assert.match(results.out['a misspelt upscale option'], /unknown option `patchsize`/);
  assert.match(results.out['a misspelt frame option'], /unknown option `kep`/);
  assert.match(results.out['a misspelt scoring option'], /unknown option `patchsize`/);
  assert.match(results.out['an evaluation option misspelt'], /unknown option `keepz`/);
  assert.match(results.out['a cost option of another call'], /unknown option `scorers`/);
  for (const k of ['a cost with more context than the radius', 'more context than the radius', 'patchWork with more context than the radius']) {
    assert.match(results.out[k], /context of 1000000 px is more than the network's receptive radius/, k);
  }
  assert.match(results.out['gains only with a scorer that ranks'], /`gradient` scorer ranks patches but does not predict/);
  assert.match(results.out['gains only and keep together'], /give one of `keep`, `selected`, `budgetMs` and `gainsOnly`/);
  assert.match(results.out['an overlay of a 16384 grid x8'], /more than 64 Mi pixels|more than 16384 pixels|sides larger/);
  assert.deepEqual(results.alive, [32, 32, 32, 32]);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('gpuCanvas().draw() refuses frames the browser would not copy, and the module survives', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(OUTCOMES);
  // A same-origin page with no policy of its own, so that the cross-origin video loads and
  // it is ticketsr that refuses it, not the page's Content-Security-Policy.
  await page.goto(`${env.base}/pkg/package.json`);
  const results = await page.evaluate(async (crossOrigin) => {
    const m = await import('/pkg/ticketsr.js');
    await m.default();
    const model = new Uint8Array(await (await fetch('/web/models/ticketsr-espcn-x2.safetensors')).arrayBuffer());
    const up = await m.Upscaler.create(model, { backend: 'webgpu' });
    const gpu = up.gpuCanvas(document.createElement('canvas'));
    const loaded = (src) => new Promise((resolve, reject) => {
      const video = Object.assign(document.createElement('video'), { muted: true });
      video.onloadeddata = () => resolve(video);
      video.onerror = () => reject(new Error(`${src} did not load`));
      video.src = src;
    });
    const closed = await createImageBitmap(new ImageData(8, 8));
    closed.close();
    const cases = {
      'a closed ImageBitmap': () => gpu.draw(closed),
      'a video with no frame yet': () => gpu.draw(document.createElement('video')),
      'a canvas wider than a texture': () => gpu.draw(Object.assign(document.createElement('canvas'), { width: 9000, height: 4 })),
      'a cross-origin video without CORS': async () => gpu.draw(await loaded(crossOrigin)),
    };
    const out = await outcomes(cases);
    const img = { width: 8, height: 8, data: new Uint8ClampedArray(256).fill(128) };
    const after = await up.upscale(img, {});
    return { out, alive: [after.width, after.height] };
  }, `${env.base.replace('127.0.0.1', 'localhost')}/web/media/bikes-64.webm`);
  assert.match(results.out['a closed ImageBitmap'], /^Error: .*empty/);
  assert.match(results.out['a video with no frame yet'], /^Error: .*empty/);
  assert.match(results.out['a canvas wider than a texture'], /^Error: .*at most \d+ pixels a side/);
  assert.match(results.out['a cross-origin video without CORS'], /^Error: .*another origin without CORS/);
  assert.deepEqual(results.alive, [16, 16]);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
