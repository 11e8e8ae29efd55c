// The package's TypeScript declarations, generated from the library's option types
// (crate::options, tsify) with the hand-written rest (crate/src/wasm/api.d.ts): the
// README's examples compile against them as written, and misspelt options do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const tests = fileURLToPath(new URL('..', import.meta.url));
const tsc = `${tests}node_modules/.bin/tsc`;

/** tsc's diagnostics as `file(line,col): error ...` lines, and whether it passed. */
function compile(args) {
  try {
    execFileSync(tsc, args, { cwd: tests, encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, errors: [] };
  } catch (e) {
    return { ok: false, errors: `${e.stdout}${e.stderr}`.split('\n').filter((l) => l.includes('error TS')) };
  }
}

test("the README's examples type-check against the generated declarations", () => {
  const { ok, errors } = compile(['-p', 'types/tsconfig.json']);
  assert.ok(ok, errors.join('\n'));
});

test('a misspelt option or value is a type error, in every call that takes options', () => {
  const file = 'types/misspelt.ts';
  const expected = readFileSync(`${tests}${file}`, 'utf8').split('\n')
    .map((line, i) => (line.endsWith('// error') ? i + 1 : null)).filter((n) => n !== null);
  const { errors } = compile(['--strict', '--noEmit', '--target', 'es2022', '--module', 'esnext',
    '--moduleResolution', 'bundler', '--lib', 'es2022,dom', file]);
  const lines = errors.map((e) => {
    const at = e.match(/^types\/misspelt\.ts\((\d+),/);
    assert.ok(at, `an error outside the test file: ${e}`);
    return Number(at[1]);
  });
  assert.deepEqual([...new Set(lines)].sort((a, b) => a - b), expected, errors.join('\n'));
});

/** Every interface of the generated declarations: its fields, and each field's type name. */
function interfaces(dts) {
  const out = {};
  for (const [, name, body] of dts.matchAll(/export interface (\w+)(?:<[^>]*>)?(?: extends [^{]+)? \{\n([\s\S]*?)\n\}/g)) {
    const fields = (out[name] ??= {});
    for (const [, field, optional, type] of body.matchAll(/^ {4}(\w+)(\??): ([^;]+);/gm)) {
      fields[field] = { optional: optional === '?', type: type.match(/^\w+/)?.[0] };
    }
  }
  return out;
}

test('results at run time have exactly the fields their generated declarations name', async () => {
  const { start } = await import('./browser.mjs');
  const env = await start();
  try {
    const page = await env.browser.newPage();
    await page.goto(`${env.base}/web/bench.html`);
    const results = await page.evaluate(async () => {
      await window.ticketsrBench.ready;
      const m = await import('../pkg/ticketsr.js');
      const img = { width: 16, height: 16, data: new Uint8ClampedArray(16 * 16 * 4).map((_, i) => (i * 37) % 256) };
      const model = new Uint8Array(await (await fetch('models/ticketsr-espcn-x2.safetensors')).arrayBuffer());
      const up = await m.Upscaler.create(model, { backend: 'cpu' });
      const pack = await m.ContentPack.load(new Uint8Array(await (await fetch('media/bikes-x2-stdo-k2.tsrpack')).arrayBuffer()), { backend: 'cpu' });
      const { image, ...frame } = await up.stream().next(img, { keep: 0.5, patchSize: 8 });
      const pruned = m.prune(model, { method: 'channel', sparsity: 0.25 });
      return {
        UpscalerInfo: up.info(),
        PatchScores: await up.scorePatches(img, { patchSize: 8 }),
        CostModel: await up.measurePatchCost(img, { patchSize: 8 }),
        Evaluation: await up.evaluatePatches(img, { patchSize: 8, keeps: [0.5] }),
        FrameReport: frame,
        Metrics: m.metrics(img, img, 0),
        PackManifest: pack.manifest(),
        PruneSummary: pruned.after,
      };
    });
    const declared = interfaces(readFileSync(`${tests}../pkg/ticketsr.d.ts`, 'utf8'));
    const problems = [];
    const check = (value, type, at) => {
      const fields = declared[type];
      if (!fields || value === null || typeof value !== 'object') return;
      if (Array.isArray(value)) return value.forEach((v, i) => check(v, type, `${at}[${i}]`));
      for (const key of Object.keys(value)) {
        if (!(key in fields)) problems.push(`${at}.${key} is not declared in ${type}`);
        else check(value[key], fields[key].type, `${at}.${key}`);
      }
      for (const [key, f] of Object.entries(fields)) {
        if (!f.optional && !(key in value)) problems.push(`${at}.${key} is declared in ${type} but missing`);
      }
    };
    for (const [type, value] of Object.entries(results)) {
      assert.ok(declared[type], `${type} is not generated`);
      check(value, type, type);
    }
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await env.stop();
  }
});
