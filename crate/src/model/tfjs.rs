//! TF.js layers models (`model.json` plus binary weight shards), as UpscalerJS ships them.
//! Keras stores activations NHWC and kernels `[kh, kw, in, out]`; the graph is NCHW with
//! kernels `[out, in, kh, kw]`, so kernels are transposed here, once.

use std::collections::HashMap;

use serde_json::Value;

use super::{ModelFile, ModelInfo, Uint8Grid};
use crate::error::{Error, Result};
use crate::graph::{GraphBuilder, Interpolation, NodeId};

/// What `model.json` cannot tell: the pixel range the network was trained on.
#[derive(Clone, Debug)]
pub struct TfjsOptions {
    /// The network sees pixels in `[0, input_range]` (UpscalerJS's RDN/ESRGAN models: 255).
    pub input_range: f32,
    pub name: String,
    pub source: String,
    pub licence: String,
}

/// How a weight's values are stored in its shard. UpscalerJS ships its older models
/// (esrgan-legacy) with TF.js's affine uint8 quantization, so the loader must undo it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Encoding {
    F32,
    Uint8(Uint8Grid),
    /// `value = min + scale * q`
    Uint16 { min: f32, scale: f32 },
    F16,
}

impl Encoding {
    fn parse(name: &str, w: &Value) -> Result<Self> {
        if w["dtype"].as_str() != Some("float32") {
            return Err(err(format!("weight `{name}` has dtype {}; only float32 is supported", w["dtype"])));
        }
        let q = &w["quantization"];
        if q.is_null() {
            return Ok(Encoding::F32);
        }
        let min = q["min"].as_f64().filter(|v| v.is_finite()).map(|v| v as f32);
        let scale = q["scale"].as_f64().filter(|v| v.is_finite()).map(|v| v as f32);
        let affine = || match (min, scale) {
            (Some(min), Some(scale)) => Ok((min, scale)),
            _ => Err(err(format!("weight `{name}` is quantized without a finite min and scale"))),
        };
        match q["dtype"].as_str() {
            Some("uint8") => affine().map(|(min, scale)| Encoding::Uint8(Uint8Grid { min, scale })),
            Some("uint16") => affine().map(|(min, scale)| Encoding::Uint16 { min, scale }),
            Some("float16") => Ok(Encoding::F16),
            other => Err(err(format!("weight `{name}` has unsupported quantization {other:?}"))),
        }
    }

    fn bytes(self) -> usize {
        match self {
            Encoding::F32 => 4,
            Encoding::Uint8(_) => 1,
            Encoding::Uint16 { .. } | Encoding::F16 => 2,
        }
    }

    fn decode(self, raw: &[u8]) -> Vec<f32> {
        match self {
            Encoding::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Encoding::Uint8(grid) => raw.iter().map(|&q| grid.value(q)).collect(),
            Encoding::Uint16 { min, scale } => {
                raw.chunks_exact(2).map(|b| min + scale * u16::from_le_bytes([b[0], b[1]]) as f32).collect()
            }
            Encoding::F16 => raw.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        }
    }
}

/// Where one weight lives in the shards.
struct Stored {
    group: usize,
    offset: usize,
    shape: Vec<usize>,
    encoding: Encoding,
}

struct Manifest {
    /// Shard files of each group, in order.
    groups: Vec<Vec<String>>,
    weights: HashMap<String, Stored>,
    group_bytes: Vec<usize>,
}

fn err(msg: impl Into<String>) -> Error {
    Error::model(msg)
}

fn parse_manifest(root: &Value) -> Result<Manifest> {
    let groups = root["weightsManifest"].as_array().ok_or_else(|| err("model.json has no weightsManifest"))?;
    let mut m = Manifest { groups: vec![], weights: HashMap::new(), group_bytes: vec![] };
    let mut total = 0usize;
    for (gi, g) in groups.iter().enumerate() {
        let paths = g["paths"].as_array().ok_or_else(|| err("weightsManifest group without paths"))?;
        let paths = paths.iter().map(|p| Ok(shard_name(p.as_str().ok_or_else(|| err("a shard path is not a string"))?)?.to_string()));
        m.groups.push(paths.collect::<Result<_>>()?);
        let mut offset = 0usize;
        for w in g["weights"].as_array().ok_or_else(|| err("weightsManifest group without weights"))? {
            let name = w["name"].as_str().ok_or_else(|| err("weight without a name"))?;
            let encoding = Encoding::parse(name, w)?;
            let shape: Vec<usize> = w["shape"]
                .as_array()
                .ok_or_else(|| err(format!("weight `{name}` has no shape")))?
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize).ok_or_else(|| err(format!("weight `{name}` has a bad dimension"))))
                .collect::<Result<_>>()?;
            let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).filter(|&n| n < 1 << 28);
            let count = count.ok_or_else(|| err(format!("weight `{name}` is impossibly large")))?;
            if m.weights.insert(name.to_string(), Stored { group: gi, offset, shape, encoding }).is_some() {
                return Err(err(format!("weight `{name}` is in the manifest twice")));
            }
            total = total.checked_add(count * encoding.bytes()).filter(|&t| t <= MAX_WEIGHT_BYTES).ok_or_else(|| {
                err(format!("the manifest's weights need more than {MAX_WEIGHT_BYTES} bytes"))
            })?;
            offset += count * encoding.bytes();
        }
        m.group_bytes.push(offset);
    }
    Ok(m)
}

fn config_usize_pair(layer: &Value, key: &str) -> Option<[usize; 2]> {
    let a = layer["config"][key].as_array()?;
    Some([a.first()?.as_u64()? as usize, a.get(1)?.as_u64()? as usize])
}

/// Bytes of weights a converted model may hold: a quarter of a billion float32 parameters,
/// far past any SR network; a manifest claiming more is refused before a shard is read.
pub const MAX_WEIGHT_BYTES: usize = 1 << 30;

/// A shard name from `model.json`, refused unless it is a plain file name: the shards lie
/// beside `model.json`, and a name with a separator or `..` could reach any file.
fn shard_name(name: &str) -> Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0', ':']) {
        return Err(err(format!("weight shard `{name}` is not a file name beside model.json")));
    }
    Ok(name)
}

/// Converts a TF.js layers model. `read_shard(name, limit)` returns at most `limit` bytes of a shard named in the
/// manifest (a file beside `model.json`, or a fetched URL). Shapes and byte counts are
/// checked against the manifest before any shard is read.
pub fn load(model_json: &[u8], mut read_shard: impl FnMut(&str, usize) -> Result<Vec<u8>>, opts: &TfjsOptions) -> Result<ModelFile> {
    let root: Value = serde_json::from_slice(model_json).map_err(|e| err(format!("model.json is not JSON: {e}")))?;
    if root["format"].as_str() != Some("layers-model") {
        return Err(err(format!("only TF.js layers models are supported, this is `{}`", root["format"])));
    }
    let config = &root["modelTopology"]["model_config"];
    let class = config["class_name"].as_str().unwrap_or_default();
    if class != "Functional" && class != "Model" {
        return Err(err(format!("only functional Keras models are supported, this is `{class}`")));
    }
    let layers = config["config"]["layers"].as_array().ok_or_else(|| err("model has no layers"))?;
    let manifest = parse_manifest(&root)?;

    let mut b = GraphBuilder::new();
    let mut by_name: HashMap<String, NodeId> = HashMap::new();
    // Per graph parameter: where its values are in the shards, and whether it is a kernel.
    let mut sources: Vec<(String, bool)> = Vec::new();
    let mut channels: HashMap<NodeId, usize> = HashMap::new();

    for layer in layers {
        let name = layer["name"].as_str().or(layer["config"]["name"].as_str()).ok_or_else(|| err("layer without a name"))?.to_string();
        let class = layer["class_name"].as_str().unwrap_or_default().to_string();
        let inbound: Vec<NodeId> = match layer["inbound_nodes"].as_array().and_then(|n| n.first()) {
            None => vec![],
            Some(node) => node
                .as_array()
                .ok_or_else(|| err(format!("layer `{name}`: inbound nodes in an unknown (Keras 3?) format")))?
                .iter()
                .map(|i| {
                    let src = i[0].as_str().unwrap_or_default();
                    by_name.get(src).copied().ok_or_else(|| err(format!("layer `{name}` reads unknown layer `{src}`")))
                })
                .collect::<Result<_>>()?,
        };
        let one = |n: &[NodeId]| -> Result<NodeId> {
            match n {
                [x] => Ok(*x),
                _ => Err(err(format!("layer `{name}` should have one input, has {}", n.len()))),
            }
        };
        let cfg = &layer["config"];
        let activation = |b: &mut GraphBuilder, x: NodeId, act: &str| -> Result<NodeId> {
            match act {
                "linear" => Ok(x),
                "relu" => Ok(b.relu(&format!("{name}/relu"), x)),
                "tanh" => Ok(b.tanh(&format!("{name}/tanh"), x)),
                other => Err(Error::UnsupportedLayer { layer: name.clone(), class: format!("activation {other}") }),
            }
        };
        let node = match class.as_str() {
            "InputLayer" => {
                let shape = cfg["batch_input_shape"].as_array().or(cfg["batch_shape"].as_array());
                if shape.and_then(|s| s.get(3)).and_then(Value::as_u64) != Some(3) {
                    return Err(err(format!("input `{name}` must be an RGB image (NHWC with 3 channels)")));
                }
                let x = b.input();
                channels.insert(x, 3);
                let scaled = b.affine(&format!("{name}/range"), x, opts.input_range, 0.0);
                channels.insert(scaled, 3);
                scaled
            }
            "Conv2D" => {
                let x = one(&inbound)?;
                let k = config_usize_pair(layer, "kernel_size").ok_or_else(|| err(format!("`{name}`: no kernel_size")))?;
                if config_usize_pair(layer, "strides") != Some([1, 1])
                    || config_usize_pair(layer, "dilation_rate").is_some_and(|d| d != [1, 1])
                    || cfg["groups"].as_u64().is_some_and(|g| g != 1)
                {
                    return Err(err(format!("`{name}`: only stride 1, dilation 1, ungrouped convolutions are supported")));
                }
                // A 1x1 kernel pads nothing, so 'valid' is 'same' there.
                let same = cfg["padding"].as_str() == Some("same") || (k == [1, 1] && cfg["padding"].as_str() == Some("valid"));
                if !same || k[0] % 2 == 0 || k[1] % 2 == 0 || k[0] != k[1] {
                    return Err(err(format!("`{name}`: only 'same' padding with odd square kernels is supported")));
                }
                let filters = cfg["filters"].as_u64().ok_or_else(|| err(format!("`{name}`: no filters")))? as usize;
                let cin = channels[&x];
                let bias = cfg["use_bias"].as_bool().unwrap_or(true);
                let conv = b.conv(&name, x, cin, filters, k[0], bias);
                sources.push((format!("{name}/kernel"), true));
                if bias {
                    sources.push((format!("{name}/bias"), false));
                }
                channels.insert(conv, filters);
                let act = cfg["activation"].as_str().unwrap_or("linear");
                let y = activation(&mut b, conv, act)?;
                channels.insert(y, filters);
                y
            }
            "Activation" => {
                let x = one(&inbound)?;
                let y = activation(&mut b, x, cfg["activation"].as_str().unwrap_or_default())?;
                channels.insert(y, channels[&x]);
                y
            }
            "PReLU" => {
                let x = one(&inbound)?;
                let shared = cfg["shared_axes"].as_array().map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>());
                if shared.as_deref() != Some(&[1, 2]) {
                    return Err(err(format!("`{name}`: only PReLU shared over height and width is supported")));
                }
                let y = b.prelu(&name, x, channels[&x]);
                sources.push((format!("{name}/alpha"), false));
                channels.insert(y, channels[&x]);
                y
            }
            "Add" => {
                let first = *inbound.first().ok_or_else(|| err(format!("`{name}` adds nothing")))?;
                let y = b.add(&name, inbound.clone());
                channels.insert(y, channels[&first]);
                y
            }
            "Concatenate" => {
                let axis = cfg["axis"].as_i64().unwrap_or(-1);
                if axis != -1 && axis != 3 {
                    return Err(err(format!("`{name}`: only channel concatenation is supported, not axis {axis}")));
                }
                let y = b.concat(&name, inbound.clone());
                channels.insert(y, inbound.iter().map(|i| channels[i]).sum());
                y
            }
            "UpSampling2D" => {
                let x = one(&inbound)?;
                let size = config_usize_pair(layer, "size").ok_or_else(|| err(format!("`{name}`: no size")))?;
                if size[0] != size[1] {
                    return Err(err(format!("`{name}`: unequal upsampling {size:?} is not supported")));
                }
                let mode = match cfg["interpolation"].as_str().unwrap_or("nearest") {
                    "nearest" => Interpolation::Nearest,
                    other => return Err(Error::UnsupportedLayer { layer: name.clone(), class: format!("UpSampling2D({other})") }),
                };
                let y = b.upsample(&name, x, size[0], mode);
                channels.insert(y, channels[&x]);
                y
            }
            // UpscalerJS's ESRGAN layers (esrgan-legacy `gans`): `tf.mul(x, beta)` and
            // `tf.depthToSpace(x, N, 'NHWC')` as `PixelShuffle{N}x`.
            "MultiplyBeta" => {
                let x = one(&inbound)?;
                let beta = cfg["beta"].as_f64().unwrap_or(0.2) as f32;
                let y = b.affine(&name, x, beta, 0.0);
                channels.insert(y, channels[&x]);
                y
            }
            other if let Some(factor) = other.strip_prefix("PixelShuffle").and_then(|f| f.strip_suffix('x')?.parse::<usize>().ok()) => {
                let x = one(&inbound)?;
                let y = b.depth_to_space(&name, x, factor);
                channels.insert(y, channels[&x] / factor.saturating_mul(factor).max(1));
                y
            }
            _ => return Err(Error::UnsupportedLayer { layer: name, class }),
        };
        by_name.insert(name, node);
    }
    let out_name = config["config"]["output_layers"][0][0].as_str().ok_or_else(|| err("model names no output layer"))?;
    let out = *by_name.get(out_name).ok_or_else(|| err(format!("output layer `{out_name}` does not exist")))?;
    let y = b.affine("output/range", out, 1.0 / opts.input_range, 0.0);
    let graph = b.finish(y);
    let analysis = graph.analyze()?;

    // Check every weight against the graph before reading a byte of the shards.
    let mut places = Vec::with_capacity(sources.len());
    for ((src, is_kernel), spec) in sources.iter().zip(&graph.params) {
        let stored = manifest.weights.get(src).ok_or_else(|| err(format!("weight `{src}` is not in the manifest")))?;
        let shape = &stored.shape;
        let want: Vec<usize> = if *is_kernel {
            vec![spec.shape[2], spec.shape[3], spec.shape[1], spec.shape[0]]
        } else if spec.name.ends_with(".alpha") {
            vec![1, 1, spec.shape[0]]
        } else {
            spec.shape.clone()
        };
        if *shape != want {
            return Err(err(format!("weight `{src}` has shape {shape:?}, the layer needs {want:?}")));
        }
        places.push(stored);
    }
    if sources.len() != manifest.weights.len() {
        return Err(err(format!("manifest has {} weights, the layers use {}", manifest.weights.len(), sources.len())));
    }
    let mut buffers = Vec::with_capacity(manifest.groups.len());
    for (paths, &expected) in manifest.groups.iter().zip(&manifest.group_bytes) {
        let mut buf = Vec::with_capacity(expected);
        for p in paths {
            // At most one byte past what the group still needs: enough to see it is too long.
            buf.extend(read_shard(p, expected - buf.len().min(expected) + 1)?);
        }
        if buf.len() != expected {
            return Err(err(format!("weight shards {paths:?} hold {} bytes, the manifest needs {expected}", buf.len())));
        }
        buffers.push(buf);
    }
    let values = graph
        .params
        .iter()
        .zip(&places)
        .zip(&sources)
        .map(|((spec, stored), (_, is_kernel))| {
            let start = stored.offset;
            let raw = stored.encoding.decode(&buffers[stored.group][start..start + spec.len() * stored.encoding.bytes()]);
            if !is_kernel {
                return raw;
            }
            // [kh, kw, in, out] -> [out, in, kh, kw]
            let [o, i, kh, kw] = [spec.shape[0], spec.shape[1], spec.shape[2], spec.shape[3]];
            let mut w = vec![0f32; raw.len()];
            for y in 0..kh {
                for x in 0..kw {
                    for ci in 0..i {
                        for co in 0..o {
                            w[((co * i + ci) * kh + y) * kw + x] = raw[((y * kw + x) * i + ci) * o + co];
                        }
                    }
                }
            }
            w
        })
        .collect();
    let info = ModelInfo {
        name: opts.name.clone(),
        scale: analysis.scale,
        architecture: "tfjs-layers".into(),
        source: opts.source.clone(),
        licence: opts.licence.clone(),
        notes: format!("converted from TF.js layers; input range [0, {}]", opts.input_range),
    };
    let grids = graph
        .params
        .iter()
        .zip(&places)
        .filter_map(|(spec, stored)| match stored.encoding {
            Encoding::Uint8(grid) => Some((spec.name.clone(), grid)),
            _ => None,
        })
        .collect();
    Ok(ModelFile { grids, ..ModelFile::new(info, graph, values)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> TfjsOptions {
        TfjsOptions { input_range: 255.0, name: "t".into(), source: "test".into(), licence: "MIT".into() }
    }

    /// A two-layer model: conv 3->12 (with one known weight) and an unknown-layer variant.
    fn model_json(extra_layer: &str) -> String {
        format!(
            r#"{{"format":"layers-model","modelTopology":{{"model_config":{{"class_name":"Functional","config":{{
            "layers":[
              {{"class_name":"InputLayer","name":"in","config":{{"batch_input_shape":[null,null,null,3]}},"inbound_nodes":[]}},
              {{"class_name":"Conv2D","name":"c","config":{{"filters":12,"kernel_size":[1,1],"strides":[1,1],"padding":"same","activation":"relu","use_bias":true}},"inbound_nodes":[[["in",0,0,{{}}]]]}},
              {{"class_name":"{extra_layer}","name":"up","config":{{"size":[2,2],"interpolation":"nearest"}},"inbound_nodes":[[["c",0,0,{{}}]]]}},
              {{"class_name":"Conv2D","name":"out","config":{{"filters":3,"kernel_size":[1,1],"strides":[1,1],"padding":"same","activation":"linear","use_bias":false}},"inbound_nodes":[[["up",0,0,{{}}]]]}}
            ],"output_layers":[["out",0,0]]}}}}}},
            "weightsManifest":[{{"paths":["a.bin"],"weights":[
              {{"name":"c/kernel","shape":[1,1,3,12],"dtype":"float32"}},
              {{"name":"c/bias","shape":[12],"dtype":"float32"}},
              {{"name":"out/kernel","shape":[1,1,12,3],"dtype":"float32"}}]}}]}}"#
        )
    }

    fn shard() -> Vec<u8> {
        // Kernel [1,1,3,12]: in-channel 1 feeds out-channel 5 with weight 2.0, nothing else.
        let mut k = vec![0f32; 36];
        k[12 + 5] = 2.0;
        let mut all = k;
        all.extend(vec![0.5f32; 12]);
        all.extend((0..36).map(|i| i as f32));
        all.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn maps_nhwc_kernels_to_nchw() {
        let m = load(model_json("UpSampling2D").as_bytes(), |_, _| Ok(shard()), &opts()).unwrap();
        assert_eq!(m.info.scale, 2);
        let k = &m.values[0]; // [12, 3, 1, 1]
        assert_eq!(k[5 * 3 + 1], 2.0);
        assert_eq!(k.iter().filter(|v| **v != 0.0).count(), 1);
        // out/kernel [1,1,12,3] value at (in=ci, out=co) is ci*3+co; graph layout [3, 12, 1, 1].
        assert_eq!(m.values[2][2 * 12 + 7], (7 * 3 + 2) as f32);
    }

    #[test]
    fn unknown_layers_and_bad_shards_are_clear_errors() {
        let err = load(model_json("Lambda").as_bytes(), |_, _| Ok(shard()), &opts()).unwrap_err();
        assert_eq!(err.to_string(), "unsupported layer type `Lambda` (layer `up`)");
        let err = load(model_json("UpSampling2D").as_bytes(), |_, _| Ok(shard()[..20].to_vec()), &opts()).unwrap_err();
        assert!(err.to_string().contains("hold 20 bytes, the manifest needs"), "{err}");
        assert!(load(b"{not json", |_, _| Ok(vec![]), &opts()).unwrap_err().to_string().contains("not JSON"));
    }

    #[test]
    fn a_manifest_reaches_no_file_but_its_shards_and_no_more_bytes_than_it_needs() {
        // Shard names that leave the model's folder are refused before any shard is read.
        for path in ["../a.bin", "/etc/passwd", "sub/a.bin", "..", "", "C:a.bin", "a\\..\\b.bin"] {
            let json = model_json("UpSampling2D").replace(r#""paths":["a.bin"]"#, &format!(r#""paths":[{}]"#, serde_json::to_string(path).unwrap()));
            let err = load(json.as_bytes(), |_, _| panic!("read {path}"), &opts()).unwrap_err();
            assert!(err.to_string().contains("not a file name beside model.json"), "{path}: {err}");
        }
        // The reader is told how much the group still needs (plus one byte, to see excess).
        let mut limits = vec![];
        load(model_json("UpSampling2D").as_bytes(), |_, limit| { limits.push(limit); Ok(shard()) }, &opts()).unwrap();
        assert_eq!(limits, [shard().len() + 1]);
        // A weight named twice, and a manifest claiming gigabytes, are refused before any read.
        let twice = model_json("UpSampling2D").replace(r#"{"name":"c/bias","shape":[12],"dtype":"float32"}"#, r#"{"name":"c/kernel","shape":[12],"dtype":"float32"}"#);
        let err = load(twice.as_bytes(), |_, _| panic!("read"), &opts()).unwrap_err();
        assert!(err.to_string().contains("`c/kernel` is in the manifest twice"), "{err}");
        let weights: Vec<String> = (0..8).map(|i| format!(r#"{{"name":"w{i}","shape":[16384,16383],"dtype":"float32"}}"#)).collect();
        let huge = model_json("UpSampling2D").replace(r#"{"name":"c/bias","shape":[12],"dtype":"float32"}"#, &weights.join(","));
        let err = load(huge.as_bytes(), |_, _| panic!("read"), &opts()).unwrap_err();
        assert!(err.to_string().contains("more than 1073741824 bytes"), "{err}");
    }

    #[test]
    fn undoes_uint8_and_float16_quantization() {
        let json = model_json("UpSampling2D")
            .replace(
                r#""name":"c/kernel","shape":[1,1,3,12],"dtype":"float32""#,
                r#""name":"c/kernel","shape":[1,1,3,12],"dtype":"float32","quantization":{"dtype":"uint8","min":-1.0,"scale":0.5}"#,
            )
            .replace(
                r#""name":"c/bias","shape":[12],"dtype":"float32""#,
                r#""name":"c/bias","shape":[12],"dtype":"float32","quantization":{"dtype":"float16"}"#,
            );
        let mut bytes = vec![2u8; 36]; // every kernel value: -1 + 0.5 * 2 = 0
        bytes[12 + 5] = 6; // -1 + 0.5 * 6 = 2
        bytes.extend((0..12).flat_map(|_| half::f16::from_f32(0.25).to_le_bytes()));
        bytes.extend((0..36).flat_map(|i| (i as f32).to_le_bytes()));
        let m = load(json.as_bytes(), |_, _| Ok(bytes.clone()), &opts()).unwrap();
        assert_eq!(m.values[0][5 * 3 + 1], 2.0);
        assert_eq!(m.values[0].iter().filter(|v| **v != 0.0).count(), 1);
        assert_eq!(m.values[1], vec![0.25; 12]);
        assert_eq!(m.values[2][2 * 12 + 7], (7 * 3 + 2) as f32);
        assert_eq!(m.grids.len(), 1);
        assert_eq!(m.grids[&m.graph.params[0].name], Uint8Grid { min: -1.0, scale: 0.5 });

        let bad = json.replace(r#""dtype":"uint8","min":-1.0"#, r#""dtype":"int4","min":-1.0"#);
        let err = load(bad.as_bytes(), |_, _| Ok(bytes.clone()), &opts()).unwrap_err();
        assert!(err.to_string().contains("unsupported quantization"), "{err}");
    }
}
