// The pruning panel: moving the sparsity slider prunes the loaded model live, and the page
// reports the smaller model (parameters, MACs, file size, per-layer chart), runs it, and
// lets the user save it as a model file that loads again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, settled, OUTPUT } from './browser.mjs';

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
