# tests/shards/lib.sh -- sourced by the tests/scripts/shards*.sh scripts:
# the helpers that compare a sharded run with one run.  $MEKONG is the
# engine, set by the script before it sources this.
#
#   shard_strip REPORT [OUT]   the report as sorted JSON, without what one
#                   run and a merge may differ in by design: the times
#                   (started, elapsed_seconds, rows_per_second) and a dedupe
#                   step's key_memory_bytes (the shards' lists, not one key
#                   set; docs/SCALE.md).  With SHARD_STRIP_PROFILE=1 also a
#                   schema step's per-field profile (distinct, min, max,
#                   null_share: taken from the shards, not one run's).  OUT:
#                   an output folder's name, written as OUT (for reports
#                   that name it).
#   shard_same A B FILE...    each FILE of folder A equals B's byte for byte,
#                   and the reports (shard_strip) are equal; says what
#                   differs.  0 when all are the same.
#   shard_all PIPELINE DIR N [ARG...]   plan N shards into DIR, run them all
#                   at once (as a scheduler does), then merge; ARGs (--set
#                   ...) go to every command.  0 when every step succeeded.
#   shard_stages PIPELINE DIR N [ARG...]   after a plan with a dedupe step:
#                   the keys stage, the decide stage and the shards (each
#                   stage's N tasks at once), then the merge.

shard_strip() {
    python3 -c 'import json,os,sys
r = json.load(open(sys.argv[1]))
for k in ("started", "elapsed_seconds", "rows_per_second"):
    r.pop(k, None)
profile = os.environ.get("SHARD_STRIP_PROFILE") == "1"
for s in r.get("stages", []):
    s.pop("key_memory_bytes", None)
    for k in [k for k in s if profile and k.startswith("fields.") and
              k.rsplit(".", 1)[1] in ("distinct", "min", "max", "null_share")]:
        s.pop(k)
t = json.dumps(r, sort_keys=True, indent=1)
if len(sys.argv) > 2:
    t = t.replace("./" + sys.argv[2], "OUT").replace(sys.argv[2], "OUT")
print(t)' "$@"
}

shard_same() {
    local a=$1 b=$2 f
    shift 2
    for f in "$@"; do
        cmp -s "$a/$f" "$b/$f" ||
            { echo "# $b: $f differs from $a's"; diff "$a/$f" "$b/$f" | head -5; return 1; }
    done
    [ "$(shard_strip "$a/report.json")" = "$(shard_strip "$b/report.json")" ] ||
        { diff <(shard_strip "$a/report.json") <(shard_strip "$b/report.json") | head -20; return 1; }
}

shard_all() {
    local pipeline=$1 dir=$2 n=$3
    shift 3
    rm -rf "$dir"
    "$MEKONG" plan "$pipeline" --shards "$n" --dir "$dir" "$@" -q &&
        shard_tasks "$pipeline" "$dir" "$n" "" "$@" &&
        "$MEKONG" merge "$pipeline" --dir "$dir" "$@" -q
}

# shard_tasks PIPELINE DIR N STAGE-FLAGS ARG...: one stage's N tasks at once
shard_tasks() {
    local pipeline=$1 dir=$2 n=$3 stage=$4 i failed=0 pids=()
    shift 4
    for ((i = 0; i < n; i++)); do
        # shellcheck disable=SC2086 # STAGE-FLAGS: "" or "--stage NAME"
        "$MEKONG" run "$pipeline" $stage --shard "$i" --dir "$dir" "$@" -q &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    return $failed
}

shard_stages() {
    local pipeline=$1 dir=$2 n=$3
    shift 3
    shard_tasks "$pipeline" "$dir" "$n" "--stage keys" "$@" &&
        shard_tasks "$pipeline" "$dir" "$n" "--stage decide" "$@" &&
        shard_tasks "$pipeline" "$dir" "$n" "" "$@" &&
        "$MEKONG" merge "$pipeline" --dir "$dir" "$@" -q
}
