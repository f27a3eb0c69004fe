//! A small ONNX graph builder: initializers, nodes, typed inputs and outputs, and the
//! `ModelProto` around them. Just the operators the embedded model uses.

use super::proto::Message;

/// ONNX opset of the exports (17: `LayerNormalization` is a standard operator from 17 on).
pub(crate) const OPSET: i64 = 17;
/// ONNX IR version matching opset 17.
const IR_VERSION: i64 = 8;

/// `TensorProto.DataType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ElemType {
    Float = 1,
    Int64 = 7,
}

/// A dimension of a graph input or output.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// The batch size, named `batch`.
    Batch,
}

impl Dim {
    /// `[batch, 1, side, side]`: a batch of grey images, the shape the autoencoder reads and
    /// writes and the classifier reads.
    pub(crate) fn grey_images(side: usize) -> [Dim; 4] {
        [
            Dim::Batch,
            Dim::Fixed(1),
            Dim::Fixed(side),
            Dim::Fixed(side),
        ]
    }
}

/// A node attribute.
pub(crate) enum Attr<'a> {
    Int(&'a str, i64),
    Float(&'a str, f32),
    Str(&'a str, &'a str),
    Ints(&'a str, &'a [i64]),
}

impl Attr<'_> {
    // AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20
    // (AttributeType: FLOAT = 1, INT = 2, STRING = 3, INTS = 7).
    fn encode(&self) -> Message {
        let mut m = Message::new();
        match *self {
            Attr::Int(name, v) => m.string(1, name).int(3, v).int(20, 2),
            Attr::Float(name, v) => m.string(1, name).float(2, v).int(20, 1),
            Attr::Str(name, v) => m.string(1, name).bytes(4, v.as_bytes()).int(20, 3),
            Attr::Ints(name, vs) => {
                m.string(1, name);
                for &v in vs {
                    m.int(8, v);
                }
                m.int(20, 7)
            }
        };
        m
    }
}

/// An ONNX graph under construction. Value names are generated (`v0`, `v1`, …) except for
/// the graph inputs and outputs, which keep the names they are given.
#[derive(Default)]
pub(crate) struct Graph {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
    inputs: Vec<Message>,
    outputs: Vec<Message>,
    next: usize,
}

fn value_info(name: &str, elem: ElemType, dims: &[Dim]) -> Message {
    // ValueInfoProto: name = 1, type = 2; TypeProto: tensor_type = 1;
    // TypeProto.Tensor: elem_type = 1, shape = 2; TensorShapeProto: dim = 1;
    // Dimension: dim_value = 1, dim_param = 2.
    let mut shape = Message::new();
    for d in dims {
        let mut dim = Message::new();
        match d {
            Dim::Fixed(n) => dim.int(1, *n as i64),
            Dim::Batch => dim.string(2, "batch"),
        };
        shape.message(1, &dim);
    }
    let mut tensor = Message::new();
    tensor.int(1, elem as i64).message(2, &shape);
    let mut ty = Message::new();
    ty.message(1, &tensor);
    let mut m = Message::new();
    m.string(1, name).message(2, &ty);
    m
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    /// Declare a graph input.
    pub fn input(&mut self, name: &str, elem: ElemType, dims: &[Dim]) -> String {
        self.inputs.push(value_info(name, elem, dims));
        name.to_string()
    }

    /// Declare `value` as the graph output `name` (through an `Identity` node).
    pub fn output(&mut self, value: &str, name: &str, elem: ElemType, dims: &[Dim]) {
        self.push_node("Identity", &[value], &[], name.to_string());
        self.outputs.push(value_info(name, elem, dims));
    }

    fn initializer(&mut self, hint: &str, dims: &[usize], elem: ElemType, raw: Vec<u8>) -> String {
        // TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little endian).
        let name = self.fresh(hint);
        let mut t = Message::new();
        for &d in dims {
            t.int(1, d as i64);
        }
        t.int(2, elem as i64).string(8, &name).bytes(9, &raw);
        self.initializers.push(t);
        name
    }

    /// A constant `f32` tensor.
    pub fn constant_f32(&mut self, hint: &str, dims: &[usize], data: &[f32]) -> String {
        debug_assert_eq!(dims.iter().product::<usize>(), data.len());
        let raw = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(hint, dims, ElemType::Float, raw)
    }

    /// A constant `i64` tensor.
    pub fn constant_i64(&mut self, hint: &str, dims: &[usize], data: &[i64]) -> String {
        let raw = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(hint, dims, ElemType::Int64, raw)
    }

    fn push_node(&mut self, op: &str, inputs: &[&str], attrs: &[Attr], output: String) {
        // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
        let mut n = Message::new();
        for i in inputs {
            n.string(1, i);
        }
        n.string(2, &output)
            .string(3, &format!("{op}_{output}"))
            .string(4, op);
        for a in attrs {
            n.message(5, &a.encode());
        }
        self.nodes.push(n);
    }

    /// A node with one output; returns the output's name.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: &[Attr]) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.push_node(op, inputs, attrs, out.clone());
        out
    }

    /// SiLU: x · sigmoid(x).
    pub fn silu(&mut self, x: &str) -> String {
        let s = self.node("Sigmoid", &[x], &[]);
        self.node("Mul", &[x, &s], &[])
    }

    /// The `ModelProto` bytes.
    pub fn finish(self, name: &str) -> Vec<u8> {
        // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
        let mut g = Message::new();
        for n in &self.nodes {
            g.message(1, n);
        }
        g.string(2, name);
        for t in &self.initializers {
            g.message(5, t);
        }
        for i in &self.inputs {
            g.message(11, i);
        }
        for o in &self.outputs {
            g.message(12, o);
        }
        // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7,
        // opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2).
        let mut opset = Message::new();
        opset.string(1, "").int(2, OPSET);
        let mut m = Message::new();
        m.int(1, IR_VERSION)
            .string(2, "nao-burn")
            .string(3, env!("CARGO_PKG_VERSION"))
            .message(7, &g)
            .message(8, &opset);
        m.into_bytes()
    }
}
