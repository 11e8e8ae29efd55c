//! The fuzz corpus and every input a fuzzer crashed on, replayed through the same target
//! bodies `cargo fuzz` runs (fuzz/targets.rs; the long runs are scripts/fuzz.sh, outside
//! CI). An input that once panicked, aborted or over-allocated stays a test.

#[path = "../../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

use crate::common::repo;

/// Runs `target` on every file under fuzz/corpus/NAME and fuzz/regressions/NAME; there
/// must be some, or the replay tests nothing.
fn replay(name: &str, target: fn(&[u8])) {
    let mut seen = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(repo().join("fuzz").join(dir).join(name)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            if std::panic::catch_unwind(|| target(&bytes)).is_err() {
                panic!("{name}: {} fails (fuzz/README.md says how to debug it)", Path::new(&path).display());
            }
            seen += 1;
        }
    }
    assert!(seen > 0, "{name}: no corpus to replay");
}

#[test]
fn fuzz_corpus_model_file() {
    replay("model_file", targets::model_file);
}

#[test]
fn fuzz_corpus_content_pack() {
    replay("content_pack", targets::content_pack);
}

#[test]
fn fuzz_corpus_tfjs_model() {
    replay("tfjs_model", targets::tfjs_model);
}

#[test]
fn fuzz_corpus_graph_analysis() {
    replay("graph_analysis", targets::graph_analysis);
}

#[test]
fn fuzz_corpus_patch_plan() {
    replay("patch_plan", targets::patch_plan);
}
