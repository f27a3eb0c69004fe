//! The tokenizer of the tiny-sd1 fixture (the real 49 408-token CLIP vocabulary) against the ids
//! diffusers computed (`reference/input_ids.npy`) and against hand-checked harder prompts.
//!
//! The fixture is `shared/fixtures/tiny-sd1` beside the repository (or under
//! `$NAO_SHARED_DIR`); these tests fail, naming the paths tried, when it is missing.

use std::path::PathBuf;

use nao_clip::{ClipTokenizer, TokenizerConfig};

fn fixture() -> PathBuf {
    nao_test_support::shared("fixtures/tiny-sd1")
}

fn tokenizer() -> ClipTokenizer {
    ClipTokenizer::from_dir(fixture().join("onnx/tokenizer")).expect("the fixture's tokenizer")
}

/// The prompts of `reference.json`.
const PROMPTS: [&str; 3] = ["a photo of a cat", "A Tiger-Cat, sitting on a mat!", ""];

#[test]
fn matches_the_diffusers_input_ids_exactly() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 49_408);
    assert_eq!(
        (tok.bos_id(), tok.eos_id(), tok.pad_id()),
        (49406, 49407, 49407)
    );
    let reference = nao_npy::read_npy(fixture().join("reference/input_ids.npy")).unwrap();
    assert_eq!(reference.shape(), &[3, 77]);
    let expected: Vec<i64> = reference.to_f64_vec().iter().map(|&x| x as i64).collect();
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let got: Vec<i64> = tok
            .encode(prompt)
            .ids
            .iter()
            .map(|&x| i64::from(x))
            .collect();
        assert_eq!(
            got,
            expected[i * 77..(i + 1) * 77],
            "prompt {i}: {prompt:?}"
        );
    }
}

#[test]
fn reference_json_agrees_on_the_first_tokens() {
    // input_ids_nonpad of reference.json: the first 12 ids of each prompt
    let expected: [[u32; 12]; 3] = [
        [
            49406, 320, 1125, 539, 320, 2368, 49407, 49407, 49407, 49407, 49407, 49407,
        ],
        [
            49406, 320, 6531, 268, 2368, 267, 4919, 525, 320, 9063, 256, 49407,
        ],
        [
            49406, 49407, 49407, 49407, 49407, 49407, 49407, 49407, 49407, 49407, 49407, 49407,
        ],
    ];
    let tok = tokenizer();
    for (prompt, want) in PROMPTS.iter().zip(expected) {
        assert_eq!(tok.encode(prompt).ids[..12], want, "{prompt:?}");
    }
    assert_eq!(tok.encode(PROMPTS[0]).len, 7);
}

/// Harder prompts: the ids follow from the rules (checked by hand for the marked tokens) and
/// agree with the `tokenizer.json` of the same export run through the Hugging Face tokenizers.
#[test]
fn harder_prompts() {
    let cases: &[(&str, &[u32])] = &[
        // "don", "'t", "stop", ",", "it", "'s", "3", ":", "4", "5", "pm", "!!"
        (
            "don't stop, it's 3:45pm!!",
            &[847, 713, 1691, 267, 585, 568, 274, 281, 275, 276, 990, 748],
        ),
        // runs of punctuation stay together ("..." and " (") and digits are single
        (
            "Hello,   World... (2024) #1 — naïve café",
            &[
                3306, 267, 1002, 678, 263, 273, 271, 273, 275, 264, 258, 272, 2005, 1097, 35689,
                563, 15304,
            ],
        ),
        // contractions after lower-casing: "'LL" → "'ll", "we've" → "we", "'ve"
        (
            "I'LL be there; we've got 100% of it",
            &[
                328, 1342, 655, 997, 282, 649, 1200, 1005, 272, 271, 271, 260, 539, 585,
            ],
        ),
        // Greek without a final sigma, ß, CJK and emoji as bytes
        (
            "ΣΑΣ Straße 東京タワー emoji 🐱🚀",
            &[
                139, 225, 138, 109, 139, 481, 1894, 127, 253, 324, 48338, 21078, 105, 34941, 2429,
                107, 30391, 16327, 35710, 13542,
            ],
        ),
        // NFC: the decomposed and the composed "été" give the same ids
        (
            "e\u{301}te\u{301} vs \u{e9}t\u{e9}",
            &[3459, 39694, 1547, 3459, 39694],
        ),
        // special tokens written in the prompt are kept
        ("a<|endoftext|>b <|startoftext|>", &[320, 49407, 321, 49406]),
        // tabs, newlines and no-break spaces separate words
        ("tab\tnew\nline\u{a0}nbsp", &[14724, 686, 1148, 6459, 4393]),
        // combining vowel signs are not letters: they split Devanagari words
        (
            "हिन्दी ŉ ǅ",
            &[29446, 26721, 26090, 19389, 29552, 25751, 129, 487, 131, 484],
        ),
        (
            "a,b.c'd'e 's 'S 'LL",
            &[320, 267, 321, 269, 322, 1896, 262, 324, 568, 568, 1342],
        ),
    ];
    let tok = tokenizer();
    for (prompt, want) in cases {
        assert_eq!(tok.tokenize(prompt), *want, "{prompt:?}");
        let enc = tok.encode(prompt);
        assert_eq!(enc.ids[0], 49406);
        assert_eq!(enc.ids[1..=want.len()], **want, "{prompt:?}");
        assert_eq!(enc.ids[want.len() + 1], 49407);
        assert_eq!(enc.len, want.len() + 2);
    }
    // by hand: "cat" is the single token "cat</w>", "'t" is its own word
    assert_eq!(tok.tokenize("cat"), [tok.token_to_id("cat</w>").unwrap()]);
    assert_eq!(tok.tokenize("'t"), [tok.token_to_id("'t</w>").unwrap()]);
    assert_eq!(tok.tokenize("don't"), tok.tokenize("don 't"));
}

#[test]
fn long_prompts_are_truncated_to_77_with_eos_last() {
    let tok = tokenizer();
    let long = vec!["a photo of a cat"; 20].join(" ");
    let all = tok.tokenize(&long);
    assert_eq!(all.len(), 100);
    let enc = tok.encode(&long);
    assert_eq!(enc.ids.len(), 77);
    assert_eq!((enc.len, enc.truncated), (77, 25));
    assert_eq!(enc.ids[0], 49406);
    assert_eq!(enc.ids[1..76], all[..75]);
    assert_eq!(enc.ids[76], 49407);
    // exactly 75 tokens fit without truncation
    let fits = vec!["cat"; 75].join(" ");
    let enc = tok.encode(&fits);
    assert_eq!((enc.len, enc.truncated, enc.ids[76]), (77, 0, 49407));
    assert!(tok.decode(&enc.ids).starts_with("cat cat"));
}

#[test]
fn sd2_style_configs_pad_with_their_pad_token() {
    let dir = fixture().join("onnx/tokenizer");
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("tokenizer_config.json");
    std::fs::write(
        &config,
        r#"{"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "!",
            "model_max_length": 77}"#,
    )
    .unwrap();
    let tok = ClipTokenizer::from_files(
        &dir.join("vocab.json"),
        &dir.join("merges.txt"),
        Some(&config),
    )
    .unwrap();
    assert_eq!(tok.pad_id(), 0);
    let enc = tok.encode("a photo of a cat");
    assert_eq!(enc.ids[..7], [49406, 320, 1125, 539, 320, 2368, 49407]);
    assert!(enc.ids[7..].iter().all(|&i| i == 0));
    assert_eq!(tok.config().pad_token, "!");
    assert_eq!(TokenizerConfig::from_file(&config).unwrap(), *tok.config());
}

#[test]
fn missing_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let e = ClipTokenizer::from_dir(tmp.path()).unwrap_err().to_string();
    assert!(e.contains("vocab.json"), "{e}");
    let dir = fixture().join("onnx/tokenizer");
    std::fs::copy(dir.join("vocab.json"), tmp.path().join("vocab.json")).unwrap();
    let e = ClipTokenizer::from_dir(tmp.path()).unwrap_err().to_string();
    assert!(e.contains("merges.txt"), "{e}");
    std::fs::write(tmp.path().join("merges.txt"), "#version: 0.2\ni n\nq zzz\n").unwrap();
    let e = ClipTokenizer::from_dir(tmp.path()).unwrap_err().to_string();
    assert!(
        e.contains("merges.txt, line 3") && e.contains("'zzz'"),
        "{e}"
    );
}

/// `tokenizer.json` (which the Hugging Face tokenizers read) holds the same vocabulary and
/// merges as `vocab.json` and `merges.txt`, and the same special tokens.
#[test]
fn tokenizer_json_holds_the_same_vocabulary() {
    let dir = fixture().join("onnx/tokenizer");
    let tok = tokenizer();
    let text = std::fs::read_to_string(dir.join("tokenizer.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vocab = json["model"]["vocab"].as_object().unwrap();
    assert_eq!(vocab.len(), tok.vocab_size());
    for (token, id) in vocab {
        assert_eq!(
            tok.token_to_id(token),
            id.as_u64().map(|i| i as u32),
            "{token}"
        );
    }
    let merges = json["model"]["merges"].as_array().unwrap();
    let lines: Vec<String> = std::fs::read_to_string(dir.join("merges.txt"))
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(merges.len(), lines.len());
    for (m, line) in merges.iter().zip(&lines) {
        let pair = m.as_array().unwrap();
        assert_eq!(
            format!(
                "{} {}",
                pair[0].as_str().unwrap(),
                pair[1].as_str().unwrap()
            ),
            *line
        );
    }
    assert_eq!(json["model"]["end_of_word_suffix"], "</w>");
    for added in json["added_tokens"].as_array().unwrap() {
        let content = added["content"].as_str().unwrap();
        assert_eq!(
            tok.token_to_id(content),
            added["id"].as_u64().map(|i| i as u32)
        );
    }
}

/// A folder with `tokenizer.json` alone (as newer diffusers folders ship it) reads the same
/// tokenizer as `vocab.json` + `merges.txt`, with merges as `["a", "b"]` pairs or `"a b"`
/// strings.
#[test]
fn tokenizer_json_alone_gives_the_same_ids() {
    let from_files = tokenizer();
    let diffusers = fixture().join("diffusers/tokenizer");
    assert!(!diffusers.join("vocab.json").exists());
    let from_json = ClipTokenizer::from_dir(&diffusers).unwrap();
    let prompts = PROMPTS
        .iter()
        .copied()
        .chain(["an astronaut riding a horse, 4k!!! <|endoftext|> 123 don't ÆØÅ 🐱"]);
    for p in prompts.clone() {
        assert_eq!(from_json.encode(p), from_files.encode(p), "{p:?}");
    }
    // the "a b" string form of the merges
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(diffusers.join("tokenizer.json")).unwrap())
            .unwrap();
    let strings: Vec<serde_json::Value> = json["model"]["merges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m[0].as_str().unwrap(), m[1].as_str().unwrap()).into())
        .collect();
    json["model"]["merges"] = strings.into();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tokenizer.json"), json.to_string()).unwrap();
    let from_strings = ClipTokenizer::from_dir(tmp.path()).unwrap();
    for p in prompts {
        assert_eq!(from_strings.encode(p), from_files.encode(p), "{p:?}");
    }
    // bad files name the file and what is wrong
    for (change, needle) in [
        (
            serde_json::json!({"model": {"type": "WordPiece"}}),
            "WordPiece",
        ),
        (
            serde_json::json!({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}),
            "merge 1",
        ),
        (
            serde_json::json!({"model": {"type": "BPE", "vocab": {"a": 0}}}),
            "model.merges",
        ),
        (serde_json::json!({"version": "1.0"}), "'model'"),
    ] {
        std::fs::write(tmp.path().join("tokenizer.json"), change.to_string()).unwrap();
        let e = ClipTokenizer::from_dir(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("tokenizer.json") && e.contains(needle), "{e}");
    }
}
