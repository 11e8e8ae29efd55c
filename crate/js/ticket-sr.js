// <ticket-sr>: drop-in super-resolution for a page. Ships in pkg/ next to ticketsr.js.
//
//   <script type="module" src="pkg/ticket-sr.js"></script>
//   <ticket-sr src="photo.png" model="model.safetensors" scale="2" keep="0.5"></ticket-sr>
//
// `src` is an image or a video; `model` a ticketsr model file; `scale`, when given, must
// match the model's (a mismatch is an error, not a silently different size); `keep` runs
// the network on that share of the patches (winning tickets) and bicubic elsewhere;
// `reuse` (video only, 8-bit levels) lets patches that did not change keep their SR. The
// element draws into a canvas of the upscaled size and fires `upscaled` (detail: { ms,
// width, height }) after each image or video frame and `error` (detail: { message }) with
// the message also shown in place. A video plays muted and looped; each frame is upscaled
// when the previous one is done, so slow devices skip frames instead of queueing them.
// If the wasm module dies (revive.js), every element on the page starts again on a fresh
// one and fires `restarted` (detail: { message }); one that fails again right away, before
// any frame, shows the error instead of looping.
import init, { Upscaler } from './ticketsr.js';
import { guarded, moduleGeneration, onRestart, ModuleRestarted } from './revive.js';
import { FrameReader, everyFrame } from './frames.js';
import { withThreads } from './threads.js';

let ready = null;
// model URL -> { generation, upscaler: Promise<Upscaler> }, shared by every element; an
// entry of an earlier module instance is made again.
const models = new Map();

function upscalerFor(url) {
  if (models.get(url)?.generation !== moduleGeneration()) {
    const generation = moduleGeneration();
    const created = (async () => {
      await (ready ??= init());
      const res = await fetch(url);
      if (!res.ok) throw new Error(`could not fetch the model ${url} (HTTP ${res.status})`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      // Without WebGPU: the CPU path on every core (threads.js).
      return withThreads(await guarded(() => Upscaler.create(bytes, { backend: 'auto' })), bytes);
    })();
    created.catch(() => {
      if (models.get(url)?.upscaler === created) models.delete(url);
    });
    models.set(url, { generation, upscaler: created });
  }
  return models.get(url).upscaler;
}

const VIDEO = /\.(mp4|webm|ogv|mov|m4v)(\?|#|$)/i;

const STYLE = new CSSStyleSheet();
STYLE.replaceSync(`
  :host { display: inline-block; }
  canvas { display: block; max-width: 100%; height: auto; }
  p { margin: 0; color: #b00020; font: 13px system-ui, sans-serif; }
`);

export class TicketSr extends HTMLElement {
  static observedAttributes = ['src', 'model', 'scale', 'keep', 'reuse'];

  #canvas;
  #message;
  #video = null;
  #reader = new FrameReader();
  #run = 0; // bumped by every change: older runs stop
  #stopListening = null;
  #restarts = 0; // module restarts since this element last drew a frame
  #working = false; // loading, upscaling an image, or playing a video

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet, not a <style> element: pages whose Content-Security-Policy
    // refuses inline styles (ticketsr's own do) still style the element.
    root.adoptedStyleSheets = [STYLE];
    root.innerHTML = '<canvas width="0" height="0" part="canvas"></canvas><p part="error" hidden></p>';
    this.#canvas = root.querySelector('canvas');
    this.#message = root.querySelector('p');
  }

  connectedCallback() {
    this.#stopListening ??= onRestart((e) => this.#restarted(e));
    this.#start();
  }

  disconnectedCallback() {
    this.#stopListening?.();
    this.#stopListening = null;
    this.#stop();
  }

  /**
   * The module died (here or in another element): an element at work starts again, once
   * per frame drawn; one showing a finished image keeps it (its upscaler is made again
   * when next needed).
   */
  #restarted(e) {
    if (!this.#working) return;
    this.#restarts += 1;
    if (this.#restarts > 1) {
      this.#stop();
      this.#fail(e);
      return;
    }
    this.dispatchEvent(new CustomEvent('restarted', { detail: { message: e.message } }));
    this.#start();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.#start();
  }

  /** The canvas the result is drawn into. */
  get canvas() {
    return this.#canvas;
  }

  #stop() {
    this.#run += 1;
    this.#working = false;
    this.#video?.pause();
    this.#video?.removeAttribute('src');
    this.#video = null;
  }

  #fail(e) {
    this.#message.textContent = `ticket-sr: ${e.message}`;
    this.#message.hidden = false;
    this.dispatchEvent(new CustomEvent('error', { detail: { message: e.message } }));
  }

  #options() {
    const options = {};
    const keep = this.getAttribute('keep');
    if (keep !== null && keep !== '') {
      const k = Number(keep);
      if (!(k >= 0 && k <= 1)) throw new Error(`keep must be a number from 0 to 1, not "${keep}"`);
      if (k < 1) Object.assign(options, { keep: k, scorer: 'laplacian' });
    }
    const reuse = this.getAttribute('reuse');
    if (reuse !== null && reuse !== '') {
      const r = Number(reuse);
      if (!(r >= 0)) throw new Error(`reuse must be a number of 8-bit levels, 0 or more, not "${reuse}"`);
      options.reuse = r;
    }
    return options;
  }

  async #start() {
    this.#stop();
    const run = this.#run;
    const src = this.getAttribute('src');
    const model = this.getAttribute('model');
    this.#message.hidden = true;
    if (!src || !model) return;
    this.#working = true;
    try {
      const upscaler = await upscalerFor(new URL(model, document.baseURI).href);
      if (run !== this.#run) return;
      const scale = upscaler.info().model.scale;
      const wanted = this.getAttribute('scale');
      if (wanted !== null && Number(wanted) !== scale) {
        throw new Error(`the model upscales x${scale}, not x${wanted}`);
      }
      const options = this.#options();
      if (VIDEO.test(src)) await this.#playVideo(src, upscaler, options, run);
      else await this.#showImage(src, upscaler, options, run);
    } catch (e) {
      // A restart has started this element again (see #restarted).
      if (run === this.#run && !(e instanceof ModuleRestarted)) this.#fail(e);
    } finally {
      if (run === this.#run) this.#working = this.#video !== null;
    }
  }

  /// Upscales one image, or one frame of a video through its `stream`.
  async #frame(source, width, height, upscaler, options, run, stream) {
    const t = performance.now();
    const frame = this.#reader.read(source, width, height);
    const out = await guarded(async () => (stream ? (await stream.next(frame, options)).image : await upscaler.upscale(frame, options)));
    if (run !== this.#run) return;
    this.#restarts = 0;
    const ms = performance.now() - t;
    if (this.#canvas.width !== out.width || this.#canvas.height !== out.height) {
      this.#canvas.width = out.width;
      this.#canvas.height = out.height;
    }
    this.#canvas.getContext('2d').putImageData(out, 0, 0);
    this.dispatchEvent(new CustomEvent('upscaled', { detail: { ms, width: out.width, height: out.height } }));
  }

  async #showImage(src, upscaler, options, run) {
    const res = await fetch(new URL(src, document.baseURI));
    if (!res.ok) throw new Error(`could not fetch ${src} (HTTP ${res.status})`);
    let bitmap;
    try {
      bitmap = await createImageBitmap(await res.blob());
    } catch {
      throw new Error(`${src} is not an image this browser can decode`);
    }
    if (options.reuse !== undefined) throw new Error('reuse applies to videos, not images');
    await this.#frame(bitmap, bitmap.width, bitmap.height, upscaler, options, run);
  }

  async #playVideo(src, upscaler, options, run) {
    const video = document.createElement('video');
    Object.assign(video, { muted: true, loop: true, playsInline: true, crossOrigin: 'anonymous' });
    this.#video = video;
    await new Promise((resolve, reject) => {
      video.addEventListener('loadeddata', resolve, { once: true });
      video.addEventListener('error', () => reject(new Error(`${src} is not a video this browser can play`)), { once: true });
      video.src = new URL(src, document.baseURI).href;
    });
    if (run !== this.#run) return;
    await video.play();
    const stream = upscaler.stream();
    const made = moduleGeneration();
    video.addEventListener('seeking', () => stream.reset());
    everyFrame(video, async () => {
      if (run !== this.#run) {
        if (moduleGeneration() === made) stream.free();
        return false;
      }
      try {
        await this.#frame(video, video.videoWidth, video.videoHeight, upscaler, options, run, stream);
      } catch (e) {
        if (e instanceof ModuleRestarted) return false; // the stream died with the module
        if (run === this.#run) this.#fail(e);
        stream.free();
        return false;
      }
      return true;
    });
  }
}

if (!customElements.get('ticket-sr')) customElements.define('ticket-sr', TicketSr);
