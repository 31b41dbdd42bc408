#!/usr/bin/env bash
# contrib.sh -- the scheduling examples in contrib/: the systemd service and
# timer pass `systemd-analyze verify` (with the binary path pointed at this
# build) and have the options docs/NIGHTLY.md promises; the cron line's
# command runs a pipeline, and its flock refuses a second night while the
# first still runs.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-contrib.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$MEKONG_SRC/contrib
svc=$src/systemd/mekong-nightly.service
tim=$src/systemd/mekong-nightly.timer

missing=""
for opt in "Type=oneshot" "TimeoutStartSec=" "ProtectSystem=strict" "ReadWritePaths=" "NoNewPrivileges=yes"; do
    grep -q "^$opt" "$svc" || missing="$missing $opt"
done
for opt in "Persistent=true" "OnCalendar=" "WantedBy=timers.target"; do
    grep -q "^$opt" "$tim" || missing="$missing $opt"
done
[ -z "$missing" ] && echo "ok - contrib: the service and timer have the promised options" ||
    echo "not ok - contrib: missing from the units:$missing"

if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$work/units"
    sed "s#/usr/bin/mekong#$MEKONG#" "$svc" > "$work/units/mekong-nightly.service"
    cp "$tim" "$work/units/"
    # verify exits 0 on an unknown key but prints it: any output is a failure
    out=$(cd "$work/units" && systemd-analyze verify --man=no mekong-nightly.service mekong-nightly.timer 2>&1)
    rc=$?
    if [ $rc = 0 ] && [ -z "$out" ]; then
        echo "ok - contrib: systemd-analyze verify accepts the service and the timer"
    else
        echo "not ok - contrib: systemd-analyze verify (status $rc)"; sed 's/^/    /' <<< "$out"
    fi
    # the check can fail: a misspelled key is reported
    echo "ProtectSytem=strict" >> "$work/units/mekong-nightly.service"
    out=$(cd "$work/units" && systemd-analyze verify --man=no mekong-nightly.service 2>&1)
    grep -q "ProtectSytem" <<< "$out" && echo "ok - contrib: systemd-analyze verify reports a misspelled key (the check can fail)" ||
        echo "not ok - contrib: systemd-analyze verify missed a misspelled key"
else
    echo "# skip: systemd-analyze is not installed (Debian package systemd); the units were not verified"
fi

# cron: the line's command, with this build and a folder of our own
line=$(grep -E '^[0-9*]' "$src/cron/mekong-nightly")
fields=$(awk '{print NF}' <<< "$line")
cmd=$(cut -d' ' -f7- <<< "$line")
user=$(cut -d' ' -f6 <<< "$line")
mkdir -p "$work/lib/in" "$work/etc"
printf 'id,ten\n1,Hà Nội\n' > "$work/lib/in/a.csv"
cat > "$work/etc/nightly.yaml" <<YAML
sources:
  - name: a
    plugin: csv
    path: $work/lib/in/a.csv
sinks:
  - plugin: csv
    path: $work/lib/out/a.csv
rejects: $work/lib/out/rejects.csv
YAML
cmd=${cmd//\/var\/lib\/mekong/$work/lib}
cmd=${cmd//\/etc\/mekong/$work/etc}
cmd="PATH=$(dirname "$MEKONG"):\$PATH; $cmd"
if [ "$fields" -ge 8 ] && [ "$user" = mekong ] && sh -c "$cmd" && [ -s "$work/lib/out/a.csv" ] &&
    grep -q '"level":"info"' "$work/lib/nightly.log"; then
    echo "ok - contrib: the cron line's command runs the pipeline and logs JSON lines"
else
    echo "not ok - contrib: the cron line's command (fields $fields, user $user)"
    sed 's/^/    /' "$work/lib/nightly.log" 2>/dev/null | head
fi
flock "$work/lib/nightly.lock" sleep 3 &
holder=$!
sleep 0.5
rm -f "$work/lib/out/a.csv"
start=$(date +%s)
sh -c "$cmd"
rc=$?
took=$(( $(date +%s) - start ))
wait "$holder"
if [ $rc != 0 ] && [ $took -lt 2 ] && [ ! -e "$work/lib/out/a.csv" ]; then
    echo "ok - contrib: with the cron lock held, a second night exits at once (status $rc) and writes nothing"
else
    echo "not ok - contrib: cron flock: status $rc after $took s"
fi
