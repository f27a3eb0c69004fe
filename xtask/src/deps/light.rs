//! The device-free crates pull in no ML backend (burn, ort, tch, wgpu): the geometry and the
//! scheduler math build in seconds and run anywhere. The check walks the normal dependencies
//! (not dev- or build-dependencies) in the graph `cargo metadata` resolves for this platform,
//! where features are unified over the workspace as a workspace build compiles them: an
//! optional dependency that any member turns on counts.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use cargo_metadata::{DependencyKind, Metadata, NodeDep, PackageId};

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
    "nao-augment",
    "nao-walk",
    "nao-sweep",
];

/// Whether a crate name is an ML backend the light crates must not depend on.
fn is_heavy(name: &str) -> bool {
    name.starts_with("burn") || name.starts_with("ort") || name == "tch" || name == "wgpu"
}

/// The resolved packages by name, each with the names of its normal dependencies (the versions
/// of a crate merged).
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The normal dependencies of `cargo metadata`'s resolve graph.
pub fn normal_graph(metadata: &Metadata) -> Graph {
    let packages = metadata.packages.iter();
    let names: HashMap<&PackageId, &String> = packages.map(|p| (&p.id, &p.name)).collect();
    let normal = |d: &&NodeDep| d.dep_kinds.iter().any(|k| k.kind == DependencyKind::Normal);
    let mut graph = Graph::new();
    for node in metadata.resolve.iter().flat_map(|r| &r.nodes) {
        let deps = node.deps.iter().filter(normal);
        let deps = deps.map(|d| names[&d.pkg].clone());
        let entry = graph.entry(names[&node.id].clone());
        entry.or_default().extend(deps);
    }
    graph
}

/// From the crates `roots`, breadth first: how many crates are reached, and for each backend
/// crate through which the walk enters the ML backends, the shortest chain that pulls it in.
pub fn heavy_chains(graph: &Graph, roots: &[&str]) -> (usize, Vec<Vec<String>>) {
    let mut parent: BTreeMap<&str, Option<&str>> = roots.iter().map(|r| (*r, None)).collect();
    let mut queue: VecDeque<&str> = roots.iter().copied().collect();
    while let Some(name) = queue.pop_front() {
        for dep in graph.get(name).into_iter().flatten() {
            if !parent.contains_key(dep.as_str()) {
                parent.insert(dep, Some(name));
                queue.push_back(dep);
            }
        }
    }
    let mut chains = Vec::new();
    for &name in parent.keys().filter(|n| is_heavy(n)) {
        let mut chain = vec![name.to_string()];
        while let Some(Some(up)) = parent.get(chain[0].as_str()) {
            chain.insert(0, up.to_string());
        }
        // only the entry points: no backend crate before the end of the chain
        if chain.iter().filter(|n| is_heavy(n)).count() == 1 {
            chains.push(chain);
        }
    }
    chains.sort();
    (parent.len(), chains)
}

/// The verdict on the light crates in `graph`.
pub fn check(graph: &Graph) -> Result<String, String> {
    let unknown = LIGHT_CRATES.iter().filter(|c| !graph.contains_key(**c));
    let unknown: Vec<&str> = unknown.copied().collect();
    if !unknown.is_empty() {
        let unknown = unknown.join(", ");
        return Err(format!("device-free crate(s) unknown to cargo: {unknown}"));
    }
    let (reached, chains) = heavy_chains(graph, LIGHT_CRATES);
    let light = LIGHT_CRATES.join(", ");
    if chains.is_empty() {
        let none = "no burn*, ort*, tch or wgpu";
        return Ok(format!("{light} stay light: {none} among {reached} crates"));
    }
    let heavy: Vec<&str> = chains.iter().map(|c| c[c.len() - 1].as_str()).collect();
    let heavy = heavy.join(", ");
    let line = |c: &Vec<String>| format!("\n  {}", c.join(" → "));
    let lines: String = chains.iter().map(line).collect();
    let backends = format!("ML backend crate(s): {heavy}{lines}");
    let message = format!("the device-free crates {light} depend on {backends}");
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        let deps = |deps: &[&str]| deps.iter().map(|d| d.to_string()).collect();
        let edge = |(name, d): &(&str, &[&str])| (name.to_string(), deps(d));
        edges.iter().map(edge).collect()
    }

    #[test]
    fn heavy_crates_are_found_with_who_pulls_them_in() {
        let g = graph(&[
            ("nao-prior", &["libm", "nao-viz"]),
            ("nao-viz", &["image", "burn"]),
            ("image", &["ort-sys"]),
            ("burn", &["burn-core", "wgpu"]),
            ("nao-cli", &["tch"]),
        ]);
        let (reached, chains) = heavy_chains(&g, &["nao-prior"]);
        assert_eq!(reached, 8, "nao-cli and tch are not reached");
        let expected = [
            ["nao-prior", "nao-viz", "burn"].as_slice(),
            &["nao-prior", "nao-viz", "image", "ort-sys"],
        ];
        assert_eq!(chains, expected);
        let e = check(&g).unwrap_err();
        assert!(e.contains("unknown to cargo: nao-geodesic"), "{e}");
    }

    #[test]
    fn light_crates_pass_and_their_names_are_checked() {
        let alone = |c: &&str| (c.to_string(), BTreeSet::new());
        let mut g: Graph = LIGHT_CRATES.iter().map(alone).collect();
        g.get_mut("nao-prior").unwrap().insert("rand_chacha".into());
        let ok = check(&g).unwrap();
        // the light crates and the one dependency
        let among = format!("wgpu among {} crates", LIGHT_CRATES.len() + 1);
        assert!(ok.ends_with(&among), "{ok}");
        g.get_mut("nao-video").unwrap().insert("wgpu".into());
        let e = check(&g).unwrap_err();
        assert!(e.contains("crate(s): wgpu\n  nao-video → wgpu"), "{e}");
    }
}
