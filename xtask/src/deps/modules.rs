//! The module tree of one crate target, read from its sources with syn: the modules (`mod`
//! declarations, inline or in files, `#[path]` honoured), what each defines and imports, the
//! paths its code mentions, and where such a path leads.
//!
//! This is name resolution without macro expansion: paths inside macro calls are found as
//! token sequences (`a::b::c`, `$crate::…`), modules made by macros are not seen.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Item, UseTree, Visibility};

use crate::error::{Result, XtaskError};

/// A `use` of a module: the path, and whether it is re-exported (`pub`, `pub(crate)`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The path as written (`crate`, `super`, `self` or a name first).
    pub path: Vec<String>,
    /// Visible outside the module: a re-export, which only names things for others.
    pub public: bool,
}

/// One module.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Its path from the crate root (empty for the root).
    pub path: Vec<String>,
    /// The source file holding it (an inline module's is its parent's).
    pub file: PathBuf,
    /// The enclosing module (none for the root).
    pub parent: Option<usize>,
    /// Child modules by name.
    pub children: BTreeMap<String, usize>,
    /// Names of the other items it defines (functions, types, traits, constants, macros…).
    pub items: BTreeSet<String>,
    /// Names brought in by `use`, with the path they stand for.
    pub imports: BTreeMap<String, Import>,
    /// Glob imports (`use a::*`).
    pub globs: Vec<Import>,
    /// Paths mentioned by its code (outside `use` items): `a::b`, `crate::x::Y`, single names.
    pub refs: Vec<Vec<String>>,
}

impl Module {
    /// `a::b`, or `crate` for the root.
    pub fn name(&self) -> String {
        if self.path.is_empty() {
            "crate".to_string()
        } else {
            self.path.join("::")
        }
    }
}

/// Where a path leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// A module.
    Module(usize),
    /// An item (or an unknown name) defined in this module.
    Item(usize),
}

/// How deep re-exports and globs are followed (real code needs a few levels; invalid code
/// could loop).
const MAX_DEPTH: usize = 16;

/// The modules of one crate target; index 0 is the root.
#[derive(Debug, Clone)]
pub struct ModuleTree {
    /// All modules, parents before children.
    pub modules: Vec<Module>,
}

impl ModuleTree {
    /// Read the target whose root source file is `root_file` from the file system.
    pub fn load(root_file: &Path) -> Result<Self> {
        Self::load_with(root_file, &|p: &Path| std::fs::read_to_string(p))
    }

    /// Read the target through `read` (a file system, or files in memory for tests).
    pub fn load_with(root_file: &Path, read: &dyn Fn(&Path) -> io::Result<String>) -> Result<Self> {
        let mut loader = Loader {
            read,
            modules: vec![Module {
                file: root_file.to_path_buf(),
                ..Module::default()
            }],
        };
        // a crate root owns its folder, like a mod.rs
        let dir = root_file.parent().unwrap_or(Path::new("")).to_path_buf();
        loader.load_file(0, root_file, &dir)?;
        Ok(ModuleTree {
            modules: loader.modules,
        })
    }

    /// The module a path used in module `from` leads to: the module it names, or the module
    /// defining the item it names. `None` for paths outside the crate (other crates, the
    /// prelude, local variables, generic parameters).
    pub fn resolve(&self, from: usize, path: &[String]) -> Option<usize> {
        self.resolve_in(from, path, 0).map(|f| match f {
            Found::Module(m) | Found::Item(m) => m,
        })
    }

    fn resolve_in(&self, from: usize, path: &[String], depth: usize) -> Option<Found> {
        if depth > MAX_DEPTH || path.is_empty() {
            return None;
        }
        let (start, rest) = match path[0].as_str() {
            "crate" | "$crate" => (0, &path[1..]),
            "self" => (from, &path[1..]),
            "super" => {
                let mut at = from;
                let mut i = 0;
                while path.get(i).is_some_and(|s| s == "super") {
                    at = self.modules[at].parent?;
                    i += 1;
                }
                (at, &path[i..])
            }
            "Self" => return None,
            first => match self.lookup(from, first, depth)? {
                Found::Module(m) => (m, &path[1..]),
                item => return Some(item),
            },
        };
        let mut at = start;
        for segment in rest {
            match self.lookup(at, segment, depth) {
                Some(Found::Module(m)) => at = m,
                Some(item) => return Some(item),
                // a name the sources do not show (made by a macro, an enum variant…): it lives
                // in the module reached so far
                None => return Some(Found::Item(at)),
            }
        }
        Some(Found::Module(at))
    }

    /// What `name` means in module `m`: a child, an item, an import, or a name of a glob.
    fn lookup(&self, m: usize, name: &str, depth: usize) -> Option<Found> {
        let module = &self.modules[m];
        if let Some(&child) = module.children.get(name) {
            return Some(Found::Module(child));
        }
        if module.items.contains(name) {
            return Some(Found::Item(m));
        }
        if let Some(import) = module.imports.get(name) {
            return self.resolve_in(m, &import.path, depth + 1);
        }
        for glob in &module.globs {
            if let Some(Found::Module(source)) = self.resolve_in(m, &glob.path, depth + 1) {
                if source != m {
                    if let Some(found) = self.lookup(source, name, depth + 1) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }
}

struct Loader<'r> {
    read: &'r dyn Fn(&Path) -> io::Result<String>,
    modules: Vec<Module>,
}

impl Loader<'_> {
    /// Parse `file` as module `id`, whose file-module children live in `child_dir`.
    fn load_file(&mut self, id: usize, file: &Path, child_dir: &Path) -> Result<()> {
        let source = (self.read)(file).map_err(|e| XtaskError::io(file, e))?;
        let ast = syn::parse_file(&source).map_err(|e| XtaskError::Parse {
            path: file.to_path_buf(),
            message: format!("not parsable as Rust: {e}"),
        })?;
        let path_base = file.parent().unwrap_or(Path::new("")).to_path_buf();
        self.add_items(id, &ast.items, file, child_dir, &path_base)
    }

    /// Record `items` in module `id`. `child_dir`: where `mod x;` looks for `x.rs`;
    /// `path_base`: what `#[path]` is relative to.
    fn add_items(
        &mut self,
        id: usize,
        items: &[Item],
        file: &Path,
        child_dir: &Path,
        path_base: &Path,
    ) -> Result<()> {
        for item in items {
            match item {
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let child = self.modules.len();
                    let mut path = self.modules[id].path.clone();
                    path.push(name.clone());
                    self.modules.push(Module {
                        path,
                        file: file.to_path_buf(),
                        parent: Some(id),
                        ..Module::default()
                    });
                    self.modules[id].children.insert(name.clone(), child);
                    match &m.content {
                        Some((_, inner)) => {
                            let dir = child_dir.join(&name);
                            self.add_items(child, inner, file, &dir, &dir)?;
                        }
                        None => {
                            let (child_file, its_dir) =
                                self.module_file(&m.attrs, &name, file, child_dir, path_base)?;
                            self.modules[child].file = child_file.clone();
                            self.load_file(child, &child_file, &its_dir)?;
                        }
                    }
                }
                Item::Use(u) => {
                    if u.leading_colon.is_none() {
                        let public = !matches!(u.vis, Visibility::Inherited);
                        add_use(&mut self.modules[id], &u.tree, Vec::new(), public);
                    }
                }
                other => {
                    if let Some(name) = item_name(other) {
                        self.modules[id].items.insert(name);
                    }
                    if let Item::ForeignMod(f) = other {
                        for inner in &f.items {
                            match inner {
                                syn::ForeignItem::Fn(x) => {
                                    self.modules[id].items.insert(x.sig.ident.to_string());
                                }
                                syn::ForeignItem::Static(x) => {
                                    self.modules[id].items.insert(x.ident.to_string());
                                }
                                syn::ForeignItem::Type(x) => {
                                    self.modules[id].items.insert(x.ident.to_string());
                                }
                                _ => {}
                            }
                        }
                    }
                    scan_paths(other.to_token_stream(), &mut self.modules[id].refs);
                }
            }
        }
        Ok(())
    }

    /// The file of `mod name;` and the folder its own `mod` declarations look in.
    fn module_file(
        &self,
        attrs: &[syn::Attribute],
        name: &str,
        declared_in: &Path,
        child_dir: &Path,
        path_base: &Path,
    ) -> Result<(PathBuf, PathBuf)> {
        let explicit = attrs.iter().find_map(|a| {
            if !a.path().is_ident("path") {
                return None;
            }
            match &a.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            }
        });
        if let Some(p) = explicit {
            // a file named by #[path] owns its folder, like a mod.rs
            let file = path_base.join(p);
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            return Ok((file, dir));
        }
        let flat = child_dir.join(format!("{name}.rs"));
        let nested = child_dir.join(name).join("mod.rs");
        for (file, dir) in [
            (flat.clone(), child_dir.join(name)),
            (nested.clone(), child_dir.join(name)),
        ] {
            match (self.read)(&file) {
                Ok(_) => return Ok((file, dir)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(XtaskError::io(&file, e)),
            }
        }
        Err(XtaskError::Parse {
            path: declared_in.to_path_buf(),
            message: format!(
                "declares `mod {name};` but neither {} nor {} exists",
                flat.display(),
                nested.display()
            ),
        })
    }
}

/// The name an item defines in its module's namespace, if any.
fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(x) => &x.ident,
        Item::Enum(x) => &x.ident,
        Item::ExternCrate(x) => x.rename.as_ref().map(|(_, r)| r).unwrap_or(&x.ident),
        Item::Fn(x) => &x.sig.ident,
        Item::Macro(x) => x.ident.as_ref()?,
        Item::Static(x) => &x.ident,
        Item::Struct(x) => &x.ident,
        Item::Trait(x) => &x.ident,
        Item::TraitAlias(x) => &x.ident,
        Item::Type(x) => &x.ident,
        Item::Union(x) => &x.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// Record a `use` tree in `module`.
fn add_use(module: &mut Module, tree: &UseTree, prefix: Vec<String>, public: bool) {
    let join = |last: &syn::Ident| {
        let mut p = prefix.clone();
        if last != "self" {
            p.push(last.to_string());
        }
        p
    };
    match tree {
        UseTree::Path(p) => {
            let mut next = prefix.clone();
            next.push(p.ident.to_string());
            add_use(module, &p.tree, next, public);
        }
        UseTree::Name(n) => {
            let path = join(&n.ident);
            if let Some(name) = path.last().cloned() {
                module.imports.insert(name, Import { path, public });
            }
        }
        UseTree::Rename(r) => {
            let path = join(&r.ident);
            if r.rename == "_" {
                // `use x::Trait as _`: brings no name, still uses x
                module.refs.push(path);
            } else {
                module
                    .imports
                    .insert(r.rename.to_string(), Import { path, public });
            }
        }
        UseTree::Glob(_) => module.globs.push(Import {
            path: prefix,
            public,
        }),
        UseTree::Group(g) => {
            for t in &g.items {
                add_use(module, t, prefix.clone(), public);
            }
        }
    }
}

/// Every path in `tree` (for a `use` inside a function body: each leaf is a reference).
fn use_leaves(tree: &UseTree, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        UseTree::Path(p) => {
            let mut next = prefix;
            next.push(p.ident.to_string());
            use_leaves(&p.tree, next, out);
        }
        UseTree::Name(syn::UseName { ident }) | UseTree::Rename(syn::UseRename { ident, .. }) => {
            let mut p = prefix;
            if ident != "self" {
                p.push(ident.to_string());
            }
            out.push(p);
        }
        UseTree::Glob(_) => out.push(prefix),
        UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix.clone(), out);
            }
        }
    }
}

/// Whether tokens `i` and `i + 1` are `::`.
fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(
        (tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

/// Collect the paths in a token stream: maximal `a::b::c` chains (a leading `$crate` counts
/// as `crate`; a chain after `::` or `.` is skipped: another crate's path, a field or a method),
/// single names, and the leaves of `use` statements inside bodies; into groups recursively.
pub fn scan_paths(stream: TokenStream, out: &mut Vec<Vec<String>>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(g) => {
                scan_paths(g.stream(), out);
                i += 1;
            }
            TokenTree::Ident(id) if id == "use" => {
                // `use …;` inside a body: parse it whole
                let end = (i..tokens.len())
                    .find(|&j| matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == ';'));
                let parsed = end.and_then(|end| {
                    syn::parse2::<syn::ItemUse>(tokens[i..=end].iter().cloned().collect())
                        .ok()
                        .map(|u| (u, end))
                });
                match parsed {
                    Some((u, end)) => {
                        if u.leading_colon.is_none() {
                            use_leaves(&u.tree, Vec::new(), out);
                        }
                        i = end + 1;
                    }
                    None => i += 1,
                }
            }
            TokenTree::Ident(id) => {
                let after_sep = i >= 2 && is_path_sep(&tokens, i - 2);
                let after_dot =
                    i >= 1 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
                let dollar = i >= 1
                    && id == "crate"
                    && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
                let mut chain = vec![if dollar {
                    "$crate".to_string()
                } else {
                    id.to_string()
                }];
                let mut j = i + 1;
                while is_path_sep(&tokens, j) {
                    match tokens.get(j + 2) {
                        Some(TokenTree::Ident(next)) => {
                            chain.push(next.to_string());
                            j += 3;
                        }
                        _ => break,
                    }
                }
                if !after_sep && !after_dot {
                    out.push(chain);
                }
                i = j;
            }
            _ => i += 1,
        }
    }
}

/// A crate whose files are `(path, source)` pairs, rooted at `src/lib.rs`: for tests.
#[cfg(test)]
pub fn in_memory(files: &[(&str, &str)]) -> Result<ModuleTree> {
    let files: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(p, s)| (PathBuf::from(p), s.to_string()))
        .collect();
    ModuleTree::load_with(Path::new("src/lib.rs"), &move |p: &Path| {
        files
            .get(p)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn paths(src: &str) -> Vec<String> {
        let mut out = Vec::new();
        scan_paths(TokenStream::from_str(src).unwrap(), &mut out);
        out.into_iter().map(|p| p.join("::")).collect()
    }

    #[test]
    fn token_scan_finds_paths_in_code_and_macros() {
        let found = paths(
            "fn f() { let x = crate::nao::Plane::new(a.b, self.c); \
             assert!(super::g(::ext::y)); \
             m!($crate::inner::z); \
             use crate::{a::B, c::*}; \
             Vec::<u8>::new(); }",
        );
        for p in [
            "crate::nao::Plane::new",
            "super::g",
            "$crate::inner::z",
            "crate::a::B",
            "crate::c",
            "Vec",
        ] {
            assert!(found.contains(&p.to_string()), "{p} not in {found:?}");
        }
        // fields, methods and other crates' absolute paths are not module paths
        for p in ["b", "c", "ext::y", "y", "new"] {
            assert!(!found.contains(&p.to_string()), "{p} in {found:?}");
        }
    }

    fn tree(files: &[(&str, &str)]) -> Result<ModuleTree> {
        in_memory(files)
    }

    fn id(t: &ModuleTree, name: &str) -> usize {
        t.modules
            .iter()
            .position(|m| m.name() == name)
            .unwrap_or_else(|| panic!("no module {name}"))
    }

    #[test]
    fn modules_are_found_where_rust_looks() {
        let t = tree(&[
            (
                "src/lib.rs",
                "mod a; pub mod b; #[path = \"other/c_impl.rs\"] mod c; mod d { mod e; }",
            ),
            ("src/a.rs", "mod inner;"),
            ("src/a/inner.rs", "pub fn f() {}"),
            ("src/b/mod.rs", "mod x;"),
            ("src/b/x.rs", ""),
            ("src/other/c_impl.rs", "mod y;"),
            ("src/other/y.rs", ""),
            ("src/d/e.rs", ""),
        ])
        .unwrap();
        let names: Vec<String> = t.modules.iter().map(Module::name).collect();
        assert_eq!(
            names,
            ["crate", "a", "a::inner", "b", "b::x", "c", "c::y", "d", "d::e"]
        );
        assert_eq!(
            t.modules[id(&t, "c::y")].file,
            PathBuf::from("src/other/y.rs")
        );
        assert_eq!(t.modules[id(&t, "d")].file, PathBuf::from("src/lib.rs"));
        let e = tree(&[("src/lib.rs", "mod gone;")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("src/lib.rs") && e.contains("src/gone.rs") && e.contains("src/gone/mod.rs"),
            "{e}"
        );
        let e = tree(&[("src/lib.rs", "fn (")]).unwrap_err().to_string();
        assert!(e.starts_with("src/lib.rs: not parsable"), "{e}");
    }

    #[test]
    fn paths_resolve_through_reexports_globs_and_super() {
        let t = tree(&[
            (
                "src/lib.rs",
                "mod error; mod geo; mod util; pub use error::Error; pub use geo::*; \
                 use util as helpers;",
            ),
            ("src/error.rs", "pub struct Error;"),
            (
                "src/geo.rs",
                "pub struct Plane; mod tests { use super::*; fn t() { Plane; } }",
            ),
            ("src/util.rs", "pub fn f() {} pub enum Kind { A }"),
        ])
        .unwrap();
        let root = 0;
        let p = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
        let util = id(&t, "util");
        assert_eq!(t.resolve(root, &p("crate::Error")), Some(id(&t, "error")));
        assert_eq!(t.resolve(root, &p("crate::Plane")), Some(id(&t, "geo")));
        assert_eq!(t.resolve(root, &p("helpers::f")), Some(util));
        assert_eq!(t.resolve(root, &p("util::Kind::A")), Some(util));
        let tests = id(&t, "geo::tests");
        assert_eq!(t.resolve(tests, &p("super::super::util")), Some(util));
        assert_eq!(t.resolve(tests, &p("Plane")), Some(id(&t, "geo")));
        assert_eq!(t.resolve(tests, &p("std::fmt")), None);
        assert_eq!(t.resolve(root, &p("super::x")), None);
    }
}
