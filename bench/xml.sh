#!/usr/bin/env bash
# bench/xml.sh [CSV] -- the xml plugin on the benchmark rows (issue 9),
# measured next to its peers in the same run:
#
#   CSV -> XML   mekong csv -> xml sink (the 13 columns, national_id as an
#                attribute), next to mekong csv -> csv over the same file;
#                goal: at most 1.5 times csv -> csv's time.
#   XML -> CSV   mekong xml source -> csv sink over the XML just written,
#                next to `xmllint --stream --noout` over the same file
#                (libxml2's own streaming reader doing nothing with the
#                nodes: the reader is the limit); goal: at least 0.7 times
#                xmllint's MB/s while producing the rows.
#
# MB/s is the input's bytes / 10^6 / s; each figure is the best of
# BENCH_RUNS runs (default 3), the input in the page cache, peak RSS from
# GNU time.  Every mekong run's report must show every row read and
# written, or the figure is not printed.
#
# Usage: bench/xml.sh [CSV]: CSV is the benchmark file (make bench passes
# bench/work/bench.csv); without it BENCH_ROWS (default 200,000) rows are
# generated with bench/gen.
# Environment: MEKONG, MEKONG_BUILD, MEKONG_SRC (set by make bench),
# BENCH_ROWS, BENCH_RUNS, BENCH_WORK.
set -u
BUILD=${MEKONG_BUILD:-$(pwd)}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_WORK:-$BUILD/bench/work}/xml
mkdir -p "$WORK" || { echo "bench xml: cannot create $WORK" >&2; exit 1; }

if [ ! -f "$BUILD/plugins/xml/.libs/xml.so" ] && ! "$MEKONG" plugins 2>/dev/null | grep -q '^xml '; then
    echo "# skip: bench xml: the xml plugin is not built (libxml2-dev)"
    exit 0
fi
csv=${1:-}
if [ -z "$csv" ]; then
    csv=$WORK/bench.csv
    "$BUILD/bench/gen" -n "${BENCH_ROWS:-200000}" -o "$csv" || exit 1
fi
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
have_xmllint=1
command -v xmllint >/dev/null 2>&1 || have_xmllint=0
[ -x /usr/bin/time ] || { echo "bench xml: GNU time is needed (apt-get install time)" >&2; exit 1; }

. "$SRC/bench/measure.bash" # measure NAME CMD...: best_s, rss_kb

columns="national_id full_name birth_date sex phone email province district ward address ethnicity occupation registered_at"
cat > "$WORK/csv-csv.yaml" <<YAML
sources: [ { name: registry, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: csv, path: "$WORK/out.csv" } ]
rejects: "$WORK/rejects.csv"
YAML
cat > "$WORK/csv-xml.yaml" <<YAML
sources: [ { name: registry, plugin: csv, path: "$csv" } ]
sinks:
  - { plugin: xml, path: "$WORK/bench.xml", root: DanhSach, record: CongDan,
      namespace: "urn:example:dancu", attributes: [national_id] }
rejects: "$WORK/rejects.csv"
YAML
{
    echo "sources:"
    echo "  - name: registry"
    echo "    plugin: xml"
    echo "    path: \"$WORK/bench.xml\""
    echo "    record: /d:DanhSach/d:CongDan"
    echo "    namespaces: { d: \"urn:example:dancu\" }"
    echo "    fields:"
    echo "      national_id: \"@national_id\""
    for c in $columns; do [ "$c" = national_id ] || echo "      $c: d:$c"; done
    echo "sinks: [ { plugin: csv, path: \"$WORK/back.csv\" } ]"
    echo "rejects: \"$WORK/rejects.csv\""
} > "$WORK/xml-csv.yaml"

rows=""
# run_mekong NAME: measure a pipeline, check its report; prints nothing
run_mekong() {
    measure "$1" "$MEKONG" run "$WORK/$1.yaml" --quiet --report "$WORK/$1.json" || return 1
    local read written
    read=$(grep -o '"read":[0-9]*' "$WORK/$1.json" | head -1 | cut -d: -f2)
    written=$(grep -o '"written":[0-9]*' "$WORK/$1.json" | head -1 | cut -d: -f2)
    [ -z "$rows" ] && rows=$read
    if [ "$read" != "$rows" ] || [ "$written" != "$rows" ] || ! grep -q '"balanced":true' "$WORK/$1.json"; then
        echo "bench xml: $1: the report shows $read read, $written written (expected $rows)" >&2
        return 1
    fi
}
line() { # label seconds rss_kb bytes
    printf '%-34s %8.2f %9.1f %12.0f %7.1f MB\n' "$1" "$2" \
        "$(awk -v b="$4" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$rows" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')"
}
verdict() { # ratio op goal
    if awk -v r="$1" -v g="$3" -v op="$2" 'BEGIN {exit !(op == ">=" ? r >= g : r <= g)}'; then
        echo "met"
    else
        echo "NOT met"
    fi
}

status=0
csv_bytes=$(stat -c %s "$csv")
run_mekong csv-csv || exit 1
t_csv=$best_s rss_csv=$rss_kb
run_mekong csv-xml || exit 1
t_csvxml=$best_s rss_csvxml=$rss_kb
xml_bytes=$(stat -c %s "$WORK/bench.xml")
run_mekong xml-csv || exit 1
t_xml=$best_s rss_xml=$rss_kb
cmp -s "$WORK/out.csv" "$WORK/back.csv" ||
    { echo "bench xml: csv -> xml -> csv did not give the csv -> csv output back" >&2; status=1; }

echo "bench xml: $rows rows; CSV $csv_bytes bytes, XML $xml_bytes bytes; best of $RUNS runs"
printf '%-34s %8s %9s %12s %10s\n' "" seconds "MB/s" "rows/s" "peak RSS"
line "mekong csv -> csv" "$t_csv" "$rss_csv" "$csv_bytes"
line "mekong csv -> xml" "$t_csvxml" "$rss_csvxml" "$csv_bytes"
line "mekong xml -> csv" "$t_xml" "$rss_xml" "$xml_bytes"
if [ $have_xmllint = 1 ]; then
    measure xmllint xmllint --stream --noout "$WORK/bench.xml" || exit 1
    t_lint=$best_s
    line "xmllint --stream --noout" "$t_lint" "$rss_kb" "$xml_bytes"
fi
echo
r=$(awk -v a="$t_csvxml" -v b="$t_csv" 'BEGIN {printf "%.2f", a / b}')
echo "csv -> xml time / csv -> csv time: ${r}x   (goal: at most 1.5x: $(verdict "$r" "<=" 1.5))"
if [ $have_xmllint = 1 ]; then
    r=$(awk -v a="$t_lint" -v b="$t_xml" 'BEGIN {printf "%.2f", a / b}')
    echo "xml -> csv MB/s / xmllint --stream MB/s: ${r}x   (goal: at least 0.7x: $(verdict "$r" ">=" 0.7))"
else
    echo "# skip: xmllint is not installed (apt-get install libxml2-utils): no ratio to it"
fi
rm -f "$WORK"/stdout.* "$WORK"/stderr.* "$WORK"/time.* "$WORK/out.csv" "$WORK/back.csv"
exit $status
