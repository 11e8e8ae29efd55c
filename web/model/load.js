// Loading a model onto the page: the network and its bicubic baseline at its scale, the
// learned scorer where it fits, and the badge that says where it runs.
import { Upscaler } from '../../pkg/ticketsr.js';
import { guarded } from '../../pkg/revive.js';
import { withThreads } from '../../pkg/threads.js';
import { $, clearError, setStatus, showError } from '../page.js';
import { demo, settings, state } from '../state.js';
import { loadPicked } from '../prune/panel.js';
import { run, syncSelection } from '../tickets/run.js';

/** Puts `bytes` on the device as the page's model, replacing the one before. */
export async function loadModel(bytes, label) {
  const options = { backend: settings.backend, tileSize: settings.tileSize };
  // Without WebGPU the network runs on the CPU: on every core, each a worker.
  const next = await withThreads(await Upscaler.create(bytes, options), bytes, { threads: settings.threads });
  const info = next.info();
  const nextBicubic = await Upscaler.bicubic(info.model.scale, options);
  state.upscaler?.dispose();
  state.bicubic?.dispose();
  state.upscaler = next;
  state.bicubic = nextBicubic;
  state.generation += 1;
  // The learned scorer predicts the default model's gains; it is offered with that model.
  const learned = info.model.name === 'upscalerjs-psnr-small-x2';
  if (learned) {
    next.loadScorer(new Uint8Array(await (await fetch('models/ticket-scorer-x2.safetensors')).arrayBuffer()));
  }
  $('learned-option').disabled = !learned;
  $('gains-only').disabled = !learned;
  if (!learned && $('scorer').value === 'learned') $('scorer').value = 'laplacian';
  syncSelection();
  demo.info = info;
  const b = info.backend;
  const badge = $('backend');
  const threads = next.threads > 1 ? ` · ${next.threads} threads` : '';
  badge.textContent = `${b.kind === 'webgpu' ? 'WebGPU' : b.kind.toUpperCase()} · ${b.adapter}${threads}`;
  badge.className = `badge ${b.kind === 'cpu' ? 'cpu' : 'gpu'}`;
  badge.title = b.fallbackReason ? `WebGPU unavailable: ${b.fallbackReason}` : 'Where the network runs';
  $('model-name').textContent = `${label} (x${info.model.scale}, ${info.parameters.toLocaleString()} parameters)`;
}

/** Makes the model `readBytes()` gives the picked one; on failure the previous stays. */
export async function switchModel(readBytes, label) {
  clearError();
  setStatus(`Loading ${label}…`);
  try {
    const previous = state.original;
    state.original = { bytes: await readBytes(), label };
    try {
      await guarded(loadPicked);
    } catch (e) {
      state.original = previous;
      throw e;
    }
    await run();
  } catch (e) {
    showError(`Could not load ${label}: ${e.message}`);
    setStatus(state.upscaler ? 'Kept the previous model.' : 'No model loaded.');
    demo.status = 'error';
  }
}

/** The wasm module died (pkg/revive.js) and runs afresh: the upscalers were the old
 *  module's. Load the model again, say so, and leave the next run to the user. */
export function reloadAfterRestart() {
  demo.restarts += 1;
  state.upscaler = state.bicubic = null;
  state.cache = null;
  state.generation += 1;
  setStatus('The wasm module stopped and was restarted: loading the model again…');
  if (state.original) {
    guarded(loadPicked).then(
      () => setStatus('The wasm module stopped and was restarted: the model is loaded again, run again.'),
      (e) => showError(`Could not load the model again: ${e.message}`),
    );
  }
}

export function wireModel() {
  $('model-select').addEventListener('change', async (e) => {
    if (e.target.value === 'upload') {
      $('model-file').click();
      return;
    }
    await switchModel(async () => new Uint8Array(await (await fetch(e.target.value)).arrayBuffer()), e.target.selectedOptions[0].text);
  });
  $('model-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    await switchModel(async () => new Uint8Array(await file.arrayBuffer()), file.name);
    e.target.value = '';
  });
}

/** The bundled model the page starts with (`?model=NAME` picks another). */
export async function loadFirst() {
  const select = $('model-select');
  const wanted = settings.params.get('model');
  if (wanted) {
    const option = [...select.options].find((o) => o.value === `models/${wanted}.safetensors`);
    if (!option) throw new Error(`there is no bundled model "${wanted}"`);
    select.value = option.value;
  }
  state.original = { bytes: new Uint8Array(await (await fetch(select.value)).arrayBuffer()), label: select.selectedOptions[0].text };
  await loadPicked();
}
