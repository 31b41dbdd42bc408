#!/usr/bin/env bash
# tests/scripts/lua-library.sh -- the rule library's own tests: `mekong test`
# on every tests/lua/*.test.yaml (each calls the library through
# tests/lua/lib.lua), one ok/not ok line per file, with mekong's diff of the
# failing cases below a failure.
#
# Environment: MEKONG (the binary), MEKONG_SRC.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
if ! "$MEKONG" plugins 2>/dev/null | grep -q '^lua '; then
    echo "# skip: rule library tests: the lua plugin is not built"
    exit 0
fi
found=0
for t in "$SRC"/tests/lua/*.test.yaml; do
    [ -f "$t" ] || continue
    found=1
    name=${t#"$SRC"/}
    if out=$("$MEKONG" test "$t" 2>&1); then
        echo "ok - rule library $name: $(tail -1 <<< "$out" | sed 's/^.*: //')"
    else
        echo "not ok - rule library $name"
        sed 's/^/    /' <<< "$out" | head -80
    fi
done
[ "$found" = 1 ] || echo "not ok - rule library: no tests/lua/*.test.yaml under $SRC"
