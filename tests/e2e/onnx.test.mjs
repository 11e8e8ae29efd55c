// `exportOnnx` (what `ticketsr export-onnx` writes) run by ONNX Runtime Web gives ticketsr's
// own output, on each bundled x2 architecture, through the peer benchmark's own code
// (web/bench/bench.js, suite `peers`) on the CPU: the benchmark's parity column is tested here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './browser.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

test('the ONNX export runs in ONNX Runtime Web with ticketsr\'s output', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}/web/bench.html`);
  for (const model of ['ticketsr-espcn-x2', 'ticketsr-wdsr-b-x2', 'upscalerjs-rdn-x2']) {
    const { rows } = await page.evaluate((model) => window.ticketsrBench.run({ suite: 'peers', model, size: 24, reps: 1, gpu: 0, others: 0 }), model);
    console.log(rows.map((r) => `${model}: ${r.runtime} ${r.median_ms?.toFixed(0)} ms, parity ${r.parity_psnr_db?.toFixed(1) ?? '-'} dB ${r.error ?? ''}`).join('\n'));
    const ort = rows.find((r) => r.runtime === 'ONNX Runtime Web');
    assert.equal(ort.error, undefined);
    assert.ok(ort.parity_psnr_db >= 45, `${model}: ONNX Runtime's output is ${ort.parity_psnr_db} dB from ticketsr's`);
    if (model === 'upscalerjs-rdn-x2') {
      const tfjs = rows.find((r) => r.runtime === 'UpscalerJS');
      assert.ok(tfjs.parity_psnr_db >= 45, `UpscalerJS (TF.js wasm) is ${tfjs.parity_psnr_db} dB from ticketsr`);
    }
  }
  const refused = await page.evaluate(async () => {
    const { exportOnnx } = await import('/pkg/ticketsr.js');
    try { exportOnnx(new Uint8Array([1, 2, 3])); return null; } catch (e) { return String(e.message ?? e); }
  });
  assert.ok(refused && /model/i.test(refused), `a corrupt model file should be refused clearly, got ${refused}`);
  await page.close();
});
