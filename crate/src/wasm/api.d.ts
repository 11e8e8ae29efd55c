// The parts of the package's types that are not a Rust type's: what only JavaScript passes
// (callbacks, an AbortSignal, images) and the results still described by hand (their
// fields in camelCase, as the JS edge gives them: crate/src/wasm/convert.rs). The option
// types themselves (UpscalerOptions, UpscaleOptions, ScoreOptions, EvaluateOptions,
// FrameOptions, Selection, CostModel, Scorer, PruneMethod, Grid) are generated from the
// library's serde types (crate::options and beside them); the interfaces below merge with
// them.
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
export interface PatchScores { grid: Grid; scorer: Scorer; scores: number[]; }
export interface Evaluation {
  grid: Grid;
  bicubicPsnr: number;
  densePsnr: number;
  curves: {
    scorer: Scorer;
    scores: number[];
    points: { keep: number; patches: number; psnr: number; shareOfGain: number; work: number }[];
  }[];
}
/** What a content pack holds besides its bytes (see `ticketsr overfit`). */
export interface PackManifest {
  method: { kind: "single" } | { kind: "stdo"; chunks: number } | { kind: "dydca"; threshold: number };
  scale: number;
  /** LR patch side (Dy-DCA: of a small patch). */
  patch: number;
  /** LR frame size. */
  width: number;
  height: number;
  frames: number;
  fps: number;
  heldOut: number[];
  bounds: number[];
  source?: { path: string; crop: [number, number, number, number]; frameEvery: number; maxFrames: number } | null;
  notes: string;
}
export interface UpscalerInfo {
  model: { name: string; scale: number; architecture: string; source: string; licence: string; notes: string };
  backend: { kind: "webgpu" | "vulkan" | "cpu"; adapter: string; maxTensorBytes: number; fallbackReason?: string };
  parameters: number;
  macsPerInputPixel: number;
  tile: number;
  halo: number;
}
export interface Metrics { psnrRgb: number; psnrY: number; ssimY: number; }
/** One upscaled frame and what it cost: patches the network ran on, kept from earlier
 *  frames, and left bicubic (over the keep limit); `work` is the share of dense SR's
 *  multiply-accumulates. */
export interface UpscaledFrame {
  image: ImageData;
  patches: number;
  computed: number;
  reused: number;
  interpolated: number;
  work: number;
}
/** A pruning pass (`prune::Method` in the library): the smallest weights zeroed (the file
 *  shrinks), 2 of every 4 kept, or whole channels removed (coupled ones together). */
export type PruneMethod = Method;
export interface PruneLayer { name: string; channelsBefore: number; channels: number; weights: number; nonzero: number; }
export interface PruneSummary { parameters: number; nonzero: number; macsPerOutputPixel: number; bytes: number; layers: PruneLayer[]; }
/** `model` is a ticketsr model file: pass it to `Upscaler.create` or save it. */
export interface PruneResult { model: Uint8Array<ArrayBuffer>; before: PruneSummary; after: PruneSummary; }
