// Frames as pixels: the one frame loop and pixel reader that <ticket-sr>, the demo's video
// engine (in the page or a worker) and the benchmarks share. Ships in pkg/ next to
// ticketsr.js.

/** Reads anything drawable (an image, ImageBitmap, <video>, canvas) as ImageData through
 *  one 2D canvas, kept while the size stays the same. */
export class FrameReader {
  #canvas = null;
  #ctx = null;

  /** `source` drawn at `width` x `height`; with `crop` ({ x, y, width, height }), that
   *  region of it. */
  read(source, width, height, crop) {
    if (this.#canvas?.width !== width || this.#canvas?.height !== height) {
      this.#canvas = new OffscreenCanvas(width, height);
      this.#ctx = this.#canvas.getContext('2d', { willReadFrequently: true });
    }
    if (crop) this.#ctx.drawImage(source, crop.x, crop.y, crop.width, crop.height, 0, 0, width, height);
    else this.#ctx.drawImage(source, 0, 0, width, height);
    return this.#ctx.getImageData(0, 0, width, height);
  }
}

/** Calls `onFrame(now, metadata)` for the frames `video` presents, each once the call
 *  before has settled, so a slow consumer skips frames instead of queueing them. The loop
 *  ends when `onFrame` returns (or resolves to) false or throws (the promise returned
 *  rejects then), or when the `stop()` it is given is called. */
export function everyFrame(video, onFrame) {
  let handle = 0;
  let stopped = false;
  const done = new Promise((resolve, reject) => {
    const next = async (now, meta) => {
      if (stopped) return resolve();
      try {
        if ((await onFrame(now, meta)) === false || stopped) return resolve();
      } catch (e) {
        return reject(e);
      }
      handle = video.requestVideoFrameCallback(next);
    };
    handle = video.requestVideoFrameCallback(next);
  });
  return {
    done,
    stop() {
      stopped = true;
      video.cancelVideoFrameCallback(handle);
    },
  };
}
