//! Strategies for the property-based fuzz tests of nao's file readers: arbitrary JSON, config
//! objects with the real keys and extreme values, and mutated copies of valid files.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Numbers that break careless readers: zero, negatives, the ends of `u64`/`i64`, values just
/// past common bounds, fractions, and huge or tiny floats.
pub fn extreme_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(1)),
        Just(Value::from(-1)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1u64 << 32)),
        Just(Value::from(1e300)),
        Just(Value::from(-1e300)),
        Just(Value::from(5e-324)),
        Just(Value::from(0.5)),
        any::<u32>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
    ]
}

/// Any JSON value, nested at most `depth` levels.
pub fn json_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        extreme_number(),
        "[a-z_ ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object over the given keys (each present or not), with values of any kind: what a
/// config reader meets when a file has the right fields and wrong values.
pub fn config_object(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::vec(
        (
            proptest::sample::select(keys),
            prop_oneof![3 => extreme_number(), 1 => json_value(2)],
        ),
        0..keys.len() + 2,
    )
    .prop_map(|pairs| {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    })
}

/// `valid` with one field (a key of its top-level object, or of an object inside it) set to an
/// arbitrary value.
pub fn with_one_field_changed(valid: Value) -> impl Strategy<Value = Value> {
    let paths = field_paths(&valid, &mut Vec::new());
    (
        proptest::sample::select(paths),
        prop_oneof![3 => extreme_number(), 1 => json_value(2)],
    )
        .prop_map(move |(path, value)| {
            let mut v = valid.clone();
            let mut at = &mut v;
            for key in &path {
                at = at.get_mut(key.as_str()).expect("path taken from the value");
            }
            *at = value;
            v
        })
}

fn field_paths(v: &Value, prefix: &mut Vec<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    if let Value::Object(m) = v {
        for (k, child) in m {
            prefix.push(k.clone());
            out.push(prefix.clone());
            out.extend(field_paths(child, prefix));
            prefix.pop();
        }
    }
    out
}

/// `valid` bytes with a few bytes replaced and maybe cut short.
pub fn mutated_bytes(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len().max(1);
    (
        proptest::collection::vec((0..len, any::<u8>()), 1..6),
        0..=len,
    )
        .prop_map(move |(flips, cut)| {
            let mut b = valid.clone();
            for (i, x) in flips {
                if i < b.len() {
                    b[i] = x;
                }
            }
            b.truncate(cut.max(1));
            b
        })
}

/// A proptest configuration with `default_cases` cases, or `PROPTEST_CASES` when it is set
/// (for slow properties, whose default is lower than proptest's 256).
pub fn config(default_cases: u32) -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(default_cases)
    }
}
