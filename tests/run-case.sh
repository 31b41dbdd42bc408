#!/usr/bin/env bash
# tests/run-case.sh CASE_DIR -- run one end-to-end case (see tests/README.md).
#
# The case folder is copied to a temporary directory and the command runs
# there.  A case folder holds:
#   pipeline.yaml, inputs   whatever the command needs
#   cmd                     mekong's arguments (default: run pipeline.yaml)
#   setup                   optional shell script run first, in the copy
#   expect/exit             expected exit status (default 0)
#   expect/stderr           lines that must each appear in stderr (fixed strings)
#   expect/stdout           lines that must each appear in stdout
#   expect/files/PATH       files that must equal PATH in the copy after the run
#   expect/absent           paths (one per line) that must not exist after the run
#   expect/requires         plugin names the case needs; when one is not built
#                           the case prints "# skip: ..." and exits 77
#   expect/report           lines "PATH VALUE": a JSON key path into the run
#                           report and its JSON value (tests/report-check.py)
set -u
case_dir=${1%/}
MEKONG=${MEKONG:?set MEKONG to the mekong binary}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}

# has_plugin NAME: built in the build tree, or listed by `mekong plugins`
has_plugin() {
    [ -f "${MEKONG_BUILD:-.}/plugins/$1/.libs/$1.so" ] ||
        "$MEKONG" plugins 2>/dev/null | grep -q "^$1 "
}
if [ -f "$case_dir/expect/requires" ]; then
    for p in $(sed "s/#.*//" "$case_dir/expect/requires"); do
        if ! has_plugin "$p"; then
            echo "# skip: case $(basename "$case_dir") needs plugin $p, which this build lacks"
            exit 77
        fi
    done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-case.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$case_dir"/. "$work"/
cd "$work" || exit 1
status=0
problem() { echo "$*"; status=1; }

if [ -f setup ]; then
    bash ./setup || { echo "setup failed"; exit 1; }
fi
args="run pipeline.yaml"
[ -f cmd ] && args=$(cat cmd)
eval "\"$MEKONG\" $args" > stdout.txt 2> stderr.txt < /dev/null
rc=$?
want=0
[ -f expect/exit ] && want=$(cat expect/exit)
if [ "$rc" != "$want" ]; then
    problem "exit status $rc, expected $want"
    sed 's/^/stderr: /' stderr.txt | head -20
fi
check_lines() { # file-with-lines output-file label
    [ -f "$1" ] || return 0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        grep -qF -- "$line" "$2" || { problem "$3 lacks: $line"; sed "s/^/$3: /" "$2" | head -20; }
    done < "$1"
}
check_lines expect/stderr stderr.txt stderr
check_lines expect/stdout stdout.txt stdout
if [ -d expect/files ]; then
    while IFS= read -r f; do
        rel=${f#expect/files/}
        if [ ! -f "$rel" ]; then
            problem "missing output $rel"
        elif ! cmp -s "$f" "$rel"; then
            problem "output $rel differs from expected:"
            diff -u "$f" "$rel" | head -30
        fi
    done < <(find expect/files -type f | sort)
fi
if [ -f expect/absent ]; then
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        # a glob so temporary names count too
        for m in $p; do
            [ -e "$m" ] && problem "$m should not exist"
        done
    done < expect/absent
fi
if [ -f expect/report ]; then
    # the report a "file:" line names, else the one in out/
    report=$(ls out/*.report.json out/report.json 2>/dev/null | head -1)
    python3 "$SRC/tests/report-check.py" expect/report ${report:+"$report"} || status=1
fi
exit $status
