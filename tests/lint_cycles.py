#!/usr/bin/env python3
"""tests/lint_cycles.py — `make lint`: no import circles between files.

Two graphs of modules, foo.c and foo.h being one node (a module: the header
is its interface, the .c its body; an internal header foo_int.h or
foo_impl.h belongs to foo too):

  includes  every `#include "..."` of the .c and .h files under the given
            folders: who includes whose header;
  calls     (--objects) every symbol an object file of the library uses
            and another defines (nm): who calls whom, which also sees the
            calls made through a header shared by several files.

Every strongly connected component of more than one node is an import
circle: modules that cannot be read, built or tested one without the
other.  Prints one line per circle, with one path around it, and exits 1
when there is any.  --allow "MOD MOD ..." names a circle that is known
and being broken elsewhere: it is reported, not counted; an allowance that
matches no circle any more is an error (remove it).

    python3 tests/lint_cycles.py [--stats] DIR...             (repository root)
    python3 tests/lint_cycles.py [--stats] --objects [--allow "..."] FILE.o...
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(path):
    """foo.c and foo.h are one node, and so is foo's internal header
    (foo_int.h, foo_impl.h: what foo's files share); other files (.def,
    .inc) are their own."""
    root, ext = os.path.splitext(path)
    if ext == '.h':
        root = re.sub(r'_(int|impl)$', '', root)
    return root if ext in ('.c', '.h') else path


def read_graph(dirs):
    graph = {}
    for d in dirs:
        for top, _, names in os.walk(d):
            for name in sorted(names):
                if not name.endswith(('.c', '.h', '.def')):
                    continue
                path = os.path.normpath(os.path.join(top, name))
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read()
                node = module_of(path)
                edges = graph.setdefault(node, set())
                for inc in INCLUDE.findall(text):
                    if os.path.exists(inc):
                        target = module_of(os.path.normpath(inc))
                        if target != node:
                            edges.add(target)
    return graph


def read_objects(objs):
    """The graph of calls between the library's objects (build/X/foo.o is
    module foo of folder X): an edge when one uses a symbol another
    defines."""
    defined, used = {}, {}
    for o in objs:
        node = re.sub(r'^.*?build/[^/]+/', '', o)[:-2]
        out = subprocess.run(['nm', o], capture_output=True, text=True, check=True).stdout
        used[node] = set()
        for line in out.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == 'U':
                used[node].add(f[1])
            elif len(f) == 3 and f[1] in 'TDRBC':
                defined[f[2]] = node
    return {n: {defined[s] for s in u if s in defined and defined[s] != n}
            for n, u in used.items()}


def components(graph):
    """Tarjan's algorithm, iterative (no recursion limit on long chains)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
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
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def path_around(graph, comp):
    """One circle through the component's first node, by breadth-first search."""
    members = set(comp)
    first = comp[0]
    prev = {first: None}
    queue = [first]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, ())):
            if nxt == first:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [first]
            if nxt in members and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return comp


def main(argv):
    stats, objects, allow = False, False, []
    while argv and argv[0].startswith('--'):
        if argv[0] == '--stats':
            stats = True
        elif argv[0] == '--objects':
            objects = True
        elif argv[0] == '--allow':
            allow.append(sorted(argv[1].split()))
            argv = argv[1:]
        argv = argv[1:]
    graph = read_objects(argv) if objects else read_graph(argv)
    circles = components(graph)
    what = 'call circle' if objects else 'import circle'
    bad = 0
    for comp in circles:
        path = ' -> '.join(path_around(graph, comp))
        if comp in allow:
            print('lint: note: known %s, being broken elsewhere: %s' % (what, path))
            continue
        print('lint: %s (%d modules): %s' % (what, len(comp), path))
        bad += 1
    for a in allow:
        if a not in circles:
            print('lint: the allowed %s "%s" is gone: remove its allowance from tests/lint.sh'
                  % (what, ' '.join(a)))
            bad += 1
    if stats:
        print('modules: %d, circles: %d' % (len(graph), len(circles)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
