// The demo page: load a model, take an image (bundled sample, file picker or drop),
// upscale it with the model on its winning-ticket patches (bicubic elsewhere) and with
// bicubic, compare them side by side, and show which patches won; prune the model; play
// a video or a content pack. Each feature is a folder (image/, model/, tickets/, prune/,
// frontier/, video/); they share the one state object (state.js) and the page's chrome (page.js).
// This file only wires them and starts the page.
import init from '../pkg/ticketsr.js';
import { guarded, onRestart } from '../pkg/revive.js';
import { setStatus, showError } from './page.js';
import { demo, settings } from './state.js';
import { loadSample, wireImage } from './image/input.js';
import { wireResult } from './image/result.js';
import { loadFirst, reloadAfterRestart, wireModel } from './model/load.js';
import { wirePrune } from './prune/panel.js';
import { wireTickets } from './tickets/run.js';
import { wireOverlay } from './tickets/overlay.js';
import { wireChart } from './tickets/chart.js';
import { wireFrontier } from './frontier/chart.js';
import { startVideoPanel } from './video/panel.js';

onRestart(reloadAfterRestart);

async function main() {
  wireImage();
  wireResult();
  wireModel();
  wirePrune();
  wireTickets();
  wireOverlay();
  wireChart();
  wireFrontier();
  // `?video=clip` or `?video=pack` starts the video panel at once; `?worker=0` keeps its
  // engine on the page instead of a worker.
  const video = startVideoPanel(demo, { backend: settings.backend, worker: settings.params.get('worker') !== '0' });
  if (video[settings.params.get('video')]) video[settings.params.get('video')]();
  try {
    await init();
    setStatus('Loading model…');
    await guarded(loadFirst);
    await loadSample();
  } catch (e) {
    showError(`Start-up failed: ${e.message}`);
    demo.status = 'error';
  }
}

main();
