// Winning-ticket patches in the page: the overlay outlines the selected patches, the keep
// slider changes how many and reruns the network on them, hovering tells a patch's score
// and gain, the evaluation chart compares every scorer with dense SR and bicubic, and the
// frontier chart puts every model, pruned and on tickets, on PSNR against measured time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, settled, OUTPUT } from './browser.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** Pixels drawn on the canvas `id` (not transparent). */
function inkedPixels(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) n += d[i] > 0 ? 1 : 0;
    return n;
  }, id);
}

/** Patches whose outline (the overlay's opaque green border) is drawn on the canvas. */
function outlined(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById('overlay-canvas');
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const { cols, rows, patch } = window.ticketsrDemo.tickets.grid;
    const side = patch * (canvas.width / window.ticketsrDemo.tickets.grid.width);
    const found = [];
    for (let r = 0; r < rows; r += 1) {
      for (let c = 0; c < cols; c += 1) {
        const x = c * side;
        const y = Math.min(r * side + Math.floor(side / 2), canvas.height - 1);
        const o = (y * canvas.width + x) * 4;
        if (d[o] === 0 && d[o + 1] === 255 && d[o + 2] === 120 && d[o + 3] === 255) found.push(r * cols + c);
      }
    }
    return found;
  });
}

/** Opens the demo at `query` (a page `height` px tall), presses `button` and waits for the
 *  result `field` of window.ticketsrDemo; fails on an error instead. */
async function pressAndWait(height, query, button, field) {
  const page = await env.browser.newPage({ viewport: { width: 1200, height } });
  await page.goto(`${env.base}/web/?${query}`);
  await settled(page, 1);
  await page.click(button);
  await page.waitForFunction((f) => window.ticketsrDemo[f] || window.ticketsrDemo.status === 'error', field, { timeout: 600_000 });
  const demo = await page.evaluate(() => window.ticketsrDemo);
  assert.equal(demo.error, null);
  return { page, demo };
}

function srPixels(page) {
  return page.evaluate(() => {
    const c = document.getElementById('sr-canvas');
    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
  });
}

test('the keep slider changes the outlined tickets and the output', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.base}/web/?model=upscalerjs-rdn-x2&keep=50&patch=32`);
  let demo = await settled(page, 1);
  assert.equal(demo.status, 'done', demo.error);
  // 128x128 input in 32 px patches: 16 patches, half of them tickets.
  assert.equal(demo.tickets.patches, 16);
  assert.equal(demo.result.selected, 8);
  const half = await outlined(page);
  assert.equal(half.length, 8, `outlined ${half}`);
  const before = await srPixels(page);

  await page.fill('#keep', '25');
  await page.dispatchEvent('#keep', 'input');
  // The outlines follow the slider at once, before the network reruns.
  const quarter = await outlined(page);
  assert.equal(quarter.length, 4, `outlined ${quarter}`);
  assert.ok(quarter.every((i) => half.includes(i)), 'the top quarter is inside the top half');
  assert.match(await page.textContent('#keep-value'), /25% \(4 of 16\)/);
  demo = await settled(page, 2);
  assert.equal(demo.status, 'done', demo.error);
  assert.equal(demo.result.selected, 4);
  const after = await srPixels(page);
  assert.equal(after.length, before.length);
  const changed = after.filter((v, i) => v !== before[i]).length;
  assert.ok(changed > 1000, `only ${changed} bytes of the output changed`);

  // Hovering a patch tells its score, its gain over bicubic and whether it won.
  const box = await page.locator('#overlay-canvas').boundingBox();
  const first = quarter[0];
  const g = demo.tickets.grid;
  const cx = box.x + ((first % g.cols) + 0.5) * (box.width / g.cols);
  const cy = box.y + (Math.floor(first / g.cols) + 0.5) * (box.height / g.rows);
  await page.mouse.move(cx, cy);
  await page.waitForSelector('#patch-tip:not([hidden])');
  assert.match(await page.textContent('#patch-tip'), new RegExp(`patch ${first} .* score [-\\d.e+]+ · gain [-+]\\d+\\.\\d\\d dB · ticket \\(SR\\)`));

  // A narrow context: the same tickets, run with 4 LR px of the image around them, so
  // their outer pixels change.
  await page.selectOption('#context', '4');
  demo = await settled(page, 3);
  assert.equal(demo.status, 'done', demo.error);
  assert.equal(demo.result.selected, 4);
  assert.equal(demo.result.context, 4);
  const narrow = await srPixels(page);
  const moved = narrow.filter((v, i) => v !== after[i]).length;
  assert.ok(moved > 0, 'the narrow context changed nothing');
  await page.screenshot({ path: new URL('tickets.png', OUTPUT).pathname, fullPage: true });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('a time budget sets the keep ratio from the measured cost per patch', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}/web/?model=upscalerjs-rdn-x2&keep=100&patch=32`);
  let demo = await settled(page, 1);
  assert.equal(demo.status, 'done', demo.error);
  // Half of what dense SR just took.
  const budget = Math.round(demo.result.srMs / 2);
  await page.fill('#budget', String(budget));
  await page.click('#fit-budget');
  demo = await settled(page, 2);
  assert.equal(demo.status, 'done', demo.error);
  const { cost, patches, of } = demo.budget;
  assert.ok(cost.fixedMs >= 0 && cost.perPatchMs > 0, JSON.stringify(cost));
  // The most patches the measured line allows within the budget, and the run used them.
  assert.ok(patches < of);
  assert.ok(patches === 0 || cost.fixedMs + patches * cost.perPatchMs <= budget);
  assert.ok(patches === of || cost.fixedMs + (patches + 1) * cost.perPatchMs > budget);
  assert.equal(Number(await page.inputValue('#keep')), Math.round((patches / of) * 100));
  assert.equal(demo.result.selected, patches);
  console.log(`budget ${budget} ms (half of dense ${demo.result.denseMs?.toFixed(0)} ms): ` +
    `${cost.fixedMs.toFixed(0)} + ${cost.perPatchMs.toFixed(0)} ms/patch -> ${patches} of ${of} patches, ran in ${demo.result.srMs.toFixed(0)} ms`);
  await page.close();
});

test('the evaluation chart compares every scorer with dense SR and bicubic', async () => {
  const { page, demo } = await pressAndWait(1200, 'model=upscalerjs-rdn-x2&keep=25&patch=32', '#evaluate-scorers', 'evaluation');
  const e = demo.evaluation;
  assert.deepEqual(e.curves.map((c) => c.scorer), ['gradient', 'laplacian', 'contrast', 'oracle', 'stdo', 'random']);
  for (const c of e.curves) {
    const first = c.points[0];
    const last = c.points[c.points.length - 1];
    // Keeping nothing is bicubic, everything is dense SR.
    assert.ok(Math.abs(first.psnr - e.bicubicPsnr) < 1e-6 && Math.abs(last.psnr - e.densePsnr) < 1e-6, JSON.stringify(c.points));
    assert.equal(c.scores.length, 16);
  }
  // The chart is drawn: its canvas holds the curves' colours.
  const inked = await inkedPixels(page, 'chart');
  assert.ok(inked > 2000, `only ${inked} chart pixels drawn`);
  assert.equal(await page.isHidden('#chart-figure'), false);
  console.log(`chart on the sample (fast model): bicubic ${e.bicubicPsnr.toFixed(2)}, dense ${e.densePsnr.toFixed(2)} dB; ` +
    e.curves.map((c) => `${c.scorer} @25% ${c.points.find((p) => p.keep === 0.25).psnr.toFixed(2)}`).join(', '));
  await page.close();
});

test('the frontier chart measures every configuration on this image and marks the front', async () => {
  // ESPCN loaded; WDSR-B joins it; the central 64 px of the sample (32 px in): seconds.
  const { page, demo } = await pressAndWait(1400, 'model=ticketsr-espcn-x2&keep=25&patch=16&frontier-size=64', '#chart-frontier', 'frontier');
  const points = demo.frontier;
  // Bicubic, and per model: dense and -50% channels, each dense and at keep 50% and 25%.
  assert.equal(points.length, 13, JSON.stringify(points));
  for (const model of ['ticketsr-espcn-x2', 'ticketsr-wdsr-b-x2']) {
    const configs = points.filter((p) => p.model === model).map((p) => `${p.pruning}/${p.keep}`).sort();
    assert.deepEqual(configs, ['0.5/0.25', '0.5/0.5', '0.5/1', '0/0.25', '0/0.5', '0/1'], model);
  }
  const bicubic = points.find((p) => p.model === 'bicubic');
  assert.ok(points.filter((p) => p.model !== 'bicubic').every((p) => p.psnr_y !== bicubic.psnr_y), 'a network point equals bicubic');
  // The front: nothing off it lacks a front point at least as fast and as good; nothing on
  // it has one strictly faster and better.
  const front = points.filter((p) => p.front);
  for (const p of points) {
    const dominating = front.filter((q) => q !== p && q.median_ms <= p.median_ms && q.psnr_y >= p.psnr_y);
    assert.equal(dominating.length > 0, !p.front, `${JSON.stringify(p)} against the front ${JSON.stringify(front)}`);
  }
  const inked = await inkedPixels(page, 'frontier');
  assert.ok(inked > 2000, `only ${inked} chart pixels drawn`);
  assert.match(await page.textContent('#frontier-advice'), /Within \d+ ms \(ticketsr-espcn-x2 dense/);
  console.log(`frontier on the 64 px crop: ${front.map((p) => `${p.model} -${p.pruning * 100}% keep ${p.keep} ${p.psnr_y.toFixed(2)} dB ${p.median_ms.toFixed(0)} ms`).join('; ')}`);
  await page.close();
});
