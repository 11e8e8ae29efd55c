//! The bodies of the fuzz targets, shared by `cargo fuzz` (fuzz_targets/) and by the test that
//! replays the corpus and every crash found in CI (crate/tests/integration/fuzz_corpus.rs).
//! Each takes any bytes and must return: an error is fine, a panic, an abort, a hang or an
//! allocation out of proportion to the input is a finding. What loads must also write back
//! and load again to the same thing, so a loader cannot accept what the writer never makes.

#![allow(dead_code)] // each fuzz binary uses one target

use ticketsr::graph::Graph;
use ticketsr::model::format;
use ticketsr::model::tfjs::{self, TfjsOptions};
use ticketsr::pack::Pack;
use ticketsr::patch::{Grid, window};
use ticketsr::{Error, ModelFile};

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// A model file: `model::format::from_bytes`, then a round trip.
pub fn model_file(data: &[u8]) {
    bounded(data.len(), || model_file_body(data));
}

fn model_file_body(data: &[u8]) {
    if let Ok(model) = format::from_bytes(data) {
        let again = format::from_bytes(&format::to_bytes(&model).expect("a loaded model writes")).expect("a written model loads");
        assert_same_model(&model, &again);
    }
}

/// A content pack: `Pack::from_bytes`, then a round trip.
pub fn content_pack(data: &[u8]) {
    bounded(data.len(), || content_pack_body(data));
}

fn content_pack_body(data: &[u8]) {
    if let Ok(pack) = Pack::from_bytes(data) {
        let again = Pack::from_bytes(&pack.to_bytes().expect("a loaded pack writes")).expect("a written pack loads");
        assert_eq!(pack.manifest, again.manifest);
        assert_eq!(pack.maps, again.maps);
        assert_eq!(pack.video, again.video);
        assert_eq!(pack.models.len(), again.models.len());
        pack.models.iter().zip(&again.models).for_each(|(a, b)| assert_same_model(a, b));
    }
}

/// A TF.js layers model with its shards in memory: `model.json`, then each shard, separated
/// by NUL bytes (which JSON text never holds). Shard names map to the parts in manifest order.
pub fn tfjs_model(data: &[u8]) {
    bounded(data.len(), || tfjs_model_body(data));
}

fn tfjs_model_body(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let json = parts.next().unwrap_or_default();
    let mut shards = parts;
    let opts = TfjsOptions { input_range: 255.0, name: "fuzz".into(), source: "fuzz".into(), licence: "MIT".into() };
    let read = |name: &str, limit: usize| -> Result<Vec<u8>, Error> {
        let shard = shards.next().ok_or_else(|| Error::InvalidArgument(format!("no shard `{name}`")))?;
        // As the CLI's and the browser's readers do: never more than the limit.
        Ok(shard[..shard.len().min(limit)].to_vec())
    };
    if let Ok(model) = tfjs::load(json, read, &opts) {
        let again = format::from_bytes(&format::to_bytes(&model).expect("a converted model writes")).expect("a written model loads");
        assert_same_model(&model, &again);
    }
}

/// A graph as the model file's JSON header holds it: analysis, and the work of a cropped run.
pub fn graph_analysis(data: &[u8]) {
    bounded(data.len(), || graph_analysis_body(data));
}

fn graph_analysis_body(data: &[u8]) {
    let Ok(graph) = serde_json::from_slice::<Graph>(data) else { return };
    if let Ok(analysis) = graph.analyze() {
        let macs = analysis.macs(&graph, 64, 48, [0; 4]);
        assert_eq!(macs, analysis.macs_per_input_pixel * 64 * 48, "an uncropped run does the work analysis states");
        assert!(analysis.macs(&graph, 64, 48, [3, 1, 4, 1]) <= macs, "cropping never adds work");
        let text = serde_json::to_vec(&graph).expect("a graph writes");
        assert_eq!(serde_json::from_slice::<Graph>(&text).expect("a written graph reads"), graph);
    }
}

/// Patch planning: a grid, a selection and a halo from the bytes (little-endian u16s:
/// width, height, patch, halo, tile side, then the selected indices).
pub fn patch_plan(data: &[u8]) {
    bounded(data.len(), || patch_plan_body(data));
}

fn patch_plan_body(data: &[u8]) {
    let mut words = data.chunks_exact(2).map(|w| u16::from_le_bytes([w[0], w[1]]) as usize);
    let mut next = || words.next().unwrap_or(0);
    let (width, height, patch, halo, side) = (next(), next(), next(), next(), next());
    let Ok(grid) = Grid::new(width, height, patch) else { return };
    let picks: Vec<usize> = std::iter::from_fn(|| words.next()).collect();
    let Ok(selected) = grid.selection(&picks) else { return };
    let plan = window::plan(&grid, &selected, halo, side);
    assert_eq!(plan.window_of.len(), selected.len());
    for (k, &i) in selected.iter().enumerate() {
        let (r, win) = (grid.rect(i), plan.windows[plan.window_of[k]]);
        assert!(win.x + win.width <= width && win.y + win.height <= height, "window {win:?} leaves the image");
        assert!(r.x >= win.x && r.y >= win.y && r.x + r.width <= win.x + win.width && r.y + r.height <= win.y + win.height, "patch {r:?} outside {win:?}");
    }
    let separate: usize = selected.iter().map(|&i| window::window(grid.rect(i), halo, (width, height))).map(|w| w.width * w.height).sum();
    assert!(plan.pixels() <= separate, "merging costs more than separate windows: {} > {separate}", plan.pixels());
}

/// Same graph, info and values (bit for bit: NaN weights are values too).
fn assert_same_model(a: &ModelFile, b: &ModelFile) {
    assert_eq!(a.info, b.info);
    assert_eq!(a.graph, b.graph);
    let bits = |m: &ModelFile| m.values.iter().map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()).collect::<Vec<_>>();
    assert!(bits(a) == bits(b), "values changed in a round trip");
}

/// Heap a target may hold at once: the largest structure a loader may build from a small
/// header (a pack's maps, capped at 64 MiB whatever their packed size: one level packs to
/// no bits) with room to spare, plus 64 bytes per input byte (a sparse mask's bits expand
/// 32-fold into f32 values, and a loader holds a copy or two). More is a finding: some size
/// in the input is trusted before it is checked.
const BASE_BYTES: usize = 128 << 20;
const BYTES_PER_INPUT_BYTE: usize = 64;

thread_local! {
    /// Bytes allocated and not freed on this thread since `bounded` began.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// Inside `bounded`: the most this thread may hold, refused (an abort naming the size)
    /// before it is allocated, so a lying size fails here and not by exhausting memory.
    static LIMIT: Cell<isize> = const { Cell::new(isize::MAX) };
}

/// The system allocator, counting what each thread holds.
struct Counting;

#[global_allocator]
static COUNTING: Counting = Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !track(layout.size() as isize) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !track(layout.size() as isize) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !track(new_size as isize - layout.size() as isize) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Counts `delta` bytes; false (nothing counted) where they would pass the limit.
fn track(delta: isize) -> bool {
    // `try_with`: a thread being torn down has no counters left, and needs none.
    LIVE.try_with(|live| {
        let now = live.get().saturating_add(delta);
        if delta > 0 && now > LIMIT.try_with(Cell::get).unwrap_or(isize::MAX) {
            return false;
        }
        live.set(now);
        true
    })
    .unwrap_or(true)
}

/// Runs `f` with the heap it may hold bounded in proportion to `len` input bytes.
fn bounded(len: usize, f: impl FnOnce()) {
    let limit = BYTES_PER_INPUT_BYTE.saturating_mul(len).saturating_add(BASE_BYTES).min(isize::MAX as usize) as isize;
    LIVE.with(|l| l.set(0));
    LIMIT.with(|l| l.set(limit));
    // Reset however `f` ends: the replay test catches a panic and goes on to the next input.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            LIMIT.with(|l| l.set(isize::MAX));
        }
    }
    let _reset = Reset;
    f();
}
