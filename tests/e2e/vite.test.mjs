// The package as a bundler sees it: tests/vite imports `ticketsr` and `ticketsr/ticket-sr`
// by name, Vite resolves them through pkg/package.json (linked as node_modules/ticketsr),
// bundles the page and emits the wasm; the built page then runs in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { build } from 'vite';
import { start } from './browser.mjs';

const VITE = new URL('../vite/', import.meta.url);
let env;
before(async () => {
  const modules = new URL('node_modules/', VITE);
  mkdirSync(modules, { recursive: true });
  rmSync(new URL('ticketsr', modules), { force: true, recursive: true });
  symlinkSync('../../../pkg', new URL('ticketsr', modules).pathname, 'dir');
  await build({ configFile: new URL('vite.config.mjs', VITE).pathname });
  env = await start();
});
after(async () => { await env?.stop(); });

test('a Vite-built page imports the package by name and upscales', async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.base}/tests/vite/dist/index.html`);
  await page.waitForFunction(() => window.result, null, { timeout: 300_000 });
  const result = await page.evaluate(() => window.result);
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual([result.width, result.height], [48, 32]);
  assert.equal(result.backend, 'webgpu');
  assert.ok(result.pruned > 0 && result.pruned < 60652 / 2);
  // The element came along in the bundle and drew the photo x2.
  await page.waitForFunction(() => document.getElementById('element').canvas.width === 512, null, { timeout: 300_000 });
  // The wasm is an emitted asset of the build, not fetched from pkg/.
  const wasm = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.endsWith('.wasm')));
  assert.ok(wasm.length >= 1 && wasm.every((n) => n.includes('/tests/vite/dist/')), wasm.join(', '));
  assert.deepEqual(pageErrors, []);
  await page.close();
});
