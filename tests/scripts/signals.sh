#!/usr/bin/env bash
# signals.sh -- SIGINT and SIGTERM stop a run cleanly: exit status 1, no
# file under a final name, no temporary file left, a report that says so.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-signals.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/p.yaml" <<YAML
sources:
  - name: endless
    plugin: testkit
    count: 0
sinks:
  - plugin: csv
    path: out/rows.csv
rejects: out/rejects.csv
report: out/report.json
YAML
for sig in TERM INT; do
    rm -rf "$work/out"
    "$MEKONG" run "$work/p.yaml" --plugin-dir "$MEKONG_BUILD/tests/plugins/.libs" \
        2> "$work/err" &
    pid=$!
    # wait until rows are flowing (the temporary output exists), at most 10 s
    for _ in $(seq 100); do
        ls "$work"/out/.rows.csv.tmp-* >/dev/null 2>&1 && break
        sleep 0.1
    done
    sleep 0.3
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    problems=""
    [ "$rc" = 1 ] || problems="$problems exit status $rc (expected 1);"
    grep -q "interrupted by SIG$sig" "$work/err" || problems="$problems no 'interrupted by SIG$sig' in stderr;"
    [ -e "$work/out/rows.csv" ] && problems="$problems out/rows.csv exists;"
    ls "$work"/out/.*tmp* >/dev/null 2>&1 && problems="$problems temporary files left;"
    grep -q '"status": "failed"' "$work/out/report.json" 2>/dev/null || problems="$problems report does not say failed;"
    if [ -z "$problems" ]; then
        echo "ok - SIG$sig stops a run cleanly"
    else
        echo "not ok - SIG$sig stops a run cleanly:$problems"
        sed 's/^/    /' "$work/err" | tail -5
    fi
done
