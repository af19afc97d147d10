#!/usr/bin/env python3
"""Structure ratchet for the Custos workspace (python3, standard library only).

The compiler keeps the code correct; this keeps its *shape* from drifting. It reads the
non-test Rust sources under crates/*/src (it skips `tests/` and `benches/` directories,
files declared as `#[cfg(test)] mod x;` and inline `#[cfg(test)] mod x { ... }` blocks)
and checks four things:

1. Module cycles inside each crate. Every file is a node; an edge is any intra-crate path
   (`use crate::a::b`, `crate::a::b::f(..)`, `super::..`, `self::..`, child modules, names
   brought in by `use`, and exact-path strings such as `#[serde(with = "crate::x")]`),
   resolved to the longest module prefix that exists. Edges between a file and one of its
   own ancestor or descendant module files are ignored (a `mod.rs` re-exporting its
   children, or a child using its parent, is normal). Strongly connected components with
   more than one file are cycles: files that can only be understood together.
2. Edge layering. Pages (`crates/server/src/<domain>/pages/` or `<domain>/pages.rs`)
   must not reach into REST handler modules (any `crate::..::api` path except the shared
   edge `crate::http::api`), and the CLI must not reach into the server's `api` or `pages`
   modules (except the few items in CLI_ALLOWED). Both edges should go through use cases.
3. File sizes: non-test lines per file; files over MAX_FILE_LINES and the median.
4. Store macros: `macro_rules!` bodies in crates/store/src over MAX_MACRO_LINES lines
   (lines strictly between the opening and the closing delimiter), and their total.

Comments, strings and char literals are blanked before any of this, so paths mentioned in
docs do not count. The checker reads text; it does not expand macros or follow `#[path]`.

Ratchet: scripts/shape-baseline.json holds today's accepted violations. The run fails
when anything got worse (a cycle that is not a subset of a baseline cycle, a new layering
violation, a new or grown oversized file or macro, a median at or over the goal); improvements print a
hint to run `--update-baseline`. `--strict` ignores the baseline and fails on any
violation at all (the goal: no cycles, no layering violations, no file over 600 lines,
median under 300, no macro body over 20 lines). `--self-test` checks the checker on small
synthetic trees.
"""

import argparse
import bisect
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

MAX_FILE_LINES = 600
GOAL_MEDIAN = 300
MAX_MACRO_LINES = 20
SHARED_API = ("http", "api")  # crate::http::api: the API edge every domain shares
CLI_ALLOWED = ("custos_server::http::api::openapi_json",)
BASELINE = Path("scripts/shape-baseline.json")

# ---------------------------------------------------------------------------- lexing

_TOKEN = re.compile(
    r'//|/\*|(?<!\w)[bc]?r(#*)"|"'
    r"|'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|.)|[^\\'\n])'"
)
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.S)
_COMMENT_DELIM = re.compile(r"/\*|\*/")
_PATH_STRING = re.compile(r'"((?:crate|super|self)(?:::\w+)+)"')
_CLOSERS = {"{": re.compile(r"[{}]"), "(": re.compile(r"[()]"), "[": re.compile(r"[\[\]]")}


def blank(s):
    return re.sub(r"[^\n]", " ", s)


def mask(text):
    """Blanks comments, strings and char literals, keeping every offset and newline."""
    out, pos = [], 0
    while (m := _TOKEN.search(text, pos)) is not None:
        start, tok = m.start(), m.group(0)
        if tok == "//":
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
        elif tok == "/*":
            depth, end = 1, start + 2
            while depth and (d := _COMMENT_DELIM.search(text, end)) is not None:
                depth += 1 if d.group(0) == "/*" else -1
                end = d.end()
            end = end if depth == 0 else len(text)
        elif m.group(1) is not None:  # raw string r#"..."#
            close = '"' + m.group(1)
            end = text.find(close, m.end())
            end = len(text) if end < 0 else end + len(close)
        elif tok == '"':
            rest = _STRING_REST.match(text, m.end())
            end = rest.end() if rest else len(text)
        else:  # char literal
            end = m.end()
        lit = text[start:end]
        keep = _PATH_STRING.fullmatch(lit) if tok == '"' else None
        out += [text[pos:start], " " + keep.group(1) + " " if keep else blank(lit)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def close_of(code, open_idx):
    """Offset just past the delimiter matching the one at open_idx."""
    depth = 0
    for m in _CLOSERS[code[open_idx]].finditer(code, open_idx):
        depth += 1 if m.group(0) in "{([" else -1
        if depth == 0:
            return m.end()
    return len(code)


# ---------------------------------------------------------------------------- sources

_TEST_MOD = re.compile(
    r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])"
)
_INLINE_MOD = re.compile(r"(?<!\w)mod\s+(\w+)\s*\{")
_USE = re.compile(r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]*);")
_PATH = re.compile(r"(?<![\w:])\$?([A-Za-z_]\w*)((?:::[A-Za-z_]\w*)+)")
_MACRO = re.compile(r"macro_rules!\s*(\w+)\s*([{(\[])")


class Source:
    """One .rs file: its module path, masked test-free code and non-test line count."""

    def __init__(self, root, crate, src_dir, path):
        self.rel = path.relative_to(root).as_posix()
        self.crate = crate
        parts = list(path.relative_to(src_dir).with_suffix("").parts)
        if parts[-1] == "mod" or parts in (["lib"], ["main"]):
            parts.pop()
        self.module = tuple(parts)
        text = path.read_text(encoding="utf-8", errors="replace")
        code = mask(text)
        self.test_children, test_lines = [], 0
        for m in _TEST_MOD.finditer(code):
            if m.group(2) == ";":
                self.test_children.append(m.group(1))
                continue
            end = close_of(code, m.end() - 1)
            test_lines += code.count("\n", m.start(), end) + 1
            code = code[: m.start()] + blank(code[m.start() : end]) + code[end:]
        self.code = code
        total = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        self.lines = total - test_lines
        self.newlines = [i for i, c in enumerate(code) if c == "\n"]
        self.inline = sorted(  # (start, end, name) of inline modules, outermost first
            (m.start(), close_of(code, m.end() - 1), m.group(1)) for m in _INLINE_MOD.finditer(code)
        )

    def line_of(self, offset):
        return bisect.bisect_right(self.newlines, offset - 1) + 1

    def module_at(self, offset):
        return self.module + tuple(n for s, e, n in self.inline if s <= offset < e)


def load_sources(root):
    sources = []
    for src_dir in sorted((root / "crates").glob("*/src")):
        for path in sorted(src_dir.rglob("*.rs")):
            if {"tests", "benches"} & set(path.relative_to(src_dir).parts[:-1]):
                continue
            sources.append(Source(root, src_dir.parent.name, src_dir, path))
    tests = {(s.crate, s.module + (c,)) for s in sources for c in s.test_children}
    return [
        s for s in sources
        if not any(s.crate == c and s.module[: len(m)] == m for c, m in tests)
    ]


def expand_use(tree):
    """`a::{b, c::{self, d as e}, f::*}` -> [(segments, bound name or None), ...]."""
    toks, out, i = re.findall(r"::|[{},*]|\w+", tree), [], 0

    def subtree(prefix):
        nonlocal i
        segs = list(prefix)
        while i < len(toks) and toks[i] not in (",", "}"):
            t = toks[i]
            i += 1
            if t == "{":
                while i < len(toks) and toks[i] != "}":
                    subtree(segs)
                    i += i < len(toks) and toks[i] == ","
                i += 1
                return
            if t == "*":
                out.append((segs, None))
                return
            if t == "as":
                alias = toks[i] if i < len(toks) else "_"
                i += 1
                out.append(([s for s in segs if s != "self"] or segs, None if alias == "_" else alias))
                return
            if t != "::":
                segs = segs + [t]
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        if segs:
            out.append((segs, segs[-1]))

    subtree([])
    return out


def references(src, modules):
    """Yields (line, kind, path) for every path in src; kind is 'crate' (path relative
    to the crate root) or 'ext' (path starting with another crate's name)."""
    aliases = {}

    def resolve(segs, mod):
        head = segs[0]
        if head == "crate":
            return ("crate", tuple(segs[1:]))
        if head in ("self", "super"):
            cur, k = list(mod), 0
            while k < len(segs) and segs[k] in ("self", "super"):
                if segs[k] == "super":
                    if not cur:
                        return None
                    cur.pop()
                k += 1
            return ("crate", tuple(cur) + tuple(segs[k:]))
        if head in aliases:
            kind, target = aliases[head]
            return (kind, target + tuple(segs[1:]))
        if tuple(mod) + (head,) in modules:
            return ("crate", tuple(mod) + tuple(segs))
        return ("ext", tuple(segs))

    code = src.code
    for m in _USE.finditer(src.code):
        line, mod = src.line_of(m.start(1)), src.module_at(m.start())
        for segs, name in expand_use(m.group(1)):
            if (r := resolve(segs, mod)) is not None:
                yield (line, *r)
                if name:
                    aliases[name] = r
        code = code[: m.start()] + blank(m.group(0)) + code[m.end() :]
    for m in _PATH.finditer(code):
        segs = [m.group(1)] + m.group(2).split("::")[1:]
        if (r := resolve(segs, src.module_at(m.start()))) is not None:
            yield (src.line_of(m.start()), *r)


# ---------------------------------------------------------------------------- checks


def tarjan(nodes, edges):
    """Strongly connected components, iteratively (no recursion limit)."""
    index, low, on_stack, stack, comps, counter = {}, {}, set(), [], [], 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        n = stack.pop()
                        on_stack.discard(n)
                        comp.append(n)
                        if n == node:
                            break
                    comps.append(sorted(comp))
            elif nxt not in index:
                index[nxt] = low[nxt] = counter
                counter += 1
                stack.append(nxt)
                on_stack.add(nxt)
                work.append((nxt, iter(sorted(edges.get(nxt, ())))))
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
    return comps


def is_prefix(a, b):
    return len(a) <= len(b) and b[: len(a)] == a


def layering_violation(src, kind, path):
    if src.crate == "server" and kind == "crate" and len(src.module) >= 2 and src.module[1] == "pages":
        return "api" in path and path[:2] != SHARED_API
    if src.crate == "cli" and kind == "ext" and path[0] == "custos_server":
        text = "::".join(path)
        allowed = any(text == a or text.startswith(a + "::") for a in CLI_ALLOWED)
        return not allowed and bool({"api", "pages"} & set(path[1:]))
    return False


def analyze(root):
    sources = load_sources(root)
    file_mod = {s.rel: s.module for s in sources}
    modules = {}  # crate -> {module path: file}
    for s in sources:
        mods = modules.setdefault(s.crate, {})
        mods.setdefault(s.module, s.rel)
        for start, _, _ in s.inline:
            mods.setdefault(s.module_at(start + 1), s.rel)
    edges, evidence, layering = {}, {}, set()
    for s in sources:
        mods = modules[s.crate]
        for line, kind, path in references(s, mods):
            shown = "::".join(("crate",) + path if kind == "crate" else path)
            if layering_violation(s, kind, path):
                layering.add((s.rel, line, shown))
            if kind != "crate":
                continue
            k = max((k for k in range(len(path) + 1) if path[:k] in mods), default=None)
            target = mods.get(path[:k]) if k is not None else None
            if target is None or target == s.rel:
                continue
            if is_prefix(file_mod[target], s.module) or is_prefix(s.module, file_mod[target]):
                continue
            edges.setdefault(s.rel, set()).add(target)
            evidence.setdefault((s.rel, target), (line, shown))
    cycles = sorted(c for c in tarjan([s.rel for s in sources], edges) if len(c) > 1)
    macros, macro_total, macro_count = {}, 0, 0
    for s in sources:
        if s.crate != "store":
            continue
        for m in _MACRO.finditer(s.code):
            end = close_of(s.code, m.end() - 1)
            body = max(0, s.code.count("\n", m.end() - 1, end - 1) - 1)
            macro_total, macro_count = macro_total + body, macro_count + 1
            if body > MAX_MACRO_LINES:
                macros[f"{s.rel}: {m.group(1)}"] = body
    return {
        "files": len(sources),
        "cycles": cycles,
        "cycle_edges": {
            tuple(c): sorted((a, b, *evidence[a, b]) for a in c for b in edges.get(a, ()) if b in c)
            for c in cycles
        },
        "layering": sorted(layering),
        "large_files": {s.rel: s.lines for s in sources if s.lines > MAX_FILE_LINES},
        "median_lines": statistics.median(s.lines for s in sources) if sources else 0,
        "large_macros": macros,
        "macro_total": macro_total,
        "macro_count": macro_count,
    }


# ---------------------------------------------------------------------------- ratchet


def baseline_of(shape):
    return {
        "cycles": shape["cycles"],
        "layering": sorted({f"{f}: {p}" for f, _, p in shape["layering"]}),
        "large_files": dict(sorted(shape["large_files"].items())),
        "large_macros": dict(sorted(shape["large_macros"].items())),
        "median_lines": shape["median_lines"],
    }


def compare(shape, base):
    """-> (regressions, improvements) of shape against a baseline dict."""
    cur, regs, imps = baseline_of(shape), [], []
    old_cycles = [set(c) for c in base.get("cycles", [])]
    for c in cur["cycles"]:
        if not any(set(c) <= b for b in old_cycles):
            regs.append("new cycle: " + ", ".join(c))
    for b in base.get("cycles", []):
        if sorted(b) not in cur["cycles"]:
            imps.append("cycle shrank or went away: " + ", ".join(b))
    old_layers = set(base.get("layering", []))
    regs += [f"new layering violation: {v}" for v in cur["layering"] if v not in old_layers]
    imps += [f"layering violation fixed: {v}" for v in sorted(old_layers - set(cur["layering"]))]
    for key, what, limit in (("large_files", "file", MAX_FILE_LINES), ("large_macros", "macro", MAX_MACRO_LINES)):
        old, new = base.get(key, {}), cur[key]
        for name, n in new.items():
            if name not in old:
                regs.append(f"new {what} over {limit} lines: {name} ({n})")
            elif n > old[name]:
                regs.append(f"{what} grew: {name} ({old[name]} -> {n})")
        for name, n in old.items():
            if new.get(name, 0) < n:
                imps.append(f"{what} shrank: {name} ({n} -> {new.get(name, f'<= {limit}')})")
    old_median = base.get("median_lines", 0)
    # The median moves a little with every file added; it regresses only past the goal.
    if cur["median_lines"] > old_median and cur["median_lines"] >= GOAL_MEDIAN:
        regs.append(f"median file size rose: {old_median} -> {cur['median_lines']}")
    elif cur["median_lines"] < old_median:
        imps.append(f"median file size fell: {old_median} -> {cur['median_lines']}")
    return regs, imps


def strict_failures(shape):
    fails = ["cycle: " + ", ".join(c) for c in shape["cycles"]]
    fails += [f"layering: {f}:{line} {p}" for f, line, p in shape["layering"]]
    fails += [f"file over {MAX_FILE_LINES} lines: {f} ({n})" for f, n in shape["large_files"].items()]
    fails += [f"macro over {MAX_MACRO_LINES} lines: {k} ({n})" for k, n in shape["large_macros"].items()]
    if shape["median_lines"] >= GOAL_MEDIAN:
        fails.append(f"median {shape['median_lines']} is not under {GOAL_MEDIAN}")
    return fails


def report(shape, elapsed):
    print(f"shape: {shape['files']} non-test files checked in {elapsed:.2f} s")
    print(f"  module cycles:        {len(shape['cycles'])}")
    print(f"  layering violations:  {len(shape['layering'])}")
    print(f"  files > {MAX_FILE_LINES} lines:    {len(shape['large_files'])} (median {shape['median_lines']} lines)")
    print(f"  store macros > {MAX_MACRO_LINES}:    {len(shape['large_macros'])} "
          f"({shape['macro_total']} lines inside {shape['macro_count']} macro bodies)")
    for c in shape["cycles"]:
        print(f"\ncycle of {len(c)} files:")
        for a, b, line, path in shape["cycle_edges"][tuple(c)]:
            print(f"  {a}:{line} -> {b}  ({path})")
    if shape["layering"]:
        print("\nlayering violations:")
        for f, line, p in shape["layering"]:
            print(f"  {f}:{line}  {p}")
    if shape["large_files"]:
        print(f"\nfiles over {MAX_FILE_LINES} non-test lines:")
        for f, n in sorted(shape["large_files"].items(), key=lambda kv: -kv[1]):
            print(f"  {n:5}  {f}")
    if shape["large_macros"]:
        print(f"\nstore macros with bodies over {MAX_MACRO_LINES} lines:")
        for k, n in sorted(shape["large_macros"].items(), key=lambda kv: -kv[1]):
            print(f"  {n:5}  {k}")


# ---------------------------------------------------------------------------- self-test


def self_test():
    lines = lambda n, text="// x\n": text * n  # noqa: E731
    macro = lambda name, n: f"macro_rules! {name} {{\n" + lines(n - 1, "    () => {};\n") + '    ("}") => { \'{\' };\n}\n'  # noqa: E731
    tree = {
        "crates/demo/src/lib.rs": "mod a;\nmod b;\nmod p;\nmod q;\n",
        "crates/demo/src/a.rs": "use crate::b::B;\npub struct A;\n",
        "crates/demo/src/b.rs": "pub struct B;\npub fn f() -> crate::a::A { crate::a::A }\n",
        "crates/demo/src/p/mod.rs": "pub mod c;\npub use c::X;\npub fn g() { let _ = self::c::X; }\n",
        "crates/demo/src/p/c.rs": (
            "use super::g;\npub struct X;\n/// see crate::q::Q\nconst S: &str = \"see crate::q::Q\";\n"
            "#[cfg(test)]\nmod tests {\n    use crate::q::Q;\n}\n"
        ),
        "crates/demo/src/q.rs": "use crate::p::{c::X, g};\npub struct Q;\n#[cfg(test)]\nmod more;\n",
        "crates/demo/src/q/more.rs": "use crate::p::c::X;\n" + lines(700),
        "crates/demo/src/big.rs": lines(601),
        "crates/demo/src/edge.rs": lines(590) + "#[cfg(test)]\nmod tests {\n" + lines(30) + "}\n",
        "crates/demo/tests/huge.rs": lines(900),
        "crates/server/src/lib.rs": "pub mod http;\npub mod incidents;\n",
        "crates/server/src/http/mod.rs": "pub mod api;\n",
        "crates/server/src/http/api.rs": "pub struct PageParams;\npub fn openapi_json() {}\n",
        "crates/server/src/incidents/mod.rs": "pub mod api;\npub mod pages;\n",
        "crates/server/src/incidents/api.rs": "pub fn create() {}\n",
        "crates/server/src/incidents/pages.rs": (
            "use crate::http::api::PageParams;\nuse crate::incidents::{api::create, self};\n"
            "fn f() { super::api::create(); }\n"
        ),
        "crates/cli/src/main.rs": (
            "use custos_server::incidents as inc;\n"
            "fn main() { inc::pages::list(); custos_server::http::api::openapi_json(); }\n"
        ),
        "crates/store/src/lib.rs": macro("long", 21) + macro("short", 20),
    }
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append(f"{what}: got {got!r}, want {want!r}")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in tree.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        shape = analyze(root)
        check("cycles", shape["cycles"], [["crates/demo/src/a.rs", "crates/demo/src/b.rs"]])
        check("layering", shape["layering"], [
            ("crates/cli/src/main.rs", 2, "custos_server::incidents::pages::list"),
            ("crates/server/src/incidents/pages.rs", 2, "crate::incidents::api::create"),
            ("crates/server/src/incidents/pages.rs", 3, "crate::incidents::api::create"),
        ])
        check("large files", shape["large_files"], {"crates/demo/src/big.rs": 601})
        check("large macros", shape["large_macros"], {"crates/store/src/lib.rs: long": 21})
        check("macro total", shape["macro_total"], 41)
        base = baseline_of(shape)
        check("ratchet vs itself", compare(shape, base), ([], []))
        (root / "crates/demo/src/big.rs").write_text(lines(602))
        (root / "crates/demo/src/b.rs").write_text("pub struct B;\n")
        regs, imps = compare(analyze(root), base)
        check("grown file is a regression", regs, ["file grew: crates/demo/src/big.rs (601 -> 602)"])
        check("broken cycle is an improvement", len(imps), 1)
        check("strict", len(strict_failures(shape)), 6)
    for f in failures:
        print("self-test FAILED:", f)
    print("self-test: ok" if not failures else f"self-test: {len(failures)} failures")
    return 1 if failures else 0


# ---------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--update-baseline", action="store_true", help="rewrite the baseline from the tree")
    ap.add_argument("--strict", action="store_true", help="ignore the baseline; fail on any violation")
    ap.add_argument("--self-test", action="store_true", help="check the checker on synthetic trees")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not any((args.root / "crates").glob("*/src")):
        print(f"no crates/*/src under {args.root}")
        return 2
    started = time.monotonic()
    shape = analyze(args.root.resolve())
    report(shape, time.monotonic() - started)
    baseline_path = args.root / BASELINE
    print()
    if args.update_baseline:
        baseline_path.write_text(json.dumps(baseline_of(shape), indent=2) + "\n")
        print(f"baseline written to {BASELINE.as_posix()}")
        regs = []
    elif args.strict:
        regs = strict_failures(shape)
        for r in regs:
            print("  strict:", r)
    else:
        if not baseline_path.exists():
            print(f"no baseline at {BASELINE.as_posix()}; run with --update-baseline")
            return 2
        regs, imps = compare(shape, json.loads(baseline_path.read_text()))
        for r in regs:
            print("  REGRESSION:", r)
        for i in imps:
            print("  improved:", i)
        if imps:
            print("  -> things got better; run with --update-baseline to lock that in")
    print("shape: ok" if not regs else f"shape: {len(regs)} regressions")
    return 1 if regs else 0


if __name__ == "__main__":
    sys.exit(main())
