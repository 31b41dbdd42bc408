#!/usr/bin/env bash
# bench/patterns.sh -- the rules' pattern functions (lua_pattern.c, with a
# step counter so a backtracking pattern can be stopped) against Lua 5.4's
# string library on the same values in the same process: typical rule
# patterns (trim, dates, e-mail, whitespace, key = value, plain find) and a
# gsub over a 100 KB value.  Called by bench/run.sh (ignores its $1);
# BENCH_PATTERN_CALLS sets the loop count (default 200,000).
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${MEKONG_BUILD:-$(pwd)}
out=${BENCH_WORK:-$BUILD/bench/work}
mkdir -p "$out"
cc -O2 -o "$out/patterns" -I"$SRC/plugins/lua" "$SRC/bench/patterns.c" \
    "$SRC/plugins/lua/lua_pattern.c" -I"$BUILD" \
    $(pkg-config --cflags --libs lua5.4) || exit 1
echo "== pattern functions: bounded (rules) vs Lua's string library =="
/usr/bin/time -f "peak RSS %M KB" "$out/patterns" "${BENCH_PATTERN_CALLS:-200000}"
