#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] -- build the fuzz targets with clang
# (libFuzzer, ASan, UBSan) and run each for SECONDS (default 60) from its
# seed corpus in tests/fuzz/corpus/NAME/.
#
#   fuzz_csv       the csv source through a whole run, every encoding and
#                  the options that change parsing (fuzz_csv.c says how the
#                  first two bytes choose them)
#   fuzz_pipeline  pipeline files: YAML, ${VAR}, building the steps
#   fuzz_vntext    legacy decoders, UTF-16 streams, detection, NFC
#   fuzz_xml       the xml source's reader on one document (its own small
#                  host: fuzz_xml.c), when libxml2 is installed
#
# Run from a configured build tree (config.h), or set MEKONG_BUILD; the
# sources are MEKONG_SRC (default: this script's tree).  Objects and the
# inputs a run finds go to FUZZ_WORK (default $MEKONG_BUILD/tests/fuzz/work):
# the corpus in the repository stays the seeds plus what was added on
# purpose.  A crash leaves FUZZ_WORK/NAME/crash-* and the script exits 1;
# add the input to corpus/NAME/ with the fix (tests/fuzz/README.md).
#
# FUZZ_TARGETS limits the targets ("fuzz_csv fuzz_vntext").  Needs clang
# and the libFuzzer runtime (Debian: clang, libclang-rt-14-dev).
set -u
seconds=${1:-60}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${MEKONG_BUILD:-$(pwd)}
WORK=${FUZZ_WORK:-$BUILD/tests/fuzz/work}
CC=${FUZZ_CC:-clang}
default_targets="fuzz_csv fuzz_pipeline fuzz_vntext"
pkg-config --exists libxml-2.0 2>/dev/null && default_targets="$default_targets fuzz_xml"
targets=${FUZZ_TARGETS:-$default_targets}

if ! command -v "$CC" >/dev/null; then
    echo "# skip: fuzz targets need clang (apt-get install clang libclang-rt-14-dev)"
    exit 0
fi
if [ ! -f "$BUILD/config.h" ]; then
    echo "tests/fuzz/run.sh: no config.h in $BUILD: run configure first, or set MEKONG_BUILD" >&2
    exit 2
fi
mkdir -p "$WORK/obj" "$WORK/bin"
# the runs' files (inputs, outputs fsync'ed at commit) in memory when we can
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
flags=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -I"$SRC/engine" -I"$SRC/engine/kit" -I"$SRC/engine/vntext"
       -I"$BUILD" -DMK_PLUGIN_DIR='"/nonexistent"' -DMK_BUILD_DIR='"/nonexistent"'
       $(pkg-config --cflags yaml-0.1 libutf8proc))
libs=($(pkg-config --libs yaml-0.1 libutf8proc) -lcsv -lpthread -lm)

# compile NAME.c [extra flags]: an object in WORK/obj, with fuzzer coverage
compile() {
    local src=$1 obj
    shift
    obj="$WORK/obj/$(echo "${src#"$SRC"/}" | tr / _).o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
        "$CC" "${flags[@]}" -fsanitize=fuzzer-no-link "$@" -c "$src" -o "$obj" || return 1
    fi
    echo "$obj"
}

objs=()
# (the engine reads the dedupe step's shard files, plugins/dedupe/dedupe_shard.h,
# and uses the csv source's state code, which comes with the csv objects below)
for f in "$SRC"/engine/*.c "$SRC"/engine/run/*.c "$SRC"/engine/util/*.c "$SRC"/engine/kit/*.c \
         "$SRC"/engine/vntext/vntext.c "$SRC"/engine/vntext/vn_*.c; do
    o=$(compile "$f" -I"$SRC/plugins/dedupe") || { echo "not ok - fuzz targets build ($f)"; exit 1; }
    objs+=("$o")
done
csv_objs=()
for f in "$SRC"/plugins/csv/*.c; do
    o=$(compile "$f" -I"$SRC/plugins/csv" -Dmekong_plugin=mk_fuzz_csv_plugin) ||
        { echo "not ok - fuzz targets build ($f)"; exit 1; }
    csv_objs+=("$o")
done

xml_objs=()
if [[ " $targets " == *" fuzz_xml "* ]]; then
    for f in "$SRC"/plugins/xml/*.c; do
        o=$(compile "$f" -I"$SRC/plugins/xml" $(pkg-config --cflags libxml-2.0)) ||
            { echo "not ok - fuzz targets build ($f)"; exit 1; }
        xml_objs+=("$o")
    done
fi

failed=0
for t in $targets; do
    exe="$WORK/bin/$t"
    extra=()
    [ "$t" = fuzz_xml ] && extra=($(pkg-config --cflags libxml-2.0))
    main=$(compile "$SRC/tests/fuzz/$t.c" -I"$SRC/tests/fuzz" "${extra[@]}") ||
        { echo "not ok - $t builds"; failed=1; continue; }
    case $t in
        fuzz_vntext) link=("$main" $(printf '%s\n' "${objs[@]}" | grep '_vntext_')) ;;
        # its own host: the plugin with the kit, util and vntext code only
        fuzz_xml) link=("$main" "${xml_objs[@]}"
                        $(printf '%s\n' "${objs[@]}" | grep -E '_(kit|util|vntext)_')
                        $(pkg-config --libs libxml-2.0)) ;;
        *) link=("$main" "${objs[@]}" "${csv_objs[@]}") ;;
    esac
    if ! "$CC" "${flags[@]}" -fsanitize=fuzzer "${link[@]}" "${libs[@]}" -o "$exe"; then
        echo "not ok - $t builds"
        failed=1
        continue
    fi
    mkdir -p "$WORK/$t/found"
    rm -f "$WORK/$t"/crash-* "$WORK/$t"/leak-* "$WORK/$t"/timeout-* "$WORK/$t"/oom-*
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$WORK/$t/" \
        "$WORK/$t/found" "$SRC/tests/fuzz/corpus/$t" > "$WORK/$t/log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$t/log" | grep -o '[0-9]*$')
    if [ $rc -eq 0 ]; then
        echo "ok - $t: ${runs:-?} inputs in ${seconds} s, no crash"
    else
        echo "not ok - $t: status $rc after ${runs:-?} inputs; see $WORK/$t/log and $WORK/$t/crash-*"
        grep -m5 -E 'ERROR|SUMMARY|fuzz_' "$WORK/$t/log" | sed 's/^/    /'
        failed=1
    fi
done
exit $failed
