//! # nao-clip — the CLIP tokenizer of Stable Diffusion text encoders
//!
//! Turns a prompt into the 77 token ids a CLIP text encoder reads, exactly as the Hugging Face
//! `CLIPTokenizer` of a diffusers pipeline does, from the three files every Stable Diffusion
//! export ships in `tokenizer/`: `vocab.json`, `merges.txt` and `tokenizer_config.json` (or, in
//! newer diffusers folders, `tokenizer.json` alone with its config).
//!
//! The steps, in the order of the `tokenizer.json` of those exports:
//!
//! 1. the special tokens `<|startoftext|>` and `<|endoftext|>` written in the prompt are kept
//!    as they are; the rest of the text is
//! 2. normalised: Unicode NFC, every run of white space replaced by one space, lower-cased
//!    character by character;
//! 3. split into words by CLIP's pattern: the contractions `'s 't 're 've 'm 'll 'd`, runs of
//!    letters, single digits, and runs of anything else but white space (white space is
//!    dropped);
//! 4. each word's UTF-8 bytes mapped to printable characters (GPT-2's byte-level alphabet),
//!    `</w>` appended to its last character, and byte-pair merges applied by rank;
//! 5. `<|startoftext|>` prepended, the ids truncated so that `<|endoftext|>` fits in
//!    `model_max_length` (77), and padded with the config's pad token (`<|endoftext|>` for
//!    SD 1.x, `!` for SD 2.x).
//!
//! ```
//! use nao_clip::{ClipTokenizer, TokenizerConfig};
//!
//! // A toy vocabulary: the real one (49 408 tokens) is read with `ClipTokenizer::from_dir`.
//! let vocab = r#"{"c": 0, "a": 1, "t": 2, "t</w>": 3, "ca": 4, "cat</w>": 5, "!</w>": 6,
//!                 "<|startoftext|>": 7, "<|endoftext|>": 8}"#;
//! let merges = "#version: 0.2\nc a\nca t</w>\n";
//! let config = TokenizerConfig { model_max_length: 6, ..TokenizerConfig::default() };
//! let tok = ClipTokenizer::from_parts(vocab, merges, config).unwrap();
//!
//! assert_eq!(tok.tokenize("Cat!"), vec![5, 6]);
//! let enc = tok.encode("  CAT  ");
//! assert_eq!(enc.ids, vec![7, 5, 8, 8, 8, 8]);
//! assert_eq!((enc.len, enc.truncated), (3, 0));
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod error;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use regex::Regex;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

pub use config::TokenizerConfig;
pub use error::ClipError;

/// CLIP's word pattern (the `Split` pre-tokenizer of the exports' `tokenizer.json`).
const WORD_PATTERN: &str =
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

/// Suffix marking the last symbol of a word.
const END_OF_WORD: &str = "</w>";

/// `(left, right) → (rank, merged)`, all as token ids.
type MergeTable = HashMap<(u32, u32), (u32, u32)>;

/// Words whose merges are remembered; the cache is emptied when it grows past this.
const CACHE_LIMIT: usize = 16_384;

/// A prompt encoded for the text encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// `model_max_length` ids: BOS, the prompt's tokens, EOS, then padding.
    pub ids: Vec<u32>,
    /// How many of `ids` are not padding (BOS and EOS included).
    pub len: usize,
    /// How many of the prompt's tokens were cut off to fit the context.
    pub truncated: usize,
}

/// The CLIP byte-level BPE tokenizer.
///
/// Cheap to share: `&self` methods only, with an internal cache of merged words behind a mutex.
#[derive(Debug)]
pub struct ClipTokenizer {
    vocab: HashMap<String, u32>,
    /// `id → token`, for [`ClipTokenizer::id_to_token`] and [`ClipTokenizer::decode`].
    tokens: Vec<Option<String>>,
    /// `(left, right) → (rank, merged)`.
    merges: MergeTable,
    /// GPT-2's byte-to-character table.
    byte_chars: [char; 256],
    pattern: Regex,
    config: TokenizerConfig,
    bos: u32,
    eos: u32,
    pad: u32,
    unk: u32,
    cache: Mutex<HashMap<String, Vec<u32>>>,
}

/// The printable character GPT-2's byte-level BPE uses for each byte: printable Latin-1 bytes
/// stand for themselves, the others are moved to `U+0100…` in byte order.
fn byte_chars() -> [char; 256] {
    let printable = |b: u32| {
        (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
    };
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..256u32 {
        let code = if printable(b) {
            b
        } else {
            next += 1;
            next - 1
        };
        // every code is below U+0144, far from the surrogates
        table[b as usize] = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
    }
    table
}

/// A piece of a prompt: a special token written out, or text to tokenise.
enum Piece<'a> {
    Special(u32),
    Text(&'a str),
}

impl ClipTokenizer {
    /// Read a `tokenizer/` folder: `vocab.json` and `merges.txt`, or (when there is no
    /// `vocab.json`) the Hugging Face `tokenizer.json` alone, with `tokenizer_config.json` and
    /// `special_tokens_map.json` when present (the map's special tokens win).
    ///
    /// Without either config the SD 1.x defaults of [`TokenizerConfig`] apply.
    ///
    /// ```
    /// use nao_clip::ClipTokenizer;
    /// # let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    /// # let shared = [root.join("../../../shared"), root.join("../../shared")]
    /// #     .into_iter().find(|p| p.is_dir()).expect("shared/ beside the repository");
    /// // the tokenizer/ folder of a Stable Diffusion 1.x export
    /// let dir = shared.join("fixtures/tiny-sd1/onnx/tokenizer");
    /// let tok = ClipTokenizer::from_dir(&dir)?;
    /// let enc = tok.encode("a photo of a cat");
    /// assert_eq!(enc.ids[..7], [49406, 320, 1125, 539, 320, 2368, 49407]);
    /// assert_eq!(enc.ids.len(), 77); // padded with <|endoftext|> (49407)
    /// # Ok::<(), nao_clip::ClipError>(())
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, ClipError> {
        let dir = dir.as_ref();
        let config = load_config(dir)?;
        let vocab = dir.join("vocab.json");
        let merges = dir.join("merges.txt");
        let tokenizer_json = dir.join("tokenizer.json");
        // tokenizer.json serves when it is all there is; a folder with half of the
        // vocab.json + merges.txt pair is incomplete, and the error names the missing half.
        if !vocab.exists() && !merges.exists() && tokenizer_json.is_file() {
            return Self::from_tokenizer_json_file(&tokenizer_json, config);
        }
        let (config, config_path) = config;
        let read = |path: &Path| crate::read_text(path);
        Self::build(
            (&read(&vocab)?, &vocab),
            (&read(&merges)?, &merges),
            config,
            &config_path,
        )
    }

    /// Read a Hugging Face `tokenizer.json` of a CLIP byte-level BPE (its `model.vocab` and
    /// `model.merges`; merges as `"a b"` strings or `["a", "b"]` pairs) with a config.
    ///
    /// ```
    /// use nao_clip::{ClipTokenizer, TokenizerConfig};
    /// let json = r#"{"model": {"type": "BPE", "end_of_word_suffix": "</w>",
    ///   "vocab": {"c": 0, "a": 1, "t</w>": 2, "ca": 3, "cat</w>": 4,
    ///             "<|startoftext|>": 5, "<|endoftext|>": 6},
    ///   "merges": [["c", "a"], "ca t</w>"]}}"#;
    /// let config = TokenizerConfig { model_max_length: 4, ..TokenizerConfig::default() };
    /// let tok = ClipTokenizer::from_tokenizer_json(json, config).unwrap();
    /// assert_eq!(tok.encode("cat").ids, vec![5, 4, 6, 6]);
    /// ```
    pub fn from_tokenizer_json(json: &str, config: TokenizerConfig) -> Result<Self, ClipError> {
        let memory = Path::new("<memory>");
        Self::build_tokenizer_json(json, memory, config, memory)
    }

    fn from_tokenizer_json_file(
        path: &Path,
        (config, config_path): (TokenizerConfig, PathBuf),
    ) -> Result<Self, ClipError> {
        let text = crate::read_text(path)?;
        Self::build_tokenizer_json(&text, path, config, &config_path)
    }

    fn build_tokenizer_json(
        text: &str,
        path: &Path,
        config: TokenizerConfig,
        config_path: &Path,
    ) -> Result<Self, ClipError> {
        let err = |message: String| ClipError::Format {
            path: path.to_path_buf(),
            message,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| err(format!("invalid JSON: {e}")))?;
        let model = v
            .get("model")
            .and_then(Value::as_object)
            .ok_or_else(|| err("no 'model' object".into()))?;
        match model.get("type").and_then(Value::as_str) {
            Some("BPE") | None => {}
            Some(other) => {
                return Err(err(format!(
                    "'model.type' is \"{other}\"; a CLIP tokenizer is a BPE"
                )))
            }
        }
        match model.get("end_of_word_suffix") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == END_OF_WORD => {}
            Some(other) => {
                return Err(err(format!(
                    "'model.end_of_word_suffix' is {other}; CLIP's BPE marks word ends with \"{END_OF_WORD}\""
                )))
            }
        }
        let vocab_value = model
            .get("vocab")
            .ok_or_else(|| err("no 'model.vocab'".into()))?;
        let vocab = parse_vocab(&vocab_value.to_string(), path)?;
        let merges = model
            .get("merges")
            .and_then(Value::as_array)
            .ok_or_else(|| err("no 'model.merges' list".into()))?;
        let mut pairs = Vec::with_capacity(merges.len());
        for (i, m) in merges.iter().enumerate() {
            let pair = match m {
                Value::String(s) => s
                    .split_once(' ')
                    .filter(|(_, r)| !r.contains(' '))
                    .map(|(l, r)| (l.to_string(), r.to_string())),
                Value::Array(a) if a.len() == 2 => match (&a[0], &a[1]) {
                    (Value::String(l), Value::String(r)) => Some((l.clone(), r.clone())),
                    _ => None,
                },
                _ => None,
            };
            let pair = pair.ok_or_else(|| ClipError::Merges {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!(
                    "merge {} is {m}, neither \"left right\" nor [\"left\", \"right\"]",
                    i + 1
                ),
            })?;
            pairs.push((i + 1, pair.0, pair.1));
        }
        let merges = merge_table(pairs, path, &vocab)?;
        Self::assemble(vocab, merges, config, config_path)
    }

    /// Read the tokenizer from explicit files.
    pub fn from_files(
        vocab: &Path,
        merges: &Path,
        config: Option<&Path>,
    ) -> Result<Self, ClipError> {
        let read = |path: &Path| crate::read_text(path);
        let (config, config_path) = match config {
            Some(p) => (TokenizerConfig::from_file(p)?, p.to_path_buf()),
            None => (
                TokenizerConfig::default(),
                PathBuf::from("<default config>"),
            ),
        };
        Self::build(
            (&read(vocab)?, vocab),
            (&read(merges)?, merges),
            config,
            &config_path,
        )
    }

    /// Build the tokenizer from the text of `vocab.json` and `merges.txt` and a config.
    pub fn from_parts(
        vocab_json: &str,
        merges_txt: &str,
        config: TokenizerConfig,
    ) -> Result<Self, ClipError> {
        let memory = Path::new("<memory>");
        Self::build((vocab_json, memory), (merges_txt, memory), config, memory)
    }

    fn build(
        (vocab_json, vocab_path): (&str, &Path),
        (merges_txt, merges_path): (&str, &Path),
        config: TokenizerConfig,
        config_path: &Path,
    ) -> Result<Self, ClipError> {
        let vocab = parse_vocab(vocab_json, vocab_path)?;
        let merges = parse_merges(merges_txt, merges_path, &vocab)?;
        Self::assemble(vocab, merges, config, config_path)
    }

    fn assemble(
        vocab: HashMap<String, u32>,
        merges: MergeTable,
        config: TokenizerConfig,
        config_path: &Path,
    ) -> Result<Self, ClipError> {
        let mut tokens: Vec<Option<String>> = Vec::new();
        for (token, &id) in &vocab {
            let i = id as usize;
            if tokens.len() <= i {
                tokens.resize(i + 1, None);
            }
            tokens[i] = Some(token.clone());
        }
        let lookup = |role: &'static str, token: &str| {
            vocab
                .get(token)
                .copied()
                .ok_or_else(|| ClipError::MissingToken {
                    path: config_path.to_path_buf(),
                    role,
                    token: token.to_string(),
                })
        };
        let bos = lookup("bos", &config.bos_token)?;
        let eos = lookup("eos", &config.eos_token)?;
        let pad = lookup("pad", &config.pad_token)?;
        let unk = lookup("unk", &config.unk_token)?;
        let pattern = Regex::new(WORD_PATTERN).map_err(|e| ClipError::Format {
            path: PathBuf::from("<word pattern>"),
            message: e.to_string(),
        })?;
        Ok(Self {
            vocab,
            tokens,
            merges,
            byte_chars: byte_chars(),
            pattern,
            config,
            bos,
            eos,
            pad,
            unk,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The config in use (special tokens, context length).
    pub fn config(&self) -> &TokenizerConfig {
        &self.config
    }

    /// Tokens per encoded prompt (77 for CLIP).
    pub fn max_length(&self) -> usize {
        self.config.model_max_length
    }

    /// Id of `<|startoftext|>`.
    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    /// Id of `<|endoftext|>`.
    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    /// Id of the padding token.
    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// Number of entries of the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The id of a token (as written in `vocab.json`, e.g. `"cat</w>"`).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    /// The token of an id.
    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize)?.as_deref()
    }

    /// The prompt's token ids: no BOS/EOS, no truncation, no padding.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        for piece in self.split_specials(text) {
            match piece {
                Piece::Special(id) => ids.push(id),
                Piece::Text(t) => self.tokenize_text(t, &mut ids),
            }
        }
        ids
    }

    /// Encode a prompt for the text encoder: BOS, at most `max_length − 2` tokens, EOS, padding
    /// to `max_length`.
    ///
    /// ```
    /// # use nao_clip::{ClipTokenizer, TokenizerConfig};
    /// # let vocab = r#"{"c": 0, "a": 1, "!": 2, "t</w>": 3, "ca": 4, "cat</w>": 5,
    /// #                 "x": 6, "<|startoftext|>": 7, "<|endoftext|>": 8, "y": 9}"#;
    /// # let merges = "#version: 0.2\nc a\nca t</w>\n";
    /// // a context of 5 with SD 2.x-style padding
    /// let config = TokenizerConfig {
    ///     model_max_length: 5,
    ///     pad_token: "!".into(),
    ///     ..TokenizerConfig::default()
    /// };
    /// let tok = ClipTokenizer::from_parts(vocab, merges, config)?;
    /// assert_eq!(tok.encode("cat").ids, [7, 5, 8, 2, 2]);
    /// // the padding token is special in the text too, as in the Hugging Face tokenizers
    /// assert_eq!(tok.encode("cat!").ids, [7, 5, 2, 8, 2]);
    /// // too long: cut to max_length − 2 tokens, EOS kept
    /// let long = tok.encode("cat cat cat cat");
    /// assert_eq!((long.ids, long.truncated), (vec![7, 5, 5, 5, 8], 1));
    /// # Ok::<(), nao_clip::ClipError>(())
    /// ```
    pub fn encode(&self, text: &str) -> Encoding {
        let mut tokens = self.tokenize(text);
        let room = self.max_length().saturating_sub(2);
        let truncated = tokens.len().saturating_sub(room);
        tokens.truncate(room);
        let mut ids = Vec::with_capacity(self.max_length());
        ids.push(self.bos);
        ids.extend_from_slice(&tokens);
        ids.push(self.eos);
        let len = ids.len();
        ids.resize(self.max_length().max(len), self.pad);
        Encoding {
            ids,
            len,
            truncated,
        }
    }

    /// Text of token ids, for messages (e.g. which part of a prompt was cut off): BOS, EOS and
    /// padding are left out, `</w>` becomes a space.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut char_bytes: HashMap<char, u8> = HashMap::with_capacity(256);
        for (b, &c) in self.byte_chars.iter().enumerate() {
            char_bytes.insert(c, b as u8);
        }
        let mut bytes = Vec::new();
        for &id in ids {
            if id == self.bos || id == self.eos || id == self.pad {
                continue;
            }
            let Some(token) = self.id_to_token(id) else {
                continue;
            };
            let (body, end) = match token.strip_suffix(END_OF_WORD) {
                Some(body) => (body, true),
                None => (token, false),
            };
            for c in body.chars() {
                match char_bytes.get(&c) {
                    Some(&b) => bytes.push(b),
                    None => bytes.extend_from_slice(c.to_string().as_bytes()),
                }
            }
            if end {
                bytes.push(b' ');
            }
        }
        String::from_utf8_lossy(&bytes).trim_end().to_string()
    }

    /// Split off the special tokens written in the text (leftmost, longest first). All four
    /// count, as in the Hugging Face tokenizers: SD 2.x's padding token `!` written in a prompt
    /// is that token (id of `!`), not the word-final `!</w>`.
    fn split_specials<'a>(&self, text: &'a str) -> Vec<Piece<'a>> {
        let specials = [
            (self.config.bos_token.as_str(), self.bos),
            (self.config.eos_token.as_str(), self.eos),
            (self.config.pad_token.as_str(), self.pad),
            (self.config.unk_token.as_str(), self.unk),
        ];
        let mut pieces = Vec::new();
        let mut rest = text;
        loop {
            let next = specials
                .iter()
                .filter(|(s, _)| !s.is_empty())
                .filter_map(|&(s, id)| rest.find(s).map(|at| (at, std::cmp::Reverse(s.len()), id)))
                .min();
            match next {
                Some((at, std::cmp::Reverse(len), id)) => {
                    if at > 0 {
                        pieces.push(Piece::Text(&rest[..at]));
                    }
                    pieces.push(Piece::Special(id));
                    rest = &rest[at + len..];
                }
                None => {
                    if !rest.is_empty() {
                        pieces.push(Piece::Text(rest));
                    }
                    return pieces;
                }
            }
        }
    }

    /// Normalise, split into words and merge each word.
    fn tokenize_text(&self, text: &str, ids: &mut Vec<u32>) {
        let normalized = normalize(text);
        for word in self.pattern.find_iter(&normalized) {
            self.merge_word(word.as_str(), ids);
        }
    }

    /// Byte-level BPE of one word, through the cache.
    fn merge_word(&self, word: &str, ids: &mut Vec<u32>) {
        if let Ok(cache) = self.cache.lock() {
            if let Some(hit) = cache.get(word) {
                ids.extend_from_slice(hit);
                return;
            }
        }
        let merged = self.bpe(word);
        ids.extend_from_slice(&merged);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(word.to_string(), merged);
        }
    }

    /// Merge the byte-level symbols of a word by rank; symbols the vocabulary lacks become the
    /// unknown token.
    fn bpe(&self, word: &str) -> Vec<u32> {
        let bytes = word.as_bytes();
        let mut symbols: Vec<Option<u32>> = Vec::with_capacity(bytes.len());
        let mut buf = String::new();
        for (i, &b) in bytes.iter().enumerate() {
            buf.clear();
            buf.push(self.byte_chars[b as usize]);
            if i + 1 == bytes.len() {
                buf.push_str(END_OF_WORD);
            }
            symbols.push(self.vocab.get(&buf).copied());
        }
        loop {
            // the adjacent pair of lowest rank
            let best = symbols
                .windows(2)
                .filter_map(|w| match (w[0], w[1]) {
                    (Some(a), Some(b)) => self.merges.get(&(a, b)).map(|&(rank, _)| (rank, a, b)),
                    _ => None,
                })
                .min();
            let Some((_, a, b)) = best else { break };
            let merged = self.merges[&(a, b)].1;
            // merge every occurrence, left to right
            let mut out = Vec::with_capacity(symbols.len());
            let mut i = 0;
            while i < symbols.len() {
                if i + 1 < symbols.len() && symbols[i] == Some(a) && symbols[i + 1] == Some(b) {
                    out.push(Some(merged));
                    i += 2;
                } else {
                    out.push(symbols[i]);
                    i += 1;
                }
            }
            symbols = out;
        }
        symbols.into_iter().map(|s| s.unwrap_or(self.unk)).collect()
    }
}

/// NFC, white-space runs to one space, per-character lower case (no final-sigma rule).
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.nfc() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `vocab.json`: a JSON object `token → id`.
fn parse_vocab(text: &str, path: &Path) -> Result<HashMap<String, u32>, ClipError> {
    let err = |message: String| ClipError::Format {
        path: path.to_path_buf(),
        message,
    };
    // the fast path; on failure the slow one below says which entry is wrong
    let vocab = match serde_json::from_str::<HashMap<String, u32>>(text) {
        Ok(vocab) => vocab,
        Err(_) => {
            let v: Value =
                serde_json::from_str(text).map_err(|e| err(format!("invalid JSON: {e}")))?;
            let obj = v
                .as_object()
                .ok_or_else(|| err("expected a JSON object of token → id".into()))?;
            obj.iter()
                .map(|(token, id)| {
                    id.as_u64()
                        .and_then(|i| u32::try_from(i).ok())
                        .map(|i| (token.clone(), i))
                        .ok_or_else(|| err(format!("the id of '{token}' is {id}, not an id")))
                })
                .collect::<Result<_, _>>()?
        }
    };
    if vocab.is_empty() {
        return Err(err("the vocabulary is empty".into()));
    }
    // Ids index the id → token table: they must be dense, or one id of 4 000 000 000 would
    // size that table at 100 GB (found by the fuzz tests).
    if let Some((token, id)) = vocab.iter().find(|(_, &id)| id as usize >= vocab.len()) {
        return Err(err(format!(
            "the id of '{token}' is {id}, but the vocabulary has {} tokens (ids are 0..{})",
            vocab.len(),
            vocab.len()
        )));
    }
    Ok(vocab)
}

/// `merges.txt`: an optional `#version` line, then one `left right` pair per line, by rank.
fn parse_merges(
    text: &str,
    path: &Path,
    vocab: &HashMap<String, u32>,
) -> Result<MergeTable, ClipError> {
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if (i == 0 && line.starts_with("#version")) || line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split(' ');
        let (Some(left), Some(right), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ClipError::Merges {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("expected 'left right', got '{line}'"),
            });
        };
        pairs.push((i + 1, left.to_string(), right.to_string()));
    }
    merge_table(pairs, path, vocab)
}

/// The merge table of `(line, left, right)` pairs in rank order; every token, and each pair's
/// concatenation, must be in the vocabulary.
fn merge_table(
    pairs: Vec<(usize, String, String)>,
    path: &Path,
    vocab: &HashMap<String, u32>,
) -> Result<MergeTable, ClipError> {
    let mut merges = HashMap::new();
    for (rank, (line, left, right)) in pairs.into_iter().enumerate() {
        let id = |token: &str| {
            vocab.get(token).copied().ok_or_else(|| ClipError::Merges {
                path: path.to_path_buf(),
                line,
                message: format!("'{token}' is not in the vocabulary"),
            })
        };
        let pair = (id(&left)?, id(&right)?);
        let merged = id(&format!("{left}{right}"))?;
        merges.entry(pair).or_insert((rank as u32, merged));
    }
    Ok(merges)
}

/// `tokenizer_config.json` (when present) with the special tokens of
/// `special_tokens_map.json` (when present) over it, and the path to name in errors.
fn load_config(dir: &Path) -> Result<(TokenizerConfig, PathBuf), ClipError> {
    let config = dir.join("tokenizer_config.json");
    let map = dir.join("special_tokens_map.json");
    let (mut c, mut path) = if config.is_file() {
        (TokenizerConfig::from_file(&config)?, config)
    } else {
        (
            TokenizerConfig::default(),
            PathBuf::from("<default config>"),
        )
    };
    if map.is_file() {
        c = c.with_special_tokens_map(&map)?;
        path = map;
    }
    Ok((c, path))
}

/// Read a tokenizer file: a regular file (stat first: a FIFO or a device is refused) of at most
/// `nao_fs::input::CONFIG_LIMIT` bytes of UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String, ClipError> {
    nao_fs::input::read_text_limited(path, nao_fs::input::CONFIG_LIMIT).map_err(|e| {
        ClipError::Format {
            path: path.to_path_buf(),
            message: e.detail(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_vocabulary_ids_are_refused_before_the_id_table_is_sized() {
        let e = parse_vocab(r#"{"a": 0, "b": 4000000000}"#, Path::new("vocab.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("vocab.json") && e.contains("4000000000"), "{e}");
        assert!(parse_vocab(r#"{"a": 1, "b": 0}"#, Path::new("v")).is_ok());
    }

    #[test]
    fn the_byte_table_is_gpt2s() {
        let t = byte_chars();
        assert_eq!(t[b'a' as usize], 'a');
        assert_eq!(t[b'!' as usize], '!');
        assert_eq!(t[0], '\u{100}');
        assert_eq!(t[b' ' as usize], '\u{120}');
        assert_eq!(t[0xAD], '\u{143}');
        assert_eq!(t[0xFF], '\u{FF}');
        let mut all: Vec<char> = t.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 256);
    }

    #[test]
    fn normalisation_collapses_space_and_lowercases_per_character() {
        assert_eq!(normalize(" A\t\n B  "), " a b ");
        // NFC: e + combining acute → é
        assert_eq!(normalize("E\u{301}"), "\u{e9}");
        // no final-sigma rule, as in the Hugging Face tokenizers
        assert_eq!(normalize("ΣΑΣ"), "σασ");
    }

    fn toy() -> ClipTokenizer {
        let vocab = r#"{"c": 0, "a": 1, "t": 2, "t</w>": 3, "ca": 4, "cat</w>": 5, "!</w>": 6,
            "<|startoftext|>": 7, "<|endoftext|>": 8, "a</w>": 9, "c</w>": 10}"#;
        let merges = "#version: 0.2\nc a\nca t</w>\n";
        let config = TokenizerConfig {
            model_max_length: 5,
            ..TokenizerConfig::default()
        };
        ClipTokenizer::from_parts(vocab, merges, config).unwrap()
    }

    #[test]
    fn merges_specials_truncation_and_unknowns() {
        let tok = toy();
        assert_eq!(tok.tokenize("cat"), vec![5]);
        assert_eq!(tok.tokenize("cac"), vec![4, 10]);
        assert_eq!(tok.tokenize("<|endoftext|>cat"), vec![8, 5]);
        // 'x' is not in the toy vocabulary
        assert_eq!(tok.tokenize("x"), vec![8]);
        let enc = tok.encode("cat cat cat cat");
        assert_eq!(enc.ids, vec![7, 5, 5, 5, 8]);
        assert_eq!((enc.len, enc.truncated), (5, 1));
        assert_eq!(tok.decode(&enc.ids), "cat cat cat");
        assert_eq!(tok.encode("").ids, vec![7, 8, 8, 8, 8]);
        // the cache gives the same answer
        assert_eq!(tok.tokenize("cat"), vec![5]);
    }

    #[test]
    fn bad_files_are_named_with_the_line() {
        let vocab = r#"{"a": 0, "b": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}"#;
        let e = ClipTokenizer::from_parts(vocab, "#version: 0.2\na b\n", Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("'ab'"), "{e}");
        let e = ClipTokenizer::from_parts(vocab, "a b c\n", Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = ClipTokenizer::from_parts(r#"{"a": -1}"#, "", Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'a'"), "{e}");
        let config = TokenizerConfig {
            pad_token: "!".into(),
            ..Default::default()
        };
        let e = ClipTokenizer::from_parts(vocab, "", config)
            .unwrap_err()
            .to_string();
        assert!(e.contains("pad token '!'"), "{e}");
    }
}
