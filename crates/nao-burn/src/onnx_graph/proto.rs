//! The few pieces of the protobuf wire format an ONNX file needs (varints, fixed32 and
//! length-delimited fields), so the export carries no protobuf dependency.
//!
//! Field numbers are those of `onnx.proto` (ONNX 1.x, stable since IR version 3).

/// A protobuf message being written.
#[derive(Debug, Default, Clone)]
pub(crate) struct Message(Vec<u8>);

const VARINT: u64 = 0;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

impl Message {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint((field << 3) | wire);
    }

    /// An integer field (`int64`, `int32` or an enum); negative values take ten bytes, as
    /// protobuf encodes them.
    pub fn int(&mut self, field: u64, v: i64) -> &mut Self {
        self.key(field, VARINT);
        self.varint(v as u64);
        self
    }

    /// A `float` field.
    pub fn float(&mut self, field: u64, v: f32) -> &mut Self {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `bytes` field.
    pub fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
        self.key(field, LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    /// A `string` field.
    pub fn string(&mut self, field: u64, s: &str) -> &mut Self {
        self.bytes(field, s.as_bytes())
    }

    /// An embedded message field.
    pub fn message(&mut self, field: u64, m: &Message) -> &mut Self {
        self.bytes(field, &m.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_protobuf() {
        // examples from the protobuf encoding guide
        let mut m = Message::new();
        m.int(1, 150);
        assert_eq!(m.clone().into_bytes(), [0x08, 0x96, 0x01]);
        let mut m = Message::new();
        m.string(2, "testing");
        assert_eq!(
            m.into_bytes(),
            [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        let mut m = Message::new();
        m.int(1, -1);
        let b = m.into_bytes();
        assert_eq!(b.len(), 11);
        assert_eq!(b[10], 0x01);
        let mut m = Message::new();
        m.float(5, 1.0);
        assert_eq!(m.into_bytes(), [0x2d, 0x00, 0x00, 0x80, 0x3f]);
    }
}
