#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Repository self-check, TAP output (run by `make check` as the "repo" suite).

1. No doc or comment points at a file that does not exist: docs/*.md,
   README.md, Makefile and every file under src/, include/, bpf/, tests/,
   tools/ and packaging/ are scanned for repository paths (docs/output.md,
   src/core/engine.c, include/dmabuf_audit/event.h, ../x), Markdown links
   ((x.md), [t](path)) and bare document names (interface.md).  A path is
   resolved against the repository root and against the citing file's
   folder; nothing may point outside the repository (../shared).
2. No C function outside tests/ is longer than 100 lines (docs/design.md:
   small functions), counted from the line that names it to its closing brace.
3. The layering of src/ (docs/design.md "Commands"): nothing in src/core,
   src/service or src/live includes a header of src/cmd or calls a function
   src/cmd defines, and no source or header under src/ and include/ reaches
   itself again through its quoted includes (no include cycle); the
   engine's private headers (src/core/engine_*.h) are included by the
   engine's files (src/core/engine.c, src/core/engine_*.c) alone.
4. No call cycle between the source files of src/: from the objects the
   Makefile built (`nm`: what each object defines and what it needs), no
   two files that call each other, directly or around a loop.  An object
   that is missing or older than its source is a failure (build first).

Each check first proves it can fail: it runs on a small planted tree with a
bad reference / a long function / a call cycle (compiled here with cc) and
must report exactly those.

    tests/repo/check.py [REPO [OBJDIR]]

OBJDIR holds the objects of src/ as the Makefile builds them
(OBJDIR/core/engine.o for src/core/engine.c; default REPO/build/obj).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_FUNCTION_LINES = 100
# the folders under src/ that the commands (src/cmd) use and that never use them
BELOW_CMD = ("core", "service", "live")
# where a quoted include is looked for besides the including file's folder (the Makefile's -I)
INCLUDE_DIRS = ("include",)
QUOTED_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
SCANNED_DIRS = ("src", "include", "bpf", "tests", "tools", "packaging")
SCANNED_TOP_FILES = ("README.md", "Makefile")
# the top-level folders whose paths are this repository's (others are the kernel's, the system's)
REPO_TOP = ("docs", "src", "include", "bpf", "tests", "tools", "packaging")
TEXT_SUFFIXES = (".c", ".h", ".py", ".sh", ".md", "Makefile", "Kbuild", ".json", "init",
                 "policy", "dat-reload", ".clang-format", ".service", ".yaml", ".yml", ".bash",
                 ".catalog")

# a path with at least one slash and a file name with an extension, or a ../ path
PATH_RE = re.compile(r"(?<![\w/.~$<-])((?:\.\./)+[\w.-]+(?:/[\w.-]+)*|"
                     r"(?:[\w-]+/)+[\w-]+(?:\.[\w-]+)+)")
MD_LINK_RE = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
BARE_MD_RE = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")
# the workplace's shared folder or machine paths: never part of the repository
OUTSIDE_RE = re.compile(r"(?:\.\./)+shared\b[\w./-]*|/work/[\w./-]*")
SYSTEM_INCLUDE_RE = re.compile(r"#\s*include\s*<[^>]*>")
URL_RE = re.compile(r"\b[a-z]+://\S+")


# this checker's own planted examples are not references
SELF = os.path.join("tests", "repo")
# NAME, FILE…: a placeholder in a path template (tests/vm/expect/NAME.json)
PLACEHOLDER_RE = re.compile(r"^[A-Z][A-Z_]*(\.[\w.]+)?$")
NOT_PLACEHOLDERS = ("README.md", "Makefile", "Kbuild", "LICENSE", "COPYING")


def scanned_files(repo):
    docs = os.path.join(repo, "docs")
    if os.path.isdir(docs):
        for name in sorted(os.listdir(docs)):
            if name.endswith(".md"):
                yield os.path.join("docs", name)
    for name in SCANNED_TOP_FILES:
        if os.path.isfile(os.path.join(repo, name)):
            yield name
    for top in SCANNED_DIRS:
        for root, dirs, files in os.walk(os.path.join(repo, top)):
            dirs.sort()
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(root, name), repo)
                if name.endswith(TEXT_SUFFIXES) and not rel.startswith(SELF + os.sep):
                    yield rel


def exists(repo, citing, path):
    """path resolved against the repository root or the citing file's folder, inside the repo"""
    real_repo = os.path.realpath(repo)
    for base in (repo, os.path.join(repo, os.path.dirname(citing))):
        full = os.path.realpath(os.path.join(base, path))
        if (full == real_repo or full.startswith(real_repo + os.sep)) and os.path.exists(full):
            return True
    return False


def is_repo_path(repo, path):
    """a path that names something in this repository (not the kernel's include/linux/…)"""
    if path.startswith("../") or path.startswith("./"):
        return True
    parts = path.split("/")
    if parts[0] not in REPO_TOP:
        return False
    if any(PLACEHOLDER_RE.match(p) and p not in NOT_PLACEHOLDERS for p in parts):
        return False
    # include/linux/dma-buf.h, tools/testing/selftests/…: the kernel's, not a folder of ours
    return len(parts) == 2 or os.path.isdir(os.path.join(repo, *parts[:-1]))


def references(repo, rel):
    """(line number, path) of every repository path the file cites"""
    with open(os.path.join(repo, rel), encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        line = URL_RE.sub(" ", SYSTEM_INCLUDE_RE.sub(" ", line))
        found = set()
        for m in MD_LINK_RE.finditer(line):
            found.add(m.group(1))
        for m in PATH_RE.finditer(line):
            path = m.group(1).rstrip(".")
            if is_repo_path(repo, path):
                found.add(path)
        for m in BARE_MD_RE.finditer(line):
            found.add(m.group(1))
        for m in OUTSIDE_RE.finditer(line):
            found.add(m.group(0).rstrip("."))
        for path in sorted(found):
            yield n, path


def missing_references(repo):
    bad = []
    for rel in scanned_files(repo):
        for n, path in references(repo, rel):
            if OUTSIDE_RE.search(path):
                bad.append(f"{rel}:{n}: points outside the repository: {path}")
            elif path.endswith(".md") and "/" not in path:
                # a bare document name: next to the citing file or at the root
                if not exists(repo, rel, path):
                    bad.append(f"{rel}:{n}: no such document: {path}")
            elif not exists(repo, rel, path):
                bad.append(f"{rel}:{n}: no such file: {path}")
    return bad


# a definition starts at column 0 with a name and "(", not a declaration, macro or statement
FUNC_START_RE = re.compile(r"^(?!static_assert|_Static_assert|typedef|struct\s+\w+\s*\{|"
                           r"enum|union|#|\s|/|\*|extern)[\w][\w\s\*,()]*\b(\w+)\s*\(")


def long_functions(repo, limit=MAX_FUNCTION_LINES):
    """(file, name, message) of every function over the limit in src/, include/, bpf/"""
    bad = []
    for top in ("src", "include", "bpf"):
        for root, dirs, files in os.walk(os.path.join(repo, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(root, name), repo)
                    bad += long_functions_in(repo, rel, limit)
    return bad


def functions_in(repo, rel):
    """(first line, name, length) of each function definition (kernel style: braces at column 0)"""
    with open(os.path.join(repo, rel), encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    start = name = None
    in_body = False
    for n, line in enumerate(lines, 1):
        if start is None:
            m = FUNC_START_RE.match(line)
            if m:
                start, name, in_body = n, m.group(1), False
            if m and line.rstrip().endswith(";"):
                start = None  # a one-line prototype
            continue
        if not in_body:
            if line.startswith("{"):
                in_body = True
            elif line.rstrip().endswith(";") or not line.strip():
                start = None  # a prototype over several lines, or not a function at all
            continue
        if line.startswith("}"):
            yield start, name, n - start + 1
            start = None


def long_functions_in(repo, rel, limit):
    return [(rel, name, f"{rel}:{start}: {name}() is {length} lines (at most {limit})")
            for start, name, length in functions_in(repo, rel) if length > limit]


def c_files(repo, tops):
    for top in tops:
        for root, dirs, files in os.walk(os.path.join(repo, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(root, name), repo)


def read(repo, rel):
    with open(os.path.join(repo, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def quoted_includes(repo, rel):
    """the repository files rel includes with #include "x", resolved as the compiler does"""
    for name in QUOTED_INCLUDE_RE.findall(read(repo, rel)):
        for base in (os.path.dirname(rel),) + INCLUDE_DIRS:
            path = os.path.normpath(os.path.join(base, name))
            if os.path.isfile(os.path.join(repo, path)):
                yield path
                break


def include_cycles(repo):
    """every include cycle among the files under src/ and include/, once, from its first file"""
    graph = {rel: sorted(set(quoted_includes(repo, rel))) for rel in c_files(repo, ("src", "include"))}
    cycles, done = [], set()

    def walk(node, path):
        for nxt in graph.get(node, ()):
            if nxt in path:
                cycle = path[path.index(nxt):]
                first = cycle.index(min(cycle))
                cycle = cycle[first:] + cycle[:first]
                if cycle not in cycles:
                    cycles.append(cycle)
            elif nxt not in done:
                walk(nxt, path + [nxt])
        done.add(node)

    for rel in sorted(graph):
        if rel not in done:
            walk(rel, [rel])
    return [f"include cycle: {' -> '.join(c + [c[0]])}" for c in sorted(cycles)]


def uses_of_cmd(repo):
    """files below the commands that include a header of src/cmd or call a function it defines"""
    cmd = os.path.join("src", "cmd")
    defined = sorted({name for rel in c_files(repo, (cmd,))
                      for start, name, length in functions_in(repo, rel)
                      if not read(repo, rel).split("\n")[start - 1].startswith("static")})
    call_re = re.compile(r"\b(" + "|".join(map(re.escape, defined)) + r")\s*\(") if defined else None
    bad = []
    for rel in c_files(repo, [os.path.join("src", d) for d in BELOW_CMD]):
        for inc in sorted(set(quoted_includes(repo, rel))):
            if inc.startswith(cmd + os.sep):
                bad.append(f"{rel}: includes {inc}")
        for n, line in enumerate(read(repo, rel).split("\n"), 1):
            m = call_re.search(line) if call_re else None
            if m:
                bad.append(f"{rel}:{n}: calls {m.group(1)}() of {cmd}/")
    return bad


def object_symbols(obj):
    """(defined, needed): the global symbols the object defines and the ones it leaves undefined"""
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "U":
            needed.add(fields[1])
        elif len(fields) == 3 and fields[1] in "TDBRVW":
            defined.add(fields[2])
    return defined, needed


def call_graph(repo, objdir):
    """{source: {source it calls: [symbols]}} from the objects, and the problems finding them"""
    problems, symbols = [], {}
    for rel in c_files(repo, ("src",)):
        if not rel.endswith(".c"):
            continue
        obj = os.path.join(objdir, os.path.relpath(rel, "src")[:-2] + ".o")
        if not os.path.isfile(obj) or os.path.getmtime(obj) < os.path.getmtime(os.path.join(repo, rel)):
            problems.append(f"{obj}: missing or older than {rel} (build first: make)")
            continue
        symbols[rel] = object_symbols(obj)
    owner = {name: rel for rel, (defined, _) in symbols.items() for name in defined}
    graph = {}
    for rel, (_, needed) in symbols.items():
        graph[rel] = {}
        for name in sorted(needed):
            callee = owner.get(name)
            if callee and callee != rel:
                graph[rel].setdefault(callee, []).append(name)
    return graph, problems


def strongly_connected(graph):
    """the groups of nodes that reach each other (Tarjan), each sorted, of two nodes or more"""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def call_cycles(repo, objdir):
    """every group of source files under src/ that call each other around a loop, with the calls"""
    graph, problems = call_graph(repo, objdir)
    for group in strongly_connected(graph):
        calls = [f"{a} -> {b} ({', '.join(graph[a][b])})" for a in group for b in sorted(graph[a])
                 if b in group]
        problems.append(f"call cycle among {', '.join(group)}: " + "; ".join(calls))
    return problems


def planted_calls():
    """a planted src/ of three files, two calling each other, compiled: (tree, its objects)"""
    d = tempfile.mkdtemp(prefix="repo-check-calls-")
    planted = {
        "src/core/p.c": "int q_fn(void);\nint p_fn(void)\n{\n\treturn q_fn();\n}\n",
        "src/core/q.c": "int p_fn(void);\nint q_fn(void)\n{\n\treturn 1;\n}\n\n"
                        "int q_again(void)\n{\n\treturn p_fn();\n}\n",
        "src/service/r.c": "int p_fn(void);\nint r_fn(void)\n{\n\treturn p_fn();\n}\n",
    }
    for rel, text in planted.items():
        obj = os.path.join(d, "obj", os.path.relpath(rel, "src")[:-2] + ".o")
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            f.write(text)
        subprocess.run([os.environ.get("CC", "cc"), "-c", "-o", obj, os.path.join(d, rel)],
                       check=True)
    return d, os.path.join(d, "obj")


ENGINE_FILE_RE = re.compile(r"^src/core/engine(_\w+)?\.[ch]$")
ENGINE_PRIVATE_RE = re.compile(r"^src/core/engine_\w+\.h$")


def uses_of_engine_internals(repo):
    """files outside the engine that include one of its private headers"""
    bad = []
    for rel in c_files(repo, ("src", "include")):
        if ENGINE_FILE_RE.match(rel):
            continue
        for inc in sorted(set(quoted_includes(repo, rel))):
            if ENGINE_PRIVATE_RE.match(inc):
                bad.append(f"{rel}: includes {inc}, the engine's own")
    return bad


HOOK_SEC_RE = re.compile(r'^SEC\("(fentry|fexit|kprobe|kretprobe)"\)')


def unguarded_hooks(repo):
    """hook programs of bpf/ whose body does not open with DA_MIRROR_GUARD():
    under make bench-live's mirror they would still run (bpf/common.bpf.h)"""
    bad = []
    bpf = os.path.join(repo, "bpf")
    for name in sorted(os.listdir(bpf)) if os.path.isdir(bpf) else ():
        if not name.endswith(".bpf.c"):
            continue
        lines = read(repo, "bpf/" + name).split("\n")
        for i, line in enumerate(lines):
            if not HOOK_SEC_RE.match(line):
                continue
            body = next((j for j in range(i + 1, len(lines)) if lines[j] == "{"), len(lines) - 1)
            if body + 1 >= len(lines) or lines[body + 1].strip() != "DA_MIRROR_GUARD();":
                bad.append(f"bpf/{name}:{i + 1}: a hook program without DA_MIRROR_GUARD() first")
    return bad


def planted_tree():
    """a small repository with one bad reference of each kind and one long function"""
    d = tempfile.mkdtemp(prefix="repo-check-")
    os.makedirs(os.path.join(d, "docs"))
    os.makedirs(os.path.join(d, "src", "core"))
    with open(os.path.join(d, "docs", "a.md"), "w") as f:
        f.write("See [b](b.md) and docs/a.md, then interface.md and ../shared/notes.md.\n"
                "Rules: rules.md; design: /work/shared/design/testing.md.\n"
                "The kernel's include/linux/dma-buf.h and drivers/dma-buf/dma-buf.c are not ours.\n")
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("[docs](docs/a.md), [missing](docs/gone.md)\n")
    with open(os.path.join(d, "src", "core", "x.c"), "w") as f:
        f.write("#include <bpf/bpf_helpers.h>\n/* see src/core/y.c and src/core/x.c */\n"
                "int short_one(void)\n{\n\treturn 0;\n}\n\n"
                "static int long_one(int a,\n\t\t    int b)\n{\n" + "\ta++;\n" * 97 + "\treturn a;\n}\n")
    # layering: live/ reaching into cmd/ twice, a two-header cycle in core/, a fine service/
    for sub in ("cmd", "live", "service"):
        os.makedirs(os.path.join(d, "src", sub))
    planted = {
        "src/cmd/watch.h": "int da_cmd_watch(void);\n",
        "src/cmd/watch.c": '#include "watch.h"\nstatic int helper(void)\n{\n\treturn 0;\n}\n\n'
                           "int da_cmd_watch(void)\n{\n\treturn helper();\n}\n",
        "src/live/trace.c": '#include "../cmd/watch.h"\nint trace(void)\n{\n'
                            "\treturn da_cmd_watch() + helper();\n}\n",
        "src/core/a.h": '#include "b.h"\n',
        "src/core/b.h": '#include "a.h"\n',
        "src/service/s.c": '#include "../core/a.h"\n',
        "src/core/engine_tables.h": "struct da_engine;\n",
        "src/core/engine_state.c": '#include "engine_tables.h"\n',
        "src/core/stats.c": '#include "engine_tables.h"\n',
        "bpf/x.bpf.c": 'SEC("fentry")\nint BPF_PROG(a)\n{\n\tDA_MIRROR_GUARD();\n\treturn 0;\n}\n'
                       'SEC("kretprobe")\nint b(struct pt_regs *ctx)\n{\n\treturn 0;\n}\n',
    }
    os.makedirs(os.path.join(d, "bpf"))
    for rel, text in planted.items():
        with open(os.path.join(d, rel), "w") as f:
            f.write(text)
    return d


def same(got, want):
    """no problems when got is want; else what differs"""
    if got == want:
        return []
    return [f"missed: {x}" for x in want if x not in got] + [f"wrong: {x}" for x in got if x not in want]


def planted_checks():
    """(name, problems) of each check run on the planted tree: each must find what was planted"""
    d = planted_tree()
    want_refs = [
        "README.md:1: no such file: docs/gone.md",
        "docs/a.md:1: no such document: b.md",
        "docs/a.md:1: no such document: interface.md",
        "docs/a.md:1: points outside the repository: ../shared/notes.md",
        "docs/a.md:2: no such document: rules.md",
        "docs/a.md:2: points outside the repository: /work/shared/design/testing.md",
        "src/core/x.c:2: no such file: src/core/y.c",
    ]
    results = [("the reference check finds each planted bad reference, and nothing else",
                same(sorted(missing_references(d)), sorted(want_refs)))]
    want_funcs = ["src/core/x.c:8: long_one() is 102 lines (at most 100)"]
    results.append(("the length check finds the planted 102-line function, and nothing else",
                    same([msg for rel, name, msg in long_functions(d)], want_funcs)))
    want_layers = ["include cycle: src/core/a.h -> src/core/b.h -> src/core/a.h",
                   "src/live/trace.c: includes src/cmd/watch.h",
                   "src/live/trace.c:4: calls da_cmd_watch() of src/cmd/",
                   "src/core/stats.c: includes src/core/engine_tables.h, the engine's own"]
    results.append(("the layering check finds the planted include cycle, the planted include of"
                    " and call into src/cmd and the planted use of the engine's private header,"
                    " and nothing else",
                    same(include_cycles(d) + uses_of_cmd(d) + uses_of_engine_internals(d),
                         want_layers)))
    results.append(("the mirror check finds the planted hook program without its guard, and"
                    " nothing else",
                    same(unguarded_hooks(d),
                         ["bpf/x.bpf.c:7: a hook program without DA_MIRROR_GUARD() first"])))
    shutil.rmtree(d)
    d, objdir = planted_calls()
    want_calls = ["call cycle among src/core/p.c, src/core/q.c: src/core/p.c -> src/core/q.c (q_fn);"
                  " src/core/q.c -> src/core/p.c (p_fn)"]
    got = call_cycles(d, objdir)
    want_stale = [f"{os.path.join(objdir, 'core', 'p.o')}: missing or older than src/core/p.c"
                  " (build first: make)"]
    os.utime(os.path.join(objdir, "core", "p.o"), (0, 0))
    stale = [x for x in call_cycles(d, objdir) if "older" in x]
    results.append(("the call check finds the planted call cycle and a stale object, and nothing else",
                    same(got, want_calls) + same(stale, want_stale)))
    shutil.rmtree(d)
    return results


def tap_line(number, name, problems):
    """One TAP result: "ok N - name", or "not ok N - name" after its problems as diagnostics."""
    for line in problems:
        print(f"# {line}")
    print(f"{'not ' if problems else ''}ok {number} - {name}")
    return not problems


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    repo = os.path.normpath(repo)
    objdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(repo, "build", "obj")
    results = planted_checks()
    results.append(("no doc or comment points at a missing file or outside the repository",
                    missing_references(repo)))
    results.append((f"no C function outside tests/ is over {MAX_FUNCTION_LINES} lines",
                    [msg for rel, name, msg in long_functions(repo)]))
    results.append(("nothing in src/core, src/service or src/live includes or calls into src/cmd;"
                    " no include cycle in src/ and include/; the engine's private headers"
                    " are the engine's alone",
                    include_cycles(repo) + uses_of_cmd(repo) + uses_of_engine_internals(repo)))
    results.append(("every hook program in bpf/ opens with DA_MIRROR_GUARD()",
                    unguarded_hooks(repo)))
    results.append(("no two source files of src/ call each other, directly or around a loop",
                    call_cycles(repo, objdir)))
    passed = [tap_line(i, name, problems) for i, (name, problems) in enumerate(results, 1)]
    print(f"1..{len(results)}")
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
