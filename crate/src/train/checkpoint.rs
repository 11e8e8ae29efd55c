//! A training run saved to a folder, to continue later: `model.safetensors` (the weights
//! with the model's graph and facts), `optimizer.burnpack` (Adam's moments, burn's record
//! format) and `state.json` (step and schedule).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Checkpoint, TrainConfig};
use crate::error::{Error, Result};
use crate::model::format;

#[derive(Serialize, Deserialize)]
struct State {
    step: usize,
    config: TrainConfig,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

impl Checkpoint {
    /// Writes the checkpoint into `dir` (made if missing), replacing one saved there before.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        write(&dir.join("model.safetensors"), &format::to_bytes(&self.model)?)?;
        write(&dir.join("optimizer.burnpack"), &self.optimizer)?;
        let state = serde_json::to_vec(&State { step: self.step, config: self.config }).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        write(&dir.join("state.json"), &state)
    }

    /// Reads the checkpoint saved in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let state = dir.join("state.json");
        let State { step, config } = serde_json::from_slice(&read(&state)?).map_err(|e| Error::InvalidModel(format!("{}: {e}", state.display())))?;
        let model_path = dir.join("model.safetensors");
        let model = format::from_bytes(&read(&model_path)?).map_err(|e| match e {
            Error::InvalidModel(m) => Error::InvalidModel(format!("{}: {m}", model_path.display())),
            e => e,
        })?;
        Ok(Checkpoint { model, optimizer: read(&dir.join("optimizer.burnpack"))?, step, config })
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
