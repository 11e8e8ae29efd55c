// Where the video engine runs: a module worker (frames are moved there as ImageBitmaps),
// or the page's own thread where workers cannot do the work.
import { WorkerClient } from '../../pkg/bridge.js';
import { FrameEngine, handle } from './engine.js';

/** The engine in a module worker: requests are messages, frames ImageBitmaps moved there. */
export class WorkerRunner {
  where = 'worker';
  #client = new WorkerClient(new URL('./worker.js', import.meta.url), 'the video worker');

  call(op, args = {}, transfer = []) {
    return this.#client.call(op, args, transfer);
  }

  close() {
    this.#client.terminate();
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
