// Options the declarations must refuse (tests/e2e/types.test.mjs expects each line marked
// `error` to fail to compile, and nothing else).
import { Upscaler, prune } from '../../pkg/ticketsr.js';

declare const upscaler: Upscaler;
declare const imageData: ImageData;
declare const bytes: Uint8Array;

export async function misspelt(): Promise<void> {
  await Upscaler.create(bytes, { backend: 'auto', tilesize: 64 }); // error
  await Upscaler.create(bytes, { backend: 'tpu' }); // error
  await upscaler.upscale(imageData, { keeep: 0.25 }); // error
  await upscaler.upscale(imageData, { keep: 0.25, scorer: 'gradiant' }); // error
  await upscaler.stream().next(imageData, { reuse: 6, patch: 16 }); // error
  await upscaler.evaluatePatches(imageData, { keepz: [0.5] }); // error
  prune(bytes, { method: 'channel', sparsity: 0.5, criterion: 'l3' }); // error
}
