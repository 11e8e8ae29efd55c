// What a video frame goes through, in whichever thread runs it (the worker in
// video-worker.js, or the page itself where workers cannot): a model with its frame
// stream (dense, winning tickets, temporal reuse) or a content pack. If the wasm module
// dies (pkg/revive.js), the frame in flight fails with a ModuleRestarted error and the
// engine loads its model or pack again into the fresh module before the next frame.
import init, { Upscaler, ContentPack } from '../../pkg/ticketsr.js';
import { guarded, moduleGeneration } from '../../pkg/revive.js';
import { FrameReader } from '../../pkg/frames.js';

let wasm = null;

export class FrameEngine {
  #upscaler = null;
  #stream = null;
  #pack = null;
  #reader = new FrameReader(); // reads a frame's pixels
  #gpu = null;    // the canvas frames are drawn into on the GPU (gpuCanvas), once given
  #gpuTarget = null;
  #gpuProbe = null; // the answer of browserCanvasSteps, asked once
  #source = null;   // { op: 'model' | 'pack', bytes, backend }: what to load again after a restart
  #generation = moduleGeneration(); // the module instance the objects above belong to

  static async create() {
    wasm ??= init();
    await wasm;
    return new FrameEngine();
  }

  /** Loads a model file; frames then go through its stream. Resolves to its info. */
  async useModel(bytes, backend) {
    const next = await Upscaler.create(bytes, { backend });
    const target = this.#gpuTarget;
    this.dispose();
    this.#source = { op: 'model', bytes, backend };
    this.#upscaler = next;
    this.#stream = next.stream();
    if (target) this.useCanvas(target);
    return next.info();
  }

  /**
   * The canvas (an OffscreenCanvas in a worker) that `frame(..., { gpu: true })` draws
   * into on the GPU, frame to texture to network to canvas, without the CPU.
   */
  useCanvas(canvas) {
    this.#gpuTarget = canvas;
    this.#gpu?.free();
    this.#gpu = this.#upscaler?.gpuCanvas(canvas) ?? null;
  }

  /** Dense SR of an ImageBitmap drawn into the GPU canvas; resolves when the GPU is done. */
  async drawOnGpu(bitmap) {
    if (!this.#gpu) throw new Error('no GPU canvas: load a model on a WebGPU backend and give a canvas first');
    this.#gpuProbe ??= browserCanvasSteps(bitmap);
    const refused = await this.#gpuProbe;
    if (refused) throw new Error(`this browser's WebGPU cannot run the GPU end-to-end path: ${refused}`);
    await this.#gpu.draw(bitmap);
    return { gpu: true, width: bitmap.width * this.#upscaler.info().model.scale, height: bitmap.height * this.#upscaler.info().model.scale };
  }

  /** Loads a content pack; frames then go through its models and maps. */
  async usePack(bytes, backend) {
    const pack = await ContentPack.load(bytes, { backend });
    this.dispose();
    this.#source = { op: 'pack', bytes, backend };
    this.#pack = pack;
    return { manifest: pack.manifest(), video: pack.video() };
  }

  /** After a seek: the next frame is computed afresh. */
  reset() {
    this.#stream?.reset();
  }

  /** The pixels of an ImageBitmap (or any drawable) of `width` x `height`. */
  pixels(source, width, height) {
    return this.#reader.read(source, width, height);
  }

  /**
   * Upscales one frame: with the model's stream and `options` (FrameOptions), or with the
   * pack's models for its frame `index`. Resolves to { image, ... what it cost }.
   */
  async frame(image, { options, index }) {
    if (this.#pack) {
      const { frames } = this.#pack.manifest();
      const i = Math.min(frames - 1, Math.max(0, index));
      return { image: await this.#pack.upscaleFrame(i, image), index: i };
    }
    if (!this.#stream) throw new Error('no model is loaded');
    return this.#stream.next(image, options);
  }

  /** Bytes of wasm memory: what a leak on the Rust side would grow. */
  async memory() {
    await wasm;
    return (await init()).memory.buffer.byteLength; // the live instance's, after any restart
  }

  /** After a module restart: loads the model or pack again. True when it did. */
  async revive() {
    if (this.#generation === moduleGeneration()) return false;
    this.dispose();
    const source = this.#source;
    if (source?.op === 'model') await this.useModel(source.bytes, source.backend);
    if (source?.op === 'pack') await this.usePack(source.bytes, source.backend);
    return source !== null;
  }

  dispose() {
    if (this.#generation !== moduleGeneration()) {
      // Objects of a dead module: nothing to free, and touching them throws.
      this.#generation = moduleGeneration();
      this.#stream = this.#upscaler = this.#pack = this.#gpu = null;
      return;
    }
    this.#gpu?.free();
    this.#stream?.free();
    this.#upscaler?.dispose();
    this.#upscaler?.free();
    this.#pack?.dispose();
    this.#pack?.free();
    this.#stream = this.#upscaler = this.#pack = this.#gpu = null;
  }
}

/**
 * Whether this browser can do the two steps of the GPU end-to-end path that are its own,
 * copying a frame into a texture and presenting a WebGPU canvas, tried in plain JS on a
 * throwaway device: wgpu turns an exception there into a trap of the whole module.
 * Resolves to null, or to the browser's reason (headless Chromium on SwiftShader refuses
 * both: docs/video.md).
 */
async function browserCanvasSteps(frame) {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return 'no WebGPU adapter';
  const device = await adapter.requestDevice();
  try {
    const size = [frame.width, frame.height];
    const usage = GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.TEXTURE_BINDING;
    const texture = device.createTexture({ size, format: 'rgba8unorm', usage });
    device.queue.copyExternalImageToTexture({ source: frame }, { texture }, size);
    const context = new OffscreenCanvas(1, 1).getContext('webgpu');
    context.configure({ device, format: navigator.gpu.getPreferredCanvasFormat() });
    const encoder = device.createCommandEncoder();
    encoder.beginRenderPass({ colorAttachments: [{ view: context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store' }] }).end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return null;
  } catch (e) {
    return e.message;
  } finally {
    device.destroy();
  }
}

/**
 * One request to an engine, as the worker and the in-page fallback both serve it:
 * resolves to [value, the buffers of value that may be transferred rather than copied].
 */
export function handle(engine, op, args) {
  return guarded(async () => {
    if (op !== 'model' && op !== 'pack') await engine.revive();
    return request(engine, op, args);
  });
}

async function request(engine, op, args) {
  switch (op) {
    case 'model':
      return [await engine.useModel(args.bytes, args.backend), []];
    case 'pack': {
      const loaded = await engine.usePack(args.bytes, args.backend);
      return [loaded, [loaded.video.buffer]];
    }
    case 'reset':
      return [engine.reset(), []];
    case 'memory':
      return [await engine.memory(), []];
    case 'canvas':
      return [engine.useCanvas(args.canvas), []];
    case 'frame': {
      const { bitmap, options, index } = args;
      if (args.gpu) {
        try {
          return [await engine.drawOnGpu(bitmap), []];
        } finally {
          bitmap.close();
        }
      }
      const image = engine.pixels(bitmap, bitmap.width, bitmap.height);
      bitmap.close();
      const result = await engine.frame(image, { options, index });
      return [result, [result.image.data.buffer]];
    }
    default:
      throw new Error(`unknown request "${op}"`);
  }
}
