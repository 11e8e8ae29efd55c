// The video engine in a Web Worker, so the page stays responsive while frames upscale:
// messages { id, op, args } in, { id, value } or { id, error } out. Frames arrive as
// ImageBitmaps and leave as ImageData whose pixels are transferred, not copied. A frame
// lost to a module restart (pkg/revive.js) says so with `restarted`.
import { FrameEngine, handle } from './engine.js';

const engine = FrameEngine.create();

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    const [value, transfer] = await handle(await engine, op, args);
    self.postMessage({ id, value }, transfer);
  } catch (e) {
    self.postMessage({ id, error: e?.message ?? String(e), restarted: e?.name === 'ModuleRestarted' });
  }
};
