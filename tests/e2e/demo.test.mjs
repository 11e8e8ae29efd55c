// The demo page as a user meets it: it starts with the bundled model and photo, upscales on
// WebGPU, beats bicubic, and survives a corrupt model and a file that is not an image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, settled, OUTPUT } from './browser.mjs';

let env;
before(async () => { env = await start({ site: true }); });
after(async () => { await env?.stop(); });

test('the bundled sample is upscaled x2 on WebGPU where SR gains, and beats bicubic', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The page as a user first meets it: the default model, SR only on the patches the
  // learned scorer predicts to gain, bicubic elsewhere.
  await page.goto(`${env.base}/web/`);
  const demo = await settled(page, 1);
  assert.equal(demo.status, 'done', demo.error);
  assert.deepEqual(demo.result.output, demo.result.input.map((v) => v * 2));
  assert.match(await page.textContent('#backend'), /^WebGPU · /);
  const { model, bicubic } = demo.result.scores;
  console.log(`sample x2, gains only (${demo.result.selected} of ${demo.tickets.patches} patches): model ${model.psnrRgb.toFixed(2)} dB, ` +
    `bicubic ${bicubic.psnrRgb.toFixed(2)} dB; SR ${demo.result.srMs.toFixed(0)} ms; first result ${demo.result.sinceLoadMs.toFixed(0)} ms ` +
    `after page load; adapter ${demo.info.backend.adapter}`);
  assert.equal(demo.info.model.name, 'upscalerjs-psnr-small-x2');
  assert.equal(demo.result.gainsOnly, true);
  assert.equal(await page.isChecked('#gains-only'), true);
  assert.equal(await page.isDisabled('#keep'), true);
  assert.match(await page.textContent('#keep-value'), /^gains only \(\d+ of 16\)$/);
  assert.ok(demo.result.selected > 0 && demo.result.selected < demo.tickets.patches);
  assert.ok(model.psnrRgb >= bicubic.psnrRgb + 0.5 && bicubic.psnrRgb > 25);
  // The drawn result is the upscaled image, not a blank canvas.
  const drawn = await page.evaluate(() => {
    const c = document.getElementById('sr-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let min = 255, max = 0;
    for (let i = 0; i < d.length; i += 4) { min = Math.min(min, d[i]); max = Math.max(max, d[i]); }
    return { width: c.width, height: c.height, range: max - min };
  });
  assert.deepEqual([drawn.width, drawn.height], demo.result.output);
  assert.ok(drawn.range > 100);
  assert.equal(await page.getAttribute('#download', 'class'), 'button');
  await page.screenshot({ path: new URL('demo.png', OUTPUT).pathname, fullPage: true });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

// The fast bundled model keeps the remaining tests short on SwiftShader.
test('a corrupt model and a non-image are clear errors and the page stays usable', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}/web/?model=upscalerjs-rdn-x2`);
  await settled(page, 1);

  await page.setInputFiles('#model-file', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model at all') });
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /Could not load broken\.safetensors: invalid model/);
  assert.match(await page.textContent('#status'), /Kept the previous model/);

  await page.setInputFiles('#image-file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('plain text') });
  await page.waitForFunction(() => /notes\.png/.test(document.getElementById('error').textContent));
  assert.match(await page.textContent('#error'), /Could not read notes\.png as an image/);

  // Still usable: the previous model and image upscale again.
  await page.click('#run');
  const demo = await settled(page, 2);
  assert.equal(demo.status, 'done', demo.error);
  assert.equal(await page.isHidden('#error'), true);
  await page.close();
});

test('progress repaints between tiles', async () => {
  const page = await env.browser.newPage();
  // Every painted frame records what the progress line showed at that moment.
  await page.addInitScript(() => {
    window.painted = [];
    const tick = () => {
      const status = document.getElementById('status');
      if (status) window.painted.push(status.textContent);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.goto(`${env.base}/web/?model=upscalerjs-rdn-x2&tile=32&keep=100`);
  const demo = await settled(page, 1);
  assert.equal(demo.status, 'done', demo.error);
  const painted = await page.evaluate(() => window.painted);
  const tiles = new Set(painted.map((s) => s.match(/tile (\d+) of (\d+)/)).filter(Boolean).map((m) => `${m[1]}/${m[2]}`));
  console.log(`painted progress states: ${[...tiles].join(', ')}`);
  const total = Number([...tiles][0]?.split('/')[1]);
  assert.equal(total, 16, 'a 128x128 input in 32 px tiles is 16 tiles');
  // Not every tile needs its own frame, but the page must not freeze for the whole run.
  assert.ok(tiles.size >= total / 2, `only ${tiles.size} of ${total} progress states were painted`);
  await page.close();
});
