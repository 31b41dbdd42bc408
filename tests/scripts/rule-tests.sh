#!/usr/bin/env bash
# tests/scripts/rule-tests.sh -- every rule test file, run with `mekong test`:
# the shipped pipelines' (pipelines/*/rules/*.test.yaml) and the rule
# library's own (tests/lua/*.test.yaml, which call the library through
# tests/lua/lib.lua).  One ok/not ok line per file, with mekong's diff of the
# failing cases below a failure.
#
# Environment: MEKONG (the binary), MEKONG_SRC.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
if ! "$MEKONG" plugins 2>/dev/null | grep -q '^lua '; then
    echo "# skip: rule tests: the lua plugin is not built"
    exit 0
fi

# run_all LABEL GLOB: one line per file the glob finds; not ok when none
run_all() {
    local label=$1 glob=$2 found=0 t name out
    for t in "$SRC"/$glob; do
        [ -f "$t" ] || continue
        found=1
        name=${t#"$SRC"/}
        if out=$("$MEKONG" test "$t" 2>&1); then
            echo "ok - $label $name: $(tail -1 <<< "$out" | sed 's/^.*: //')"
        else
            echo "not ok - $label $name"
            sed 's/^/    /' <<< "$out" | head -80
        fi
    done
    [ "$found" = 1 ] || echo "not ok - $label: no $glob under $SRC"
}
run_all "rule tests" 'pipelines/*/rules/*.test.yaml'
run_all "rule library" 'tests/lua/*.test.yaml'
