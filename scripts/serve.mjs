// A static file server for the demo and the browser tests: serves the repository root
// (web/ and pkg/ side by side), or the built site dist/ (the same layout), on loopback with
// the right MIME types and no other header that matters, no dependencies.
// Only files under the root, and none under a dot-folder (.git, .cargo): a request that
// cannot be decoded is a 400, never a crash. The pages carry their Content-Security-Policy
// in a <meta> tag, so that any static host serves them with it (docs/limits.md).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json',
  '.png': 'image/png', '.webm': 'video/webm', '.mp4': 'video/mp4', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.ts': 'text/plain',
  '.safetensors': 'application/octet-stream', '.bin': 'application/octet-stream',
};
/// The file a request path names under `root`, or null for one outside it or in a dot-folder.
export function resolvePath(root, url) {
  let path;
  try {
    path = decodeURIComponent(new URL(url, 'http://x').pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.split('/').some((part) => part.startsWith('.'))) return null;
  const file = normalize(join(root, path));
  return file === root || file.startsWith(root + sep) ? file : null;
}

/// `isolated`: the page is cross-origin isolated (COOP and COEP), so it may share memory
/// between threads: what the peers' threaded wasm builds need (`bench --isolated 1`).
export function serve(port = 0, root = ROOT, { isolated = false } = {}) {
  const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return res.end();
    }
    if (req.url === '/') {
      res.writeHead(302, { location: '/web/' });
      return res.end();
    }
    let file = resolvePath(root, req.url);
    if (file === null) {
      res.writeHead(400);
      return res.end('bad path');
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...isolation,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const server = await serve(port, ROOT, { isolated: process.env.ISOLATED === '1' });
  console.log(`ticketsr demo: http://127.0.0.1:${server.address().port}/web/`);
}
