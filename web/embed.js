// web/embed.html: reports each element's events under the figures. A file, not an inline
// script: the page's Content-Security-Policy allows scripts from its own origin only.
const log = document.getElementById('log');
for (const el of document.querySelectorAll('ticket-sr')) {
  el.addEventListener('upscaled', (e) => { log.textContent = `${el.id}: ${e.detail.width}x${e.detail.height} in ${e.detail.ms.toFixed(0)} ms`; });
  el.addEventListener('error', (e) => { log.textContent = `${el.id}: ${e.detail.message}`; });
}
