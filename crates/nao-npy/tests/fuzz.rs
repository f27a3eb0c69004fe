//! Property-based fuzzing of the reader: arbitrary bytes, mutated valid files and arbitrary
//! header dictionaries never panic, never allocate past what the input backs, and every array
//! the writer produces reads back unchanged. Case counts follow `PROPTEST_CASES` (CI sets it).

use nao_npy::{read_npy_bytes, NpyArray, NpyData};
use proptest::prelude::*;

fn valid_file() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(0usize..4, 0..4),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(shape, f64s, seed)| {
            let n: usize = shape.iter().product();
            let data = (0..n).map(|i| (seed.wrapping_add(i as u64) % 1000) as f64 - 500.0);
            let data = if f64s {
                NpyData::F64(data.collect())
            } else {
                NpyData::F32(data.map(|v| v as f32).collect())
            };
            NpyArray::new(shape, data).unwrap().to_bytes()
        })
}

/// Header dictionaries built from the pieces NumPy headers are made of, nested and mis-nested.
fn header_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("'descr'".to_string()),
        Just("'<f4'".to_string()),
        Just("'>f8'".to_string()),
        Just("'fortran_order'".to_string()),
        Just("True".to_string()),
        Just("False".to_string()),
        Just("'shape'".to_string()),
        (0u64..u64::MAX).prop_map(|n| n.to_string()),
        "[(){}\\[\\]:,'\" ]{0,4}",
    ];
    proptest::collection::vec(atom, 0..40).prop_map(|parts| format!("{{{}}}", parts.join(" ")))
}

fn with_v1_header(dict: &str) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = read_npy_bytes(&bytes);
        // and with a valid magic and version, so the header paths are reached
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&bytes);
        let _ = read_npy_bytes(&b);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        file in valid_file(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = file;
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(a) = read_npy_bytes(&bytes) {
            // anything accepted is backed by the file: no element was invented
            prop_assert!(a.len() * a.dtype().size() <= bytes.len());
        }
        let _ = read_npy_bytes(&bytes[..cut.index(bytes.len() + 1)]);
    }

    #[test]
    fn arbitrary_headers_never_panic(dict in header_text()) {
        let _ = read_npy_bytes(&with_v1_header(&dict));
    }

    #[test]
    fn written_arrays_read_back(file in valid_file()) {
        let a = read_npy_bytes(&file).unwrap();
        prop_assert_eq!(read_npy_bytes(&a.to_bytes()).unwrap(), a);
    }
}
