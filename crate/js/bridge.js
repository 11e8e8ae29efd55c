// The one bridge between a page and its module workers (the video engine's, the CPU
// threads'): requests { id, op, args } in, answers { id, value } or { id, error,
// restarted } out, with what a call transfers. A worker whose module trapped has a fresh
// instance (revive.js) and answers `restarted`: the call fails as a ModuleRestarted error.

/** The page's side: one worker and its calls in flight. `label` names it in errors. */
export class WorkerClient {
  #worker;
  #calls = new Map();
  #next = 0;

  constructor(url, label) {
    this.#worker = new Worker(url, { type: 'module' });
    this.#worker.onmessage = ({ data: { id, value, error, restarted } }) => {
      const call = this.#calls.get(id);
      this.#calls.delete(id);
      if (error === undefined) call?.resolve(value);
      else call?.reject(Object.assign(new Error(error), restarted ? { name: 'ModuleRestarted' } : {}));
    };
    // A worker that cannot load (its script, the module) fails every call, never hangs it.
    this.#worker.onerror = (e) => {
      e.preventDefault?.();
      this.#failAll(new Error(`${label} failed: ${e.message ?? 'could not start'}`));
    };
  }

  call(op, args = {}, transfer = []) {
    return new Promise((resolve, reject) => {
      const id = (this.#next += 1);
      this.#calls.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, args }, transfer);
    });
  }

  #failAll(error) {
    for (const { reject } of this.#calls.values()) reject(error);
    this.#calls.clear();
  }

  /** Ends the worker; calls still in flight fail with `error`. */
  terminate(error = new Error('the worker was stopped')) {
    this.#worker.terminate();
    this.#failAll(error);
  }
}

/** The worker's side: answers each request with `handle(op, args)`'s [value, transfer]. */
export function serve(handle) {
  self.onmessage = async ({ data: { id, op, args } }) => {
    try {
      const [value, transfer] = await handle(op, args);
      self.postMessage({ id, value }, transfer);
    } catch (e) {
      self.postMessage({ id, error: e?.message ?? String(e), restarted: e?.name === 'ModuleRestarted' });
    }
  };
}
