//! Hostile and careless inputs: the reader looks before it reads, reads no more than the header
//! says, and allocates nothing the file cannot back.

use std::time::Instant;

use nao_npy::{read_npy, read_npy_at_most, read_npy_bytes, NpyError, MAX_HEADER_BYTES};

/// A file of version `version` whose header length field says `header_len`, followed by `rest`.
fn prefix(version: u8, header_len: u32, rest: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&header_len.to_le_bytes());
    }
    out.extend_from_slice(rest);
    out
}

fn with_header(dict: &str) -> Vec<u8> {
    prefix(1, dict.len() as u32, dict.as_bytes())
}

#[test]
fn devices_fifos_and_folders_are_refused_before_reading() {
    let start = Instant::now();
    let e = read_npy("/dev/zero").unwrap_err();
    assert!(matches!(e, NpyError::Input { .. }), "{e}");
    assert!(e.to_string().contains("/dev/zero"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let e = read_npy(dir.path()).unwrap_err();
    assert!(e.to_string().contains("folder"), "{e}");
    #[cfg(unix)]
    {
        // A FIFO without a writer would block `open` forever: it is refused by `stat`.
        let fifo = dir.path().join("pipe.npy");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let e = read_npy(&fifo).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn a_huge_sparse_file_with_a_wrong_magic_costs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sparse.npy");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(2 << 30).unwrap(); // 2 GiB of holes
    drop(f);
    let start = Instant::now();
    let e = read_npy(&p).unwrap_err();
    assert!(matches!(e, NpyError::BadMagic { .. }), "{e}");
    assert!(start.elapsed().as_millis() < 1000, "{:?}", start.elapsed());
}

#[test]
fn header_lengths_and_shapes_are_checked_against_the_file() {
    // A 4 GiB header length in a 20-byte file: refused by the bound, nothing allocated.
    let e = read_npy_bytes(&prefix(2, u32::MAX, b"{}")).unwrap_err();
    assert!(e.to_string().contains(&MAX_HEADER_BYTES.to_string()), "{e}");
    // A header length within the bound but past the end of the file.
    let e = read_npy_bytes(&prefix(2, 1000, b"{}")).unwrap_err();
    assert!(
        matches!(e, NpyError::Truncated { what: "header", .. }),
        "{e}"
    );
    // 10¹² elements announced, 8 bytes present: truncated, not an allocation.
    let e = read_npy_bytes(&with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000)}",
    ))
    .unwrap_err();
    assert!(matches!(e, NpyError::Truncated { what: "data", .. }), "{e}");
    // A shape whose byte count overflows u64.
    let e = read_npy_bytes(&with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
    ))
    .unwrap_err();
    assert!(e.to_string().contains("too large"), "{e}");
    // 50 000 nested parentheses: a header error, not a stack overflow.
    let deep = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': {}{}}}",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let e = read_npy_bytes(&prefix(2, deep.len() as u32, deep.as_bytes())).unwrap_err();
    assert!(e.to_string().contains("bad .npy header"), "{e}");
}

#[test]
fn a_budget_refuses_large_arrays_before_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.npy");
    // Header for 2³² float32 values over a sparse file of the right size: the budget refuses it
    // at once, without reading or allocating 16 GiB.
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296,)}";
    let bytes = with_header(dict);
    std::fs::write(&p, &bytes).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(bytes.len() as u64 + 4 * (1u64 << 32)).unwrap();
    drop(f);
    let start = Instant::now();
    let e = read_npy_at_most(&p, 1 << 30).unwrap_err();
    assert!(matches!(e, NpyError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("4294967296 elements"), "{e}");
    assert!(start.elapsed().as_millis() < 1000);
}
