// The pruning panel: moving the sparsity slider prunes the loaded model live, and the page
// reports the smaller model (parameters, MACs, file size, per-layer chart), runs it, and
// lets the user save it as a model file that loads again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiPage, start, settled, OUTPUT } from './browser.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/// A fingerprint of the drawn result.
const drawn = (page) => page.evaluate(() => {
  const c = document.getElementById('sr-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 1) h = (h * 31 + d[i]) >>> 0;
  return h;
});

const slide = (page, value) => page.$eval('#prune-sparsity', (el, v) => {
  el.value = String(v);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}, value);

test('the sparsity slider prunes channels live and the pruned model saves and reloads', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.base}/web/?model=ticketsr-espcn-x2&keep=100`);
  let demo = await settled(page, 1);
  assert.equal(demo.status, 'done', demo.error);
  const dense = { parameters: demo.info.parameters, ms: demo.result.srMs, psnr: demo.result.scores.model.psnrRgb, image: await drawn(page) };

  await page.selectOption('#prune-method', 'channel:l1');
  demo = await settled(page, 2);
  assert.equal(demo.status, 'done', demo.error);
  await slide(page, 50);
  demo = await settled(page, 3);
  assert.equal(demo.status, 'done', demo.error);
  const half = { ...demo.prune, ms: demo.result.srMs, psnr: demo.result.scores.model.psnrRgb, image: await drawn(page) };
  await slide(page, 75);
  demo = await settled(page, 4);
  const quarter = { ...demo.prune, ms: demo.result.srMs, psnr: demo.result.scores.model.psnrRgb, image: await drawn(page) };
  console.log(`ESPCN x2 channel pruning in the page: parameters ${dense.parameters} / ${half.parameters} / ${quarter.parameters}, ` +
    `ms ${dense.ms.toFixed(0)} / ${half.ms.toFixed(0)} / ${quarter.ms.toFixed(0)}, PSNR ${dense.psnr.toFixed(2)} / ${half.psnr.toFixed(2)} / ${quarter.psnr.toFixed(2)} dB (dense / 50% / 75%)`);

  // The reported parameter count follows the slider, and so does the output.
  assert.equal(demo.info.parameters, quarter.parameters);
  assert.ok(half.parameters < dense.parameters * 0.4 && quarter.parameters < half.parameters, `${half.parameters} ${quarter.parameters}`);
  assert.ok(quarter.macsPerOutputPixel < half.macsPerOutputPixel && half.bytes < half.before.bytes);
  assert.notEqual(half.image, dense.image);
  assert.notEqual(quarter.image, half.image);
  assert.match(await page.textContent('#prune-summary'), new RegExp(`^${quarter.parameters.toLocaleString('en-US')} of ${dense.parameters.toLocaleString('en-US')} parameters`));
  // The chart shows every convolution; the hidden ones lost channels, the last kept its 12.
  assert.equal(await page.isVisible('#layers'), true);
  assert.deepEqual(quarter.layers.map((l) => l.channels < l.channelsBefore), [true, true, true, false]);

  // Save: the file is the pruned model, and it loads again as a model of that size.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#prune-save')]);
  const saved = new URL('pruned-espcn.safetensors', OUTPUT).pathname;
  await download.saveAs(saved);
  const reloaded = await page.evaluate(async (href) => {
    const { Upscaler } = await import('/pkg/ticketsr.js');
    const bytes = new Uint8Array(await (await fetch(href)).arrayBuffer());
    const up = await Upscaler.create(bytes, { backend: 'cpu' });
    const info = up.info();
    up.dispose();
    return { parameters: info.parameters, bytes: bytes.length };
  }, await page.getAttribute('#prune-save', 'href'));
  assert.deepEqual(reloaded, { parameters: quarter.parameters, bytes: quarter.bytes });

  // Off again: the dense model and its output come back.
  await page.selectOption('#prune-method', 'none');
  demo = await settled(page, 5);
  assert.equal(demo.info.parameters, dense.parameters);
  assert.equal(await drawn(page), dense.image);
  await page.screenshot({ path: new URL('prune.png', OUTPUT).pathname, fullPage: true });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('upscaler.prune chooses and re-fits channels on an image, far closer to dense than L1 at the same sparsity', async () => {
  // Through the API on a 40 px image (one 32 px calibration crop): the page's option runs
  // the same call on the whole photo, which takes minutes on SwiftShader.
  const { page, pageErrors } = await apiPage(env);
  const r = await page.evaluate(async () => {
    await window.ticketsrBench.ready;
    const m = await import('../pkg/ticketsr.js');
    const bytes = new Uint8Array(await (await fetch('models/ticketsr-espcn-x2.safetensors')).arrayBuffer());
    const [w, h] = [40, 40];
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < w * h; i += 1) {
      const [x, y] = [i % w, Math.floor(i / w)];
      data.set([128 + 100 * Math.sin(x * 0.4) * Math.cos(y * 0.3), 128 + 90 * Math.sin((x + y) * 0.2), 120 + 60 * Math.cos(x * 0.7), 255], i * 4);
    }
    const image = new ImageData(data, w, h);
    const up = await m.Upscaler.create(bytes, {});
    const dense = await up.upscale(image, {});
    const method = { method: 'channel', sparsity: 0.5 };
    const t = performance.now();
    const ours = await up.prune(bytes, { ...method, criterion: 'reconstruction' }, image);
    const ms = performance.now() - t;
    const l1 = m.prune(bytes, method);
    const psnr = async (model) => {
      const u = await m.Upscaler.create(model, {});
      const out = await u.upscale(image, {});
      u.dispose();
      let se = 0;
      for (let i = 0; i < out.data.length; i += 1) if (i % 4 !== 3) se += (out.data[i] - dense.data[i]) ** 2;
      return 10 * Math.log10(255 ** 2 / (se / (out.data.length * 0.75)));
    };
    let refused = null;
    try { m.prune(bytes, { ...method, criterion: 'reconstruction' }); } catch (e) { refused = e.message; }
    const after = await up.upscale(image, {});
    up.dispose();
    return { ours: await psnr(ours.model), l1: await psnr(l1.model), ms, params: [ours.after.parameters, l1.after.parameters, ours.before.parameters], refused, works: after.width === 80 };
  });
  console.log(`ESPCN x2 at 50% of its channels, PSNR against the dense output: reconstruction ${r.ours.toFixed(2)} dB, L1 ${r.l1.toFixed(2)} dB; ` +
    `parameters ${r.params.join(' / ')} (ours / L1 / dense); pruned in ${r.ms.toFixed(0)} ms`);
  assert.ok(r.ours > r.l1 + 10 && r.ours > 35, JSON.stringify(r));
  assert.ok(r.params[0] < r.params[2] * 0.6 && r.params[1] < r.params[2] * 0.6, JSON.stringify(r.params));
  assert.match(r.refused, /calibration images: use upscaler\.prune/);
  assert.ok(r.works, 'the upscaler still works');
  assert.deepEqual(pageErrors, []);
  await page.close();
});
