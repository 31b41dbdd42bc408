#!/usr/bin/env bash
# tests/scripts/tone-style.sh -- vn.tone_style over every syllable the two
# tone placements write differently (oa, oe, uy after every onset, every
# tone, every mix of capitals, NFC and NFD), both ways, and over syllables
# both write alike (quý, gió, giỏi, hoàng, ngoài...), which must not change.
# tests/lua/tone/tone_cases.py generates the rows from its own statement of
# the rule; tests/lua/tone/check.lua rejects each row the C function gets
# wrong; the run must read every row and reject none.
#
# Environment: MEKONG (the binary), MEKONG_SRC.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
if ! "$MEKONG" plugins 2>/dev/null | grep -q '^lua '; then
    echo "# skip: tone-style: the lua plugin is not built"
    exit 0
fi
if ! command -v python3 > /dev/null; then
    echo "not ok - tone-style: python3 is needed to generate the syllables"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-tone.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=$(python3 "$SRC/tests/lua/tone/tone_cases.py" "$work/words.csv") ||
    { echo "not ok - tone-style: the generator failed"; exit 0; }
cat > "$work/pipeline.yaml" <<YAML
sources: [ { name: words, plugin: csv, path: words.csv } ]
transforms: [ { plugin: lua, script: "$SRC/tests/lua/tone/check.lua" } ]
sinks: [ { plugin: csv, path: out/rows.csv } ]
rejects: out/rejects.csv
report: out/report.json
YAML
if ! (cd "$work" && "$MEKONG" run pipeline.yaml -q 2> err.txt); then
    echo "not ok - tone-style: the run failed: $(tail -1 "$work/err.txt")"
    exit 0
fi
read=$(grep -o '"read":[0-9]*' "$work/out/report.json" | head -1 | cut -d: -f2)
rejected=$(grep -o '"rejected":[0-9]*' "$work/out/report.json" | head -1 | cut -d: -f2)
if [ "$read" = "$n" ] && [ "$rejected" = 0 ] && [ "$n" -gt 20000 ]; then
    echo "ok - tone-style: $n syllables and words, both placements, none wrong"
else
    echo "not ok - tone-style: $read of $n rows read, $rejected wrong; first ones:"
    sed -n '2,6p' "$work/out/rejects.csv" | sed 's/^/#   /'
fi
