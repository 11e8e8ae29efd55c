// The evaluation chart: PSNR against keep ratio, one line per scorer, with dense SR and
// bicubic as the two references every ticket selection lies between, and a dot where the
// gains-only selection of a scorer that predicts the gain lands, for the page's image
// treated as the original.
import { $, psnrChart, setStatus, showError, task } from '../page.js';
import { demo, state } from '../state.js';

const COLOURS = {
  laplacian: '#d62728', gradient: '#ff7f0e', contrast: '#9467bd',
  learned: '#1f77b4', oracle: '#2ca02c', stdo: '#17becf', random: '#7f7f7f',
};

export function drawChart(canvas, evaluation) {
  const pad = { left: 56, right: 120, top: 40, bottom: 38 };
  const values = [evaluation.bicubicPsnr, evaluation.densePsnr,
    ...evaluation.curves.flatMap((c) => [...c.points, ...(c.gains ? [c.gains] : [])].map((p) => p.psnr))];
  const { ctx, width, height, y } = psnrChart(canvas, pad, values);
  const x = (keep) => pad.left + keep * (width - pad.left - pad.right);
  for (const k of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.fillText(`${k * 100}%`, x(k) - 10, height - pad.bottom + 16);
  }
  ctx.fillText('keep ratio', (width - pad.right) / 2, height - 4);
  const hiRef = Math.max(evaluation.densePsnr, evaluation.bicubicPsnr);
  const reference = (value, label, colour) => {
    ctx.strokeStyle = colour;
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(x(0), y(value));
    ctx.lineTo(x(1), y(value));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = colour;
    ctx.fillText(`${label} ${value.toFixed(2)} dB`, x(1) + 6, y(value) + (value === hiRef ? -2 : 12));
  };
  reference(evaluation.densePsnr, 'dense', '#000');
  reference(evaluation.bicubicPsnr, 'bicubic', '#888');

  evaluation.curves.forEach((curve, i) => {
    const colour = COLOURS[curve.scorer] ?? '#000';
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = curve.scorer === 'random' ? 1 : 2;
    ctx.beginPath();
    curve.points.forEach((p, j) => (j ? ctx.lineTo(x(p.keep), y(p.psnr)) : ctx.moveTo(x(p.keep), y(p.psnr))));
    ctx.stroke();
    ctx.lineWidth = 1;
    if (curve.gains) {
      const g = curve.gains;
      ctx.beginPath();
      ctx.arc(x(g.keep), y(g.psnr), 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillText('gains only', x(g.keep) + 7, y(g.psnr) - 6);
    }
    ctx.fillText(`— ${curve.scorer}`, pad.left + 8 + (i % 3) * 90, pad.top - 26 + Math.floor(i / 3) * 15);
  });
}

/// Evaluation mode's chart: PSNR against keep ratio for every scorer, dense and bicubic.
async function chartScorers() {
  if (!state.upscaler || !state.image) return;
  if (!$('evaluate').checked) {
    showError('The chart treats the image as the original: tick "Evaluate against the original" first.');
    return;
  }
  await task('evaluating', async (signal) => {
    const onProgress = (done, total) => {
      $('progress').value = done / total;
      setStatus(`Evaluating scorers: dense SR tile ${done} of ${total}`);
    };
    const evaluation = await state.upscaler.evaluatePatches(state.image, { patchSize: Number($('patch-size').value), onProgress, signal });
    demo.evaluation = evaluation;
    $('chart-figure').hidden = false;
    drawChart($('chart'), evaluation);
    setStatus('Scorers evaluated.');
  });
}

export function wireChart() {
  $('evaluate-scorers').addEventListener('click', chartScorers);
}
