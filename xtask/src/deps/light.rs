//! The device-free crates pull in no ML backend (burn, ort, tch, wgpu): the geometry and the
//! scheduler math build in seconds and run anywhere.

/// Crates that must stay free of ML backends.
pub const LIGHT_CRATES: &[&str] = &[
    "nao-prior",
    "nao-geodesic",
    "nao-centroid",
    "nao-optim",
    "nao-fs",
    "nao-npy",
    "nao-backend",
    "nao-sampling",
    "nao-inversion",
    "nao-viz",
    "nao-metrics",
    "nao-video",
    "nao-walk",
];

/// Whether a crate name is an ML backend the light crates must not depend on.
fn is_heavy(name: &str) -> bool {
    name.starts_with("burn") || name.starts_with("ort") || name == "tch" || name == "wgpu"
}

/// The heavy crates listed in `cargo tree --prefix none` output (one crate per line).
pub fn heavy_crates(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| is_heavy(name))
        .map(str::to_string)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The `cargo tree` arguments that list the light crates' normal dependencies.
pub fn tree_args() -> Vec<&'static str> {
    let mut args = vec!["tree"];
    for c in LIGHT_CRATES {
        args.extend(["-p", c]);
    }
    args.extend(["-e", "normal", "--prefix", "none"]);
    args
}

/// The verdict on the tree of the light crates.
pub fn check(tree: &str) -> Result<String, String> {
    let heavy = heavy_crates(tree);
    if heavy.is_empty() {
        let count = tree.lines().filter(|l| !l.trim().is_empty()).count();
        return Ok(format!(
            "{} stay light: no burn*, ort*, tch or wgpu among {count} dependency lines",
            LIGHT_CRATES.join(", ")
        ));
    }
    Err(format!(
        "the device-free crates {} depend on ML backend crate(s): {}\n\
         see who pulls them in with: cargo tree -e normal -i {} {}",
        LIGHT_CRATES.join(", "),
        heavy.join(", "),
        heavy[0],
        LIGHT_CRATES
            .iter()
            .map(|c| format!("-p {c}"))
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_crates_are_found_by_name() {
        let tree = "nao-prior v0.1.0 (/x)\nlibm v0.2.16\nburn-core v0.22.1\nort-sys v2.0.0\n\
                    tch v0.22.0\nwgpu v25.0.0\nwgpu-core v25.0.0\nburn-core v0.22.1 (*)\n\n";
        assert_eq!(
            heavy_crates(tree),
            vec!["burn-core", "ort-sys", "tch", "wgpu"]
        );
        let e = check(tree).unwrap_err();
        assert!(
            e.contains("burn-core, ort-sys, tch, wgpu") && e.contains("-i burn-core"),
            "{e}"
        );
        let light = "nao-prior v0.1.0\nrand_chacha v0.9.0\nthiserror v2.0.0\n";
        assert!(heavy_crates(light).is_empty());
        assert!(check(light).unwrap().contains("among 3 dependency lines"));
    }
}
