#!/usr/bin/env bash
# tests/run.sh -- the whole test suite: unit test programs, the end-to-end
# cases in tests/cases/, and the csv-spectrum conformance suite.  Prints
# one "ok"/"not ok" line per test and, last, "N passed, N failed".
#
# Environment: MEKONG_BUILD (build tree), MEKONG_SRC (source tree);
# MEKONG_SHARED (default: ../shared beside the source tree).
set -u
BUILD=${MEKONG_BUILD:-$(pwd)}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
export MEKONG="$BUILD/engine/mekong"
export MEKONG_SHARED=${MEKONG_SHARED:-$SRC/../shared}
export MEKONG_SRC="$SRC" MEKONG_BUILD="$BUILD"
passed=0
failed=0
skipped=0

pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

# Unit test programs print "ok - name" / "not ok - name" per test.
for t in "$BUILD"/tests/unit/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    case "$t" in *.c|*.o|*.h) continue ;; esac
    name=$(basename "$t")
    out=$("$t" 2>&1)
    rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) pass "$name: ${line#ok - }" ;;
            "not ok - "*) fail "$name: ${line#not ok - }" ;;
            "# skip"*) skipped=$((skipped + 1)); echo "$line" ;;
            *) echo "    $line" ;;
        esac
    done <<< "$out"
    # a crash (signal) is reported even after a failure: the tests after it never ran
    if [ $rc -ne 0 ] && { [ $rc -gt 128 ] || ! grep -q '^not ok' <<< "$out"; }; then
        fail "$name exited with status $rc"
    fi
done

# End-to-end cases: one folder each; exit status 77 is a skip (a plugin
# named in expect/requires is not built).
for d in "$SRC"/tests/cases/*/; do
    name=$(basename "$d")
    out=$(bash "$SRC/tests/run-case.sh" "$d" 2>&1)
    case $? in
        0) pass "case $name" ;;
        77) skipped=$((skipped + 1)); grep '^# skip' <<< "$out" ;;
        *) fail "case $name"; sed 's/^/    /' <<< "$out" | head -40 ;;
    esac
done

# Scripted tests (conformance, memory): each prints ok/not ok/# skip lines.
for s in "$SRC"/tests/scripts/*.sh; do
    [ -f "$s" ] || continue
    out=$(bash "$s" 2>&1)
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) pass "${line#ok - }" ;;
            "not ok - "*) fail "${line#not ok - }" ;;
            "# skip"*) skipped=$((skipped + 1)); echo "$line" ;;
            "") ;;
            *) echo "    $line" ;;
        esac
    done <<< "$out"
done

[ $skipped -gt 0 ] && echo "# $skipped check(s) skipped (see the lines above); they are not counted as passed"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
