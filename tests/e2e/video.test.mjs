// The demo page's video panel in headless Chromium on WebGPU: the bundled clip plays
// upscaled in a worker, the modes move the time per frame the way they should, a content
// pack plays in sync with its video, and the in-page fallback works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, OUTPUT } from './browser.mjs';

let env;
before(async () => { env = await start({ site: true }); });
after(async () => { await env?.stop(); });

// ESPCN keeps the photo part of the page quick; the video panel loads its own model.
const PAGE = '/web/?model=ticketsr-espcn-x2&keep=100';

/** Waits for `n` more upscaled frames than now, then returns the panel's state. */
async function frames(page, n, timeout = 300_000) {
  const now = await page.evaluate(() => window.ticketsrDemo.video.frames);
  await page.waitForFunction(
    (target) => window.ticketsrDemo.video.frames >= target || window.ticketsrDemo.video.status === 'error',
    now + n,
    { timeout },
  );
  const state = await page.evaluate(() => window.ticketsrDemo.video);
  assert.equal(state.error, null, `the video panel failed: ${state.error}`);
  return state;
}

/** Size and range of the SR canvas, and its mean absolute difference from the browser's scaling. */
const canvases = (page) => page.evaluate(() => {
  const read = (id) => {
    const c = document.getElementById(id);
    return { w: c.width, h: c.height, d: c.getContext('2d').getImageData(0, 0, c.width, c.height).data };
  };
  const sr = read('video-sr');
  const bic = read('video-bicubic');
  let min = 255, max = 0, diff = 0;
  for (let i = 0; i < sr.d.length; i += 1) {
    if (i % 4 === 3) continue;
    min = Math.min(min, sr.d[i]);
    max = Math.max(max, sr.d[i]);
    diff += Math.abs(sr.d[i] - bic.d[i]);
  }
  return { size: [sr.w, sr.h], bicubicSize: [bic.w, bic.h], range: max - min, meanDiff: diff / (sr.d.length * 0.75) };
});

async function setMode(page, mode) {
  await page.selectOption('#video-mode', mode);
}

test('the bundled clip plays upscaled in a worker, and the modes change the work per frame', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.base}${PAGE}&video=clip`);
  const dense = await frames(page, 3);
  assert.equal(dense.where, 'worker');
  assert.deepEqual(dense.input, [176, 144]);
  assert.deepEqual(dense.output, [352, 288]);
  assert.equal(dense.mode, 'dense');
  assert.ok(dense.fps > 0 && dense.msPerFrame > 0, JSON.stringify(dense));
  assert.equal(dense.last.computed, dense.last.patches);
  const c = await canvases(page);
  assert.deepEqual(c.size, [352, 288]);
  assert.deepEqual(c.bicubicSize, [352, 288]);
  assert.ok(c.range > 100, 'the upscaled frame is not blank');
  assert.ok(c.meanDiff > 0.5, `ticketsr's frame differs from the browser's scaling (mean ${c.meanDiff.toFixed(2)} levels)`);
  await page.screenshot({ path: new URL('video.png', OUTPUT).pathname, fullPage: true });
  assert.match(await page.textContent('#video-stats'), /fps · \d+ ms per frame/);

  // Tickets at 25%: the network on a quarter of the patches. What that saves in time is a
  // benchmark's to say (`npm run bench --prefix tests -- video`), not a test's: on two
  // shared cores three frames of SwiftShader move by a third between runs.
  await setMode(page, 'keep');
  const keep = await frames(page, 3);
  assert.equal(keep.mode, 'keep');
  assert.equal(keep.last.computed, Math.round(0.25 * keep.last.patches));

  // Temporal reuse on slowly played footage (frames closer together, as on a faster
  // device; 1/16 is Chromium's slowest rate) at a threshold of 24 levels: patches keep
  // their SR, so the network runs on fewer than all of them. From the clip's start: the frames
  // measured span about 1.6 s of the 3 s clip at 1/16, and must not straddle the loop's
  // restart, a seek that resets reuse (the last frame then reused nothing, now and then).
  await page.evaluate(() => {
    const video = document.getElementById('video');
    video.currentTime = 0;
    video.playbackRate = 0.0625;
    document.getElementById('video-reuse').value = '24';
  });
  await setMode(page, 'reuse');
  await frames(page, 1);
  const reuse = await frames(page, 3);
  assert.equal(reuse.mode, 'reuse');
  assert.ok(reuse.last.reused > 0 && reuse.last.computed < reuse.last.patches, JSON.stringify(reuse.last));
  console.log(
    `video 176x144 -> 352x288, ESPCN x2, worker: dense ${dense.msPerFrame.toFixed(0)} ms/frame, keep 25% ${keep.msPerFrame.toFixed(0)}, ` +
    `reuse ${reuse.msPerFrame.toFixed(0)} (${reuse.last.reused} of ${reuse.last.patches} reused)`,
  );
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('the GPU end-to-end mode plays, or recovers to dense SR with the reason where the canvas cannot present', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}${PAGE}&video=clip`);
  await frames(page, 1);
  await setMode(page, 'gpu');
  // Either GPU frames arrive, or the failure is reported and a fresh engine plays on densely.
  await page.waitForFunction(() => {
    const v = window.ticketsrDemo.video;
    return (v.frames >= 2 && v.last?.gpu) || /GPU end-to-end mode failed/.test(document.getElementById('video-status').textContent);
  }, null, { timeout: 300_000 });
  const recovered = await page.evaluate(() => document.getElementById('video-mode').value === 'dense');
  const after = await frames(page, 2);
  assert.deepEqual(after.output, [352, 288]);
  if (recovered) {
    assert.equal(after.mode, 'dense');
    assert.equal(after.last.computed, after.last.patches);
    console.log(`GPU end-to-end mode: ${await page.textContent('#video-status')}`);
  } else {
    assert.equal(after.last.gpu, true);
    console.log(`GPU end-to-end mode: ${after.msPerFrame.toFixed(0)} ms per frame`);
  }
  await page.close();
});

test('a content pack plays in sync with its video', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}${PAGE}&video=pack`);
  const first = await frames(page, 2);
  assert.equal(first.mode, 'pack');
  assert.equal(first.manifest.method.kind, 'stdo');
  assert.deepEqual(first.output, [first.manifest.width * 2, first.manifest.height * 2]);
  const c = await canvases(page);
  assert.ok(c.range > 100 && c.meanDiff > 0.5, JSON.stringify(c));
  // Paused and sought to a frame, the pack upscales exactly that frame with its map.
  await page.evaluate(() => document.getElementById('video').pause());
  for (const target of [7, 21]) {
    await page.evaluate((t) => {
      const v = document.getElementById('video');
      v.currentTime = (t + 0.25) / window.ticketsrDemo.video.manifest.fps;
    }, target);
    await page.waitForFunction((t) => window.ticketsrDemo.video.index === t, target, { timeout: 120_000 });
  }
  await page.close();
});

test('without a worker the engine runs in the page', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}${PAGE}&video=clip&worker=0`);
  const state = await frames(page, 2);
  assert.match(state.where, /^page/);
  assert.deepEqual(state.output, [352, 288]);
  assert.ok((await canvases(page)).range > 100);
  await page.close();
});
