//! Writes a model as ONNX, so a network trained, overfitted or pruned here runs in other
//! runtimes (ONNX Runtime Web among them, which the peer benchmark compares against).
//! Every node maps to the standard operators of opset 17 its operator names
//! ([`crate::graph::Operator::onnx`]); the file takes and
//! gives RGB in [0, 1] as `[n, 3, h, w]`, like the graph, with height and width free.
//!
//! The messages are the few of `onnx.proto` a model file needs, declared with prost's
//! derive (field numbers as in onnx.proto), so no protobuf compiler is involved.

use prost::Message;

use super::ModelFile;
use crate::error::{Error, Result};
use crate::graph::ops::{OnnxAttribute, OnnxInput};

/// The opset the operators below are written against (DepthToSpace's CRD mode, Resize's
/// cubic coefficient and Sum all date from 13 or earlier).
pub const OPSET: i64 = 17;
const IR_VERSION: i64 = 8;
const FLOAT: i32 = 1;

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    #[prost(string, tag = "2")]
    pub producer_name: String,
    #[prost(string, tag = "3")]
    pub producer_version: String,
    #[prost(string, tag = "6")]
    pub doc_string: String,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    pub domain: String,
    #[prost(int64, tag = "2")]
    pub version: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(float, tag = "2")]
    pub f: f32,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7.
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(string, tag = "8")]
    pub name: String,
    /// Little-endian values.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

fn attribute(name: &str, value: OnnxAttribute) -> AttributeProto {
    let a = AttributeProto { name: name.into(), ..Default::default() };
    match value {
        OnnxAttribute::Float(f) => AttributeProto { f, r#type: 1, ..a },
        OnnxAttribute::Int(i) => AttributeProto { i, r#type: 2, ..a },
        OnnxAttribute::Text(s) => AttributeProto { s: s.as_bytes().to_vec(), r#type: 3, ..a },
        OnnxAttribute::Ints(ints) => AttributeProto { ints, r#type: 7, ..a },
    }
}

fn tensor(name: String, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: FLOAT,
        name,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// `[n, 3, h, w]` float, with the free dimensions named.
fn image_value(name: &str, dims: [&str; 4]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d.parse::<i64>() {
            Ok(v) => Dimension { dim_value: Some(v), dim_param: None },
            Err(_) => Dimension { dim_value: None, dim_param: Some((*d).into()) },
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto { tensor_type: Some(TensorTypeProto { elem_type: FLOAT, shape: Some(TensorShapeProto { dim }) }) }),
    }
}

/// The model as an ONNX `ModelProto`.
pub fn to_proto(model: &ModelFile) -> Result<ModelProto> {
    let analysis = model.validate()?;
    let graph = &model.graph;
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    // A value per graph node; the output node's value is the graph's output.
    let value = |id: usize| if id == graph.output { "output".to_string() } else { format!("v{id}:{}", graph.nodes[id].name) };
    for (id, node) in graph.nodes.iter().enumerate() {
        let out = value(id);
        // A node without inputs reads the graph's input.
        let args: Vec<String> = if node.inputs.is_empty() { vec!["input".into()] } else { node.inputs.iter().map(|&i| value(i)).collect() };
        let ops = node.op.operator().onnx(args.len(), graph);
        let last = ops.len().saturating_sub(1);
        let mut previous = String::new();
        for (k, op) in ops.into_iter().enumerate() {
            // Node names are unique in ONNX: a graph node written as several operators
            // names the others by their outputs.
            let (output, name) = if k == last { (out.clone(), node.name.clone()) } else { (format!("{out}/{k}"), format!("{out}/{k}")) };
            let mut input = Vec::with_capacity(op.inputs.len());
            for i in op.inputs {
                match i {
                    OnnxInput::Arg(k) => input.push(args.get(k).cloned().ok_or_else(|| Error::model(format!("ONNX export: `{}` has no input {k}", node.name)))?),
                    OnnxInput::Args => input.extend(args.iter().cloned()),
                    OnnxInput::Param(p, dims) => {
                        let spec = &graph.params[p];
                        inits.push(tensor(spec.name.clone(), dims.as_deref().unwrap_or(&spec.shape), &model.values[p]));
                        input.push(spec.name.clone());
                    }
                    OnnxInput::Constant { name, dims, values } => {
                        let name = format!("{}.{name}", node.name);
                        inits.push(tensor(name.clone(), &dims, &values));
                        input.push(name);
                    }
                    OnnxInput::Previous => input.push(previous.clone()),
                    OnnxInput::Absent => input.push(String::new()),
                }
            }
            let attribute = op.attributes.into_iter().map(|(name, a)| attribute(name, a)).collect();
            nodes.push(NodeProto { input, output: vec![output.clone()], name, op_type: op.op_type.into(), attribute });
            previous = output;
        }
    }
    let s = analysis.scale.to_string();
    let (oh, ow) = (format!("{s}*H"), format!("{s}*W"));
    let info = &model.info;
    let meta = [("name", &info.name), ("architecture", &info.architecture), ("source", &info.source), ("licence", &info.licence)];
    Ok(ModelProto {
        ir_version: IR_VERSION,
        producer_name: "ticketsr".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{} x{}: RGB in [0, 1], [n, 3, h, w] in, [n, 3, {s}h, {s}w] out", info.name, info.scale),
        graph: Some(GraphProto {
            node: nodes,
            name: info.name.clone(),
            initializer: inits,
            input: vec![image_value("input", ["N", "3", "H", "W"])],
            output: vec![image_value("output", ["N", "3", &oh, &ow])],
        }),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        metadata_props: meta.iter().map(|(k, v)| StringStringEntryProto { key: (*k).into(), value: (*v).clone() }).collect(),
    })
}

/// The model as the bytes of an `.onnx` file.
pub fn to_bytes(model: &ModelFile) -> Result<Vec<u8>> {
    Ok(to_proto(model)?.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Interpolation};
    use crate::model::{ModelInfo, init::random_values, wdsr};

    fn decode(model: &ModelFile) -> ModelProto {
        ModelProto::decode(to_bytes(model).unwrap().as_slice()).unwrap()
    }

    #[test]
    fn weights_and_operators_round_trip() {
        let m = wdsr::build(wdsr::WdsrConfig { scale: 2, blocks: 2, channels: 8, expansion: 2 }, 4).unwrap();
        let p = decode(&m);
        let g = p.graph.unwrap();
        assert_eq!(p.opset_import[0].version, OPSET);
        // Every parameter is an initializer of its name with its exact bits.
        for (spec, values) in m.graph.params.iter().zip(&m.values) {
            let t = g.initializer.iter().find(|t| t.name == spec.name).unwrap_or_else(|| panic!("no initializer for {}", spec.name));
            let got: Vec<f32> = t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            assert_eq!(&got, values, "{}", spec.name);
        }
        // Each value is produced once, before it is read, by a node of a name of its own.
        let mut names: Vec<&str> = g.node.iter().map(|n| n.name.as_str()).collect();
        names.sort();
        assert!(names.windows(2).all(|w| w[0] != w[1]), "node names repeat");
        let mut seen = vec!["input".to_string()];
        seen.extend(g.initializer.iter().map(|t| t.name.clone()));
        for n in &g.node {
            for i in n.input.iter().filter(|i| !i.is_empty()) {
                assert!(seen.contains(i), "{} reads {i} before it exists", n.name);
            }
            assert!(!seen.contains(&n.output[0]), "{} written twice", n.output[0]);
            seen.push(n.output[0].clone());
        }
        assert_eq!(g.node.last().unwrap().output[0], "output");
        assert!(g.node.iter().any(|n| n.op_type == "DepthToSpace"));
    }

    #[test]
    fn every_operator_maps() {
        let mut b = GraphBuilder::new();
        let x = b.input();
        let a = b.affine("range", x, 255.0, 0.0);
        let c1 = b.conv("c1", a, 3, 4, 3, true);
        let p = b.prelu("p", c1, 4);
        let t = b.tanh("t", p);
        let r = b.relu("r", t);
        let cat = b.concat("cat", vec![r, c1]);
        let c2 = b.conv("c2", cat, 8, 12, 1, false);
        let sum = b.add("sum", vec![c2, c2]);
        let ps = b.pixel_shuffle("ps", sum, 2);
        let up = b.upsample("up", x, 2, Interpolation::Bicubic);
        let near = b.upsample("near", x, 2, Interpolation::Nearest);
        let y = b.add("y", vec![ps, up, near]);
        let graph = b.finish(y);
        let values = random_values(&graph, 1);
        let info = ModelInfo { name: "all".into(), scale: 2, ..Default::default() };
        let g = decode(&ModelFile::new(info, graph, values).unwrap()).graph.unwrap();
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            ["Identity", "Mul", "Add", "Conv", "PRelu", "Tanh", "Relu", "Concat", "Conv", "Add", "DepthToSpace", "Resize", "Resize", "Sum"]
        );
        let cubic = &g.node[11];
        assert!(cubic.attribute.iter().any(|a| a.name == "cubic_coeff_a" && a.f == -0.5));
        let prelu = g.initializer.iter().find(|t| t.name == "p.alpha").unwrap();
        assert_eq!(prelu.dims, [4, 1, 1]);
        assert!(g.initializer.iter().all(|t| t.name != "c2.bias"));
    }
}
