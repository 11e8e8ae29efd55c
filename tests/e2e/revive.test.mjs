// A dead module comes back (issue 17): the wasm aborts on a panic or a failed allocation,
// and the element and the demo page must notice, restart it (pkg/revive.js) and say so.
// The tests kill the module for real: they grow its memory to the limit from JS, so the
// next allocation inside it fails and the module traps, as it would when a page's other
// work has used the memory up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './browser.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** In the page: grows the module's memory until it cannot grow, leaving the allocator none. */
const EXHAUST = async () => {
  const { default: init } = await import('/pkg/ticketsr.js');
  const memory = (await init()).memory;
  for (let pages = 1 << 14; pages >= 1; ) {
    try {
      memory.grow(pages);
    } catch {
      pages >>= 1;
    }
  }
  return memory.buffer.byteLength;
};

test('<ticket-sr> restarts a dead module, says so and draws', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // A page of the same origin with no policy of its own: the element is all there is.
  await page.goto(`${env.base}/pkg/package.json`);
  const bytes = await page.evaluate(EXHAUST);
  const result = await page.evaluate(async () => {
    await import('/pkg/ticket-sr.js');
    const canvas = new OffscreenCanvas(16, 12);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#369';
    ctx.fillRect(0, 0, 16, 12);
    ctx.fillStyle = '#fc3';
    ctx.fillRect(4, 3, 6, 5);
    const src = URL.createObjectURL(await canvas.convertToBlob());
    const el = document.createElement('ticket-sr');
    const events = [];
    const drawn = new Promise((resolve, reject) => {
      el.addEventListener('restarted', (e) => events.push(`restarted: ${e.detail.message}`));
      el.addEventListener('upscaled', (e) => resolve(e.detail));
      el.addEventListener('error', (e) => reject(new Error(e.detail.message)));
    });
    el.setAttribute('model', '/web/models/ticketsr-espcn-x2.safetensors');
    el.setAttribute('src', src);
    document.body.append(el);
    const detail = await drawn;
    return { events, size: [detail.width, detail.height] };
  });
  assert.ok(bytes >= 2 ** 31, `memory grown to ${bytes} bytes`);
  assert.equal(result.events.length, 1, JSON.stringify(result.events));
  assert.match(result.events[0], /wasm module stopped \(.*unreachable.*\) and was restarted/);
  assert.deepEqual(result.size, [32, 24]);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('the demo page restarts a dead module, reloads its model and runs again', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.base}/web/?backend=cpu&model=ticketsr-espcn-x2`);
  await page.waitForFunction(() => window.ticketsrDemo.status === 'done' && window.ticketsrDemo.runs === 1, null, { timeout: 300_000 });
  await page.evaluate(EXHAUST);
  // A larger photo than the first (dropped on the page, which runs it at once): its buffers
  // are larger than any the allocator freed, so the run needs new memory and traps.
  await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(384, 384);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(await createImageBitmap(await (await fetch('media/astronaut-256.png')).blob()), 0, 0, 384, 384);
    const data = new DataTransfer();
    data.items.add(new File([await canvas.convertToBlob()], 'astronaut-384.png', { type: 'image/png' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => window.ticketsrDemo.status === 'restarted', null, { timeout: 120_000 });
  const after = await page.evaluate(() => ({ restarts: window.ticketsrDemo.restarts, error: window.ticketsrDemo.error }));
  assert.equal(after.restarts, 1);
  assert.match(after.error, /wasm module stopped .* and was restarted/);
  await page.waitForFunction(() => /the model is loaded again/.test(document.getElementById('status').textContent), null, { timeout: 120_000 });
  await page.click('#run');
  await page.waitForFunction(() => window.ticketsrDemo.status === 'done' && window.ticketsrDemo.runs === 2, null, { timeout: 300_000 });
  const { input, output } = await page.evaluate(() => window.ticketsrDemo.result);
  assert.deepEqual(output, input.map((side) => side * 2));
  assert.ok(input[0] >= 192, `the larger photo ran (${input})`);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('the video engine restarts a dead module, loads its model again and plays on', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The engine on the page (?worker=0): the worker runs the same FrameEngine and revive.js,
  // but a test cannot reach into a worker's module to kill it.
  await page.goto(`${env.base}/web/?backend=cpu&model=ticketsr-espcn-x2&video=clip&worker=0`);
  await page.waitForFunction(() => window.ticketsrDemo.video.frames >= 2, null, { timeout: 300_000 });
  await page.evaluate(EXHAUST);
  // Loading a larger model needs new memory: the module traps under the engine.
  await page.selectOption('#video-model', 'models/upscalerjs-rdn-x2.safetensors');
  await page.waitForFunction(() => /was restarted/.test(document.getElementById('video-status').textContent), null, { timeout: 120_000 });
  const before = await page.evaluate(() => window.ticketsrDemo.video.frames);
  await page.waitForFunction((n) => window.ticketsrDemo.video.frames >= n + 2, before, { timeout: 300_000 });
  // Still the clip's model (the larger one never loaded), on the fresh module.
  assert.deepEqual(await page.evaluate(() => window.ticketsrDemo.video.output), [352, 288]);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
