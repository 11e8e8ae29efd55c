// The frontier on the user's device, as `ticketsr frontier` measures it natively: each
// model dense, channel-pruned (data-aware, calibrated on the LR image itself, no recovery)
// and each of those on winning tickets at every keep ratio, and bicubic; PSNR (Y) against
// the photo the LR image was made from, against the measured time of the whole upscale
// (scoring and selection included). `front` marks the Pareto front: no faster point is
// as good. Shared by the page's "Chart frontier" and the benchmark page's suite.
import { Upscaler, selectPatches, downscale, metrics } from '../../pkg/ticketsr.js';

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/// `run` once to warm up, then `reps` times, `onStatus` saying which of `label`'s runs is
/// on: the times, and the last run's result.
export async function timeRuns(label, reps, run, onStatus = () => {}) {
  const times = [];
  let output = null;
  for (let r = 0; r <= reps; r += 1) {
    onStatus(r ? `${label}: repetition ${r} of ${reps}…` : `${label}: warming up…`);
    const t = performance.now();
    output = await run();
    times.push(performance.now() - t);
  }
  const [warm, ...rest] = times;
  return { output, times: { warm_up_ms: warm, median_ms: median(rest), min_ms: Math.min(...rest) } };
}

/// Winning tickets as a page runs them: score, keep the best `keep`, upscale those.
export async function upscaleTickets(up, input, { scorer, patch, keep, context, signal }) {
  const { scores } = await up.scorePatches(input, { scorer, patchSize: patch });
  const selected = selectPatches(scores, { keep });
  return { selected, image: await up.upscale(input, { selected, patchSize: patch, context, signal }) };
}

/// Marks each point `front` when no faster point has at least its PSNR.
export function markFront(points) {
  let best = -Infinity;
  for (const p of [...points].sort((a, b) => a.median_ms - b.median_ms || b.psnr_y - a.psnr_y)) {
    p.front = p.psnr_y > best;
    best = Math.max(best, p.psnr_y);
  }
  return points;
}

/**
 * Measures the frontier of `models` ([{ name, bytes }], x2) on `hr` (an ImageData treated
 * as the original). `onStatus(text)` says what runs, `onPoint(points)` after each point;
 * `signal` stops between runs. Resolves to { points, backend }.
 */
export async function measureFrontier(hr, models, {
  sparsities = [0.5], keeps = [0.5, 0.25], context = 4, patch = 16, scorer = 'laplacian', reps = 2, backend = 'auto',
  signal, onStatus = () => {}, onPoint = () => {},
} = {}) {
  const lr = downscale(hr, 2);
  const points = [];
  let device = null;
  const measure = async (point, run) => {
    signal?.throwIfAborted();
    const name = point.model === 'bicubic' ? 'bicubic' : `${point.model}, ${point.pruning * 100}% of channels removed, keep ${point.keep * 100}%`;
    const { output, times } = await timeRuns(name, reps, run, onStatus);
    points.push({ ...point, psnr_y: metrics(output, hr, 2).psnrY, warm_up_ms: times.warm_up_ms, median_ms: times.median_ms });
    onPoint(markFront(points));
  };
  for (const { name, bytes } of models) {
    const dense = await Upscaler.create(bytes, { backend });
    device = dense.info().backend;
    if (dense.info().model.scale !== 2) {
      dense.dispose();
      throw new Error(`${name} upscales x${dense.info().model.scale}; the frontier compares x2 models`);
    }
    const variants = [{ pruning: 0, up: dense }];
    try {
      for (const sparsity of sparsities) {
        signal?.throwIfAborted();
        onStatus(`${name}: pruning ${sparsity * 100}% of its channels on this image…`);
        const { model } = await dense.prune(bytes, { method: 'channel', sparsity, criterion: 'reconstruction' }, lr);
        variants.push({ pruning: sparsity, up: await Upscaler.create(model, { backend }) });
      }
      if (points.length === 0) {
        // Bicubic: no patch selected, with this upscaler's own path.
        await measure({ model: 'bicubic', pruning: 0, keep: 0 }, () => dense.upscale(lr, { selected: [], patchSize: patch, signal }));
      }
      for (const { pruning, up } of variants) {
        await measure({ model: name, pruning, keep: 1 }, () => up.upscale(lr, { signal }));
        for (const keep of keeps) {
          await measure({ model: name, pruning, keep }, async () => (await upscaleTickets(up, lr, { scorer, patch, keep, context, signal })).image);
        }
      }
    } finally {
      variants.forEach((v) => v.up.dispose());
    }
  }
  return { points, backend: device, size: [hr.width, hr.height] };
}
