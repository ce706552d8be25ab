#!/usr/bin/python3
"""include_cycles.py DIR... - the module dependency graph of C sources has no cycle.

A module is a file pair NAME.c / NAME.h (or either alone); NAME_int.h, a
private header shared by a module's own files, belongs to module NAME. Module A depends on
module B when A.c or A.h includes "B.h" (a quoted include of a header that
exists in one of the given directories, or below them). The graph must be a
DAG: the layers point one way. Prints every cycle found (as module names) and
exits 1 when there is one; with --dot, prints the graph in Graphviz form.

With --layers DIR, the folders directly below DIR are layers (files directly in
DIR form the top layer, which nothing below may include): a folder depends on
another when one of its files includes a header of the other, and that graph
must be a DAG too, so the folder layout is the architecture.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(filename):
    stem = filename[:-2]
    return stem[:-4] if stem.endswith("_int") else stem


def modules(dirs):
    """{module name: [paths]} for every .c/.h below the directories."""
    mods = {}
    for top in dirs:
        for root, _, files in os.walk(top):
            for f in files:
                if f.endswith((".c", ".h")):
                    mods.setdefault(module_of(f), []).append(os.path.join(root, f))
    return mods


def graph(mods):
    edges = {m: set() for m in mods}
    for m, paths in mods.items():
        for p in paths:
            with open(p, encoding="utf-8") as fh:
                for inc in INCLUDE.findall(fh.read()):
                    dep = module_of(os.path.basename(inc)) if inc.endswith(".h") else None
                    if dep and dep != m and dep in mods:
                        edges[m].add(dep)
    return edges


def layer_graph(top):
    """{layer: {layer it includes}} for the folders directly below top."""
    def layer_of(path):
        rel = os.path.relpath(os.path.dirname(path), top)
        return "(top)" if rel == "." else rel.split(os.sep)[0]

    headers, sources = {}, []
    for root, _, files in os.walk(top):
        for f in files:
            if f.endswith((".c", ".h")):
                p = os.path.join(root, f)
                sources.append(p)
                if f.endswith(".h"):
                    headers[f] = layer_of(p)
    edges = {}
    for p in sources:
        me = layer_of(p)
        edges.setdefault(me, set())
        with open(p, encoding="utf-8") as fh:
            for inc in INCLUDE.findall(fh.read()):
                other = headers.get(os.path.basename(inc))
                if other and other != me:
                    edges[me].add(other)
    for deps in list(edges.values()):
        for d in deps:
            edges.setdefault(d, set())
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    dot = "--dot" in argv
    argv = [a for a in argv if a != "--dot"]
    layers = []
    while "--layers" in argv:
        i = argv.index("--layers")
        layers.append(argv[i + 1])
        del argv[i : i + 2]
    dirs = argv
    if not dirs:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    edges = graph(modules(dirs))
    if dot:
        print("digraph includes {")
        for m in sorted(edges):
            for d in sorted(edges[m]):
                print(f'  "{m}" -> "{d}";')
        print("}")
    found = cycles(edges)
    for comp in found:
        print("cycle among modules: " + " ".join(comp))
    for top in layers:
        for comp in cycles(layer_graph(top)):
            found.append(comp)
            print("cycle among the folders of %s: %s" % (top, " ".join(comp)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
