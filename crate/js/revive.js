// Surviving a dead module. The shipped wasm aborts on a panic (panic = "abort"), and an
// allocation that fails aborts too: the instance traps with a WebAssembly.RuntimeError and
// nothing in it can be trusted again. Every Upscaler, stream and pack of that instance is
// gone, and a promise whose work was inside it never settles. This module notices the trap
// (thrown from a call, or reported by the browser when it happened inside a callback),
// starts a fresh instance of the same compiled module (wasm-bindgen's
// `__wbg_reset_state`, built with --experimental-reset-state-function), rejects every call
// still waiting with an Error that says so, and tells the holders of engines to make them
// again. Shared by the page, the video worker and the <ticket-sr> element (pkg/revive.js).
import { __wbg_reset_state } from './ticketsr.js';

let generation = 0;
let restarting = null; // { error, done }: the restart in progress
let unrecoverable = null; // why a restart failed: the module cannot run here any more
const pending = new Set(); // rejecters of the calls in flight
const listeners = new Set();

/** Whether `e` is the wasm module trapping (a panic, an out-of-memory abort). */
export function isTrap(e) {
  return e instanceof WebAssembly.RuntimeError;
}

/** Which instance of the module is live: it changes at every restart. */
export function moduleGeneration() {
  return generation;
}

/** Calls `listener(error)` once the module runs again after a restart; returns a function that stops it. */
export function onRestart(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The error a call gets when the module died under it. */
export class ModuleRestarted extends Error {
  constructor(cause) {
    super(`ticketsr's wasm module stopped (${cause?.message ?? cause}) and was restarted: this call's work is lost, the next one runs on a fresh module`);
    this.name = 'ModuleRestarted';
    this.cause = cause;
  }
}

/**
 * A fresh instance of the module. `__wbg_reset_state` invalidates every object of the old
 * one and instantiates the module synchronously, which a page's main thread refuses for a
 * module over 8 MB (ours is 15). So it is run twice with `WebAssembly.Instance` swapped
 * for the moment of the call: first to learn the compiled module and the imports it
 * instantiates with, which are then instantiated asynchronously, then to take that
 * instance and start it. Nothing else runs during either synchronous call.
 */
async function reinstantiate() {
  const Instance = WebAssembly.Instance;
  const stop = Symbol('asked');
  let asked = null;
  WebAssembly.Instance = function (module, imports) {
    asked = { module, imports };
    throw stop;
  };
  try {
    __wbg_reset_state();
  } catch (e) {
    if (e !== stop) throw e;
  } finally {
    WebAssembly.Instance = Instance;
  }
  if (!asked) throw new Error('the module was not built with --experimental-reset-state-function');
  const instance = await WebAssembly.instantiate(asked.module, asked.imports);
  WebAssembly.Instance = function () {
    return instance;
  };
  try {
    __wbg_reset_state();
  } finally {
    WebAssembly.Instance = Instance;
  }
}

function restart(cause) {
  // A trap of the dying instance while it is being replaced: the same death.
  if (restarting) return restarting.error;
  generation += 1;
  const error = new ModuleRestarted(cause);
  for (const reject of [...pending]) reject(error);
  pending.clear();
  const done = reinstantiate().then(
    () => {
      restarting = null;
      for (const listener of [...listeners]) {
        try {
          listener(error);
        } catch (e) {
          console.error(e);
        }
      }
    },
    (e) => {
      restarting = null;
      unrecoverable = e;
      console.error("ticketsr's wasm module could not be restarted", e);
    },
  );
  restarting = { error, done };
  return error;
}

/**
 * Runs `call()` (anything that calls into the module and returns a value or a promise),
 * after any restart in progress. If the module traps during it, the module is restarted
 * and the returned promise rejects with a ModuleRestarted error; any other error passes
 * through unchanged.
 */
export function guarded(call) {
  if (unrecoverable) return Promise.reject(new Error(`ticketsr's wasm module stopped and could not be restarted: ${unrecoverable.message}`));
  return new Promise((resolve, reject) => {
    const settle = (f) => (v) => {
      pending.delete(reject);
      f(v);
    };
    pending.add(reject);
    Promise.resolve(restarting?.done)
      .then(() => call())
      .then(settle(resolve), settle((e) => reject(isTrap(e) ? restart(e) : e)));
  });
}

// A trap inside a callback the module gave the browser (a resolved future, a GPU
// completion) is thrown to the event loop, not to any caller: the calls waiting on that
// work would hang. The browser reports it as an uncaught error or rejection.
const scope = globalThis;

// After a restart, work the dead instance handed the browser still completes (a timer it
// yielded to, a promise it awaited), and wasm-bindgen refuses to call that instance's
// closure back. The calls waiting on that work were already rejected with ModuleRestarted:
// the refusal is the expected end of the dead instance's work, not an error of the page.
function isDeadInstanceCallback(e) {
  return generation > 0 && e instanceof Error && e.message === 'Cannot invoke closure from previous WASM instance';
}

// Handled here, so the browser does not also report it as uncaught.
function handle(event, e) {
  if (isTrap(e)) restart(e);
  else if (!isDeadInstanceCallback(e)) return;
  event.preventDefault();
}
scope.addEventListener?.('error', (event) => handle(event, event.error));
scope.addEventListener?.('unhandledrejection', (event) => handle(event, event.reason));
