/*
 * test_lua_pattern.c -- the rule sandbox's pattern functions
 * (plugins/lua/lua_pattern.c) against Lua 5.4's own string library: the
 * same results and the same errors for hand-picked patterns and for many
 * random patterns and subjects, and a bounded end for a pattern that
 * backtracks without end.
 */
#include "config.h"

#include <lauxlib.h>
#include <lualib.h>

#include "lua_pattern.h"
#include "unit.h"

/* Compares string.X with bounded.X over calls; returns the mismatches. */
static const char *const compare_lua =
    "local function pack(ok, ...) return {ok = ok, n = select('#', ...), ...} end\n"
    "local function strip(e) return (tostring(e):gsub('^[^:]*:%d+: ', '')) end\n"
    "local function same(a, b)\n"
    "  if a.ok ~= b.ok then return false end\n"
    "  if not a.ok then return strip(a[1]) == strip(b[1]) end\n"
    "  if a.n ~= b.n then return false end\n"
    "  for i = 1, a.n do if a[i] ~= b[i] or math.type(a[i]) ~= math.type(b[i]) then\n"
    "    return false end end\n"
    "  return true\n"
    "end\n"
    "local function all(f, ...)\n"
    "  local ok, it = pcall(f, ...)\n"
    "  if not ok then return {ok = false, n = 1, it} end\n"
    "  local out = {ok = true, n = 0}\n"
    "  for k = 1, 50 do\n"
    "    local r = pack(pcall(it))\n"
    "    if not r.ok then return {ok = false, n = 1, r[1]} end\n"
    "    if r[1] == nil then break end\n"
    "    for i = 1, r.n do out.n = out.n + 1; out[out.n] = r[i] end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local bad, calls = {}, 0\n"
    "local function check(name, ...)\n"
    "  calls = calls + 1\n"
    "  local a, b\n"
    "  if name == 'gmatch' then a, b = all(string.gmatch, ...), all(bounded.gmatch, ...)\n"
    "  else a, b = pack(pcall(string[name], ...)), pack(pcall(bounded[name], ...)) end\n"
    "  if not same(a, b) and #bad < 10 then\n"
    "    local args = {...}\n"
    "    for i = 1, select('#', ...) do args[i] = string.format('%q', tostring(args[i])) end\n"
    "    bad[#bad + 1] = name .. '(' .. table.concat(args, ', ') .. '): lua ' ..\n"
    "      tostring(a[1]) .. ' ' .. tostring(a[2]) .. ' ' .. tostring(a[3]) ..\n"
    "      ', bounded ' .. tostring(b[1]) .. ' ' .. tostring(b[2]) .. ' ' .. tostring(b[3])\n"
    "  end\n"
    "end\n"
    "local repl = {'%0', '<%1>', '%2%1', '%%', '%', '%x', 'x', 12,\n"
    "  function(a, b) return b and (a .. b) or nil end, function() return false end,\n"
    "  function() return {} end, {a = 'A', ab = true, b = 7}}\n"
    "local function one(s, p)\n"
    "  for _, init in ipairs({1, 2, -1, 0, -100, 100, 4}) do\n"
    "    check('find', s, p, init); check('match', s, p, init); check('gmatch', s, p, init)\n"
    "  end\n"
    "  check('find', s, p, 1, true)\n"
    "  check('find', s, p)\n"
    "  for _, r in ipairs(repl) do check('gsub', s, p, r); check('gsub', s, p, r, 1) end\n"
    "end\n"
    "for _, c in ipairs(cases) do one(c[1], c[2]) end\n"
    "local atoms = {'a', 'b', '.', '%a', '%d', '%s', '%w', '%p', '%u', '%L', '%x', '%%', '%.',\n"
    "  '[ab]', '[^a]', '[a-c]', '[%d_]', '[]a]', '[^]]', '[a-]', '(', ')', '()', '%1', '%2',\n"
    "  '%b()', '%bab', '%f[%w]', '%f[%W]', '^', '$', '-', '[', ']', '%', '%b', '%f',\n"
    "  '\\0', '\\200', ' ', ',', '%z'}\n"
    "local suffix = {'', '', '', '*', '+', '-', '?'}\n"
    "local letters = {'a', 'b', 'c', '1', '2', ' ', '(', ')', ',', '.', 'A', '_', '\\0', '\\255', "
    "']'}\n"
    "math.randomseed(20261202)\n"
    "for k = 1, rounds do\n"
    "  local p = {}\n"
    "  for i = 1, math.random(1, 6) do\n"
    "    p[#p + 1] = atoms[math.random(#atoms)] .. suffix[math.random(#suffix)]\n"
    "  end\n"
    "  local s = {}\n"
    "  for i = 1, math.random(0, 12) do s[#s + 1] = letters[math.random(#letters)] end\n"
    "  one(table.concat(s), table.concat(p))\n"
    "end\n"
    "return calls, table.concat(bad, '\\n')\n";

static const char *const cases[][2] = {
    {"hello world", "o w"},
    {"hello world", "^h(.-)o"},
    {"hello", "l+"},
    {"hello", "()ll()"},
    {"key = value", "(%w+)%s*=%s*(%w+)"},
    {"THE (quick) fox", "%((%a+)%)"},
    {"f(a(b)c)d", "%b()"},
    {"THE (quick) fox", "%f[%a]%a+"},
    {"aaa", "a-b"},
    {"aaa", "^a-$"},
    {"abcabc", "(abc)%1"},
    {"x = 1, y = 2", "(%w+) = (%w+)"},
    {"", ""},
    {"", "^$"},
    {"abc", ""},
    {"abc", "[%a-z]"},
    {"a.b", "%."},
    {"a+b", "a+b"},
    {"[x]", "[]]"},
    {"a]b", "[^]]+"},
    {"0x1F", "%x+"},
    {"\xe1\xba\xa1 \xc3\xa2", "[\x80-\xff]+"},
    {"abc", "(a)(b)(c)(d)"},
    {"abc", "%"},
    {"abc", "[a"},
    {"abc", "(()"},
    {"abc", "%b"},
    {"abc", "%f"},
    {"abc", "%fa"},
    {"abc", "(a%2)"},
    {"abc", "a)"},
    {"abc", "%0"},
    {"a,b,,c", "([^,]*)"},
    {"abc", "$a"},
    {"a$", "a$b"},
    {"aXb", "%u"},
    {"a b", "%s"},
    {"(a)(b)", "%b)("},
    {"a1b2", "[%d]"},
    {"abab", "(ab)-"},
};

static int load_compare(lua_State *L, int rounds)
{
    lua_newtable(L);
    lp_pattern_install(L, -1);
    lua_setglobal(L, "bounded");
    lua_newtable(L);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lua_newtable(L);
        for (int k = 0; k < 2; k++) {
            lua_pushstring(L, cases[i][k]); /* NULs: in the random ones */
            lua_rawseti(L, -2, k + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setglobal(L, "cases");
    lua_pushinteger(L, rounds);
    lua_setglobal(L, "rounds");
    return luaL_loadstring(L, compare_lua);
}

TEST(same_as_lua)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    CHECK(load_compare(L, 20000) == LUA_OK);
    int st = lua_pcall(L, 0, 2, 0);
    if (st != LUA_OK)
        printf("# %s\n", lua_tostring(L, -1));
    CHECK(st == LUA_OK);
    if (st == LUA_OK) {
        const char *bad = lua_tostring(L, -1);
        if (bad && *bad)
            printf("# differs from Lua 5.4:\n# %s\n", bad);
        CHECK(bad && !*bad);
        CHECK(lua_tointeger(L, -2) > 500000);
        printf("# %lld calls compared\n", (long long)lua_tointeger(L, -2));
    }
    lua_close(L);
}

static unsigned long long charged;

static void charge_and_stop(lua_State *L, unsigned steps)
{
    charged += steps;
    if (charged > 2000000)
        luaL_error(L, "stopped after %d steps", (int)charged);
}

/* string.rep("a*", 12) .. "b" on 3,000 a's: hours in Lua's string.find. */
TEST(backtracking_is_charged)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    lp_pattern_install(L, -1);
    lua_setglobal(L, "bounded");
    lp_pattern_set_charge(charge_and_stop);
    charged = 0;
    int st = luaL_dostring(L, "return bounded.find(string.rep('a', 3000), "
                              "string.rep('a*', 12) .. 'b')");
    CHECK(st != LUA_OK);
    if (st != LUA_OK && !strstr(lua_tostring(L, -1), "stopped after"))
        printf("# %s\n", lua_tostring(L, -1));
    CHECK(st != LUA_OK && strstr(lua_tostring(L, -1), "stopped after"));
    CHECK(charged > 2000000 && charged < 2000000 + 2 * LP_PATTERN_CHUNK);
    /* an ordinary match is charged what it did, to the step */
    charged = 0;
    st = luaL_dostring(L, "return bounded.gsub('a b c', '%a', '%0%0')");
    CHECK(st == LUA_OK && strcmp(lua_tostring(L, -2), "aa bb cc") == 0);
    CHECK(charged > 0 && charged < 100);
    lp_pattern_set_charge(NULL);
    lua_close(L);
}

int main(void)
{
    RUN(same_as_lua);
    RUN(backtracking_is_charged);
    return unit_failed_tests != 0;
}
