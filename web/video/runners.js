// Where the video engine runs: a module worker (frames are moved there as ImageBitmaps),
// or the page's own thread where workers cannot do the work.
import { FrameEngine, handle } from './engine.js';

/** The engine in a module worker: requests are messages, frames ImageBitmaps moved there. */
export class WorkerRunner {
  where = 'worker';
  #worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  #id = 0;
  #pending = new Map();

  constructor() {
    this.#worker.onmessage = ({ data: { id, value, error, restarted } }) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (error === undefined) p?.resolve(value);
      else p?.reject(Object.assign(new Error(error), restarted ? { name: 'ModuleRestarted' } : {}));
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      for (const p of this.#pending.values()) p.reject(new Error(`the video worker failed: ${e.message ?? 'could not start'}`));
      this.#pending.clear();
    };
  }

  call(op, args = {}, transfer = []) {
    return new Promise((resolve, reject) => {
      const id = (this.#id += 1);
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, args }, transfer);
    });
  }

  close() {
    this.#worker.terminate();
  }
}

/** The same engine on the page's own thread. */
export class InlineRunner {
  #engine = FrameEngine.create();

  constructor(where) {
    this.where = where;
  }

  async call(op, args = {}) {
    return (await handle(await this.#engine, op, args))[0];
  }

  close() {
    this.#engine.then((e) => e.dispose());
  }
}
