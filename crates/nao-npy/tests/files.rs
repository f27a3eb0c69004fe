//! Reading real `.npy` files written by NumPy (the project's shared reference data), writing
//! files atomically, and reading hand-built files of every supported format variant.

use nao_npy::{
    read_npy, read_npy_bytes, write_npy, write_npy_f32, write_npy_f64, DType, NpyArray, NpyData,
};

/// A `.npy` file built by hand: `version`, raw header dictionary and raw data bytes.
fn handmade(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    let header = format!("{dict}\n");
    if version == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn official_reference_arrays_have_their_documented_shapes() {
    let shared = nao_test_support::shared_dir();
    let official = shared.join("reference/nao-official");
    for (case, d) in [
        ("interp_d64_gauss", 64),
        ("interp_d64_scaled", 64),
        ("interp_d16384_gauss", 16384),
    ] {
        let dir = official.join(case);
        for name in ["p1.npy", "p2.npy"] {
            let a = read_npy(dir.join(name)).unwrap();
            assert_eq!(
                (a.shape(), a.dtype()),
                (&[d][..], DType::F32),
                "{case}/{name}"
            );
        }
        for name in [
            "init_path.npy",
            "final_path.npy",
            "grad_at_init.npy",
            "path_after_1_adam_step.npy",
        ] {
            let a = read_npy(dir.join(name)).unwrap();
            assert_eq!(
                (a.shape(), a.dtype()),
                (&[48, d][..], DType::F32),
                "{case}/{name}"
            );
            assert!(
                a.to_f64_vec().iter().all(|x| x.is_finite()),
                "{case}/{name}"
            );
        }
        let trace = read_npy(dir.join("loss_trace.npy")).unwrap();
        assert_eq!(trace.dtype_name(), "float64");
        assert_eq!(trace.ndim(), 1);
        assert!(trace.len() > 1);
    }
    // Values, not just shapes: ‖p1‖ as recorded in summary.json.
    let p1 = read_npy(official.join("interp_d64_gauss/p1.npy")).unwrap();
    let norm = p1.to_f64_vec().iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 8.370453834533691).abs() < 1e-5, "{norm}");
    assert_eq!(
        read_npy(official.join("interp_d64_gauss/loss_trace.npy"))
            .unwrap()
            .shape(),
        &[107]
    );

    let centroid = official.join("centroid_d64_gauss");
    for name in ["p1.npy", "p2.npy", "init_c_slerp.npy", "centroid.npy"] {
        assert_eq!(
            read_npy(centroid.join(name)).unwrap().shape(),
            &[64],
            "{name}"
        );
    }
    for name in ["path_0.npy", "path_1.npy"] {
        assert_eq!(
            read_npy(centroid.join(name)).unwrap().shape(),
            &[48, 64],
            "{name}"
        );
    }
}

#[test]
fn every_tiny_sd1_reference_array_reads() {
    let shared = nao_test_support::shared_dir();
    let dir = shared.join("fixtures/tiny-sd1/reference");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "npy") {
            continue;
        }
        let a = read_npy(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!a.is_empty(), "{name}");
        assert!(
            a.shape().iter().all(|&n| (1..=100_000).contains(&n)),
            "{name}: {:?}",
            a.shape()
        );
        let expected: &[usize] = match name.as_str() {
            "input_ids.npy" => {
                assert_eq!(a.dtype(), DType::I64);
                assert!(
                    matches!(a.data(), NpyData::I64(v) if v.iter().all(|&t| (0..49_408).contains(&t)))
                );
                &[3, 77]
            }
            "text_embeddings.npy" => &[3, 77, 32],
            n if n.ends_with("decoded.npy") || n == "inversion_input_image.npy" => &[1, 3, 64, 64],
            _ => &[1, 4, 8, 8],
        };
        assert_eq!(a.shape(), expected, "{name}");
        if a.dtype().is_float() {
            assert!(a.to_f64_vec().iter().all(|x| x.is_finite()), "{name}");
        }
        // Our writer reproduces NumPy's bytes exactly for these C-order little-endian files.
        assert_eq!(a.to_bytes(), std::fs::read(&path).unwrap(), "{name}");
        seen += 1;
    }
    assert!(seen >= 12, "only {seen} .npy files in {}", dir.display());
}

#[test]
fn round_trips_through_files_for_every_dtype_and_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let shapes: [&[usize]; 6] = [&[], &[0], &[1], &[7], &[3, 5], &[2, 0, 3]];
    for (i, shape) in shapes.iter().enumerate() {
        let n: usize = shape.iter().product();
        let datas = [
            NpyData::F32((0..n).map(|k| k as f32 * 0.5 - 1.0).collect()),
            NpyData::F64((0..n).map(|k| (k as f64).sqrt() * -1e-300).collect()),
            NpyData::I64((0..n).map(|k| k as i64 - (1 << 60)).collect()),
            NpyData::I32((0..n).map(|k| -(k as i32)).collect()),
            NpyData::U8((0..n).map(|k| k as u8).collect()),
            NpyData::U16((0..n).map(|k| 65535 - k as u16).collect()),
            NpyData::Bool((0..n).map(|k| k % 3 == 0).collect()),
        ];
        for (j, data) in datas.into_iter().enumerate() {
            let a = NpyArray::new(shape.to_vec(), data).unwrap();
            let path = tmp.path().join(format!("a{i}_{j}.npy"));
            write_npy(&path, &a).unwrap();
            let back = read_npy(&path).unwrap();
            assert_eq!(back, a, "shape {shape:?} dtype {}", a.dtype_name());
        }
    }
    // The typed writers; NaN, infinities and signed zeros survive bit for bit.
    let special = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        f32::MIN_POSITIVE,
        f32::MAX,
    ];
    let p = tmp.path().join("special.npy");
    write_npy_f32(&p, &[2, 3], &special).unwrap();
    let back = read_npy(&p).unwrap();
    let NpyData::F32(v) = back.data() else {
        panic!("dtype {}", back.dtype_name())
    };
    assert!(v
        .iter()
        .zip(special)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    write_npy_f64(&p, &[1, 1, 2], &[1.0, f64::EPSILON]).unwrap(); // overwrite in place
    assert_eq!(read_npy(&p).unwrap().to_f64_vec(), vec![1.0, f64::EPSILON]);
    assert_eq!(
        read_npy(&p).unwrap().to_f32_vec(),
        vec![1.0, f64::EPSILON as f32]
    );
}

#[test]
fn writes_are_atomic_and_leave_nothing_behind_on_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.npy");
    // Shape mismatch: error names the file, and no file (not even a temporary) appears.
    let err = write_npy_f32(&out, &[4, 4], &[0.0; 15]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("out.npy") && msg.contains("16") && msg.contains("15"),
        "{msg}"
    );
    assert_eq!(err.path(), out.as_path());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);

    // A failing rename (the target is a directory) keeps the directory and leaves no temp file.
    std::fs::create_dir(&out).unwrap();
    let err = write_npy_f64(&out, &[1], &[1.0]).unwrap_err();
    assert!(err.to_string().contains("out.npy"), "{err}");
    assert!(out.is_dir());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);

    // Missing directory: a clear I/O error.
    let err = write_npy_f32(tmp.path().join("nope/x.npy"), &[1], &[1.0]).unwrap_err();
    assert!(err.to_string().contains("nope/x.npy"), "{err}");

    // An existing file is replaced whole.
    let good = tmp.path().join("good.npy");
    write_npy_f32(&good, &[1000], &[1.0; 1000]).unwrap();
    write_npy_f32(&good, &[2], &[2.0, 3.0]).unwrap();
    assert_eq!(read_npy(&good).unwrap().to_f32_vec(), vec![2.0, 3.0]);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn reads_versions_byte_orders_and_fortran_order() {
    // Version 2.0 and 3.0 headers, big-endian float32.
    let data: Vec<u8> = [1.5f32, -2.0, 3.25]
        .iter()
        .flat_map(|x| x.to_be_bytes())
        .collect();
    for version in [2, 3] {
        let bytes = handmade(
            version,
            "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
            &data,
        );
        let a = read_npy_bytes(&bytes).unwrap();
        assert_eq!(a.data(), &NpyData::F32(vec![1.5, -2.0, 3.25]));
    }
    // Version 3.0 allows UTF-8 in the header (here in an ignored-by-us but valid string).
    let bytes = handmade(
        3,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
        &7.0f64.to_le_bytes(),
    );
    assert_eq!(read_npy_bytes(&bytes).unwrap().to_f64_vec(), vec![7.0]);
    // Big-endian float64, 0-d.
    let bytes = handmade(
        1,
        "{'descr': '>f8', 'fortran_order': False, 'shape': ()}",
        &(-0.125f64).to_be_bytes(),
    );
    let a = read_npy_bytes(&bytes).unwrap();
    assert_eq!((a.shape(), a.to_f64_vec()), (&[][..], vec![-0.125]));
    // Fortran order (2, 3): stored column by column.
    let c_order = [0.0f64, 1.0, 2.0, 10.0, 11.0, 12.0];
    let f_order: Vec<u8> = [0.0f64, 10.0, 1.0, 11.0, 2.0, 12.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let bytes = handmade(
        1,
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
        &f_order,
    );
    let a = read_npy_bytes(&bytes).unwrap();
    assert_eq!((a.shape(), a.to_f64_vec()), (&[2, 3][..], c_order.to_vec()));
    // Integer types.
    let bytes = handmade(
        1,
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}",
        &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    );
    assert_eq!(
        read_npy_bytes(&bytes).unwrap().data(),
        &NpyData::I32(vec![1, -1])
    );
    let bytes = handmade(
        1,
        "{'descr': '>u2', 'fortran_order': False, 'shape': (1,)}",
        &[1, 2],
    );
    assert_eq!(
        read_npy_bytes(&bytes).unwrap().data(),
        &NpyData::U16(vec![0x0102])
    );
    let bytes = handmade(
        1,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1)}",
        &[9, 255],
    );
    assert_eq!(
        read_npy_bytes(&bytes).unwrap().data(),
        &NpyData::U8(vec![9, 255])
    );
}

#[test]
fn corrupt_and_truncated_inputs_are_clear_errors() {
    let good = NpyArray::from_f32(&[4, 4], vec![1.0; 16])
        .unwrap()
        .to_bytes();
    let expect_err = |bytes: &[u8], needles: &[&str]| {
        let msg = read_npy_bytes(bytes).unwrap_err().to_string();
        for n in needles {
            assert!(msg.contains(n), "{msg:?} lacks {n:?}");
        }
    };
    // Every prefix of a valid file is an error (never a panic), naming what is cut short.
    for cut in 0..good.len() {
        let err = read_npy_bytes(&good[..cut]).unwrap_err().to_string();
        assert!(err.contains("truncated"), "cut {cut}: {err}");
    }
    expect_err(
        &good[..good.len() - 4],
        &[
            "truncated data",
            &good.len().to_string(),
            &(good.len() - 4).to_string(),
        ],
    );
    expect_err(&good[..20], &["truncated header"]);
    expect_err(b"", &["truncated magic", "expected 6 bytes", "found 0"]);
    expect_err(b"GIF89a.....", &["bad magic", "GIF89a"]);
    expect_err(b"\x93NUMPX\x01\x00", &["bad magic"]);
    let mut extra = good.clone();
    extra.extend_from_slice(&[0, 0]);
    expect_err(&extra, &["2 unexpected bytes"]);
    let mut v = good.clone();
    v[6] = 4;
    expect_err(&v, &["version 4.0"]);
    for (dict, needle) in [
        ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype \"<c8\""),
        ("{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype"),
        ("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured"),
        ("{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", "bad .npy header"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}", "too large"),
    ] {
        expect_err(&handmade(1, dict, &[0; 8]), &[needle, "<in-memory>"]);
    }
    // A v3 header with invalid UTF-8.
    let mut bad_utf8 = handmade(
        3,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
        &[0; 4],
    );
    bad_utf8[14] = 0xff;
    expect_err(&bad_utf8, &["UTF-8"]);
    // A header length pointing past the end.
    let mut long = good.clone();
    long[8] = 0xff;
    long[9] = 0xff;
    expect_err(
        &long,
        &[
            "truncated header",
            &format!("expected {} bytes", 10 + 0xffff),
        ],
    );

    // The same errors from a file name that file.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("seed_a.npy");
    std::fs::write(&p, &good[..good.len() - 1]).unwrap();
    let msg = read_npy(&p).unwrap_err().to_string();
    assert!(
        msg.contains("seed_a.npy") && msg.contains("truncated data"),
        "{msg}"
    );
    let msg = read_npy(tmp.path()).unwrap_err().to_string();
    assert!(msg.contains("is a folder"), "{msg}");
}
