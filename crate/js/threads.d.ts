import type { Upscaler } from './ticketsr.js';

/** An Upscaler whose dense `upscale` runs on `threads` Web Workers. */
export type ThreadedUpscaler = Upscaler & {
  /** Workers that upscale (1: the page's instance alone). */
  readonly threads: number;
};

/**
 * `upscaler` (a CPU Upscaler made from `model`, the same bytes) with its dense `upscale`
 * split over `threads` workers (default: the device's cores, at most 4). On a GPU, with one thread,
 * or where workers cannot start, the upscaler comes back as it was.
 */
export function withThreads(upscaler: Upscaler, model: Uint8Array, options?: { threads?: number }): Promise<ThreadedUpscaler>;
