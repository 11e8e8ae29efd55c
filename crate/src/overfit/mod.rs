//! Models overfitted to one clip, as the data-overfitting research ships video (RESEARCH.md
//! sections 1 and 2): the server knows the HR frames, cuts them into patches, decides per
//! patch which small model upscales it, overfits those models, and sends the LR video with
//! the models and the per-frame maps (a [`crate::pack`]). Three methods share one layout:
//!
//! - `single`: one model for every patch (the plain overfitting baseline);
//! - `stdo`: patches pooled over the clip, sorted by a general model's PSNR and cut into
//!   `k` equal-count chunks, one model per chunk ([`chunk`]);
//! - `dydca`: big patches split 2x2 where the general model is weak, a deep branch for the
//!   small patches and a shallow one for the big ones ([`split`]).

pub mod chunk;
pub mod fit;
pub mod layout;
pub mod split;

use serde::{Deserialize, Serialize};

pub use layout::{Job, Layout};

/// How a clip's patches are shared among models. [`MethodKind`] is its variants' names
/// alone, derived from it, for the CLI's `--method`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[strum_discriminants(name(MethodKind), derive(Deserialize), serde(rename_all = "lowercase"))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(rename = "OverfitMethod"))]
pub enum Method {
    Single,
    Stdo {
        chunks: usize,
    },
    #[serde(rename = "dydca")]
    DyDca {
        /// General-model PSNR (dB) at or below which a big patch is split.
        threshold: f64,
    },
}

impl Method {
    /// How many models a pack of this method carries.
    pub fn models(self) -> usize {
        match self {
            Method::Single => 1,
            Method::Stdo { chunks } => chunks,
            Method::DyDca { .. } => 2,
        }
    }

    /// Side of a map cell for LR patches of side `patch` (Dy-DCA maps its big patches).
    pub fn cell(self, patch: usize) -> usize {
        match self {
            Method::DyDca { .. } => 2 * patch,
            _ => patch,
        }
    }

    pub fn name(self) -> String {
        match self {
            Method::Single => "single".into(),
            Method::Stdo { chunks } => format!("stdo-k{chunks}"),
            Method::DyDca { threshold } => format!("dydca-{threshold:.1}dB"),
        }
    }
}
