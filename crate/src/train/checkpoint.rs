//! A training run saved to a folder, to continue later: `model.safetensors` (the weights
//! with the model's graph and facts), `optimizer.burnpack` (Adam's moments, burn's record
//! format) and `state.json` (step and schedule).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Checkpoint, TrainConfig};
use crate::error::{Error, Result};
use crate::model::format;
use crate::platform::{read_file, write_file};

#[derive(Serialize, Deserialize)]
struct State {
    step: usize,
    config: TrainConfig,
}

impl Checkpoint {
    /// Writes the checkpoint into `dir` (made if missing), replacing one saved there before.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        write_file(&dir.join("model.safetensors"), &format::to_bytes(&self.model)?)?;
        write_file(&dir.join("optimizer.burnpack"), &self.optimizer)?;
        let state = serde_json::to_vec(&State { step: self.step, config: self.config }).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        write_file(&dir.join("state.json"), &state)
    }

    /// Reads the checkpoint saved in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let state = dir.join("state.json");
        let State { step, config } = serde_json::from_slice(&read_file(&state)?).map_err(|e| Error::InvalidModel(format!("{}: {e}", state.display())))?;
        let model = format::load(&dir.join("model.safetensors"))?;
        Ok(Checkpoint { model, optimizer: read_file(&dir.join("optimizer.burnpack"))?, step, config })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;

    #[test]
    fn a_saved_checkpoint_loads_back_equal_and_a_missing_one_is_an_error() {
        let dir = std::env::temp_dir().join(format!("ticketsr-checkpoint-{}", std::process::id()));
        let c = Checkpoint { model: espcn::build(2, 1).unwrap(), optimizer: vec![1, 2, 3], step: 7, config: TrainConfig::default() };
        c.save(&dir).unwrap();
        let back = Checkpoint::load(&dir).unwrap();
        assert_eq!((back.step, back.config, &back.optimizer), (7, c.config, &c.optimizer));
        assert_eq!(back.model.values, c.model.values);
        std::fs::remove_file(dir.join("state.json")).unwrap();
        assert!(matches!(Checkpoint::load(&dir), Err(Error::Io { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
