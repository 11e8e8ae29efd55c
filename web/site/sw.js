// The built site's service worker (scripts/build-site.sh writes it to the site's root with
// the list of its files and a version): on install it keeps every file of the site, so
// that after the first visit the demo, the <ticket-sr> example and their models, media
// and wasm load with no network. Cache first; a new build is a new version, which
// replaces the old cache when it activates. Video elements ask for byte ranges, which are
// cut from the kept file.
const VERSION = 'ticketsr-site-@VERSION@';
const FILES = /* @FILES@ */ [];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== VERSION) await caches.delete(key);
    await self.clients.claim();
  })());
});

/** The part of `response` a `Range: bytes=a-b` request asks for, as a 206. */
async function ranged(request, response) {
  const m = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get('range') ?? '');
  if (!m) return response;
  const body = await response.arrayBuffer();
  const start = Number(m[1]);
  const end = Math.min(m[2] ? Number(m[2]) + 1 : body.byteLength, body.byteLength);
  if (start >= end) return new Response(null, { status: 416, headers: { 'content-range': `bytes */${body.byteLength}` } });
  return new Response(body.slice(start, end), {
    status: 206,
    headers: {
      'content-type': response.headers.get('content-type') ?? 'application/octet-stream',
      'content-range': `bytes ${start}-${end - 1}/${body.byteLength}`,
      'content-length': String(end - start),
    },
  });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== location.origin) return;
  event.respondWith((async () => {
    const hit = await caches.match(request, { cacheName: VERSION, ignoreSearch: true });
    return hit ? ranged(request, hit) : fetch(request);
  })());
});
