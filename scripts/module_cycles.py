#!/usr/bin/env python3
"""Module import cycles inside Rust crates.

For each crate directory given (default: the geometry crates), every source file under src/ is
a module; an edge A -> B is drawn when A names an item of B through `crate::` or `super::`
(in `use` lines and inline paths). Names re-exported by a parent module (`pub use x::Item`) are
followed to the module that defines them. Re-exports themselves (`pub use`) and `mod` lines are
not dependencies. Unit-test modules (`mod tests` at the end of a file) are ignored.

Prints the edges and every cycle (strongly connected component with more than one module);
exits 1 when there is one.

    python3 scripts/module_cycles.py crates/nao-geodesic crates/nao-centroid
"""

import os
import re
import sys

DEFAULT = ["crates/nao-prior", "crates/nao-optim", "crates/nao-geodesic", "crates/nao-centroid"]


def module_path(src, file):
    rel = os.path.relpath(file, src)[:-3].split(os.sep)
    if rel[-1] in ("lib", "mod"):
        rel = rel[:-1]
    return tuple(rel)


def strip_tests(text):
    m = re.search(r"^#\[cfg\(test\)\]\s*\nmod tests", text, re.M)
    return text[: m.start()] if m else text


def use_trees(text):
    """The `use` statements (without `pub use` re-exports), flattened to paths."""
    out = []
    for m in re.finditer(r"^\s*(pub(\([^)]*\))?\s+)?use\s+([^;]+);", text, re.M):
        if m.group(1) and not m.group(2):
            continue  # `pub use`: a re-export
        out.extend(expand(m.group(3).replace("\n", " ").replace(" ", "")))
    return out


def expand(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    i = tree.find("{")
    if i < 0:
        return [tree.split(" as ")[0]]
    head, body = tree[:i], tree[i + 1 : tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    return [p for part in parts if part for p in expand(head + part)]


def reexports(text):
    """`pub use a::b::{C, D}` in a module: name -> path."""
    out = {}
    for m in re.finditer(r"^\s*pub\s+use\s+([^;]+);", text, re.M):
        for p in expand(m.group(1).replace("\n", " ").replace(" ", "")):
            out[p.split("::")[-1]] = p
    return out


def resolve(mods, reexp, here, path):
    """The module a path (starting with crate:: or super::) names an item of."""
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    elif segs[0] == "super":
        base = here[:-1]
        segs = segs[1:]
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        base, segs = here, segs[1:]
    else:
        return None
    cur = base
    for k, s in enumerate(segs):
        if cur + (s,) in mods:
            cur = cur + (s,)
            continue
        if s in reexp.get(cur, {}) and k == len(segs) - 1:
            target = reexp[cur][s]
            if target.startswith(("crate::", "super::", "self::")):
                return resolve(mods, reexp, cur + ("_",), target.replace("self::", "super::", 1))
            first = target.split("::")[0]
            if cur + (first,) in mods:
                return resolve(mods, reexp, cur + ("_",), "super::" + target)
        break
    return cur


def crate_graph(crate):
    src = os.path.join(crate, "src")
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            if n.endswith(".rs"):
                f = os.path.join(root, n)
                files[module_path(src, f)] = strip_tests(open(f, encoding="utf-8").read())
    mods = set(files)
    reexp = {m: reexports(t) for m, t in files.items()}
    edges = set()
    for m, text in files.items():
        paths = use_trees(text)
        code = re.sub(r"^\s*(pub\s+)?use\s+[^;]+;", "", text, flags=re.M)
        code = re.sub(r"//[^\n]*", "", code)
        paths += re.findall(r"\b(?:crate|super)(?:::\w+)+", code)
        # Paths relative to this module: `child::item` names a child module.
        for c in (c for c in mods if len(c) == len(m) + 1 and c[: len(m)] == m):
            for rest in re.findall(r"(?<![:\w])" + c[-1] + r"((?:::\w+)+)", code):
                paths.append("self::" + c[-1] + rest)
        for p in paths:
            t = resolve(mods, reexp, m, p)
            if t is not None and t != m:
                edges.add((m, t))
    return mods, edges


def cycles(mods, edges):
    adj = {m: [b for a, b in edges if a == m] for m in mods}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for m in sorted(mods):
        if m not in index:
            strong(m)
    return out


def name(m):
    return "::".join(m) or "(root)"


def main():
    crates = sys.argv[1:] or DEFAULT
    bad = False
    for crate in crates:
        mods, edges = crate_graph(crate)
        found = cycles(mods, edges)
        print(f"{crate}: {len(mods)} modules, {len(edges)} edges, {len(found)} cycles")
        for a, b in sorted(edges):
            print(f"  {name(a)} -> {name(b)}")
        for c in found:
            bad = True
            print("  CYCLE: " + " <-> ".join(name(m) for m in sorted(c)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
