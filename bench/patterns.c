/*
 * patterns.c -- the rule sandbox's pattern functions (plugins/lua/
 * lua_pattern.c, with a step counter) against Lua 5.4's own string library,
 * in the same process: the same Lua loop calls string.X and bounded.X on
 * the same values.  Run by bench/patterns.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_pattern.h"

static const char *const bench_lua =
    "local lib, n = ...\n"
    "local values = {'Nguyễn Văn An', '  12/03/1985 ', 'an.nguyen@example.vn',\n"
    "  'Số 12, Phường 3, Quận 1, TP. Hồ Chí Minh', '079085001234', 'x = 1, y = 22, z = 333'}\n"
    "local long = string.rep('abc def, ', 10000)\n"
    "local t = os.clock()\n"
    "local bytes = 0\n"
    "for i = 1, n do\n"
    "  local v = values[i % #values + 1]\n"
    "  bytes = bytes + #v * 6\n"
    "  lib.find(v, '^%s*(.-)%s*$')\n"
    "  lib.match(v, '(%d+)/(%d+)/(%d+)')\n"
    "  lib.match(v, '^[%w._-]+@[%w.-]+%.%a+$')\n"
    "  lib.gsub(v, '%s+', ' ')\n"
    "  for k, x in lib.gmatch(v, '(%w+) = (%w+)') do end\n"
    "  lib.find(v, 'Quận', 1, true)\n"
    "  if i % 1000 == 0 then lib.gsub(long, ',', ';'); bytes = bytes + #long end\n"
    "end\n"
    "return os.clock() - t, bytes\n";

static double run(lua_State *L, const char *lib, long n, double *mb)
{
    luaL_loadstring(L, bench_lua);
    lua_getglobal(L, lib);
    lua_pushinteger(L, n);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return -1;
    }
    double s = lua_tonumber(L, -2);
    *mb = lua_tonumber(L, -1) / 1e6;
    lua_pop(L, 2);
    return s;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    lp_pattern_install(L, -1);
    lua_setglobal(L, "bounded");
    double best[2] = {1e9, 1e9}, mb = 0;
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 2; k++) {
            double s = run(L, k ? "bounded" : "string", n, &mb);
            if (s >= 0 && s < best[k])
                best[k] = s;
        }
    }
    for (int k = 0; k < 2; k++)
        printf("%-28s %8.3f s  %10.0f values/s  %7.1f MB/s\n",
               k ? "bounded (lua_pattern.c)" : "Lua 5.4 string library", best[k],
               (double)n / best[k], mb / best[k]);
    printf("bounded / Lua time: %.2f\n", best[1] / best[0]);
    lua_close(L);
    return 0;
}
