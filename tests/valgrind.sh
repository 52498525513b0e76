#!/usr/bin/env bash
# tests/valgrind.sh — every unit test binary under valgrind memcheck; any
# error or leak fails.  Unit tests that exercise the sanitizers' own
# territory still run: valgrind sees the release build.
set -u
: "${PERCH_BUILD:?}"
cd "$(dirname "$0")/.."
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC
# Tests that drive the TUI on a pseudo-terminal wait for it in real time;
# under memcheck everything runs many times slower.
export PERCH_TEST_TIMEOUT_SCALE=${PERCH_TEST_TIMEOUT_SCALE:-8}
status=0 n=0
for bin in "$PERCH_BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.o|*.d) continue;; esac
	n=$((n + 1))
	log=$(mktemp)
	if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$bin" >"$log" 2>&1; then
		echo "  VALGRIND OK    $(basename "$bin")"
	else
		echo "  VALGRIND FAIL  $(basename "$bin")"; tail -40 "$log"; status=1
	fi
	rm -f "$log"
done
echo "valgrind: $n binaries checked"
exit $status
