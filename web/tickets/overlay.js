// The winning tickets drawn over the result: outlines of the patches the network ran on,
// the scores as a heat map, and a tip naming the patch under the pointer.
import { ticketOverlay } from '../../pkg/ticketsr.js';
import { $ } from '../page.js';
import { demo, state } from '../state.js';

export function drawOverlay() {
  const { tickets, cache } = state;
  const canvas = $('overlay-canvas');
  const sr = $('sr-canvas');
  if (!tickets || !$('show-tickets').checked && !$('show-heat').checked) {
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  const layer = ticketOverlay(
    tickets.grid, cache.scale, tickets.scores,
    $('show-tickets').checked ? tickets.selected : [],
    $('show-heat').checked ? 0.3 : 0,
  );
  canvas.width = sr.width;
  canvas.height = sr.height;
  canvas.getContext('2d').putImageData(layer, 0, 0);
  demo.tickets.drawn += 1;
}

function showPatchTip(e) {
  const { tickets, cache } = state;
  const tip = $('patch-tip');
  const canvas = $('overlay-canvas');
  if (!tickets?.grid || !cache) { tip.hidden = true; return; }
  const g = tickets.grid;
  const x = (e.offsetX * canvas.width) / canvas.clientWidth / cache.scale;
  const y = (e.offsetY * canvas.height) / canvas.clientHeight / cache.scale;
  const col = Math.floor(x / g.patch);
  const row = Math.floor(y / g.patch);
  if (col < 0 || row < 0 || col >= g.cols || row >= g.rows) { tip.hidden = true; return; }
  const i = row * g.cols + col;
  const kept = tickets.selected.includes(i);
  const gain = tickets.gains ? ` · gain ${tickets.gains[i] >= 0 ? '+' : ''}${tickets.gains[i].toFixed(2)} dB` : '';
  tip.textContent = `patch ${i} (col ${col}, row ${row}) · score ${tickets.scores[i].toPrecision(4)}${gain} · ${kept ? 'ticket (SR)' : 'bicubic'}`;
  tip.style.left = `${e.offsetX + 12}px`;
  tip.style.top = `${e.offsetY + 12}px`;
  tip.hidden = false;
}

export function wireOverlay() {
  $('show-tickets').addEventListener('change', drawOverlay);
  $('show-heat').addEventListener('change', drawOverlay);
  $('overlay-canvas').addEventListener('mousemove', showPatchTip);
  $('overlay-canvas').addEventListener('mouseleave', () => { $('patch-tip').hidden = true; });
}
