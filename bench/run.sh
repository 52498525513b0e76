#!/usr/bin/env bash
# bench/run.sh — `make bench`: runs every benchmark binary built from
# bench/*.c and prints its figures.  Environment: PERCH_BUILD (the build
# directory), PERCH_BIN (the perch binary, for bench/tui), BENCH_ARGS_<name>
# (arguments for one benchmark, optional).
set -u
: "${PERCH_BUILD:?PERCH_BUILD must name the build directory}"
status=0
for bin in "$PERCH_BUILD"/bench/*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	var="BENCH_ARGS_$name"
	# Defaults: benchmarks of the real binary take it as their first argument.
	case $name in
	tui) default="${PERCH_BIN:-./perch}" ;;
	*) default="" ;;
	esac
	echo "== $name"
	# shellcheck disable=SC2086
	"$bin" ${!var:-$default} || status=1
done
exit $status
