#!/usr/bin/env bash
# bench/run.sh — `make bench`: runs every benchmark binary built from
# bench/*.c and prints its figures, then bench/controller.  Environment:
# PERCH_BUILD (the build directory), PERCH_BIN (the perch binary, for
# bench/tui and bench/controller), BENCH_ARGS_<name> (arguments for one
# benchmark, optional).
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
# bench/controller: the cluster controller against the test API server
# (python3 and openssl; BENCH_ARGS_controller, e.g. "--canaries 50").
echo "== controller"
# shellcheck disable=SC2086
PERCH_BIN="${PERCH_BIN:-./perch}" "$(dirname "$0")/controller" ${BENCH_ARGS_controller:-} || status=1
exit $status
