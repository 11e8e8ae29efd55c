// The parts of the package's types that are not a Rust type's: what only JavaScript passes
// (callbacks, an AbortSignal, images) and results that join a Rust type with JS values
// (an ImageData, the model's bytes). Options (UpscalerOptions, UpscaleOptions,
// ScoreOptions, EvaluateOptions, FrameOptions, Selection, CostModel, Scorer, PruneMethod,
// Grid) and results (UpscalerInfo, Evaluation, PatchScores, Metrics, FrameReport,
// PackManifest, PruneSummary, PruneLayer) are generated from the library's serde types by
// tsify; the interfaces below merge with them.
export interface ImageLike { width: number; height: number; data: Uint8ClampedArray | Uint8Array; }
/** Called after every tile (or batch of patch windows) with the number done and the total;
 *  aborting `signal` rejects the promise with an Error named "AbortError". */
export interface Cancellable {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}
export interface UpscaleOptions extends Cancellable {}
export interface EvaluateOptions extends Cancellable {}
export interface FrameOptions extends Cancellable {}
export interface ScoreOptions {
  /** The HR original (the input upscaled size), needed by "oracle" and "stdo". */
  reference?: ImageData | ImageLike;
}
/** One upscaled frame and what it cost (`FrameReport`). */
export interface UpscaledFrame extends FrameReport { image: ImageData; }
/** A pruning pass (`prune::Method` in the library): the smallest weights zeroed (the file
 *  shrinks), 2 of every 4 kept, or whole channels removed (coupled ones together). */
export type PruneMethod = Method;
/** `model` is a ticketsr model file: pass it to `Upscaler.create` or save it. */
export interface PruneResult { model: Uint8Array<ArrayBuffer>; before: PruneSummary; after: PruneSummary; }
