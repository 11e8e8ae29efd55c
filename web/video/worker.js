// The video engine in a Web Worker, so the page stays responsive while frames upscale,
// behind the worker bridge (pkg/bridge.js). Frames arrive as
// ImageBitmaps and leave as ImageData whose pixels are transferred, not copied. A frame
// lost to a module restart (pkg/revive.js) says so with `restarted`.
import { serve } from '../../pkg/bridge.js';
import { FrameEngine, handle } from './engine.js';

const engine = FrameEngine.create();

serve(async (op, args) => handle(await engine, op, args));
