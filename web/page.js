// The page's chrome that every feature shares: the status line, the error box, drawing
// into a canvas, and the one task that runs at a time (starting one aborts the other).
import { guarded } from '../pkg/revive.js';
import { demo, state } from './state.js';

export const $ = (id) => document.getElementById(id);

export function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  demo.error = message;
}

export function clearError() {
  $('error').hidden = true;
  demo.error = null;
}

export function setStatus(text) {
  $('status').textContent = text;
}

export function draw(canvas, data) {
  canvas.width = data.width;
  canvas.height = data.height;
  canvas.getContext('2d').putImageData(data, 0, 0);
}

/// Runs `body(signal)` as the page's one task: starting a task aborts the one in flight,
/// and the outcome (done, cancelled, or an error) reaches the status line.
export async function task(status, body) {
  state.controller?.abort();
  const own = (state.controller = new AbortController());
  clearError();
  demo.status = status;
  $('cancel').disabled = false;
  $('run').disabled = true;
  try {
    await guarded(() => body(own.signal));
    if (state.controller === own) demo.status = 'done';
  } catch (e) {
    if (state.controller !== own) return;
    if (e.name === 'ModuleRestarted') {
      showError(e.message);
      demo.status = 'restarted';
    } else if (e.name === 'AbortError') {
      setStatus('Cancelled.');
      demo.status = 'cancelled';
    } else {
      showError(e.message);
      setStatus('Failed.');
      demo.status = 'error';
    }
  } finally {
    if (state.controller === own) {
      $('cancel').disabled = true;
      $('run').disabled = false;
      $('progress').value = 0;
    }
  }
}
