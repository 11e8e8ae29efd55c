// A page as a bundler user writes it: the package imported by name (resolved through
// pkg/package.json's exports), the wasm found by Vite, the element imported for its effect.
import init, { Upscaler, prune } from 'ticketsr';
import 'ticketsr/ticket-sr';

const status = document.getElementById('status');
try {
  await init();
  const bytes = new Uint8Array(await (await fetch('/web/models/ticketsr-espcn-x2.safetensors')).arrayBuffer());
  const up = await Upscaler.create(bytes, { backend: 'auto' });
  const data = new Uint8ClampedArray(24 * 16 * 4).map((_, i) => (i * 37) % 256);
  const out = await up.upscale(new ImageData(data, 24, 16), {});
  const pruned = prune(bytes, { method: 'channel', sparsity: 0.5 });
  window.result = { width: out.width, height: out.height, backend: up.info().backend.kind, pruned: pruned.after.parameters };
  up.dispose();
  status.textContent = 'done';
} catch (e) {
  window.result = { error: e.message };
  status.textContent = `failed: ${e.message}`;
}
