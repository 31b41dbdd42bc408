#!/usr/bin/env bash
# nightly.sh -- nightly operations (docs/NIGHTLY.md): five runs over
# changing inputs with drift checks (run 4, its source shrunk by half, ends
# with exit 3 naming the source and the figures, nothing published); the
# history and the HTML trend show all five runs; history.keep prunes; a
# rule's reject share and a column's null share drift; checks: errors.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-nightly.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
have_lua=0
[ -e "$MEKONG_BUILD/plugins/lua/.libs/lua.so" ] && have_lua=1

ok() { echo "ok - nightly: $1"; }
bad() { echo "not ok - nightly: $1"; sed 's/^/    /' err | head -20; }

# rows N [EMPTY_EVERY] [BAD_EVERY]: id,ten,note; ten empty every EMPTY_EVERY
# rows, note "bad" every BAD_EVERY rows (Vietnamese names, NFC)
rows() {
    python3 - "$@" <<'PY'
import sys
n = int(sys.argv[1]); empty = int(sys.argv[2]) if len(sys.argv) > 2 else 0
badn = int(sys.argv[3]) if len(sys.argv) > 3 else 0
print("id,ten,note")
for i in range(1, n + 1):
    ten = "" if empty and i % empty == 0 else f"Nguyễn Thị Ánh {i}"
    note = "bad" if badn and i % badn == 0 else "ok"
    print(f"{i},{ten},{note}")
PY
}

mkdir -p in
rows 10 > in/dn.csv
if [ $have_lua = 1 ]; then
    cat > rules.lua <<'LUA'
function process(row)
  if row.note == "bad" then reject("note.bad", "the note says bad") end
end
LUA
    transforms="transforms:
  - plugin: lua
    script: rules.lua"
    rule_check="  rule_rejects:
    note.bad: { fail: 5x }"
else
    transforms=""
    rule_check=""
fi
cat > p.yaml <<YAML
name: nightly
sources:
  - name: hanoi
    plugin: csv
    path: in/hanoi.csv
  - name: danang
    plugin: csv
    path: in/dn.csv
$transforms
sinks:
  - name: clean
    plugin: csv
    path: out/clean.csv
rejects: out/rejects.csv
report: out/report.json
html_report: out/report.html
metrics: out/nightly.prom
history: { keep: 6 }
checks:
  runs: 5
  min_runs: 3
  source_rows:
    hanoi: { warn: 20%, fail: 40% }
  null_share:
    ten: { fail: 3x }
$rule_check
YAML

# night: N [EMPTY] [BAD] -> exit status in $rc
night() {
    rows "$@" > in/hanoi.csv
    "$MEKONG" run p.yaml > out.txt 2> err
    rc=$?
}

codes=""
night 1000 50 100; codes="$codes $rc"; cp out/clean.csv night3.csv 2>/dev/null
night 1040 50 100; codes="$codes $rc"
night 980 50 100; codes="$codes $rc"; cp out/clean.csv night3.csv
night 500 50 100; codes="$codes $rc"; cp err night4.err
cmp -s out/clean.csv night3.csv && night4_kept=1 || night4_kept=0
cp out/nightly.prom night4.prom
night 1010 50 100; codes="$codes $rc"
if [ "$codes" = " 0 0 0 3 0" ]; then ok "five nights exit 0 0 0 3 0"; else bad "five nights exit$codes (expected 0 0 0 3 0)"; fi

if grep -q "drift check source_rows hanoi failed: source hanoi read 500 rows; the median of the last 3 successful runs is 1000 (-50.0%" night4.err; then
    ok "night 4 names the source and the figures"
else
    cp night4.err err; bad "night 4 does not name the source and the figures"
fi
# night 4 published nothing: the output after it was still night 3's
[ $night4_kept = 1 ] && ok "night 4 published nothing (night 3's output stays)" || bad "night 4 replaced the output"
if grep -qx 'mekong_check_failed{pipeline="nightly",check="source_rows:hanoi"} 1' night4.prom &&
    grep -qx 'mekong_check_value{pipeline="nightly",check="source_rows:hanoi"} 500' night4.prom &&
    grep -qx 'mekong_last_run_exit_code{pipeline="nightly"} 3' night4.prom; then
    ok "night 4's metrics: exit code 3, check source_rows:hanoi failed at 500"
else
    cp night4.prom err; bad "night 4's metrics"
fi
grep -q '"status": "drift"' .mekong/nightly/history/*.json && ok "night 4's report says drift" || bad "no report with status drift"

"$MEKONG" history p.yaml > hist 2> err
n=$(grep -c '^20[0-9-]*T' hist)
statuses=$(awk '/^20[0-9-]*T/ {printf " %s", $2}' hist)
if [ "$n" = 5 ] && [ "$statuses" = " ok ok ok drift ok" ] && grep -q 'source_rows hanoi fail' hist &&
    grep -qE '^\S+ +drift +510 ' hist; then
    ok "mekong history lists the five runs (ok ok ok drift ok, 510 rows read on night 4)"
else
    cp hist err; bad "mekong history: $n runs,$statuses"
fi

# the HTML trend of night 5: five runs in the table, five points per chart
html=out/report.html
runs_rows=$(sed -n '/<table class="runs">/,/<\/table>/p' "$html" | grep -c '^<tr><td class="n">')
charts=$(grep -c '<svg class="trend"' "$html")
points_ok=1
while IFS= read -r line; do
    [ "$(grep -o '<circle class="run"' <<< "$line" | wc -l)" = 5 ] || points_ok=0
done < <(grep '<svg class="trend"' "$html")
want_charts=5; [ $have_lua = 1 ] && want_charts=6
if [ "$runs_rows" = 5 ] && [ "$charts" = "$want_charts" ] && [ $points_ok = 1 ] &&
    ! grep -qiE 'src=|href=|https?:' "$html"; then
    ok "HTML trend: 5 runs, $charts charts of 5 points, no network resource"
else
    cp "$html" err; bad "HTML trend: $runs_rows runs, $charts charts (want $want_charts), points ok $points_ok"
fi

# a dry run with tonight's shrunk input says it would fail, and keeps nothing
before=$(ls .mekong/nightly/history | wc -l)
rows 400 50 100 > in/hanoi.csv
"$MEKONG" run p.yaml --dry-run > dry.json 2> err
rc=$?
if [ $rc = 3 ] && grep -q "drift check source_rows hanoi failed: source hanoi read 400 rows" err &&
    [ "$(ls .mekong/nightly/history | wc -l)" = "$before" ] && grep -q '"dry_run": true' dry.json; then
    ok "a dry run evaluates the drift checks (exit 3) and adds nothing to the history"
else
    bad "dry run with drift: exit $rc"
fi

# a night with the null share of ten up 5x fails; the output stays night 5's
cp out/clean.csv night5.csv
night 1000 10 100
if [ $rc = 3 ] && grep -qE "drift check null_share ten failed: column ten was NULL or empty in 9\.[0-9]+% of the rows reaching the sinks; the median of the last 4 successful runs is 1\.[0-9]+% .*fail level 3x" err &&
    cmp -s out/clean.csv night5.csv; then
    ok "null share 5x the median fails with exit 3, output untouched"
else
    bad "null share: exit $rc"
fi

if [ $have_lua = 1 ]; then
    night 1000 50 10
    if [ $rc = 3 ] && grep -q "drift check rule_rejects note.bad failed: rule note.bad rejected 9.90% of the rows it checked; the median of the last 4 successful runs is 0.9[0-9]% .*fail level 5x" err; then
        ok "a rule rejecting 10x its median fails with exit 3"
    else
        bad "rule_rejects: exit $rc"
    fi
else
    echo "# skip: nightly rule_rejects check needs the lua plugin, which this build lacks"
fi

# history.keep: 6 -- seven or eight runs so far, six kept
kept=$(ls .mekong/nightly/history/*.json | wc -l)
[ "$kept" = 6 ] && ok "history keeps the last 6 runs (history.keep)" || { echo "$kept kept" > err; bad "history.keep"; }

# warn level: 25% up is a warning, exit 0
night 1250 50 100
grep -q "WARN  drift check source_rows hanoi: source hanoi read 1250 rows" err && [ $rc = 0 ] &&
    ok "a warn level crossed is a warning, exit 0" || bad "warn level: exit $rc"

# checks: mistakes are pipeline errors with their position (exit 2)
cat > badchecks.yaml <<YAML
sources:
  - name: hanoi
    plugin: csv
    path: in/hanoi.csv
sinks:
  - plugin: csv
    path: out/x.csv
rejects: out/r.csv
checks:
  source_rows:
    hanoy: { fail: 40% }
  null_share:
    ten: { fail: 0.5x, wrn: 2x }
YAML
"$MEKONG" check badchecks.yaml 2> err
rc=$?
if [ $rc = 2 ] && grep -q "badchecks.yaml:13:.*did you mean 'warn'" err &&
    grep -q "badchecks.yaml:13:.*'fail' of checks.null_share.ten" err; then
    ok "checks: mistakes are refused with file:line:column (exit 2)"
else
    bad "checks: mistakes: exit $rc"
fi
sed -i 's/wrn: 2x/warn: 2x/; s/fail: 0.5x/fail: 5x/' badchecks.yaml
"$MEKONG" check badchecks.yaml 2> err
rc=$?
if [ $rc = 2 ] && grep -q "badchecks.yaml:11:5: checks.source_rows names 'hanoy', which is not a source of this pipeline" err; then
    ok "checks: a source_rows check naming no source is refused (exit 2)"
else
    bad "checks: unknown source: exit $rc"
fi

# history: { keep: 0 } keeps none; mekong history says so
sed 's/history: { keep: 6 }/history: { keep: 0 }/; s/^name: nightly/name: forgetful/' p.yaml > forget.yaml
"$MEKONG" run forget.yaml 2> err
rc=$?
"$MEKONG" history forget.yaml > hist 2>> err
if [ $rc = 0 ] && [ ! -e .mekong/forgetful/history ] && grep -q "forgetful: no runs in the history" hist; then
    ok "history: { keep: 0 } keeps no report; mekong history says there is none"
else
    bad "keep: 0 (exit $rc)"
fi
# a damaged report in the history is left out with a warning, and says so in the exit code
echo '{"status": "ok", "totals": {' > .mekong/nightly/history/20990101T000000.000000000Z-1.json
"$MEKONG" history p.yaml > hist 2> err
rc=$?
[ $rc = 1 ] && grep -q "history: .*20990101T000000.000000000Z-1.json is not a run report; left out" err &&
    [ "$(grep -c '^20[0-9-]*T' hist)" = 6 ] && ok "a damaged history file is left out with a warning (exit 1)" ||
    bad "damaged history file (exit $rc)"

# a temporary report of a run killed while keeping it is removed by the next run
rm -f .mekong/nightly/history/20990101T000000.000000000Z-1.json
: > .mekong/nightly/history/.20261201T023000.000000000Z-999999.json.tmp-999999-1-AbCdEf
night 1000 50 100
if [ ! -e .mekong/nightly/history/.20261201T023000.000000000Z-999999.json.tmp-999999-1-AbCdEf ] &&
    [ "$(ls .mekong/nightly/history | wc -l)" = 6 ]; then
    ok "a dead run's temporary report in the history is removed by the next run"
else
    ls -a .mekong/nightly/history > err; bad "dead temporary in the history"
fi
