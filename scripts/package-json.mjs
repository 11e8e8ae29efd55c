// Writes pkg/package.json from the crate's metadata, so the package is importable from a
// plain ES module page or a bundler.
import { readFileSync, writeFileSync } from 'node:fs';

const toml = readFileSync(new URL('../crate/Cargo.toml', import.meta.url), 'utf8');
const field = (name) => toml.match(new RegExp(`^${name} = "(.*)"`, 'm'))?.[1];
const pkg = {
  name: 'ticketsr',
  version: field('version'),
  description: field('description'),
  license: 'MIT OR Apache-2.0',
  type: 'module',
  main: 'ticketsr.js',
  module: 'ticketsr.js',
  types: 'ticketsr.d.ts',
  exports: {
    '.': { types: './ticketsr.d.ts', default: './ticketsr.js' },
    // Defines the <ticket-sr> element on import.
    './ticket-sr': './ticket-sr.js',
    // Notices a dead module and restarts it (the page's own use: web/app.js).
    './revive': './revive.js',
    // Frames as pixels: a frame loop and a pixel reader (the element and the demo use them).
    './frames': './frames.js',
    // The CPU path on every core, each a Web Worker: withThreads(upscaler, modelBytes).
    './threads': { types: './threads.d.ts', default: './threads.js' },
    './ticketsr_bg.wasm': './ticketsr_bg.wasm',
  },
  files: ['ticketsr_bg.wasm', 'ticketsr.js', 'ticketsr.d.ts', 'ticketsr_bg.wasm.d.ts', 'ticket-sr.js', 'revive.js', 'frames.js', 'bridge.js', 'threads.js', 'threads.d.ts', 'threads-worker.js'],
  sideEffects: ['./snippets/*', './ticket-sr.js', './revive.js'],
};
writeFileSync(new URL('../pkg/package.json', import.meta.url), JSON.stringify(pkg, null, 2) + '\n');
