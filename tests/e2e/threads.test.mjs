// The CPU path on several threads (pkg/threads.js): Web Workers, each its own instance of
// the module, upscale bands of rows that stack to the single-threaded output byte for
// byte; tickets run on the page's instance; abort and dispose leave nothing behind that
// breaks the next call. Small images on the wasm CPU path: a few seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiPage, start } from './browser.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

// Equal to within rounding: no byte more than one level apart, and at most 1% of them one
// level apart (the CPU's Winograd blocks round a band's edge differently).
const withinRounding = (d) => d.max <= 1 && d.count <= d.of / 100;

test('withThreads splits dense SR over workers with the single-threaded output, and keeps the rest', async () => {
  const { page, pageErrors } = await apiPage(env);
  const r = await page.evaluate(async () => {
    await window.ticketsrBench.ready;
    const { Upscaler } = await import('../pkg/ticketsr.js');
    const { withThreads } = await import('../pkg/threads.js');
    const image = (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4).map((_, i) => (i % 4 === 3 ? 255 - (i % 7) : (i * 37 + (i >> 6)) % 256)) });
    const same = (a, b) => a.width === b.width && a.height === b.height && a.data.every((v, i) => v === b.data[i]);
    // The largest difference of a byte, and how many differ: the CPU's Winograd blocks
    // round a band's edge differently from the whole image's (docs/performance.md).
    const diff = (a, b) => {
      if (a.width !== b.width || a.height !== b.height) return { max: Infinity, count: Infinity };
      const d = a.data.map((v, i) => Math.abs(v - b.data[i]));
      return { max: Math.max(...d), count: d.filter((v) => v > 0).length, of: d.length };
    };
    const out = {};
    // ESPCN (a 5 px halo) and the default model (39 px: each band reads most of the image).
    for (const name of ['ticketsr-espcn-x2', 'upscalerjs-psnr-small-x2']) {
      const bytes = new Uint8Array(await (await fetch(`models/${name}.safetensors`)).arrayBuffer());
      const up = await Upscaler.create(bytes, { backend: 'cpu' });
      // 96 rows: three bands of 32, each with its halo (39 rows for psnr-small) cheaper than all.
      const img = image(32, 96);
      const single = await up.upscale(img, {});
      const threaded = await withThreads(await Upscaler.create(bytes, { backend: 'cpu' }), bytes, { threads: 3 });
      const progress = [];
      const split = await threaded.upscale(img, { onProgress: (done, total) => progress.push([done, total]) });
      const tickets = { keep: 0.5, patchSize: 16, scorer: 'laplacian' };
      out[name] = {
        threads: threaded.threads,
        diff: diff(split, single),
        progress,
        // Through the proxy: every other method is the page instance's.
        scale: threaded.info().model.scale,
        ticketsEqual: same(await threaded.upscale(img, tickets), await up.upscale(img, tickets)),
      };
      if (name === 'ticketsr-espcn-x2') {
        const controller = new AbortController();
        const aborted = threaded.upscale(img, { signal: controller.signal });
        controller.abort();
        out.abort = await aborted.then(() => 'resolved', (e) => e.name);
        out.afterAbort = diff(await threaded.upscale(img, {}), single);
        out.badSignal = await threaded.upscale(img, { signal: 'stop' }).then(() => 'accepted', (e) => e.message);
        out.badOption = await threaded.upscale(img, { kep: 0.5 }).then(() => 'accepted', (e) => e.message);
        out.badRegion = await up.upscaleRegion(img, { x: 0, y: 90, width: 32, height: 10 }, {}).then(() => 'accepted', (e) => e.message);
        out.hugeRegion = await up.upscaleRegion(img, { x: 2 ** 31, y: 0, width: 2 ** 31, height: 1 }, {}).then(() => 'accepted', (e) => e.message);
        out.regionTickets = await up.upscaleRegion(img, { x: 0, y: 0, width: 32, height: 16 }, { keep: 0.5 }).then(() => 'accepted', (e) => e.message);
        out.badParts = (() => { try { up.bands(32, 96, 0); return 'accepted'; } catch (e) { return e.message; } })();
        threaded.dispose();
        out.afterDispose = await threaded.upscale(img, {}).then(() => 'accepted', (e) => e.message);
      }
      up.dispose();
    }
    return out;
  });
  for (const name of ['ticketsr-espcn-x2', 'upscalerjs-psnr-small-x2']) {
    const m = r[name];
    assert.equal(m.threads, 3, name);
    assert.ok(withinRounding(m.diff), `${name}: the bands stacked differ from the single-threaded output: ${JSON.stringify(m.diff)}`);
    console.log(`${name}: bands against one thread, ${m.diff.count} of ${m.diff.of} bytes differ, by at most ${m.diff.max}`);
    assert.deepEqual(m.progress.map(([, total]) => total), [3, 3, 3], name);
    assert.deepEqual(m.progress.map(([done]) => done), [1, 2, 3], name);
    assert.equal(m.scale, 2);
    assert.ok(m.ticketsEqual, `${name}: tickets differ from the page instance's`);
  }
  assert.equal(r.abort, 'AbortError');
  assert.ok(withinRounding(r.afterAbort), `the call after an abort differs: ${JSON.stringify(r.afterAbort)}`);
  assert.match(r.badOption, /kep/);
  assert.match(r.badSignal, /signal must be an AbortSignal/);
  assert.match(r.badRegion, /region 32x10 at \(0, 90\)/);
  assert.match(r.hugeRegion, /not a non-empty part/);
  assert.match(r.regionTickets, /runs dense SR/);
  assert.match(r.badParts, /1 to 64 parts, not 0/);
  assert.match(r.afterDispose, /disposed/);
  assert.deepEqual(pageErrors, []);
});
