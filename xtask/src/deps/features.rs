//! Forbidden features: the crates that only run models must not compile burn's training
//! machinery (`autodiff`, `optim`): it is most of burn's build and none of their job. The
//! crates that differentiate through a model without training it (SeedSelect's `nao-select`,
//! and the command line that runs it) may use `autodiff`, never `optim`.
//!
//! The check asks cargo's own feature resolver which of burn's features a build of each listed
//! crate alone turns on (`cargo tree -p CRATE`), so it sees a feature whoever enables it (the
//! crate, a dependency, the workspace's declaration of burn). `cargo metadata` cannot answer
//! this: its resolve unifies features over the whole workspace, where the trainer
//! (`nao-burn-train`) enables both for everyone.

/// burn's training features, which the crates that only run models must not enable.
pub const TRAINING: &[&str] = &["autodiff", "optim"];

/// The optimiser alone: forbidden to the crates that take gradients but train nothing.
pub const OPTIMISER: &[&str] = &["optim"];

/// The checked crates, each with the burn features it must not enable.
pub const CHECKED: &[(&str, &[&str])] = &[
    ("nao-burn", TRAINING),
    ("nao-sd", TRAINING),
    ("nao-models", TRAINING),
    ("nao-conformance", TRAINING),
    ("nao-select", OPTIMISER),
    ("nao-demo", OPTIMISER),
    ("nao-cli", OPTIMISER),
];

/// The `cargo tree` arguments for one crate: its normal dependencies (what its users build),
/// one package per line as `FEATURES NAME vVERSION …` (the features comma-separated; a
/// feature name holds no space).
pub fn tree_args(krate: &str) -> [&str; 9] {
    [
        "tree", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{f} {p}",
    ]
}

/// The `forbidden` features that `tree` (of [`tree_args`]) shows enabled on burn.
pub fn findings<'t>(tree: &'t str, forbidden: &[&str]) -> Vec<&'t str> {
    let lines = tree.lines().filter_map(|line| line.split_once(' '));
    let burn = lines.filter(|(_, package)| package.split(' ').next() == Some("burn"));
    let features = burn.flat_map(|(features, _)| features.split(','));
    let mut found: Vec<&str> = features.filter(|f| forbidden.contains(f)).collect();
    found.sort();
    found.dedup();
    found
}

/// The verdict for one crate: `Ok` with a line for the log, or `Err` naming each `forbidden`
/// feature it enables and how to see who enables it.
pub fn check(krate: &str, forbidden: &[&str], tree: &str) -> Result<String, String> {
    if tree.trim().is_empty() {
        let why = format!("cannot check {krate}'s features");
        return Err(format!("`cargo tree -p {krate}` printed no tree: {why}"));
    }
    let found = findings(tree, forbidden);
    if found.is_empty() {
        let quoted: Vec<String> = forbidden.iter().map(|f| format!("\"{f}\"")).collect();
        return Ok(format!("{krate}: no burn feature {}", quoted.join(" or ")));
    }
    let enables = |f| format!("{krate} trains nothing but enables burn feature \"{f}\"\n");
    let lines: String = found.into_iter().map(enables).collect();
    let who = format!("cargo tree -p {krate} -e normal,features -i burn");
    Err(format!("{lines}  see who enables it with: {who}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo tree -p nao-burn -e normal --prefix none --format "{f} {p}"` before the trainer
    /// left nao-burn, cut.
    const NAO_BURN: &str = "default,embedded nao-burn v0.1.0 (/w/crates/nao-burn)
autodiff,burn-optim,optim,safetensors,std burn v0.22.1
autodiff,std burn-core v0.22.1
 burn-std v0.22.1
default nao-prior v0.1.0 (/w/crates/nao-prior)
autodiff,burn-optim,optim,safetensors,std burn v0.22.1 (*)
";

    #[test]
    fn training_features_are_found() {
        assert_eq!(findings(NAO_BURN, TRAINING), ["autodiff", "optim"]);
        // a crate allowed gradients is still refused the optimiser
        assert_eq!(findings(NAO_BURN, OPTIMISER), ["optim"]);
        let e = check("nao-burn", TRAINING, NAO_BURN).unwrap_err();
        assert_eq!(
            e.lines().collect::<Vec<_>>(),
            [
                "nao-burn trains nothing but enables burn feature \"autodiff\"",
                "nao-burn trains nothing but enables burn feature \"optim\"",
                "  see who enables it with: cargo tree -p nao-burn -e normal,features -i burn"
            ]
        );
    }

    #[test]
    fn a_crate_without_them_passes() {
        let sampling = "default nao-sampling v0.1.0 (/w/crates/nao-sampling)\n\
                        default nao-backend v0.1.0 (/w/crates/nao-backend)\n";
        let verdict = check("nao-sampling", TRAINING, sampling).unwrap();
        assert_eq!(
            verdict,
            "nao-sampling: no burn feature \"autodiff\" or \"optim\""
        );
        // burn-core's autodiff is another package's feature; burn's "std" is allowed; a
        // package without features starts with a space
        let other =
            "default x v0.1.0\nautodiff burn-core v0.22.1\nstd burn v0.22.1\n burn-std v1\n";
        assert!(findings(other, TRAINING).is_empty());
        assert!(check("x", TRAINING, "").unwrap_err().contains("no tree"));
        let gradients = "default nao-select v0.1.0\nautodiff,std burn v0.22.1\n";
        let verdict = check("nao-select", OPTIMISER, gradients).unwrap();
        assert_eq!(verdict, "nao-select: no burn feature \"optim\"");
    }
}
