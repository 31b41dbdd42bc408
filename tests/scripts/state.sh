#!/usr/bin/env bash
# state.sh -- the state file (mk_host.state_get/state_set): a step's value
# is saved only by a run that published, --full-refresh ignores it,
# `mekong state` shows it, `mekong state --reset` clears it, a step's
# `state:` key moves it, a damaged state file stops the run with its name.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-state.XXXXXX")
trap 'rm -rf "$work"' EXIT
plugins=(--plugin-dir "$MEKONG_BUILD/tests/plugins/.libs")
cat > "$work/p.yaml" <<'YAML'
sources:
  - name: numbers
    plugin: testkit
    count: 3
    resume: true
transforms:
  - plugin: testkit
    fail_at: ${FAIL}
sinks:
  - plugin: csv
    path: out/rows.csv
rejects: out/rejects.csv
YAML
sed 's|    resume: true|    resume: true\n    state: own/numbers.json|' "$work/p.yaml" > "$work/own.yaml"
state="$work/.mekong/p/state.json"

run() { "$MEKONG" run "$work/${P:-p}.yaml" --set FAIL="${FAIL:-0}" "${plugins[@]}" --quiet "$@" 2> "$work/err"; }
rows() { tail -n +2 "$work/out/rows.csv" | tr '\n' ' '; }
check() { # name, condition result (0 = ok), detail
    if [ "$2" = 0 ]; then echo "ok - state: $1"; else echo "not ok - state: $1"; echo "# $3"; sed 's/^/# /' "$work/err"; fi
}

run; r1=$(rows)
run; r2=$(rows)
check "a second run goes on where the first stopped" \
    "$([ "$r1" = "1 2 3 " ] && [ "$r2" = "4 5 6 " ] && grep -q '"next": 6' "$state"; echo $?)" \
    "rows: '$r1' then '$r2'; state: $(cat "$state" 2>/dev/null)"

FAIL=2 run; rc=$?
check "a failed run keeps the state and the outputs" \
    "$([ $rc = 1 ] && [ "$(rows)" = "4 5 6 " ] && grep -q '"next": 6' "$state"; echo $?)" \
    "exit $rc, rows '$(rows)', state $(cat "$state")"

run --full-refresh; r3=$(rows)
check "--full-refresh starts from nothing and saves anew" \
    "$([ "$r3" = "1 2 3 " ] && grep -q '"next": 3' "$state"; echo $?)" "rows '$r3', state $(cat "$state")"

out=$("$MEKONG" state "$work/p.yaml" --set FAIL=0 "${plugins[@]}" 2>&1)
check "mekong state shows the saved value" \
    "$(grep -q "^$state:" <<< "$out" && grep -q '"numbers": {' <<< "$out" && grep -q '"next": 3' <<< "$out"; echo $?)" "$out"

out=$("$MEKONG" state --reset "$work/p.yaml" --set FAIL=0 "${plugins[@]}" 2>&1); rc=$?
run; r4=$(rows)
check "mekong state --reset clears it" \
    "$([ $rc = 0 ] && grep -q "removed $state" <<< "$out" && [ "$r4" = "1 2 3 " ]; echo $?)" "$out; rows '$r4'"

rm -rf "$work/.mekong" "$work/out"
P=own run; P=own run; r5=$(rows)
check "a step's state: key names its own file" \
    "$([ "$r5" = "4 5 6 " ] && grep -q '"next": 6' "$work/own/numbers.json" && [ ! -e "$state" ]; echo $?)" \
    "rows '$r5'; $(ls -a "$work" "$work/own" 2>&1)"

printf '{"steps": {"numbers": {"next": ' > "$work/own/numbers.json"
P=own run; rc=$?
check "a damaged state file stops the run, naming the file" \
    "$([ $rc = 1 ] && grep -q "state file $work/own/numbers.json is not a mekong state file" "$work/err" && [ "$(rows)" = "4 5 6 " ]; echo $?)" "exit $rc"

cat > "$work/twice.yaml" <<'YAML'
sources:
  - name: numbers
    plugin: testkit
    count: 3
    resume: true
  - name: numbers
    plugin: testkit
    count: 2
    resume: true
sinks:
  - plugin: csv
    path: out/twice.csv
rejects: out/rejects.csv
YAML
P=twice run; rc=$?
check "two steps keeping state under one name fail the run, and nothing is published" \
    "$([ $rc = 1 ] && grep -q "source 'numbers' and source 'numbers' both keep state under one name" "$work/err" &&
       grep -q "nothing was published" "$work/err" && [ ! -e "$work/out/twice.csv" ] && [ ! -e "$work/.mekong/twice/state.json" ]; echo $?)" "exit $rc"
