//! The device-free crates pull in no ML backend (burn, ort, tch, wgpu): the geometry and the
//! scheduler math build in seconds and run anywhere. The check walks the normal dependencies
//! (not dev- or build-dependencies) in the graph `cargo metadata` resolves for this platform,
//! where features are unified over the workspace as a workspace build compiles them: an
//! optional dependency that any member turns on counts.

use std::collections::{BTreeMap, VecDeque};

use cargo_metadata::{DependencyKind, Metadata};

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
];

/// Whether a crate name is an ML backend the light crates must not depend on.
fn is_heavy(name: &str) -> bool {
    name.starts_with("burn") || name.starts_with("ort") || name == "tch" || name == "wgpu"
}

/// The resolved packages by id: each one's name and the ids of its normal dependencies.
pub type Graph = BTreeMap<String, (String, Vec<String>)>;

/// The normal dependencies of `cargo metadata`'s resolve graph.
pub fn normal_graph(metadata: &Metadata) -> Graph {
    let name = |id| {
        metadata
            .packages
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.clone())
    };
    let nodes = metadata.resolve.iter().flat_map(|r| &r.nodes);
    nodes
        .map(|node| {
            let deps = node
                .deps
                .iter()
                .filter(|d| d.dep_kinds.iter().any(|k| k.kind == DependencyKind::Normal));
            let deps = deps.map(|d| d.pkg.repr.clone()).collect();
            let name = name(&node.id).unwrap_or_else(|| node.id.repr.clone());
            (node.id.repr.clone(), (name, deps))
        })
        .collect()
}

/// From the crates named `roots`, breadth first: how many packages are reached, and for each
/// heavy crate through which the walk enters the ML backends, the shortest chain of names that
/// pulls it in.
pub fn heavy_chains(graph: &Graph, roots: &[&str]) -> (usize, Vec<Vec<String>>) {
    let mut parent: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for (id, (name, _)) in graph {
        if roots.contains(&name.as_str()) {
            parent.insert(id, None);
            queue.push_back(id);
        }
    }
    while let Some(id) = queue.pop_front() {
        for dep in &graph[id].1 {
            if !parent.contains_key(dep.as_str()) {
                parent.insert(dep, Some(id));
                queue.push_back(dep);
            }
        }
    }
    let mut chains = Vec::new();
    for &id in parent.keys() {
        let mut chain = vec![graph[id].0.clone()];
        let mut at = id;
        while let Some(Some(up)) = parent.get(at) {
            chain.insert(0, graph[*up].0.clone());
            at = up;
        }
        // only the entry points: a chain with no backend crate before its end
        if chain.iter().filter(|n| is_heavy(n)).count() == 1 && is_heavy(&chain[chain.len() - 1]) {
            chains.push(chain);
        }
    }
    chains.sort();
    (parent.len(), chains)
}

/// The verdict on the light crates in `graph`.
pub fn check(graph: &Graph) -> Result<String, String> {
    let missing: Vec<&str> = LIGHT_CRATES
        .iter()
        .copied()
        .filter(|c| !graph.values().any(|(name, _)| name == c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "device-free crate(s) not in the workspace: {}",
            missing.join(", ")
        ));
    }
    let (reached, chains) = heavy_chains(graph, LIGHT_CRATES);
    if chains.is_empty() {
        return Ok(format!(
            "{} stay light: no burn*, ort*, tch or wgpu among {reached} crates",
            LIGHT_CRATES.join(", ")
        ));
    }
    let mut heavy: Vec<&str> = chains.iter().map(|c| c[c.len() - 1].as_str()).collect();
    heavy.sort();
    heavy.dedup();
    let lines: Vec<String> = chains
        .iter()
        .map(|c| format!("  {}", c.join(" → ")))
        .collect();
    Err(format!(
        "the device-free crates {} depend on ML backend crate(s): {}\n{}",
        LIGHT_CRATES.join(", "),
        heavy.join(", "),
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph whose ids are the names.
    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        let ids = |deps: &[&str]| deps.iter().map(|d| d.to_string()).collect();
        edges
            .iter()
            .map(|(name, deps)| (name.to_string(), (name.to_string(), ids(deps))))
            .collect()
    }

    #[test]
    fn heavy_crates_are_found_with_who_pulls_them_in() {
        let g = graph(&[
            ("nao-prior", &["libm", "nao-viz"]),
            ("nao-viz", &["image", "burn"]),
            ("image", &["ort-sys"]),
            ("burn", &["burn-core", "wgpu"]),
            ("burn-core", &[]),
            ("wgpu", &[]),
            ("libm", &[]),
            ("ort-sys", &[]),
            ("nao-cli", &["tch"]),
            ("tch", &[]),
        ]);
        let (reached, chains) = heavy_chains(&g, &["nao-prior"]);
        assert_eq!(reached, 8, "nao-cli and tch are not reached");
        assert_eq!(
            chains,
            [
                vec!["nao-prior", "nao-viz", "burn"],
                vec!["nao-prior", "nao-viz", "image", "ort-sys"]
            ]
        );
        let e = check(&g).unwrap_err();
        assert!(e.contains("not in the workspace: nao-geodesic"), "{e}");
    }

    #[test]
    fn light_crates_pass_and_their_names_are_checked() {
        let mut edges: Vec<(&str, &[&str])> = LIGHT_CRATES.iter().map(|c| (*c, &[][..])).collect();
        edges.push(("nao-prior", &["rand_chacha"]));
        edges.push(("rand_chacha", &[]));
        let ok = check(&graph(&edges)).unwrap();
        assert!(
            ok.ends_with("no burn*, ort*, tch or wgpu among 13 crates"),
            "{ok}"
        );
        edges.push(("nao-video", &["wgpu"]));
        edges.push(("wgpu", &[]));
        let e = check(&graph(&edges)).unwrap_err();
        assert!(
            e.contains("ML backend crate(s): wgpu\n  nao-video → wgpu"),
            "{e}"
        );
    }
}
