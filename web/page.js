// The page's chrome that every feature shares: the status line, the error box, drawing
// into a canvas, the axes of a PSNR chart, and the one task that runs at a time (starting one aborts the other).
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

/// A cleared chart of PSNR (dB, `psnrs` with a margin) against something else: its axes and
/// PSNR ticks drawn, `y(psnr)` the height of a value; the caller draws the other axis.
export function psnrChart(canvas, pad, psnrs) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.font = '12px system-ui, sans-serif';
  const finite = psnrs.filter(Number.isFinite);
  const margin = Math.max(0.1, (Math.max(...finite) - Math.min(...finite)) * 0.08);
  const [lo, hi] = [Math.min(...finite) - margin, Math.max(...finite) + margin];
  const y = (psnr) => height - pad.bottom - ((psnr - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  ctx.strokeStyle = '#999';
  ctx.fillStyle = '#333';
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, height - pad.bottom);
  ctx.lineTo(width - pad.right, height - pad.bottom);
  ctx.stroke();
  for (let i = 0; i <= 4; i += 1) {
    const v = lo + ((hi - lo) * i) / 4;
    ctx.fillText(v.toFixed(2), 8, y(v) + 4);
  }
  return { ctx, width, height, y };
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
