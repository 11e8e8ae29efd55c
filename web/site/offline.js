// Added to the built site's pages by scripts/build-site.sh (not to the repository's, which
// scripts/serve.mjs serves during development): registers the service worker that keeps
// the site for offline use. A browser without service workers just stays online.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register(new URL('../sw.js', import.meta.url)).catch((e) => console.warn(`offline use unavailable: ${e.message}`));
}
