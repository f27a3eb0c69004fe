//! A small ONNX writer: protobuf encoding ([`proto`]), a graph builder ([`graph`]) and the
//! layers the embedded networks are made of ([`layers`]). It knows nothing of the model: each
//! network's export (next to its `forward`) builds its graph with it.

pub(crate) mod graph;
pub(crate) mod layers;
pub(crate) mod proto;
