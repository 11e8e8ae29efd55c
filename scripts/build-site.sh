#!/usr/bin/env bash
# Builds the deployable static site in dist/ from the package (scripts/build-web.sh) and
# web/: the demo and the <ticket-sr> example with the bundled models and media, every
# path relative, so any static host serves it from any folder, and a service worker that
# keeps it for offline use after the first visit. The benchmark page stays out (it loads
# the peers' runtimes from tests/node_modules). Headers to set: docs/deploy.md.
#
#   scripts/build-site.sh [--no-package]   (--no-package: use pkg/ as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = --no-package ] || scripts/build-web.sh
[ -f pkg/ticketsr_bg.wasm ] || { echo "pkg/ is not built: run scripts/build-web.sh" >&2; exit 1; }
rm -rf dist
mkdir -p dist/web dist/pkg
cp pkg/ticketsr.js pkg/ticketsr_bg.wasm pkg/ticket-sr.js pkg/revive.js pkg/frames.js pkg/bridge.js pkg/threads.js pkg/threads-worker.js pkg/package.json dist/pkg/
# The pages and their modules, models and media; not the benchmark, not the site's own
# sources (written below).
tar -C web --exclude=./bench.html --exclude=./bench --exclude=./site -cf - . | tar -C dist/web -xf -
cp web/site/offline.js dist/web/offline.js
for page in dist/web/index.html dist/web/embed.html; do
  sed -i 's#</head>#  <script type="module" src="offline.js"></script>\n</head>#' "$page"
  grep -q 'src="offline.js"' "$page" || { echo "could not add the service worker to $page" >&2; exit 1; }
done
# The landing page: the demo.
cat > dist/index.html <<'HTML'
<!doctype html>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0; url=web/">
<title>ticketsr</title>
<a href="web/">ticketsr: super-resolution on WebGPU</a>
HTML
# The service worker, with every file of the site (paths relative to its folder, the
# site's root; a folder's index.html also by the folder's own URL) and a version from
# their contents.
files=$(cd dist && find . -type f ! -name sw.js | sed 's#^\./##' | LC_ALL=C sort)
version=$(cd dist && echo "$files" | xargs sha256sum | sha256sum | cut -c1-16)
echo "$files" | node -e '
  const fs = require("fs");
  const files = fs.readFileSync(0, "utf8").trim().split("\n");
  const urls = files.flatMap((f) => (f.endsWith("index.html") ? [f.slice(0, -"index.html".length) || "./", f] : [f]));
  const src = fs.readFileSync("web/site/sw.js", "utf8");
  if (!src.includes("@VERSION@") || !src.includes("/* @FILES@ */ []")) throw new Error("web/site/sw.js lost its markers");
  fs.writeFileSync("dist/sw.js", src.replace("@VERSION@", process.argv[1]).replace("/* @FILES@ */ []", JSON.stringify(urls, null, 2)));
' "$version"
bytes=$(du -sb dist | cut -f1)
echo "dist/: $(echo "$files" | wc -l) files, $((bytes / 1024)) KiB (wasm $(stat -c %s dist/pkg/ticketsr_bg.wasm) bytes, $(gzip -9c dist/pkg/ticketsr_bg.wasm | wc -c) gzipped), version $version"
