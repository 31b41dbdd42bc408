#!/usr/bin/env bash
# shards-ops.sh -- nightly operations over a sharded run (issue 14,
# docs/SCALE.md "Nightly operations"): drift checks apply to the merged
# totals against the pipeline's history, and the merge (not the shards)
# keeps the history, writes the metrics and calls on_failure.
#
#   drift      five nights as one run and as plan + 3 shards + merge: the
#              same exit codes (0 0 0 3 0: night 4 reads half the rows), the
#              same figures in every report's checks (source_rows,
#              null_share, rule_rejects), night 4 publishing nothing
#   ops        the shards add no history entry and write no metrics; the
#              merge does both, and a failed merge calls on_failure
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-shards-ops.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
ok() { echo "ok - shards-ops: $*"; }
fail() { echo "not ok - shards-ops: $*"; }
if ! "$MEKONG" plugins 2> /dev/null | grep -q '^lua '; then
    echo "# skip: shards-ops: the lua plugin is not built"
    exit 0
fi

# rows N: N rows, one in 20 with an empty ghi_chu, one in 25 with a short ma
rows() {
    awk -v n="$1" 'BEGIN { print "ma,ten,ghi_chu"
        for (i = 1; i <= n; i++) printf "%s,Nguyễn Thị %d,%s\n", (i % 25 ? 100000 + i : i), i, (i % 20 ? "ghi chú " i : "") }'
}
cat > rules.lua <<'LUA'
function process(row)
  check("ma.length", #row.ma == 6, "ma must have 6 digits")
end
LUA
for kind in one sharded; do
    mkdir -p "$kind"
    cat > "$kind/p.yaml" <<'YAML'
sources: [ { name: in, plugin: csv, path: in.csv } ]
transforms: [ { plugin: lua, script: ../rules.lua } ]
sinks: [ { name: clean, plugin: csv, path: out/clean.csv } ]
rejects: out/rejects.csv
report: out/report.json
metrics: out/nightly.prom
history: { keep: 10 }
checks:
  runs: 3
  min_runs: 2
  source_rows:
    in: { fail: 40% }
  null_share:
    ghi_chu: { fail: 3x }
  rule_rejects:
    ma.length: { fail: 5x }
on_failure:
  command: echo "$MEKONG_STATUS" >> failures.txt
YAML
done

# the figures of a report's checks, for comparing
figures() {
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(" ".join("%s:%s=%.6g/%s/%s" % (c["check"], c["subject"], c["value"], c.get("median", "-"), c["status"]) for c in r["checks"]))' "$1"
}

codes_one="" codes_sh="" same=1 n=0
for night in 1000 1040 980 500 1010; do
    n=$((n + 1))
    rows "$night" > one/in.csv
    cp one/in.csv sharded/in.csv
    (cd one && "$MEKONG" run p.yaml -q 2> /dev/null)
    codes_one="$codes_one $?"
    (cd sharded && rm -rf shared && "$MEKONG" plan p.yaml --shards 3 --dir shared -q &&
        for i in 0 1 2; do "$MEKONG" run p.yaml --shard $i --dir shared -q || exit 1; done &&
        "$MEKONG" merge p.yaml --dir shared -q 2> /dev/null)
    codes_sh="$codes_sh $?"
    a=$(figures one/out/report.json) b=$(figures sharded/out/report.json)
    if [ "$a" != "$b" ]; then
        same=0
        echo "# night $n: one run:  $a"
        echo "# night $n: sharded: $b"
    fi
    [ $n = 3 ] && cp sharded/out/clean.csv night3.csv
    [ $n = 4 ] && ! cmp -s sharded/out/clean.csv night3.csv && same=0 && echo "# night 4 published"
done
if [ "$codes_one" = " 0 0 0 3 0" ] && [ "$codes_sh" = "$codes_one" ] && [ $same = 1 ]; then
    ok "drift: five nights as one run and as 3 shards: exits$codes_sh, the same check figures, night 4 unpublished"
else
    fail "drift: one run exits$codes_one, sharded$codes_sh (expected 0 0 0 3 0 both), figures same: $same"
fi

hist_one=$(ls one/.mekong/p/history | wc -l) hist_sh=$(ls sharded/.mekong/p/history | wc -l)
shard_hist=$(find sharded/shared -path '*history*' -name '*.json' | wc -l)
shard_prom=$(find sharded/shared -name '*.prom' | wc -l)
if [ "$hist_one" = 5 ] && [ "$hist_sh" = 5 ] && [ "$shard_hist" = 0 ] && [ "$shard_prom" = 0 ] &&
    [ "$(grep -v -e duration -e timestamp one/out/nightly.prom)" = \
      "$(grep -v -e duration -e timestamp sharded/out/nightly.prom 2> /dev/null)" ] &&
    [ "$(cat sharded/failures.txt 2> /dev/null)" = "$(cat one/failures.txt 2> /dev/null)" ] &&
    [ -s sharded/failures.txt ]; then
    ok "ops: the merge keeps the history (5 entries as one run), writes one run's metrics and calls on_failure; shards neither"
else
    fail "ops: history one run $hist_one, merged $hist_sh, in shards $shard_hist; metrics in shards $shard_prom; failures: $(cat sharded/failures.txt 2> /dev/null | tr '\n' ' ')"
fi
