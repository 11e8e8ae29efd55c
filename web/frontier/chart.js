// "Chart frontier": quality against measured time on the user's image and device, the
// loaded model next to the bundled fast x2 models, each dense, with half its channels
// removed (calibrated on this image) and on winning tickets, and bicubic
// (measure.js); the Pareto front drawn as a line, and for each dense model's time the
// best configuration within it written under the chart.
import { $, psnrChart, setStatus, showError, task } from '../page.js';
import { demo, settings, state } from '../state.js';
import { measureFrontier } from './measure.js';

/// The bundled models charted beside the loaded one: the small, fast x2 ones.
const BUNDLED = ['ticketsr-espcn-x2', 'ticketsr-wdsr-b-x2'];
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const label = (p) => (p.model === 'bicubic' ? 'bicubic'
  : `${p.model}${p.pruning ? ` -${p.pruning * 100}% ch` : ''}${p.keep < 1 ? ` keep ${p.keep * 100}%` : ''}`);

/// For each dense model's time, the best point within it: which configuration to pick.
export function bestWithin(points) {
  return points.filter((p) => p.model !== 'bicubic' && p.pruning === 0 && p.keep === 1).map((dense) => {
    const best = points.filter((p) => p.median_ms <= dense.median_ms).reduce((a, b) => (b.psnr_y > a.psnr_y ? b : a));
    return { dense, best };
  });
}

export function drawFrontier(canvas, points) {
  const pad = { left: 56, right: 24, top: 64, bottom: 38 };
  const { ctx, width, height, y } = psnrChart(canvas, pad, points.map((p) => p.psnr_y));
  const ms = points.map((p) => p.median_ms);
  // Time on a log scale: bicubic and the largest model are often 20x apart.
  const [tlo, thi] = [Math.log(Math.min(...ms) * 0.8), Math.log(Math.max(...ms) * 1.25)];
  const x = (t) => pad.left + ((Math.log(t) - tlo) / (thi - tlo)) * (width - pad.left - pad.right);
  for (let i = 0; i <= 4; i += 1) {
    const t = Math.exp(tlo + ((thi - tlo) * i) / 4);
    ctx.fillText(`${t < 10 ? t.toFixed(1) : Math.round(t)}`, x(t) - 10, height - pad.bottom + 16);
  }
  ctx.fillText('ms (log scale)', (width - pad.right) / 2, height - 4);
  ctx.fillText('PSNR-Y dB', 8, pad.top - 10);

  // The front: a step line through the points nothing beats.
  const front = points.filter((p) => p.front).sort((a, b) => a.median_ms - b.median_ms);
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 2;
  ctx.beginPath();
  front.forEach((p, i) => {
    if (i === 0) ctx.moveTo(x(p.median_ms), y(p.psnr_y));
    else {
      ctx.lineTo(x(p.median_ms), y(front[i - 1].psnr_y));
      ctx.lineTo(x(p.median_ms), y(p.psnr_y));
    }
  });
  ctx.stroke();
  ctx.lineWidth = 1;

  // A colour per model; filled dots dense, rings pruned, squares on tickets.
  const models = [...new Set(points.filter((p) => p.model !== 'bicubic').map((p) => p.model))];
  for (const p of points) {
    const colour = p.model === 'bicubic' ? '#888' : COLOURS[models.indexOf(p.model) % COLOURS.length];
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    const [px, py] = [x(p.median_ms), y(p.psnr_y)];
    ctx.beginPath();
    if (p.keep < 1 && p.model !== 'bicubic') ctx.rect(px - 4, py - 4, 8, 8);
    else ctx.arc(px, py, 5, 0, 2 * Math.PI);
    if (p.pruning) ctx.stroke();
    else ctx.fill();
  }
  // The front's points named, right of the point or, near the edge, left of it; below it
  // when the label before is close.
  ctx.fillStyle = '#000';
  let last = null;
  for (const p of front) {
    const text = label(p);
    const [px, py] = [x(p.median_ms), y(p.psnr_y)];
    const w = ctx.measureText(text).width;
    const tx = px + 7 + w > width - 2 ? px - 7 - w : px + 7;
    const ty = last && Math.abs(last.y - (py - 6)) < 14 && Math.abs(last.x - tx) < w + 20 ? py + 16 : py - 6;
    ctx.fillText(text, tx, ty);
    last = { x: tx, y: ty };
  }
  models.forEach((m, i) => {
    ctx.fillStyle = COLOURS[i % COLOURS.length];
    ctx.fillText(`● ${m}`, pad.left + 8 + i * 190, pad.top - 46);
  });
  ctx.fillStyle = '#333';
  ctx.fillText('● dense   ○ channels removed   ■ tickets   — Pareto front', pad.left + 8, pad.top - 30);
}

/// Evaluation mode's frontier on the central crop (at most `?frontier-size=`, default
/// 256 px) of the image treated as the original.
async function chartFrontier() {
  if (!state.upscaler || !state.image || !state.original) return;
  if (!$('evaluate').checked) {
    showError('The frontier treats the image as the original: tick "Evaluate against the original" first.');
    return;
  }
  await task('frontier', async (signal) => {
    const { width: w, data: pixels } = state.image;
    const side = Math.min(settings.frontierSize, w, state.image.height) & ~1;
    const [cx, cy] = [(w - side) >> 1, (state.image.height - side) >> 1];
    const crop = new Uint8ClampedArray(side * side * 4);
    for (let r = 0; r < side; r += 1) crop.set(pixels.subarray(((cy + r) * w + cx) * 4, ((cy + r) * w + cx + side) * 4), r * side * 4);
    const hr = new ImageData(crop, side, side);
    const loaded = state.original.bytes;
    const models = [{ name: demo.info.model.name, bytes: loaded }];
    for (const name of BUNDLED) {
      const bytes = new Uint8Array(await (await fetch(`models/${name}.safetensors`)).arrayBuffer());
      const same = bytes.length === loaded.length && bytes.every((b, i) => b === loaded[i]);
      if (!same) models.push({ name, bytes });
    }
    $('frontier-figure').hidden = false;
    const { points } = await measureFrontier(hr, models, {
      backend: settings.backend, reps: 1, patch: 16, signal,
      onStatus: (text) => setStatus(`Frontier: ${text}`),
      onPoint: (ps) => drawFrontier($('frontier'), ps),
    });
    demo.frontier = points;
    drawFrontier($('frontier'), points);
    $('frontier-advice').textContent = bestWithin(points)
      .map(({ dense, best }) => `Within ${Math.round(dense.median_ms)} ms (${dense.model} dense, ${dense.psnr_y.toFixed(2)} dB): ${label(best)}, ${best.psnr_y.toFixed(2)} dB in ${Math.round(best.median_ms)} ms.`)
      .join(' ');
    setStatus(`Frontier of ${points.length} configurations on the central ${side}x${side} px, measured on this device.`);
  });
}

export function wireFrontier() {
  $('chart-frontier').addEventListener('click', chartFrontier);
}
