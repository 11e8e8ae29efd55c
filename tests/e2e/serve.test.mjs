// The development server (scripts/serve.mjs) that the demo and these tests use: files under
// the repository only, no dot-folders, a 400 for what cannot be decoded; and the pages'
// own Content-Security-Policy. No browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { serve } from '../../scripts/serve.mjs';

let server;
let port;
before(async () => { server = await serve(0); port = server.address().port; });
after(() => server?.close());

// Raw paths, as a client may send them (fetch would normalise them first).
const get = (path, method = 'GET') => new Promise((ok, fail) => {
  const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { body += d; });
    res.on('end', () => ok(Object.assign(res, { body })));
  });
  req.on('error', fail);
  req.end();
});

test('pages come with their type and a strict Content-Security-Policy', async () => {
  const res = await get('/web/index.html');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  // The demo and the element's page: scripts and styles from the origin only, no eval.
  for (const page of ['/web/index.html', '/web/embed.html']) {
    const csp = (await get(page)).body.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
    assert.ok(csp, `${page} has a policy`);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(csp, /style-src 'self';/);
    assert.match(csp, /object-src 'none'/);
  }
  assert.equal((await get('/web/')).statusCode, 200);
  assert.equal((await get('/web/app.js', 'HEAD')).statusCode, 200);
});

test('bad paths are refused and the server keeps serving', async () => {
  // Undecodable; a dot-folder; an encoded separator that would climb to a sibling folder
  // whose name starts with the root's ('/work/main-other' passed a check without the
  // separator); a NUL.
  for (const path of ['/%', '/web/%E0%A4%A', '/.git/config', '/web/../.git/HEAD', '/crate/.cargo/config.toml', '/..%2Fmain-other/x', '/web/..%2F..%2Fetc/passwd', '/web/%00']) {
    assert.equal((await get(path)).statusCode, 400, path);
  }
  // Dot segments the URL parser resolves stay inside the root.
  for (const path of ['/%2e%2e/etc/passwd', '/web/%2e%2e/%2e%2e/etc/passwd', '/../etc/passwd']) {
    assert.equal((await get(path)).statusCode, 404, path);
  }
  assert.equal((await get('/web/no-such-file.png')).statusCode, 404);
  assert.equal((await get('/web/index.html', 'POST')).statusCode, 405);
  assert.equal((await get('/web/index.html')).statusCode, 200);
});
