#!/usr/bin/env bash
# tests/scripts/composition.sh -- every ordered pair (A, B) of the transform
# fixtures in tests/composition/*/ (A == B too) runs as
# csv source -> A -> B -> csv sink; tests/composition/compose.py checks the
# output rows byte for byte, the rejects rows, the report totals and each
# stage's row counts against the fixtures' models.  A new fixture folder
# adds its pairs.  A pair whose plugin is not built is skipped.
#
# Environment: MEKONG (the binary), MEKONG_BUILD, MEKONG_SRC.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:?set MEKONG to the mekong binary}
export MEKONG
dir=$SRC/tests/composition
if ! command -v python3 > /dev/null; then
    echo "not ok - composition: python3 is needed"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-compose.XXXXXX")
trap 'rm -rf "$work"' EXIT

# built NAME: the plugin is in the build tree or listed by `mekong plugins`
plugins=$("$MEKONG" plugins 2>/dev/null)
built() {
    [ -f "${MEKONG_BUILD:-.}/plugins/$1/.libs/$1.so" ] || grep -q "^$1 " <<< "$plugins"
}
# lacking A B: prints the first plugin the pair needs that is not built
lacking() {
    local p
    for p in $(cat "$dir/$1/requires" "$dir/$2/requires"); do
        built "$p" || { echo "$p"; return; }
    done
}

fixtures=$(cd "$dir" && for f in */step.yaml; do dirname "$f"; done)
for a in $fixtures; do
    for b in $fixtures; do
        missing=$(lacking "$a" "$b")
        if [ -n "$missing" ]; then
            echo "# skip: composition $a -> $b: plugin $missing is not built"
            continue
        fi
        mkdir "$work/$a-$b"
        python3 "$dir/compose.py" "$work/$a-$b" "$dir/$a" "$dir/$b" ||
            echo "not ok - composition $a -> $b: the checker stopped"
    done
done
