#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS — build every libFuzzer target (tests/fuzz/fuzz_*.c)
# against the library compiled with clang, ASan and UBSan, then run each for
# SECONDS on its corpus (tests/fuzz/corpus/NAME/, seeds committed), with
# value profiling, and report what it reached: executions, coverage, and
# the corpus it grew from the seeds (kept in build/fuzz/corpus/NAME/, so a
# next run goes on from there).  A crash, leak or timeout fails the run and
# leaves the input in tests/fuzz/artifacts/.
set -eu
secs=${1:-10}
cd "$(dirname "$0")/../.."
build=build/fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
make --no-print-directory BUILD=$build CC=clang CFLAGS="-O1 -g" \
	SANITIZE="-fsanitize=fuzzer-no-link $san" $build/libperch.a
libs=$(pkg-config --libs ncursesw libcurl jansson yaml-0.1 libcrypto)
cflags=$(pkg-config --cflags ncursesw libcurl jansson yaml-0.1 libcrypto)
mkdir -p tests/fuzz/artifacts
# the targets that need files (journal, clock) make them here
export TMPDIR=$PWD/$build/fuzz/tmp
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT
status=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$build/fuzz/$name
	mkdir -p "$(dirname "$bin")" "tests/fuzz/corpus/$name"
	echo "  FUZZ   $name (${secs}s)"
	clang -std=c11 -D_GNU_SOURCE -I. -O1 -g -fsanitize=fuzzer $san $cflags \
		-o "$bin" "$src" $build/libperch.a $libs -lpthread -lm
	work=$build/corpus/$name
	mkdir -p "$work"
	cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
	seeds=$(find "tests/fuzz/corpus/$name" -type f | wc -l)
	if ! "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -use_value_profile=1 \
		-artifact_prefix=tests/fuzz/artifacts/"$name"- "$work" >"$build/fuzz/$name.log" 2>&1; then
		echo "  FAIL   $name"; tail -30 "$build/fuzz/$name.log"; status=1
	else
		last=$(grep -E '^#[0-9]+' "$build/fuzz/$name.log" | tail -1)
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$build/fuzz/$name.log" | tail -1)
		cov=$(printf '%s' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
		corp=$(printf '%s' "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
		printf '         %s runs, coverage %s edges, corpus %s inputs (from %s seeds, %s files kept)\n' \
			"${runs:-?}" "${cov:-?}" "${corp:-?}" "$seeds" "$(find "$work" -type f | wc -l)"
	fi
done
exit $status
