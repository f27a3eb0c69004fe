//! Module cycles of one crate target: module A depends on module B when A's code names an item
//! of B (`use crate::b::X`, `crate::b::f()`, `super::b::…`, a re-export resolved to where the
//! item is defined). A module and its descendants are one unit: a dependency between two
//! modules counts between the ancestors of theirs that are siblings (`a::x → b::y` is
//! `a → b`), and a module using its own ancestor or descendant is no dependency. A cycle among
//! siblings (`baseline → nao → baseline`) is a tangle: neither can be understood, tested or
//! moved without the other.
//!
//! What makes a dependency: a private `use` (whether or not it is used), a private glob
//! (`use super::*`), and every path in the code that resolves inside the crate, including
//! single names brought in by a re-export. A re-export alone (`pub use a::X`) is none: it
//! only names `X` for others, and paths through it are followed to `a`.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use super::modules::ModuleTree;

/// Why a dependency exists: the first path found for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The file where the path is written.
    pub file: PathBuf,
    /// The path, as written (`crate::nao::Plane::new`).
    pub path: String,
}

/// A cycle of sibling modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The modules, closed (`["baseline", "nao", "baseline"]`).
    pub modules: Vec<String>,
    /// Why each step depends on the next (one entry per arrow).
    pub evidence: Vec<Evidence>,
}

impl Cycle {
    /// `baseline → nao → baseline`.
    pub fn arrows(&self) -> String {
        self.modules.join(" → ")
    }
}

/// The dependencies between sibling modules (lifted as the module doc says), with the first
/// evidence of each.
pub fn dependencies(tree: &ModuleTree) -> BTreeMap<(usize, usize), Evidence> {
    let mut edges = BTreeMap::new();
    for (m, module) in tree.modules.iter().enumerate() {
        let mut add = |path: &[String]| {
            if let Some(target) = tree.resolve(m, path) {
                if let Some(edge) = lift(tree, m, target) {
                    edges.entry(edge).or_insert_with(|| Evidence {
                        file: module.file.clone(),
                        path: path.join("::"),
                    });
                }
            }
        };
        for import in module.imports.values().filter(|i| !i.public) {
            add(&import.path);
        }
        for glob in module.globs.iter().filter(|g| !g.public) {
            add(&glob.path);
        }
        for path in &module.refs {
            // a single name matters only when a `use` of this module brought it in (private
            // ones are counted above); otherwise it is a local, a keyword, a prelude name
            let counts = path.len() > 1
                || module
                    .imports
                    .get(&path[0])
                    .is_some_and(|import| import.public);
            if counts {
                add(path);
            }
        }
    }
    edges
}

/// The dependency `from → to` between the ancestors of both that are siblings, or none when one
/// contains the other.
fn lift(tree: &ModuleTree, from: usize, to: usize) -> Option<(usize, usize)> {
    let a = &tree.modules[from].path;
    let b = &tree.modules[to].path;
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if common == a.len() || common == b.len() {
        return None;
    }
    let ancestor = |path: &[String]| {
        tree.modules
            .iter()
            .position(|m| m.path.as_slice() == &path[..=common])
    };
    Some((ancestor(a)?, ancestor(b)?))
}

/// Every cycle among sibling modules: for each strongly connected group, shortest cycles
/// until each member is on one.
pub fn find_cycles(tree: &ModuleTree) -> Vec<Cycle> {
    let edges = dependencies(tree);
    let mut next: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for &(a, b) in edges.keys() {
        next.entry(a).or_default().insert(b);
    }
    let name = |m: usize| tree.modules[m].name();
    let mut groups = strongly_connected(&next);
    groups.retain(|g| g.len() > 1);
    groups.sort_by_key(|g| g.iter().map(|&m| name(m)).min());
    let mut cycles = Vec::new();
    for group in groups {
        let mut members: Vec<usize> = group.iter().copied().collect();
        members.sort_by_key(|&m| name(m));
        let mut covered = BTreeSet::new();
        for &start in &members {
            if covered.contains(&start) {
                continue;
            }
            let Some(ring) = shortest_cycle(&next, &group, start) else {
                continue;
            };
            covered.extend(ring.iter().copied());
            let evidence = ring
                .windows(2)
                .map(|w| edges[&(w[0], w[1])].clone())
                .collect();
            cycles.push(Cycle {
                modules: ring.iter().map(|&m| name(m)).collect(),
                evidence,
            });
        }
    }
    cycles
}

/// The shortest closed walk `start → … → start` inside `group` (breadth-first).
fn shortest_cycle(
    next: &BTreeMap<usize, BTreeSet<usize>>,
    group: &BTreeSet<usize>,
    start: usize,
) -> Option<Vec<usize>> {
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(m) = queue.pop_front() {
        for &n in next.get(&m).into_iter().flatten() {
            if !group.contains(&n) {
                continue;
            }
            if n == start {
                // back from m to start, then forwards, closed
                let mut ring = vec![m];
                let mut at = m;
                while at != start {
                    at = came_from[&at];
                    ring.push(at);
                }
                ring.reverse();
                ring.push(start);
                return Some(ring);
            }
            if let Entry::Vacant(e) = came_from.entry(n) {
                e.insert(m);
                queue.push_back(n);
            }
        }
    }
    None
}

/// Tarjan's strongly connected components.
fn strongly_connected(next: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<BTreeSet<usize>> {
    struct State<'g> {
        next: &'g BTreeMap<usize, BTreeSet<usize>>,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        groups: Vec<BTreeSet<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let successors: Vec<usize> = s.next.get(&v).into_iter().flatten().copied().collect();
        for w in successors {
            if !s.index.contains_key(&w) {
                visit(s, w);
                let lw = s.low[&w];
                let lv = s.low.get_mut(&v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(&w) {
                let iw = s.index[&w];
                let lv = s.low.get_mut(&v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[&v] == s.index[&v] {
            let mut group = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                group.insert(w);
                if w == v {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let mut s = State {
        next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    let nodes: Vec<usize> = next.keys().copied().collect();
    for v in nodes {
        if !s.index.contains_key(&v) {
            visit(&mut s, v);
        }
    }
    s.groups
}

#[cfg(test)]
mod tests {
    use super::super::modules::in_memory;
    use super::*;

    fn cycles(files: &[(&str, &str)]) -> Vec<String> {
        find_cycles(&in_memory(files).unwrap())
            .iter()
            .map(Cycle::arrows)
            .collect()
    }

    #[test]
    fn a_cycle_through_use_and_inline_paths_is_found() {
        // the shape of nao-geodesic today: baseline names nao's Plane, nao calls baseline
        let tree = in_memory(&[
            ("src/lib.rs", "mod baseline; mod nao; mod frames; pub use frames::Frames;"),
            (
                "src/baseline.rs",
                "use crate::Frames; pub fn angle() -> f64 { let p = crate::nao::Plane::new(); 0.0 }",
            ),
            (
                "src/nao.rs",
                "pub struct Plane; impl Plane { pub fn new() -> Self { Plane } } \
                 fn g() { let t = crate::baseline::angle(); }",
            ),
            ("src/frames.rs", "pub struct Frames;"),
        ])
        .unwrap();
        let found = find_cycles(&tree);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].arrows(), "baseline → nao → baseline");
        assert_eq!(
            found[0].evidence,
            [
                Evidence {
                    file: "src/baseline.rs".into(),
                    path: "crate::nao::Plane::new".into()
                },
                Evidence {
                    file: "src/nao.rs".into(),
                    path: "crate::baseline::angle".into()
                }
            ]
        );
    }

    #[test]
    fn an_acyclic_tree_passes() {
        let files = [
            (
                "src/lib.rs",
                "mod a; mod b; mod c; pub use a::A; pub use b::B; \
                 pub fn top() -> A { c::f(); A }",
            ),
            ("src/a.rs", "use crate::b::B; pub struct A(B);"),
            (
                "src/b.rs",
                "use super::c; pub struct B; fn g() { c::f() } \
                 #[cfg(test)] mod tests { use super::*; fn t() { B; crate::top(); } }",
            ),
            ("src/c.rs", "pub fn f() {}"),
        ];
        assert!(cycles(&files).is_empty(), "{:?}", cycles(&files));
        // the dependencies are there, from the sibling modules on
        let tree = in_memory(&files).unwrap();
        let names: Vec<(String, String)> = dependencies(&tree)
            .keys()
            .map(|&(x, y)| (tree.modules[x].name(), tree.modules[y].name()))
            .collect();
        assert_eq!(
            names,
            [
                ("a".to_string(), "b".to_string()),
                ("b".to_string(), "c".to_string())
            ]
        );
    }

    #[test]
    fn reexports_lead_to_the_defining_module() {
        // `crate::Spacing` is method's; the cycle is nao ↔ method, not through the root
        let found = cycles(&[
            (
                "src/lib.rs",
                "mod method; mod nao; pub use method::Spacing; pub use nao::Nao;",
            ),
            ("src/method.rs", "use crate::Nao; pub enum Spacing { Even }"),
            ("src/nao.rs", "use crate::Spacing; pub struct Nao;"),
        ]);
        assert_eq!(found, ["method → nao → method"]);
    }

    #[test]
    fn deeper_modules_count_between_their_sibling_ancestors() {
        let found = cycles(&[
            ("src/lib.rs", "pub mod geo; pub mod solve;"),
            ("src/geo/mod.rs", "mod plane; pub use plane::Plane;"),
            (
                "src/geo/plane.rs",
                "pub struct Plane; fn f() { crate::solve::run(); }",
            ),
            (
                "src/solve.rs",
                "pub fn run() {} mod inner { fn g() { super::super::geo::Plane; } }",
            ),
        ]);
        assert_eq!(found, ["geo → solve → geo"]);
    }

    #[test]
    fn parents_and_children_are_one_unit() {
        // the parent calls its inline child, the child uses the parent's types: no cycle
        let found = cycles(&[
            ("src/lib.rs", "mod kernel;"),
            (
                "src/kernel.rs",
                "struct Row; fn run() { avx2::go() } \
                 mod avx2 { use super::Row; pub fn go() { let _ = super::Row; } }",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_three_module_ring_and_a_second_cycle_are_both_listed() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b; mod c; mod d;"),
            ("src/a.rs", "fn f() { crate::b::x(); }"),
            ("src/b.rs", "pub fn x() { crate::c::y(); }"),
            (
                "src/c.rs",
                "pub fn y() { crate::a::z(); crate::d::w(); } pub fn v() {}",
            ),
            ("src/d.rs", "pub fn w() { crate::c::v(); }"),
        ]);
        // one cycle per member not yet on one: d is reached last
        assert_eq!(found, ["a → b → c → a", "d → c → d"]);
    }

    #[test]
    fn macros_and_reexported_single_names_count() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b; pub use b::Thing;"),
            (
                "src/a.rs",
                "pub fn f() { println!(\"{:?}\", crate::b::g()); }",
            ),
            // b calls a through a private alias; a prints a value of b inside a macro
            (
                "src/b.rs",
                "use crate::a as helpers; pub struct Thing; pub fn g() { helpers::f(); }",
            ),
        ]);
        assert_eq!(found, ["a → b → a"]);
    }
}
