// The pruning panel: the picked model pruned as the panel says (pruning takes
// milliseconds on the CPU; the network is then uploaded afresh), its summary, its
// per-layer chart and a link to save it. Channels by reconstruction are chosen and
// re-fitted on the image being upscaled, on the upscaler's device (seconds).
import { prune, downscale } from '../../pkg/ticketsr.js';
import { $, clearError, showError } from '../page.js';
import { demo, state } from '../state.js';
import { loadModel } from '../model/load.js';
import { run } from '../tickets/run.js';
import { drawLayers } from './layers.js';

/// The panel's pass, or null when it is off.
function pruneMethod() {
  const [kind, variant] = $('prune-method').value.split(':');
  const sparsity = Number($('prune-sparsity').value) / 100;
  if (kind === 'channel') return { method: 'channel', sparsity, criterion: variant };
  if (kind === 'magnitude') return { method: 'magnitude', sparsity, scope: variant };
  if (kind === 'two-of-four') return { method: 'two-of-four' };
  return null;
}

/// The image as the network will see it: in evaluation mode, its LR version.
function calibrationImage() {
  if (!state.image) throw new Error('load an image first: reconstruction calibrates on it');
  return $('evaluate').checked ? downscale(state.image, state.upscaler.info().model.scale) : state.image;
}

function size(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(0)} KB`;
}

/// Loads the picked model, pruned as the panel says.
export async function loadPicked() {
  const { original } = state;
  const method = pruneMethod();
  $('prune-sparsity').disabled = !method || method.method === 'two-of-four';
  $('prune-sparsity-value').textContent = `${$('prune-sparsity').value}%`;
  const link = $('prune-save');
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.classList.add('disabled');
  if (!method) {
    await loadModel(original.bytes, original.label);
    demo.prune = null;
    $('prune-summary').textContent = '';
    $('layers-figure').hidden = true;
    return;
  }
  const t = performance.now();
  const { model, before: b, after: a } = method.criterion === 'reconstruction'
    ? await state.upscaler.prune(original.bytes, method, calibrationImage())
    : prune(original.bytes, method);
  const ms = performance.now() - t;
  await loadModel(model, `${original.label}, pruned`);
  $('prune-summary').textContent =
    `${a.parameters.toLocaleString()} of ${b.parameters.toLocaleString()} parameters (${a.nonzero.toLocaleString()} nonzero) · ` +
    `${Math.round(a.macsPerOutputPixel).toLocaleString()} of ${Math.round(b.macsPerOutputPixel).toLocaleString()} MACs per output pixel · ` +
    `file ${size(a.bytes)} of ${size(b.bytes)} · pruned in ${ms.toFixed(0)} ms`;
  drawLayers($('layers'), a.layers);
  $('layers-figure').hidden = false;
  link.href = URL.createObjectURL(new Blob([model], { type: 'application/octet-stream' }));
  link.download = `${state.upscaler.info().model.name}-pruned.safetensors`;
  link.classList.remove('disabled');
  demo.prune = { method, ...a, before: b };
}

/// Re-prunes the picked model as the panel changed, then reruns.
async function repruneAndRun() {
  if (!state.original) return;
  clearError();
  try {
    await loadPicked();
  } catch (e) {
    showError(`Pruning failed: ${e.message}`);
    demo.status = 'error';
    return;
  }
  await run();
}

export function wirePrune() {
  let pending = null;
  $('prune-sparsity').addEventListener('input', () => {
    $('prune-sparsity-value').textContent = `${$('prune-sparsity').value}%`;
    clearTimeout(pending);
    pending = setTimeout(repruneAndRun, 250);
  });
  $('prune-method').addEventListener('change', repruneAndRun);
}
