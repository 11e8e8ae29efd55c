// The demo page's one state object: what is loaded, what is on screen, what runs. Every
// feature folder reads and writes it here instead of keeping variables of its own.
// `demo` (`window.ticketsrDemo`) is the part the end-to-end tests read.

export const demo = (window.ticketsrDemo = {
  status: 'loading', runs: 0, error: null, result: null, info: null, tickets: null, evaluation: null, frontier: null, prune: null,
  restarts: 0,
});

export const state = {
  original: null,   // { bytes, label } of the model picked, before any pruning
  upscaler: null,   // the model (pruned when pruning is on)
  bicubic: null,    // the bicubic baseline at the model's scale
  image: null,      // ImageData as the user gave it
  imageName: '',
  controller: null, // AbortController of the task in flight (page.js)
  // What one input has already cost: its LR version, bicubic upscaling and patch scores
  // (per scorer and patch size), so moving the keep slider only reruns the sparse network.
  cache: null,
  generation: 0,    // bumped by every new image or model: the cache key
  tickets: null,    // { grid, scores, selected, gains } of the result on screen
  rerun: null,      // debounce timer of slider-driven runs
  video: null,      // the video panel's (video/panel.js)
};

const params = new URLSearchParams(location.search);

/** What the page's address asks for. */
export const settings = {
  params,
  backend: params.get('backend') ?? 'auto',
  // `?tile=N` caps the tile side (input pixels): smaller tiles, more progress steps.
  tileSize: params.has('tile') ? Number(params.get('tile')) : undefined,
  // `?threads=N`: workers for the CPU path (default: the device's cores, at most 4; 1: the page alone).
  threads: params.has('threads') ? Number(params.get('threads')) : undefined,
  // `?frontier-size=N`: the side of the central crop "Chart frontier" measures on.
  frontierSize: Math.max(16, Number(params.get('frontier-size')) || 256),
};
