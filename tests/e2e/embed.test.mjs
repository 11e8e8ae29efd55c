// <ticket-sr> on a page of its own (web/embed.html, from the built site dist/): an image and
// a video upscaled by two lines of HTML, a wrong scale reported in place rather than drawn
// at another size, and the page working with the server gone after a first visit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, OUTPUT } from './browser.mjs';

let env;
before(async () => { env = await start({ site: true }); });
after(async () => { await env?.stop(); });

const record = () => {
  window.events = [];
  for (const type of ['upscaled', 'error']) {
    document.addEventListener(type, (e) => {
      if (e instanceof CustomEvent) window.events.push({ type, id: e.target.id, ...e.detail });
    }, true);
  }
};

/// Size, value range and a fingerprint of an element's canvas.
const canvas = (page, id) => page.evaluate((id) => {
  const c = document.getElementById(id).canvas;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let min = 255, max = 0, h = 0;
  for (let i = 0; i < d.length; i += 1) { min = Math.min(min, d[i]); max = Math.max(max, d[i]); h = (h * 31 + d[i]) >>> 0; }
  return { width: c.width, height: c.height, range: max - min, hash: h };
}, id);

/// The embed page opened and its photo upscaled (or failed), with the page's uncaught errors.
async function openEmbed() {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(record);
  await page.goto(`${env.base}/web/embed.html`);
  await page.waitForFunction(() => window.events.some((e) => e.id === 'photo'), null, { timeout: 300_000 });
  return { page, pageErrors };
}

test('the element upscales an image and plays a video upscaled', async () => {
  const { page, pageErrors } = await openEmbed();
  const photo = await canvas(page, 'photo');
  assert.deepEqual([photo.width, photo.height], [512, 512]);
  assert.ok(photo.range > 100, 'not blank');

  // The video keeps coming: several frames, each 2x the 64x64 clip, and they change.
  await page.waitForFunction(() => window.events.filter((e) => e.id === 'clip').length >= 2, null, { timeout: 300_000 });
  const first = await canvas(page, 'clip');
  await page.waitForFunction(() => window.events.filter((e) => e.id === 'clip').length >= 6, null, { timeout: 300_000 });
  const later = await canvas(page, 'clip');
  assert.deepEqual([first.width, first.height], [128, 128]);
  assert.ok(later.range > 50 && later.hash !== first.hash, 'the video moves');
  const events = await page.evaluate(() => window.events);
  assert.deepEqual(events.filter((e) => e.type === 'error'), []);
  const ms = events.filter((e) => e.id === 'clip').map((e) => e.ms).sort((a, b) => a - b);
  console.log(`<ticket-sr> video 64x64 -> 128x128, keep 50%: median ${ms[ms.length >> 1].toFixed(0)} ms per frame over ${ms.length} frames`);
  await page.screenshot({ path: new URL('embed.png', OUTPUT).pathname });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('a scale the model does not have is an error shown in place', async () => {
  const page = await env.browser.newPage();
  await page.addInitScript(record);
  await page.goto(`${env.base}/web/embed.html`);
  await page.evaluate(() => {
    const el = document.createElement('ticket-sr');
    el.id = 'wrong';
    el.setAttribute('model', 'models/ticketsr-espcn-x2.safetensors');
    el.setAttribute('scale', '4');
    el.setAttribute('src', 'media/astronaut-256.png');
    document.body.append(el);
  });
  await page.waitForFunction(() => window.events.some((e) => e.id === 'wrong'), null, { timeout: 300_000 });
  const [event] = await page.evaluate(() => window.events.filter((e) => e.id === 'wrong'));
  assert.equal(event.type, 'error');
  assert.match(event.message, /upscales x2, not x4/);
  const shown = await page.evaluate(() => document.getElementById('wrong').shadowRoot.querySelector('p').textContent);
  assert.match(shown, /upscales x2, not x4/);
  await page.close();
});

// Last in this file: it stops the server.
test('after a first visit the built site works with the server gone', async () => {
  const { page, pageErrors } = await openEmbed();
  // The service worker is active once it has kept every file of the site.
  const kept = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    const cache = await caches.open((await caches.keys()).find((k) => k.startsWith('ticketsr-site-')));
    return (await cache.keys()).map((r) => new URL(r.url).pathname);
  });
  assert.ok(kept.includes('/pkg/ticketsr_bg.wasm') && kept.includes('/web/models/ticketsr-espcn-x2.safetensors'), kept.join(' '));
  env.server.close();
  env.server.closeAllConnections();
  const gone = await page.evaluate(() => fetch(`/not-kept-${Date.now()}`).then(() => 'answered', () => 'failed'));
  assert.equal(gone, 'failed', 'the server still answers');
  const t = Date.now();
  await page.reload();
  await page.waitForFunction(() => window.events.some((e) => e.id === 'photo' && e.type === 'upscaled'), null, { timeout: 300_000 });
  const photo = await canvas(page, 'photo');
  assert.deepEqual([photo.width, photo.height], [512, 512]);
  console.log(`offline: ${kept.length} files kept; the photo upscaled again ${Date.now() - t} ms after the reload`);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
