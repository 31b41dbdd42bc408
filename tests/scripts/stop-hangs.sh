#!/usr/bin/env bash
# stop-hangs.sh -- SIGTERM (and SIGINT) end a run within 2 seconds whatever
# a rule is doing: a pattern that backtracks without end inside C, an
# endless loop with instruction_budget: 0, one in setup() or finish(), on
# worker threads; and the watchdog ends a plugin that never looks (a C
# loop).  Each run: exit status 1, nothing published, no temporary file
# left, and (but for the watchdog) a report that says failed.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-stop-hangs.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'id,name\n' > "$work/in.csv"
for i in $(seq 1 3000); do printf '%d,a%d\n' "$i" "$i"; done >> "$work/in.csv"

# rule NAME BODY: a rule file that says "hanging" on stderr, then hangs
rule() {
    printf '%s\n' "$2" > "$work/$1.lua"
}
rule pattern 'function process(row)
  if row.id == "5" then
    print("hanging")
    local s = string.rep("a", 3000)
    return s:find(string.rep("a*", 12) .. "b")
  end
end'
rule loop 'function process(row)
  if row.id == "5" then print("hanging"); while true do end end
end'
rule loop_pcall 'function process(row)
  if row.id == "5" then
    print("hanging")
    while true do pcall(function() while true do end end) end
  end
end'
rule setup 'function setup() print("hanging"); while true do end end
function process(row) end'
rule finish 'function process(row) end
function finish() print("hanging"); while true do end end'

# pipeline NAME TRANSFORM-YAML
pipeline() {
    cat > "$work/$1.yaml" <<YAML
sources:
  - name: in
    plugin: csv
    path: in.csv
transforms:
$2
sinks:
  - plugin: csv
    path: out/out.csv
rejects: out/rejects.csv
report: out/report.json
YAML
}
lua_step() { # SCRIPT [MORE OPTIONS]
    printf '  - plugin: lua\n    script: %s.lua\n    instruction_budget: 0\n%s' "$1" "${2:-}"
}
pipeline pattern "$(lua_step pattern '    threads: 1
')"
pipeline loop "$(lua_step loop '    threads: 1
')"
pipeline loop_pcall "$(lua_step loop_pcall '    threads: 1
')"
pipeline threads "$(lua_step loop '    threads: 3
')"
pipeline setup "$(lua_step setup)"
pipeline finish "$(lua_step finish '    threads: 1
')"
pipeline cloop '  - plugin: testkit
    hang_at: 5'

now_ms() { date +%s%3N; }

# stop NAME SIGNAL READY-PATTERN WHAT
stop() {
    local name=$1 sig=$2 ready=$3 what=$4
    rm -rf "$work/out"
    "$MEKONG" run "$work/$name.yaml" --plugin-dir "$MEKONG_BUILD/tests/plugins/.libs" \
        2> "$work/err" &
    local pid=$!
    for _ in $(seq 200); do
        if [ -n "$ready" ]; then
            grep -q "$ready" "$work/err" 2>/dev/null && break
        else
            ls "$work"/out/.out.csv.tmp-* >/dev/null 2>&1 && break
        fi
        sleep 0.05
    done
    sleep 0.2
    local t0
    t0=$(now_ms)
    kill -"$sig" "$pid"
    # wait at most 10 s, then kill it: a hang must not hang the suite
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    wait "$pid"
    local rc=$? ms=$(( $(now_ms) - t0 )) problems=""
    [ -z "$ready" ] || grep -q "$ready" "$work/err" || problems="$problems never started hanging;"
    [ "$ms" -le 2000 ] || problems="$problems took $ms ms;"
    [ "$rc" = 1 ] || problems="$problems exit status $rc (expected 1);"
    [ -e "$work/out/out.csv" ] && problems="$problems out/out.csv published;"
    [ -e "$work/out/rejects.csv" ] && problems="$problems out/rejects.csv published;"
    ls -a "$work"/out 2>/dev/null | grep -q 'tmp' && problems="$problems temporary files left;"
    if [ "$name" = cloop ]; then
        grep -q "did not stop within.*[1-9][0-9]* temporary files* removed" "$work/err" ||
            problems="$problems no watchdog message naming the files removed;"
    else
        grep -q "interrupted by SIG$sig" "$work/err" || problems="$problems no 'interrupted by SIG$sig';"
        grep -q '"status": "failed"' "$work/out/report.json" 2>/dev/null ||
            problems="$problems report does not say failed;"
    fi
    if [ -z "$problems" ]; then
        echo "ok - SIG$sig ends a run in $what within 2 s (${ms} ms)"
    else
        echo "not ok - SIG$sig ends a run in $what within 2 s:$problems"
        sed 's/^/    /' "$work/err" | tail -5
    fi
}

stop pattern TERM hanging "a backtracking pattern (inside string.find)"
stop loop TERM hanging "an endless loop with instruction_budget: 0"
stop loop INT hanging "an endless loop with instruction_budget: 0"
stop loop_pcall TERM hanging "an endless loop that catches errors with pcall"
stop threads TERM hanging "an endless loop on worker threads"
stop setup TERM hanging "an endless loop in setup()"
stop finish TERM hanging "an endless loop in finish()"
# the testkit transform says nothing: wait until the temporary output exists
stop cloop TERM "" "a plugin's C loop (the watchdog)"
