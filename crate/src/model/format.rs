//! The project's own model format: one safetensors file. The tensors are the parameters,
//! named as in the graph; the metadata carries the graph (`graph`, JSON) and the model's
//! facts (`info`, JSON) under `format = "ticketsr/1"`. One file, so the page can fetch it
//! or a user can drop it, and any safetensors tool can read its weights. Parameters that
//! still lie on the uint8 grid they were quantized to are stored as `U8` codes, their grids
//! in the `quantization` metadata (JSON, by name): a quarter of the bytes, exactly.
//! Parameters that are mostly zero (pruned) are stored as a bit mask `{name}#mask` (U8,
//! one bit per value, least significant first) and their nonzero values `{name}#nonzero`
//! (F32), named in the `sparse` metadata (JSON list): the file shrinks with sparsity.

use std::collections::{HashMap, HashSet};

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::{ModelFile, ModelInfo, Uint8Grid, weight_norm};
use crate::error::{Error, Result};
use crate::graph::Graph;

pub const FORMAT: &str = "ticketsr/1";

/// How parameters other than plain F32 are stored, from the file's metadata.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    pub grids: HashMap<String, Uint8Grid>,
    /// Parameters stored as mask and nonzero values.
    pub sparse: HashSet<String>,
}

/// A parameter's tensors in the file.
enum Encoded {
    Dense(Dtype, Vec<u8>),
    Sparse { mask: Vec<u8>, nonzero: Vec<u8> },
}

/// The sparse encoding of `v` when it is smaller than four bytes per value.
fn sparse(v: &[f32]) -> Option<Encoded> {
    let nonzero: Vec<u8> = v.iter().filter(|x| **x != 0.0).flat_map(|x| x.to_le_bytes()).collect();
    let mut mask = vec![0u8; v.len().div_ceil(8)];
    v.iter().enumerate().filter(|(_, x)| **x != 0.0).for_each(|(i, _)| mask[i / 8] |= 1 << (i % 8));
    (mask.len() + nonzero.len() < v.len() * 4).then_some(Encoded::Sparse { mask, nonzero })
}

pub fn to_bytes(model: &ModelFile) -> Result<Vec<u8>> {
    model.validate()?;
    let json = |v: serde_json::Result<String>| v.map_err(|e| Error::model(e.to_string()));
    let mut grids = HashMap::new();
    let mut sparse_names = Vec::new();
    let encoded: Vec<Encoded> = model
        .graph
        .params
        .iter()
        .zip(&model.values)
        .map(|(spec, v)| {
            let grid = model.grids.get(&spec.name);
            match grid.and_then(|g| g.codes(v)) {
                Some(codes) => {
                    grids.insert(spec.name.clone(), *grid.expect("codes come from a grid"));
                    Encoded::Dense(Dtype::U8, codes)
                }
                None => sparse(v).inspect(|_| sparse_names.push(spec.name.clone())).unwrap_or_else(|| {
                    Encoded::Dense(Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
                }),
            }
        })
        .collect();
    let mut metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("graph".to_string(), json(serde_json::to_string(&model.graph))?),
        ("info".to_string(), json(serde_json::to_string(&model.info))?),
    ]);
    if !grids.is_empty() {
        metadata.insert("quantization".to_string(), json(serde_json::to_string(&grids))?);
    }
    if !sparse_names.is_empty() {
        metadata.insert("sparse".to_string(), json(serde_json::to_string(&sparse_names))?);
    }
    let view = |name: String, dtype, shape, b| Ok((name, TensorView::new(dtype, shape, b).map_err(|e| Error::model(e.to_string()))?));
    let views = model
        .graph
        .params
        .iter()
        .zip(&encoded)
        .flat_map(|(spec, e)| match e {
            Encoded::Dense(dtype, b) => vec![view(spec.name.clone(), *dtype, spec.shape.clone(), b)],
            Encoded::Sparse { mask, nonzero } => vec![
                view(format!("{}#mask", spec.name), Dtype::U8, vec![mask.len()], mask),
                view(format!("{}#nonzero", spec.name), Dtype::F32, vec![nonzero.len() / 4], nonzero),
            ],
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::model(e.to_string()))
}

/// Reads a model file. The header is checked against the graph before any value is
/// converted, so a truncated or lying file is an error, not a panic or a huge allocation.
pub fn from_bytes(bytes: &[u8]) -> Result<ModelFile> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| Error::model(format!("corrupt or not a ticketsr model file (safetensors header: {e})")))?;
    let meta = header.metadata().as_ref();
    let field = |key: &str| meta.and_then(|m| m.get(key));
    match field("format") {
        Some(f) if f == FORMAT => {}
        Some(f) => return Err(Error::model(format!("model format `{f}` is not supported (expected `{FORMAT}`)"))),
        None => {
            return Err(Error::model(
                "this safetensors file carries no ticketsr graph; convert it with `ticketsr convert` or `ticketsr build`",
            ));
        }
    }
    let graph: Graph = serde_json::from_str(field("graph").ok_or_else(|| Error::model("model file has no graph"))?)
        .map_err(|e| Error::model(format!("graph metadata: {e}")))?;
    let info: ModelInfo = serde_json::from_str(field("info").ok_or_else(|| Error::model("model file has no info"))?)
        .map_err(|e| Error::model(format!("info metadata: {e}")))?;
    let grids: HashMap<String, Uint8Grid> = match field("quantization") {
        Some(q) => serde_json::from_str(q).map_err(|e| Error::model(format!("quantization metadata: {e}")))?,
        None => HashMap::new(),
    };
    if let Some((name, _)) = grids.iter().find(|(_, g)| !(g.min.is_finite() && g.scale.is_finite())) {
        return Err(Error::model(format!("quantization grid of `{name}` is not finite")));
    }
    let sparse: HashSet<String> = match field("sparse") {
        Some(q) => serde_json::from_str(q).map_err(|e| Error::model(format!("sparse metadata: {e}")))?,
        None => HashSet::new(),
    };
    graph.analyze()?;
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| Error::model(format!("corrupt tensor data: {e}")))?;
    let storage = Storage { grids, sparse };
    let values = values_for(&graph, &tensors, &storage)?;
    let grids = storage.grids.into_iter().filter(|(name, _)| tensors.tensor(name).is_ok_and(|t| t.dtype() == Dtype::U8)).collect();
    Ok(ModelFile { grids, ..ModelFile::new(info, graph, values)? })
}

/// The model file at `path`, its path in any error. Natively only.
#[cfg(not(target_arch = "wasm32"))]
pub fn load(path: &std::path::Path) -> Result<ModelFile> {
    from_bytes(&crate::platform::read_file(path)?).map_err(|e| match e {
        Error::InvalidModel(m) => Error::InvalidModel(format!("{}: {m}", path.display())),
        e => e,
    })
}

/// Values for every parameter of `graph` from a plain safetensors file of dense f32 weights
/// by name, such as a PyTorch state dict saved with safetensors (`ticketsr build --weights`).
pub fn values_from_state_dict(graph: &Graph, bytes: &[u8]) -> Result<Vec<Vec<f32>>> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| Error::InvalidModel(e.to_string()))?;
    values_for(graph, &tensors, &Storage::default())
}

/// Reads values for every graph parameter from safetensors, by name. A PyTorch
/// weight-normalised `{name}_g` / `{name}_v` pair stands in for `{name}` and is folded.
/// `U8` tensors are codes on their grid; sparse parameters are mask and nonzero values.
pub fn values_for(graph: &Graph, tensors: &SafeTensors, storage: &Storage) -> Result<Vec<Vec<f32>>> {
    let grids = &storage.grids;
    let mut used = 0;
    let values = graph
        .params
        .iter()
        .map(|spec| {
            if storage.sparse.contains(&spec.name) {
                used += 2;
                return read_sparse(&spec.name, tensors, spec.len());
            }
            if let Ok(t) = tensors.tensor(&spec.name) {
                used += 1;
                if t.dtype() == Dtype::U8 {
                    let grid = grids.get(&spec.name).ok_or_else(|| Error::model(format!("tensor `{}` is U8 but has no quantization grid", spec.name)))?;
                    check_shape(&spec.name, &t, &spec.shape)?;
                    return Ok(t.data().iter().map(|&q| grid.value(q)).collect());
                }
                return read_f32(&spec.name, &t, &spec.shape);
            }
            let (g, v) = (format!("{}_g", spec.name), format!("{}_v", spec.name));
            match (tensors.tensor(&g), tensors.tensor(&v)) {
                (Ok(tg), Ok(tv)) => {
                    used += 2;
                    // PyTorch keeps one gain per output channel as [out, 1, 1, 1].
                    let out = spec.shape.first().copied().unwrap_or(0);
                    let mut gain_shape = vec![1; tg.shape().len().max(1)];
                    gain_shape[0] = out;
                    let gain = read_f32(&g, &tg, &gain_shape)?;
                    let dir = read_f32(&v, &tv, &spec.shape)?;
                    weight_norm::fold(&gain, &dir, out)
                }
                _ => Err(Error::model(format!("parameter `{}` is missing", spec.name))),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    if used != tensors.len() {
        let known: Vec<&str> = graph.params.iter().map(|p| p.name.as_str()).collect();
        let extra: Vec<String> = tensors
            .names()
            .into_iter()
            .filter(|n| !known.iter().any(|k| n == k || n.strip_suffix("_g") == Some(k) || n.strip_suffix("_v") == Some(k)))
            .filter(|n| !storage.sparse.iter().any(|k| n.strip_prefix(k.as_str()).is_some_and(|s| s == "#mask" || s == "#nonzero")))
            .map(str::to_string)
            .collect();
        return Err(Error::model(format!("file has tensors the graph does not use: {}", extra.join(", "))));
    }
    Ok(values)
}

/// A sparse parameter of `len` values, checked: the mask has exactly `len` bits in use and
/// as many set bits as there are nonzero values.
fn read_sparse(name: &str, tensors: &SafeTensors, len: usize) -> Result<Vec<f32>> {
    let part = |suffix: &str| tensors.tensor(&format!("{name}{suffix}")).map_err(|_| Error::model(format!("sparse parameter `{name}` has no `{name}{suffix}`")));
    let (mask, nonzero) = (part("#mask")?, part("#nonzero")?);
    if mask.dtype() != Dtype::U8 {
        return Err(Error::model(format!("mask of `{name}` must be U8")));
    }
    check_shape(&format!("{name}#mask"), &mask, &[len.div_ceil(8)])?;
    let bits = mask.data();
    let set = |i: usize| bits[i / 8] >> (i % 8) & 1 == 1;
    let count = (0..len).filter(|&i| set(i)).count();
    let all: usize = bits.iter().map(|b| b.count_ones() as usize).sum();
    if count != all {
        return Err(Error::model(format!("mask of `{name}` sets bits past its {len} values")));
    }
    let values = read_f32(&format!("{name}#nonzero"), &nonzero, &[count])?;
    let mut next = values.into_iter();
    Ok((0..len).map(|i| if set(i) { next.next().unwrap_or(0.0) } else { 0.0 }).collect())
}

fn check_shape(name: &str, t: &TensorView, shape: &[usize]) -> Result<()> {
    if t.shape() != shape {
        return Err(Error::model(format!("tensor `{name}` has shape {:?}, the graph needs {shape:?}", t.shape())));
    }
    Ok(())
}

fn read_f32(name: &str, t: &TensorView, shape: &[usize]) -> Result<Vec<f32>> {
    if t.dtype() != Dtype::F32 {
        return Err(Error::model(format!("tensor `{name}` is {:?}; only F32 and quantized U8 are supported", t.dtype())));
    }
    check_shape(name, t, shape)?;
    Ok(t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;

    fn small() -> ModelFile {
        espcn::build(2, 7).unwrap()
    }

    #[test]
    fn round_trips() {
        let m = small();
        let bytes = to_bytes(&m).unwrap();
        assert_eq!(from_bytes(&bytes).unwrap(), m);
    }

    #[test]
    fn stores_parameters_on_their_uint8_grid_as_codes_until_they_change() {
        let mut m = small();
        let grid = Uint8Grid { min: -0.25, scale: 0.002 };
        let name = m.graph.params[0].name.clone();
        m.values[0] = (0..m.values[0].len()).map(|i| grid.value((i * 7 % 256) as u8)).collect();
        m.grids.insert(name.clone(), grid);
        let f32_size = to_bytes(&small()).unwrap().len();
        let bytes = to_bytes(&m).unwrap();
        // One byte per value instead of four, less a little metadata for the grid.
        assert!(f32_size - bytes.len() >= m.values[0].len() * 3 - 200, "{f32_size} -> {}", bytes.len());
        let back = from_bytes(&bytes).unwrap();
        assert_eq!(back, m);

        // Once a value leaves the grid (pruning, training), the parameter is stored as F32.
        let mut changed = back;
        changed.values[0][3] += 1e-4;
        let back = from_bytes(&to_bytes(&changed).unwrap()).unwrap();
        assert!(back.grids.is_empty());
        assert_eq!(back.values, changed.values);
    }

    #[test]
    fn pruned_parameters_are_stored_as_mask_and_nonzero_values() {
        let m = small();
        let dense = to_bytes(&m).unwrap().len();
        let mut sizes = Vec::new();
        for s in [0.5, 0.75, 0.9] {
            let p = crate::prune::magnitude::magnitude(&m, s, crate::prune::magnitude::Scope::Global).unwrap();
            let bytes = to_bytes(&p).unwrap();
            assert_eq!(from_bytes(&bytes).unwrap(), p);
            sizes.push(bytes.len());
        }
        // About 4 bytes per nonzero value plus a bit per value.
        assert!(sizes[0] < dense * 6 / 10 && sizes[1] < dense * 35 / 100 && sizes[2] < dense * 15 / 100, "{dense} -> {sizes:?}");
        // A mask that claims more nonzero values than are stored is refused.
        let p = crate::prune::magnitude::magnitude(&m, 0.5, crate::prune::magnitude::Scope::Global).unwrap();
        let bytes = to_bytes(&p).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let name = &m.graph.params[2].name;
        let mut views: Vec<(String, TensorView)> = st.tensors();
        let i = views.iter().position(|(n, _)| *n == format!("{name}#mask")).unwrap();
        let mut bits = views[i].1.data().to_vec();
        bits[0] = 0xff;
        bits[1] = 0xff;
        views[i].1 = TensorView::new(Dtype::U8, vec![bits.len()], &bits).unwrap();
        let err = from_bytes(&safetensors::serialize(views, header.metadata().clone()).unwrap()).unwrap_err().to_string();
        assert!(err.contains(&format!("{name}#nonzero")), "{err}");
    }

    #[test]
    fn rejects_corrupt_and_lying_files() {
        let m = small();
        let bytes = to_bytes(&m).unwrap();
        // Truncated: the header promises more data than there is, caught before any tensor is read.
        let err = from_bytes(&bytes[..bytes.len() - 10]).unwrap_err().to_string();
        assert!(err.contains("corrupt or not a ticketsr model file"), "{err}");
        // Garbage.
        let err = from_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00hello").unwrap_err().to_string();
        assert!(err.contains("not a ticketsr model file"), "{err}");
        assert!(from_bytes(&[]).is_err());
        // A header whose graph lies about a shape: it parses, and the check against the
        // tensors catches it before any value is read.
        let mut lying = m.clone();
        let crate::graph::Op::Conv2d(crate::graph::ops::Conv2d { kernel, .. }) = &mut lying.graph.nodes[1].op else { panic!() };
        *kernel = [5, 5];
        lying.graph.params[0].shape = vec![64, 3, 5, 5];
        let le: Vec<Vec<u8>> = m.values.iter().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
        let views: Vec<_> = m.graph.params.iter().zip(&le).map(|(p, b)| (p.name.clone(), TensorView::new(Dtype::F32, p.shape.clone(), b).unwrap())).collect();
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("graph".to_string(), serde_json::to_string(&lying.graph).unwrap()),
            ("info".to_string(), serde_json::to_string(&m.info).unwrap()),
        ]);
        let err = from_bytes(&safetensors::serialize(views, Some(meta)).unwrap()).unwrap_err().to_string();
        assert!(err.contains("has shape [64, 3, 3, 3], the graph needs [64, 3, 5, 5]"), "{err}");
        let mut info_scale = m.clone();
        info_scale.info.scale = 3;
        assert!(to_bytes(&info_scale).unwrap_err().to_string().contains("says scale 3"));
    }

    #[test]
    fn folds_weight_norm_pairs_and_rejects_strangers() {
        let m = small();
        let spec = &m.graph.params[0];
        let out = spec.shape[0];
        let v: Vec<f32> = (0..spec.len()).map(|i| (i % 7) as f32 - 3.0).collect();
        let g: Vec<f32> = (0..out).map(|o| o as f32 + 1.0).collect();
        let gb: Vec<u8> = g.iter().flat_map(|x| x.to_le_bytes()).collect();
        let vb: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let rest: Vec<Vec<u8>> = m.values[1..].iter().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
        let mut views = vec![
            (format!("{}_g", spec.name), TensorView::new(Dtype::F32, vec![out, 1, 1, 1], &gb).unwrap()),
            (format!("{}_v", spec.name), TensorView::new(Dtype::F32, spec.shape.clone(), &vb).unwrap()),
        ];
        for (p, b) in m.graph.params[1..].iter().zip(&rest) {
            views.push((p.name.clone(), TensorView::new(Dtype::F32, p.shape.clone(), b).unwrap()));
        }
        let bytes = safetensors::serialize(views.clone(), None).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let values = values_for(&m.graph, &st, &Storage::default()).unwrap();
        assert_eq!(values[0], weight_norm::fold(&g, &v, out).unwrap());

        views.push(("stranger".into(), TensorView::new(Dtype::F32, vec![1], &gb[..4]).unwrap()));
        let bytes = safetensors::serialize(views, None).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert!(values_for(&m.graph, &st, &Storage::default()).unwrap_err().to_string().contains("stranger"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// A model file with bytes overwritten, cut or appended is a model or an error,
        /// never a panic (the wasm aborts on one).
        #[test]
        fn any_damaged_model_file_is_an_error_not_a_panic(
            edits in proptest::collection::vec((0usize..1 << 16, proptest::num::u8::ANY), 0..8),
            cut in proptest::option::of(0usize..1 << 16),
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..16),
        ) {
            let mut bytes = to_bytes(&small()).unwrap();
            for (at, v) in edits {
                let n = bytes.len();
                bytes[at % n] = v;
            }
            if let Some(c) = cut {
                bytes.truncate(c % (bytes.len() + 1));
            }
            bytes.extend(tail);
            let _ = from_bytes(&bytes);
        }
    }
}
