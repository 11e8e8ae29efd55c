// Shared set-up for the end-to-end tests: the repository (or, with `site`, the deployable
// site scripts/build-site.sh writes to dist/) served on loopback by a plain static file
// server, and Debian's Chromium with WebGPU enabled (SwiftShader where there is no GPU).
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';

export const OUTPUT = new URL('../output/', import.meta.url);
mkdirSync(OUTPUT, { recursive: true });

const ARGS = [
  '--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
  // Memory measurements: exact JS heap sizes, and gc() to take them after a collection.
  '--enable-precise-memory-info', '--js-flags=--expose-gc',
];

// TICKETSR_GPU=1 (scripts/gpu-bench.sh on a machine with a GPU): Chromium's GPU process
// on the real adapter through Vulkan, instead of SwiftShader.
if (process.env.TICKETSR_GPU === '1') {
  ARGS.push('--ignore-gpu-blocklist', '--use-angle=vulkan', '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan');
}

// Every page reports what its Content-Security-Policy blocked as an uncaught error, so the
// tests that collect `pageerror` fail on it: a page that works only without its policy is
// a page that breaks on a host that sends one.
const reportCsp = () => document.addEventListener('securitypolicyviolation', (e) => {
  setTimeout(() => { throw new Error(`CSP blocked ${e.blockedURI || 'inline'} (${e.violatedDirective})`); });
});

const SITE = fileURLToPath(new URL('../../dist', import.meta.url));

/** `site`: serve dist/, the built site, instead of the repository; `isolated`: with COOP and COEP. */
export async function start({ site = false, isolated = false } = {}) {
  if (site && !existsSync(`${SITE}/sw.js`)) throw new Error('dist/ is not built: run scripts/build-site.sh');
  const server = await serve(0, site ? SITE : undefined, { isolated });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ARGS,
    headless: true,
  });
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (options) => {
    const page = await newPage(options);
    await page.addInitScript(reportCsp);
    return page;
  };
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    browser,
    server,
    async stop() {
      await browser.close();
      if (server.listening) server.close();
    },
  };
}

/** The benchmark page (the package and the bundled models beside it), for tests that call
 *  the JS API in a page; `pageErrors` collects its uncaught errors. */
export async function apiPage(env) {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.base}/web/bench.html`);
  return { page, pageErrors };
}

/** Waits until the demo page has finished its current run (or failed). */
export async function settled(page, runs, timeout = 600_000) {
  await page.waitForFunction(
    (n) => ['done', 'error', 'cancelled'].includes(window.ticketsrDemo?.status) && (window.ticketsrDemo.runs >= n || window.ticketsrDemo.status !== 'done'),
    runs,
    { timeout },
  );
  return page.evaluate(() => window.ticketsrDemo);
}
