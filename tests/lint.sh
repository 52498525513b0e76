#!/usr/bin/env bash
# tests/lint.sh — `make lint`: the dependency rules of DESIGN.md §1,
# provider names only in the provider registries, cppcheck, a
# function-length limit and no trailing whitespace.
set -u
cd "$(dirname "$0")/.."
status=0
err() { echo "lint: $*"; status=1; }

code_dirs="util app spec engine metrics k8s net sim tui"
files() { local d; for d in "$@"; do [ -d "$d" ] && find "$d" -name '*.[ch]'; done; }

# 1. Which folder may include which library.
check_include() {	# PATTERN ALLOWED-REGEX DESCRIPTION
	local f
	for f in $(files $code_dirs); do
		if grep -Eq "$1" "$f" && ! printf '%s' "$f" | grep -Eq "$2"; then
			err "$f: $3"
		fi
	done
}
check_include '#include <(n?curses|ncursesw/|term\.h|panel\.h)' '^tui/' 'ncurses is used only under tui/'
check_include '#include <curl/' '^net/' 'libcurl is used only under k8s/ and metrics/, through net/curl_lazy.h (perch loads it at run time; include that instead)'
check_include '#include <yaml\.h>' '^(spec/|k8s/kubeconfig|tui/theme)' 'libyaml is used only under spec/, k8s/kubeconfig*, tui/theme*'

# 2. Folder dependency direction (quoted project includes).
check_dir_deps() {	# DIR ALLOWED-DIRS...
	local dir=$1; shift
	local f inc top
	for f in $(files "$dir"); do
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			top=${inc%%/*}
			[ "$top" = "$inc" ] && continue
			case " $* $dir " in *" $top "*) ;; *) err "$f includes $inc: $dir/ may not depend on $top/" ;; esac
		done
	done
}
check_dir_deps util
check_dir_deps engine util
check_dir_deps spec util engine
check_dir_deps metrics util engine net
check_dir_deps k8s util engine net
check_dir_deps net util
check_dir_deps sim util engine
for f in $(files tui); do
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case "$inc" in
		tui/*|util/*|engine/snapshot.h|engine/canary.h|engine/runner.h|engine/command.h) ;;
		*) err "$f includes $inc: tui/ uses only engine snapshot types, the command table and util" ;;
		esac
	done
done

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

[ $status -eq 0 ] && echo "lint: clean"
exit $status
