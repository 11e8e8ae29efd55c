// The README's JavaScript examples, typed against the package's generated declarations
// (tests/e2e/types.test.mjs runs tsc on this file): they must compile as written.
import init, { ContentPack, Upscaler, exportOnnx, metrics, prune, selectPatches, ticketOverlay } from '../../pkg/ticketsr.js';
import type { Evaluation, FrameOptions, UpscaleOptions, UpscaledFrame } from '../../pkg/ticketsr.js';

declare const imageData: ImageData;
declare const hrImageData: ImageData;
declare const ctx: CanvasRenderingContext2D;
declare const canvas: HTMLCanvasElement;
declare const video: HTMLVideoElement;
declare function bytesOf(name: string): Uint8Array;

export async function readme(): Promise<void> {
  await init();
  const bytes = bytesOf('upscalerjs-psnr-small-x2.safetensors');
  const upscaler = await Upscaler.create(bytes, { backend: 'auto' });
  await Upscaler.create(bytes, { backend: 'webgpu', tileSize: 128, plainKernels: false });
  console.log(upscaler.info().model.scale);
  const controller = new AbortController();
  const out = await upscaler.upscale(imageData, {
    onProgress: (done, total) => console.log(`${done}/${total} tiles`),
    signal: controller.signal,
  });
  ctx.putImageData(out, 0, 0);

  const { grid, scores } = await upscaler.scorePatches(imageData, { scorer: 'laplacian', patchSize: 32 });
  const selected = selectPatches(scores, { keep: 0.25 });
  await upscaler.upscale(imageData, { selected, patchSize: 32 });
  await upscaler.upscale(imageData, { keep: 0.25, scorer: 'laplacian' });
  const cost = await upscaler.measurePatchCost(imageData, { patchSize: 32 });
  const budget: UpscaleOptions = { budgetMs: 30, cost: { fixedMs: cost.fixedMs, perPatchMs: cost.perPatchMs } };
  await upscaler.upscale(imageData, budget);
  selectPatches(scores, { budget: { ms: 30, cost } });
  const layer: ImageData = ticketOverlay(grid, 2, scores, selected, 0.3);
  const evaluation: Evaluation = await upscaler.evaluatePatches(hrImageData, { keeps: [0, 0.1, 0.25, 0.5, 1] });
  console.log(layer.width, evaluation.densePsnr, grid.cols);
  await upscaler.scorePatches(imageData, { scorer: 'oracle', reference: hrImageData });

  const pack = await ContentPack.load(bytesOf('bikes-x2-stdo.tsrpack'), { backend: 'auto' });
  const { frames, fps, width, height, scale, method } = pack.manifest();
  console.log(frames, fps, width, height, scale, method.kind);
  video.src = URL.createObjectURL(new Blob([pack.video()], { type: 'video/mp4' }));
  await pack.upscaleFrame(0, imageData);
  pack.dispose();

  const stream = upscaler.stream();
  const options: FrameOptions = { keep: 0.25, reuse: 6, patchSize: 16, signal: controller.signal };
  const frame: UpscaledFrame = await stream.next(imageData, options);
  const { image, computed, reused, patches } = frame;
  console.log(image.width, computed, reused, patches);
  stream.reset();
  const onGpu = upscaler.gpuCanvas(canvas);
  await onGpu.draw(await createImageBitmap(video));

  const onnx: Uint8Array = exportOnnx(bytes);
  const { model, before, after } = prune(bytes, { method: 'channel', sparsity: 0.5, criterion: 'leverage', budget: 'per-layer' });
  prune(bytes, { method: 'magnitude', sparsity: 0.5, scope: 'per-layer' });
  prune(bytes, { method: 'two-of-four' });
  console.log(onnx.length, before.parameters, after.macsPerOutputPixel, after.layers[0].channelsBefore);
  await Upscaler.create(model, { backend: 'auto' });
  const m = metrics(out, imageData, 2);
  console.log(m.psnrRgb, m.psnrY, m.ssimY);
  upscaler.dispose();
}
