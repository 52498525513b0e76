#!/usr/bin/env bash
# tests/lint_providers.sh [ROOT] — the rule of `make lint` that provider
# names are written only in the provider registries: traffic providers in
# engine/routers.h (PROVIDER_LIST; engine/routers.c), metric provider types
# and alert types in engine/backend_types.h (METRIC_TYPE_LIST,
# ALERT_TYPE_LIST; engine/backend_types.c).  A string literal in the code
# (ROOT's util app spec engine metrics k8s net sim tui bench, .c and .h)
# that is one of those names, or a name followed by ":" and more without
# a space ("smi:v1alpha2:osm", not "prometheus: 3 queries"), is an error naming the file and line.  Comments do
# not count, nor longer text that mentions a name ("only istio and
# gatewayapi"), nor the name of a command-line option in a getopt_long
# table ({ "prometheus", required_argument, ... } is --prometheus); tests/
# may spell names (they check what the registry says).
# Exit 0 clean, 1 with one line per literal.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
exec python3 - "$root" <<'PY'
import os, re, sys

root = sys.argv[1]
registry = ("engine/routers.h", "engine/routers.c",
            "engine/backend_types.h", "engine/backend_types.c")
dirs = "util app spec engine metrics k8s net sim tui bench".split()

# A getopt_long option: the literal is followed by its has_arg.
OPTION = re.compile(r"\s*,\s*(no|required|optional)_argument\b")

def literals(text):
    """(line, contents) of every string literal, comments skipped."""
    i, n, line, out = 0, len(text), 1, []
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j, start = i + 1, line
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if c == '"' and not OPTION.match(text, j + 1):
                out.append((start, text[i + 1:j]))
            i = j + 1
        else:
            i += 1
    return out

lists = (("engine/routers.h", "PROVIDER_LIST"),
         ("engine/backend_types.h", "METRIC_TYPE_LIST"),
         ("engine/backend_types.h", "ALERT_TYPE_LIST"))
names = set()
for path, macro in lists:
    try:
        head = open(os.path.join(root, path), encoding="utf-8").read()
    except OSError as e:
        print("lint: %s: %s" % (path, e.strerror))
        sys.exit(1)
    at = head.find("#define %s(" % macro)
    body = head[at:head.find("\n\n", at)] if at >= 0 else ""
    found = set(re.findall(r'X\(\s*\w+\s*,\s*"([^"]+)"', body))
    if not found:
        print("lint: %s: no %s found" % (path, macro))
        sys.exit(1)
    names |= found

bad = 0
for d in dirs:
    for dirpath, subdirs, files in os.walk(os.path.join(root, d)):
        subdirs.sort()
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            if not f.endswith((".c", ".h")) or rel in registry:
                continue
            text = open(path, encoding="utf-8", errors="replace").read()
            for line, s in literals(text):
                if s in names or any(re.fullmatch(re.escape(n) + r":\S+", s) for n in names):
                    print('lint: %s:%d: provider name "%s" outside the provider registries '
                          "(engine/routers.h, engine/backend_types.h): ask them by capability or id" % (rel, line, s))
                    bad += 1
sys.exit(1 if bad else 0)
PY
