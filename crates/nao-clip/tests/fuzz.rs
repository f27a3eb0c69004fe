//! Property-based fuzzing of the tokenizer files: `vocab.json` and `merges.txt` (arbitrary and
//! mutated), `tokenizer.json` (mutated), `tokenizer_config.json` (arbitrary values in its
//! fields) never panic; the fixture's tokenizer encodes any text to at most `max_length` ids of
//! its vocabulary, and decodes any ids without panicking.

use nao_clip::{ClipTokenizer, TokenizerConfig};
use nao_test_support::fuzz::{config_object, json_value, mutated_bytes};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let p = nao_test_support::shared(format!("fixtures/tiny-sd1/onnx/tokenizer/{name}"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn tokenizer() -> &'static ClipTokenizer {
    static T: std::sync::OnceLock<ClipTokenizer> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        ClipTokenizer::from_parts(
            &fixture("vocab.json"),
            &fixture("merges.txt"),
            TokenizerConfig::default(),
        )
        .expect("the fixture's tokenizer")
    })
}

const CONFIG_KEYS: &[&str] = &[
    "bos_token",
    "eos_token",
    "pad_token",
    "unk_token",
    "model_max_length",
];

proptest! {
    #![proptest_config(nao_test_support::fuzz::config(32))]

    #[test]
    fn mutated_vocab_and_merges(
        vocab in mutated_bytes(fixture("vocab.json").into_bytes()),
        merges in mutated_bytes(fixture("merges.txt").into_bytes()),
    ) {
        let (v, m) = (String::from_utf8_lossy(&vocab), String::from_utf8_lossy(&merges));
        let _ = ClipTokenizer::from_parts(&v, &fixture("merges.txt"), TokenizerConfig::default());
        let _ = ClipTokenizer::from_parts(&fixture("vocab.json"), &m, TokenizerConfig::default());
    }

    #[test]
    fn arbitrary_vocab_and_merges(
        vocab in json_value(2),
        merges in proptest::collection::vec("[a-z<>/#\" ]{0,12}", 0..20),
    ) {
        let _ = ClipTokenizer::from_parts(&vocab.to_string(), &merges.join("\n"), TokenizerConfig::default());
    }

    #[test]
    fn mutated_tokenizer_json(bytes in mutated_bytes(fixture("tokenizer.json").into_bytes())) {
        let _ = ClipTokenizer::from_tokenizer_json(&String::from_utf8_lossy(&bytes), TokenizerConfig::default());
    }

    #[test]
    fn tokenizer_config_values(v in config_object(CONFIG_KEYS)) {
        if let Ok(c) = TokenizerConfig::from_json(&v.to_string()) {
            // an accepted config builds a tokenizer or says why not
            let _ = ClipTokenizer::from_parts(&fixture("vocab.json"), &fixture("merges.txt"), c);
        }
    }

    #[test]
    fn any_text_encodes_within_bounds(text in any::<String>()) {
        let t = tokenizer();
        let e = t.encode(&text);
        prop_assert!(e.ids.len() <= t.max_length());
        prop_assert!(e.ids.iter().all(|&id| (id as usize) < t.vocab_size()));
        let _ = t.decode(&e.ids);
    }

    #[test]
    fn any_ids_decode(ids in proptest::collection::vec(any::<u32>(), 0..80)) {
        let _ = tokenizer().decode(&ids);
    }
}
