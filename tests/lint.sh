#!/usr/bin/env bash
# tests/lint.sh — `make lint`: the dependency rules of DESIGN.md §1 (which
# folder may include which, no import circles between files), provider
# names only in the provider registries, cppcheck, a function-length limit
# and no trailing whitespace.
#
# make lint builds the library first and passes its objects in
# PERCH_LINT_OBJS, for the circles of calls between files (run alone, the
# script says that check was not made and fails).
#
# tests/lint.sh --deps checks only the dependency rules (1, 2, 2b; the calls
# only when PERCH_LINT_OBJS is given): tests/integration/lint_rules.sh runs
# it on a copy of the tree with a planted include.
set -u
cd "$(dirname "$0")/.."
deps_only=0
[ "${1:-}" = --deps ] && deps_only=1
status=0
err() { echo "lint: $*"; status=1; }
finish() { [ $status -eq 0 ] && echo "lint: clean"; exit $status; }

code_dirs="util app spec engine store metrics k8s net sim tui"
files() { local d; for d in "$@"; do [ -d "$d" ] && find "$d" -name '*.[ch]'; done; }

# 1. Which folder may include which library.
check_include() {	# PATTERN ALLOWED-REGEX DESCRIPTION
	local f
	for f in $(files $code_dirs | xargs grep -lE "$1" | grep -Ev "$2"); do
		err "$f: $3"
	done
}
# includes DIR...: "file include" for every quoted include of DIR's files
includes() {
	files "$@" | xargs -r grep -H '^#include "' | sed 's/^\([^:]*\):#include "\([^"]*\)".*/\1 \2/'
}
check_include '#include <(n?curses|ncursesw/|term\.h|panel\.h)' '^tui/' 'ncurses is used only under tui/'
check_include '#include <curl/' '^net/' 'libcurl is used only under k8s/ and metrics/, through net/curl_lazy.h (perch loads it at run time; include that instead)'
check_include '#include <yaml\.h>' '^(spec/|k8s/kubeconfig|tui/theme)' 'libyaml is used only under spec/, k8s/kubeconfig*, tui/theme*'

# 2. Folder dependency direction (quoted project includes).  A folder may
# include only folders below it; docs/ARCHITECTURE.md draws the picture:
#
#   util  <-  net, engine  <-  spec, sim, metrics, k8s  <-  store  <-  app
#                  engine  <-  tui  <-  app
#
# (net and engine use util only; metrics and k8s also use net; store also
# uses k8s; tui only engine's snapshot and command types; app uses all).
check_dir_deps() {	# DIR ALLOWED-DIRS...
	local dir=$1; shift
	local f inc top
	while read -r f inc; do
		top=${inc%%/*}
		[ "$top" = "$inc" ] && continue
		case " $* $dir " in *" $top "*) ;; *) err "$f includes $inc: $dir/ may not depend on $top/" ;; esac
	done < <(includes "$dir")
}
check_dir_deps app tui engine spec store metrics k8s sim util
check_dir_deps util
check_dir_deps engine util
check_dir_deps spec util engine
check_dir_deps metrics util engine net
check_dir_deps k8s util engine net
check_dir_deps net util
check_dir_deps sim util engine
check_dir_deps store util engine k8s
# Inside app/: one file per command under app/cmd/, called by the
# dispatcher only; nothing else in app/ depends on a command.
while read -r f inc; do
	case "$f" in app/cmd/*|app/dispatch.c) continue;; esac
	case "$inc" in app/cmd/*) err "$f includes $inc: only app/dispatch.c runs the commands (app/cmd/)";; esac
done < <(includes app)
# k8s/routers/ (one file per router) and app/cmd/ are part of their
# folder for these rules (files() looks into subfolders): a router may use
# k8s/, engine/, net/ and util/ like the rest of k8s/; that routers and
# k8s/ do not call each other in a circle is the circles check below.
while read -r f inc; do
	case "$inc" in
	tui/*|util/*|engine/snapshot.h|engine/canary.h|engine/runner.h|engine/command.h) ;;
	*) err "$f includes $inc: tui/ uses only engine snapshot types, the command table and util" ;;
	esac
done < <(includes tui)

# 2b. No import circles between files (tests/lint_cycles.py): in the
# includes of the code folders, and in the calls between the library's
# objects.  A circle being broken may be allowed by name in
# known_call_circles while it is (lint fails once it is gone, so that its
# line goes too); none is allowed now.
python3 tests/lint_cycles.py $code_dirs || status=1
known_call_circles=()
if [ -n "${PERCH_LINT_OBJS:-}" ]; then
	allow=()
	for c in "${known_call_circles[@]}"; do allow+=(--allow "$c"); done
	python3 tests/lint_cycles.py --objects "${allow[@]}" $PERCH_LINT_OBJS || status=1
elif [ $deps_only -eq 0 ]; then
	err "the circles of calls were not checked: run make lint (it builds the objects)"
fi
[ $deps_only -eq 1 ] && finish

# 3. Nothing under engine/ reads the clock, sleeps, or does I/O.
forbidden='\b(time|clock_gettime|gettimeofday|sleep|usleep|nanosleep|pthread_cond_timedwait|fopen|open|read|write|printf|fprintf|puts|socket|poll|select|getenv)\s*\('
for f in $(files engine); do
	# strip comments and string literals, then look for forbidden calls
	hits=$(sed -E 's@/\*.*\*/@@g; s@^\s*\*.*@@; s@//.*@@; s@"([^"\\]|\\.)*"@""@g' "$f" |
		grep -nE "$forbidden" | grep -vE 'snprintf')
	[ -n "$hits" ] && while IFS= read -r h; do err "$f:$h: engine/ must not read the clock, sleep or do I/O"; done <<<"$hits"
done

# 3b. Provider names only in the provider registries (engine/routers.h,
# engine/backend_types.h): tests/lint_providers.sh.
bash tests/lint_providers.sh || status=1

# 4. Function length: no function body longer than MAX lines.
MAX=${LINT_MAX_FUNCTION_LINES:-120}
for f in $(files $code_dirs tests/unit bench); do
	awk -v max="$MAX" -v file="$f" '
		/^[A-Za-z_][A-Za-z0-9_ \t\*]*\(/ && !/;[ \t]*$/ { name = $0 }
		/^\{/ { start = NR; fname = name }
		/^\}/ { if (start && NR - start > max) printf "lint: %s:%d: function %s is %d lines (max %d)\n", file, start, fname, NR - start, max; start = 0 }
	' "$f"
done > /tmp/perch-lint-fn.$$
if [ -s /tmp/perch-lint-fn.$$ ]; then cat /tmp/perch-lint-fn.$$; status=1; fi
rm -f /tmp/perch-lint-fn.$$

# 5. No trailing whitespace in tracked text files.
tw=$(git ls-files -co --exclude-standard 2>/dev/null | grep -vE '^tests/data/|\.(png|gz)$' |
	xargs -r grep -nIE '[[:space:]]+$' 2>/dev/null | head -20)
if [ -n "$tw" ]; then
	printf '%s\n' "$tw" | sed 's/^/lint: trailing whitespace: /'
	status=1
fi

# 6. cppcheck.
if command -v cppcheck >/dev/null 2>&1; then
	if ! cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--enable=warning,portability,performance \
		--suppress=missingIncludeSystem -I . $(for d in $code_dirs; do [ -d "$d" ] && echo "$d"; done) 2>&1; then
		err "cppcheck found problems"
	fi
else
	err "cppcheck missing (make deps installs it)"
fi

finish
