// The result beside its input: the SR and bicubic canvases with the compare slider, the
// quality table and the download link.
import { $, draw } from '../page.js';
import { state } from '../state.js';

function fmt(v, digits) {
  return Number.isFinite(v) ? v.toFixed(digits) : '∞';
}

function fillRow(id, m, ms) {
  const cells = $(id).querySelectorAll('td');
  cells[0].textContent = m ? fmt(m.psnrRgb, 2) : '–';
  cells[1].textContent = m ? fmt(m.psnrY, 2) : '–';
  cells[2].textContent = m ? fmt(m.ssimY, 4) : '–';
  cells[3].textContent = ms.toFixed(0);
}

/** Shows `sr` and `base` with their `scores` (null unless evaluating) and times. */
export async function showResult({ sr, base, scores, srMs, bicubicMs, label, scale }) {
  draw($('sr-canvas'), sr);
  draw($('bicubic-canvas'), base);
  $('output-size').textContent = `${sr.width}×${sr.height}`;
  fillRow('row-model', scores?.model, srMs);
  fillRow('row-bicubic', scores?.bicubic, bicubicMs);
  $('row-model').querySelector('th').textContent = label;
  $('metrics').hidden = false;
  const url = URL.createObjectURL(await new Promise((r) => $('sr-canvas').toBlob(r)));
  const link = $('download');
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = url;
  link.download = `${state.imageName.replace(/\.[^.]+$/, '') || 'image'}-x${scale}.png`;
  link.classList.remove('disabled');
}

export function wireResult() {
  $('slider').addEventListener('input', (e) => {
    $('sr-canvas').style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
  });
}
