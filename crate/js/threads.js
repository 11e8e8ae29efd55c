// The CPU path on every core: an Upscaler whose dense `upscale` runs in Web Workers, each
// with its own instance of the module, on bands of rows (`upscaler.bands`, halos
// included, so the stacked bands equal the whole image's SR to within rounding: a few
// bytes in ten thousand one level apart, where the CPU convolution's Winograd blocks meet a
// band's edge). Real wasm
// threads (shared memory) need a cross-origin-isolated page and a module built with
// atomics; this needs neither, and works on any page that may start module workers.
//
//   import init, { Upscaler } from 'ticketsr';
//   import { withThreads } from 'ticketsr/threads';
//   await init();
//   const upscaler = await withThreads(await Upscaler.create(bytes, { backend: 'cpu' }), bytes);
//
// The result is the same Upscaler (every other method runs as before, on the page's
// instance); `upscale` without tickets splits the image over `threads` workers (default:
// the device's cores, at most 4), `onProgress` counts bands and `signal` stops them. On a GPU, with
// one thread, or where workers cannot start, the upscaler comes back as it was.
import { WorkerClient } from './bridge.js';
import { onRestart } from './revive.js';

/**
 * Workers by default at most: each keeps the memory of the largest band it ran (wasm
 * memory does not shrink), so a 16-core device would hold 16 such instances. A caller
 * who wants more passes `threads`.
 */
const DEFAULT_MAX = 4;

/** Pixels a band has at least: below that it is not worth a message to a worker. */
const MIN_BAND_PIXELS = 32 * 32;

let compiled = null;
/** The module compiled once for every worker of the page. */
function wasmModule() {
  compiled ??= (async () => {
    const res = await fetch(new URL('./ticketsr_bg.wasm', import.meta.url));
    if (!res.ok) throw new Error(`could not fetch ticketsr_bg.wasm (HTTP ${res.status})`);
    try {
      return await WebAssembly.compileStreaming(res.clone());
    } catch {
      // A server that does not say application/wasm.
      return WebAssembly.compile(await res.arrayBuffer());
    }
  })();
  compiled.catch(() => {
    compiled = null;
  });
  return compiled;
}

/**
 * How many bands of rows an image is best cut into for `threads` workers: each reads its
 * rows and about `halo` more (the halo shrinks layer by layer, so about one halo in all),
 * so the time of p bands is about height / p + halo. More bands only while that falls
 * below the whole image's, and none under MIN_BAND_PIXELS.
 */
function bandCount(width, height, threads, halo) {
  let parts = 1;
  let best = height;
  for (let p = 2; p <= Math.min(threads, Math.floor((width * height) / MIN_BAND_PIXELS)); p += 1) {
    const rows = Math.ceil(height / p) + halo;
    if (rows < best) [parts, best] = [p, rows];
  }
  return parts;
}

/** Options that ask for more than dense SR (tickets): those run on the page's instance. */
const SPARSE = ['keep', 'selected', 'budgetMs', 'gainsOnly'];

/**
 * `upscaler` (a CPU Upscaler made from `model`, the same bytes) with its dense `upscale`
 * split over `threads` workers. Resolves once every worker has the model.
 */
export async function withThreads(upscaler, model, { threads = Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, DEFAULT_MAX) } = {}) {
  const n = Math.min(Math.max(1, Math.floor(Number(threads)) || 1), 64);
  // What the bands need of the model, fixed for this upscaler.
  const { backend, halo, model: { scale } } = upscaler.info();
  if (backend.kind !== 'cpu' || n < 2 || typeof Worker !== 'function') return upscaler;
  let pool = [];
  const start = async () => {
    const module = await wasmModule();
    const fresh = Array.from({ length: n }, () => new WorkerClient(new URL('./threads-worker.js', import.meta.url), 'a ticketsr thread'));
    try {
      await Promise.all(fresh.map((t) => t.call('load', { module, model })));
    } catch (e) {
      for (const t of fresh) t.terminate(e);
      throw e;
    }
    return fresh;
  };
  try {
    pool = await start();
  } catch (e) {
    console.warn(`ticketsr: running on one thread (${e.message})`);
    return upscaler;
  }
  // Stopped work (an abort, a dead worker) leaves its workers busy or broken: they are
  // replaced before the next call; if that fails, calls run on the page's instance.
  let restarting = null;
  let disposed = false;
  const replace = (why) => {
    for (const t of pool) t.terminate(why);
    pool = [];
    restarting = start().then(
      (fresh) => {
        if (disposed) for (const t of fresh) t.terminate(new Error('this upscaler was disposed'));
        else pool = fresh;
      },
      (e) => console.warn(`ticketsr: running on one thread from now on (${e.message})`),
    ).finally(() => {
      restarting = null;
    });
  };
  const dense = (options) => !SPARSE.some((k) => options?.[k] !== undefined && options?.[k] !== null && options?.[k] !== false);

  async function upscale(image, options = {}) {
    const { onProgress, signal, ...rest } = options ?? {};
    const { width, height, data } = image ?? {};
    // Tickets, and images or callbacks the library would refuse: the page's instance (its errors).
    // Other options go to the workers, whose library checks them.
    if (restarting) await restarting;
    const parts = disposed ? 1 : bandCount(width, height, pool.length, halo);
    const wellFormed = ArrayBuffer.isView(data) && data.length === width * height * 4
      && (signal == null || signal instanceof AbortSignal) && (onProgress == null || typeof onProgress === 'function');
    if (parts < 2 || !dense(rest) || !wellFormed) return upscaler.upscale(image, options);
    signal?.throwIfAborted();
    const bands = upscaler.bands(width, height, parts);
    const out = new ImageData(width * scale, height * scale);
    let done = 0;
    const stop = () => replace(signal.reason ?? new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', stop, { once: true });
    try {
      await Promise.all(bands.map(async ({ core, padded }, i) => {
        const rows = data.slice(padded.y * width * 4, (padded.y + padded.height) * width * 4);
        const band = { width, height: padded.height, data: rows };
        const region = { ...core, y: core.y - padded.y };
        const part = await pool[i].call('upscale', { image: band, region, options: rest }, [rows.buffer]);
        out.data.set(part.data, core.y * scale * width * scale * 4);
        done += 1;
        onProgress?.(done, bands.length);
      }));
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw e;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    return out;
  }

  const stopWorkers = () => {
    disposed = true;
    stopListening();
    for (const t of pool) t.terminate(new Error('this upscaler was disposed'));
    pool = [];
  };
  // The page's instance restarted: this upscaler is gone with it, so are its workers.
  const stopListening = onRestart(stopWorkers);
  const dispose = () => {
    stopWorkers();
    upscaler.dispose();
  };
  return new Proxy(upscaler, {
    get(target, key) {
      if (key === 'upscale') return upscale;
      if (key === 'dispose') return dispose;
      if (key === 'threads') return pool.length || n;
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
