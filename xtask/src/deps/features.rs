//! Forbidden features: the crates that only run models must not compile burn's training
//! machinery (`autodiff`, `optim`): it is most of burn's build and none of their job. The check
//! reads `cargo tree -e normal,features` of each listed crate, so it sees a feature whoever
//! enables it (the crate, a dependency, the workspace's declaration of burn).

/// Features of a package that the listed crates must not enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden {
    /// The package (`burn`).
    pub package: &'static str,
    /// Its forbidden features.
    pub features: &'static [&'static str],
}

/// burn's training features.
pub const TRAINING: Forbidden = Forbidden {
    package: "burn",
    features: &["autodiff", "optim"],
};

/// The crates that only run models. The trainer is moving out of `nao-burn` into a crate of
/// its own; when it has, the crates that open models (`nao-conformance`, `nao-cli`, …) join.
pub const INFERENCE_CRATES: &[&str] = &[
    "nao-burn",
    "nao-sd",
    "nao-models",
    "nao-cli",
    "nao-conformance",
];

/// The `cargo tree` arguments for one crate: its normal dependencies (what its users build),
/// their features, one node per line with its depth.
pub fn tree_args(krate: &str) -> [&str; 7] {
    [
        "tree",
        "-p",
        krate,
        "-e",
        "normal,features",
        "--prefix",
        "depth",
    ]
}

/// A forbidden feature found in a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The feature (`burn feature "autodiff"`).
    pub feature: String,
    /// From the crate down to the feature: who enables it.
    pub chain: Vec<String>,
}

/// `name vX (path)` without the path and the `(*)` mark: what a reader needs.
fn short_node(node: &str) -> String {
    let node = node.trim_end_matches(" (*)");
    match node.find(" (") {
        Some(i) => node[..i].to_string(),
        None => node.to_string(),
    }
}

/// The forbidden features in `cargo tree … --prefix depth` output, each with the chain of
/// nodes that leads to its first appearance.
pub fn findings(tree: &str, rule: Forbidden) -> Vec<Finding> {
    let mut stack: Vec<String> = Vec::new();
    let mut found: Vec<Finding> = Vec::new();
    for line in tree.lines() {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(depth) = line[..digits].parse::<usize>() else {
            continue;
        };
        let node = short_node(&line[digits..]);
        stack.truncate(depth);
        stack.push(node.clone());
        let Some((package, feature)) = node.split_once(" feature ") else {
            continue;
        };
        let feature = feature.trim_matches('"');
        if package == rule.package
            && rule.features.contains(&feature)
            && !found.iter().any(|f| f.feature == node)
        {
            found.push(Finding {
                feature: node.clone(),
                chain: stack.clone(),
            });
        }
    }
    found
}

/// The verdict for one crate: `Ok` with a line for the log, or `Err` naming each forbidden
/// feature and who enables it.
pub fn check(krate: &str, tree: &str, rule: Forbidden) -> Result<String, String> {
    if !tree.lines().any(|l| l.starts_with('0')) {
        return Err(format!(
            "`cargo tree -p {krate}` printed no tree: cannot check {krate}'s features"
        ));
    }
    let found = findings(tree, rule);
    if found.is_empty() {
        return Ok(format!(
            "{krate}: no {} feature {}",
            rule.package,
            rule.features
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    Err(found
        .iter()
        .map(|f| {
            format!(
                "{krate} only runs models but enables {}: {}",
                f.feature,
                f.chain.join(" → ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo tree -p nao-burn -e normal,features --prefix depth`, 2026-11 (before the trainer
    /// left nao-burn), cut to the lines around burn's features.
    const NAO_BURN: &str = r#"0nao-burn v0.1.0 (/work/wt-xtask/crates/nao-burn)
1burn feature "autodiff"
2burn v0.22.1
3burn-core v0.22.1
4burn-backend v0.22.1
5burn-std v0.22.1
2burn-core feature "autodiff" (*)
1burn feature "optim"
2burn v0.22.1 (*)
2burn feature "autodiff" (*)
2burn feature "burn-optim"
3burn v0.22.1 (*)
1burn feature "safetensors"
2burn v0.22.1 (*)
1burn feature "std"
2burn v0.22.1 (*)
1nao-prior feature "default"
2nao-prior v0.1.0 (/work/wt-xtask/crates/nao-prior)
"#;

    /// `cargo tree -p nao-sampling -e normal,features --prefix depth`, the start.
    const NAO_SAMPLING: &str = r#"0nao-sampling v0.1.0 (/work/wt-xtask/crates/nao-sampling)
1nao-backend feature "default"
2nao-backend v0.1.0 (/work/wt-xtask/crates/nao-backend)
3serde_json feature "default"
4serde_json v1.0.154
5memchr v2.8.3
3thiserror feature "default"
"#;

    #[test]
    fn training_features_are_found_with_who_enables_them() {
        let found = findings(NAO_BURN, TRAINING);
        assert_eq!(
            found,
            [
                Finding {
                    feature: "burn feature \"autodiff\"".into(),
                    chain: vec!["nao-burn v0.1.0".into(), "burn feature \"autodiff\"".into()]
                },
                Finding {
                    feature: "burn feature \"optim\"".into(),
                    chain: vec!["nao-burn v0.1.0".into(), "burn feature \"optim\"".into()]
                }
            ]
        );
        let e = check("nao-burn", NAO_BURN, TRAINING).unwrap_err();
        assert_eq!(e.lines().count(), 2);
        assert!(
            e.starts_with(
                "nao-burn only runs models but enables burn feature \"autodiff\": nao-burn v0.1.0 → burn feature \"autodiff\""
            ),
            "{e}"
        );
    }

    #[test]
    fn a_crate_without_them_passes() {
        assert!(findings(NAO_SAMPLING, TRAINING).is_empty());
        assert_eq!(
            check("nao-sampling", NAO_SAMPLING, TRAINING).unwrap(),
            "nao-sampling: no burn feature \"autodiff\" or \"optim\""
        );
        // burn-core's autodiff is another package's feature; burn's "std" is allowed
        let other = "0x v0.1.0\n1burn-core feature \"autodiff\"\n1burn feature \"std\"\n";
        assert!(findings(other, TRAINING).is_empty());
        // a feature enabled deeper down is found with its chain
        let deep = "0x v0.1.0\n1y feature \"default\"\n2y v0.1.0 (/w/y)\n3burn feature \"optim\"\n";
        assert_eq!(
            findings(deep, TRAINING)[0].chain,
            [
                "x v0.1.0",
                "y feature \"default\"",
                "y v0.1.0",
                "burn feature \"optim\""
            ]
        );
        assert!(check("x", "", TRAINING).unwrap_err().contains("no tree"));
    }
}
