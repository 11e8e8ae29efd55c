// One thread of pkg/threads.js: its own instance of the module (compiled once by the page
// and sent here) and the model on the CPU, behind the worker bridge (bridge.js); an
// upscaled band leaves with its pixels transferred. If this instance traps, revive.js
// starts a fresh one, the call says `restarted`, and the model is loaded again on the next
// call.
import init, { Upscaler } from './ticketsr.js';
import { serve } from './bridge.js';
import { guarded, moduleGeneration } from './revive.js';

let model = null;
let loaded = null; // { generation, upscaler: Promise<Upscaler> }

function upscaler() {
  if (loaded?.generation !== moduleGeneration()) {
    loaded = { generation: moduleGeneration(), upscaler: guarded(() => Upscaler.create(model, { backend: 'cpu' })) };
  }
  return loaded.upscaler;
}

const ops = {
  async load({ module, model: bytes }) {
    await init({ module_or_path: module });
    model = bytes;
    // A first run grows the instance's memory and fills its allocator: done here, not in
    // the user's first call.
    const up = await upscaler();
    await guarded(() => up.upscale({ width: 16, height: 16, data: new Uint8ClampedArray(16 * 16 * 4) }, {}));
    return [null, []];
  },
  async upscale({ image, region, options }) {
    const up = await upscaler();
    const out = await guarded(() => up.upscaleRegion(image, region, options));
    return [out, [out.data.buffer]];
  },
};

serve((op, args) => ops[op](args));
