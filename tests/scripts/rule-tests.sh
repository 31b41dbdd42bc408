#!/usr/bin/env bash
# tests/scripts/rule-tests.sh -- the rule tests of the shipped pipelines:
# `mekong test` on every pipelines/*/rules/*.test.yaml, one ok/not ok line
# each (with mekong's diff of the failing cases below a failure).
set -u
MEKONG=${MEKONG:?set MEKONG to the mekong binary}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
"$MEKONG" plugins 2>/dev/null | grep -q '^lua ' || { echo "# skip: rule tests: the lua plugin is not built"; exit 0; }
found=0
for t in "$SRC"/pipelines/*/rules/*.test.yaml; do
    [ -f "$t" ] || continue
    found=1
    name=${t#"$SRC"/}
    if out=$("$MEKONG" test "$t" 2>&1); then
        echo "ok - rule tests $name: $(tail -1 <<< "$out" | sed 's/^.*: //')"
    else
        echo "not ok - rule tests $name"
        sed 's/^/    /' <<< "$out" | head -60
    fi
done
[ "$found" = 1 ] || echo "not ok - rule tests: no pipelines/*/rules/*.test.yaml under $SRC"
