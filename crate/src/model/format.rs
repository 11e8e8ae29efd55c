//! The project's own model format: one safetensors file. The tensors are the parameters,
//! named as in the graph; the metadata carries the graph (`graph`, JSON) and the model's
//! facts (`info`, JSON) under `format = "ticketsr/1"`. One file, so the page can fetch it
//! or a user can drop it, and any safetensors tool can read its weights. Parameters that
//! still lie on the uint8 grid they were quantized to are stored as `U8` codes, their grids
//! in the `quantization` metadata (JSON, by name): a quarter of the bytes, exactly.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::{ModelFile, ModelInfo, Uint8Grid, weight_norm};
use crate::error::{Error, Result};
use crate::graph::Graph;

pub const FORMAT: &str = "ticketsr/1";

pub fn to_bytes(model: &ModelFile) -> Result<Vec<u8>> {
    model.validate()?;
    let json = |v: serde_json::Result<String>| v.map_err(|e| Error::model(e.to_string()));
    let mut grids = HashMap::new();
    let encoded: Vec<(Dtype, Vec<u8>)> = model
        .graph
        .params
        .iter()
        .zip(&model.values)
        .map(|(spec, v)| {
            let grid = model.grids.get(&spec.name);
            match grid.and_then(|g| g.codes(v)) {
                Some(codes) => {
                    grids.insert(spec.name.clone(), *grid.expect("codes come from a grid"));
                    (Dtype::U8, codes)
                }
                None => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
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
    let views = model
        .graph
        .params
        .iter()
        .zip(&encoded)
        .map(|(spec, (dtype, b))| {
            Ok((spec.name.clone(), TensorView::new(*dtype, spec.shape.clone(), b).map_err(|e| Error::model(e.to_string()))?))
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
    graph.analyze()?;
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| Error::model(format!("corrupt tensor data: {e}")))?;
    let values = values_for(&graph, &tensors, &grids)?;
    let grids = grids.into_iter().filter(|(name, _)| tensors.tensor(name).is_ok_and(|t| t.dtype() == Dtype::U8)).collect();
    Ok(ModelFile { grids, ..ModelFile::new(info, graph, values)? })
}

/// Reads values for every graph parameter from safetensors, by name. A PyTorch
/// weight-normalised `{name}_g` / `{name}_v` pair stands in for `{name}` and is folded.
/// `U8` tensors are codes on their grid in `grids`.
pub fn values_for(graph: &Graph, tensors: &SafeTensors, grids: &HashMap<String, Uint8Grid>) -> Result<Vec<Vec<f32>>> {
    let mut used = 0;
    let values = graph
        .params
        .iter()
        .map(|spec| {
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
            .map(str::to_string)
            .collect();
        return Err(Error::model(format!("file has tensors the graph does not use: {}", extra.join(", "))));
    }
    Ok(values)
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
        let crate::graph::Op::Conv2d { kernel, .. } = &mut lying.graph.nodes[1].op else { panic!() };
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
        let values = values_for(&m.graph, &st, &HashMap::new()).unwrap();
        assert_eq!(values[0], weight_norm::fold(&g, &v, out).unwrap());

        views.push(("stranger".into(), TensorView::new(Dtype::F32, vec![1], &gb[..4]).unwrap()));
        let bytes = safetensors::serialize(views, None).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert!(values_for(&m.graph, &st, &HashMap::new()).unwrap_err().to_string().contains("stranger"));
    }
}
