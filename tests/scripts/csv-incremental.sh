#!/usr/bin/env bash
# csv-incremental.sh -- the csv source's incremental: true, one behaviour a
# check: new files read, unchanged ones skipped unopened, touched ones
# skipped by their SHA-256 (which matches sha256sum), rows appended read
# from where the file ended with the right line numbers, a changed file
# read again whole with a warning, vanished files forgotten,
# --full-refresh reading everything.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-csvinc.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data"
cat > "$work/p.yaml" <<'YAML'
sources:
  - name: arrivals
    plugin: csv
    path: data/*.csv
    incremental: true
sinks:
  - plugin: csv
    path: out/rows.csv
rejects: out/rejects.csv
YAML
run() { ( cd "$work" && "$MEKONG" run p.yaml "$@" ) 2> "$work/err"; }
rows() { tail -n +2 "$work/out/rows.csv" | tr '\n' ' '; }
state() { cat "$work/.mekong/p/state.json"; }
check() {
    if [ "$2" = 0 ]; then echo "ok - csv-incremental: $1"; else
        echo "not ok - csv-incremental: $1"; echo "# $3"; sed 's/^/# /' "$work/err"; fi
}
printf 'id,name\n1,Hà Nội\n2,"Huế\nmulti"\n' > "$work/data/a.csv"
printf 'id,name\n3,Đà Nẵng\n' > "$work/data/b.csv"
run; r=$(rows)
sum=$(sha256sum "$work/data/a.csv" | cut -c1-64)
check "new files are read; the state holds their SHA-256" \
    "$([ "$r" = '1,Hà Nội 2,"Huế multi" 3,Đà Nẵng ' ] && state | grep -q "\"sha256\": \"$sum\""; echo $?)" "rows '$r'"
run; r=$(rows)
check "unchanged files are not read again" "$([ -z "$r" ] && grep -q '"files_unchanged":2' "$work/out/p.report.json"; echo $?)" "rows '$r'"
touch "$work/data/a.csv"; cp -p "$work/data/b.csv" "$work/b.tmp"; cp "$work/b.tmp" "$work/data/b.csv"
run; r=$(rows)
check "touched or copied files with the same content are not read again" "$([ -z "$r" ]; echo $?)" "rows '$r'"
printf '4,Cần Thơ\n5,x,extra\n' >> "$work/data/a.csv"
run; r=$(rows)
check "rows appended to a file are read from where it ended, with their lines" \
    "$([ "$r" = "4,Cần Thơ " ] && grep -q '^5,x,arrivals[^,]*,data/a.csv,4,6,' "$work/out/rejects.csv" && grep -q 'grew since it was loaded' "$work/err"; echo $?)" \
    "rows '$r'; rejects: $(tail -n 1 "$work/out/rejects.csv")"
printf 'id,name\n30,Đà Lạt\n' > "$work/data/b.csv"
run; r=$(rows)
check "a changed file is read again whole, with a warning" \
    "$([ "$r" = "30,Đà Lạt " ] && grep -q 'b.csv changed since it was loaded' "$work/err"; echo $?)" "rows '$r'"
rm "$work/data/b.csv"
run
check "a file no longer matched is forgotten" "$(state | grep -q 'b.csv'; [ $? = 1 ]; echo $?)" "$(state)"
run --full-refresh; r=$(rows)
check "--full-refresh reads every file" "$([ "$r" = '1,Hà Nội 2,"Huế multi" 4,Cần Thơ ' ]; echo $?)" "rows '$r'"
