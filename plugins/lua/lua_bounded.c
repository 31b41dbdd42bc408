/*
 * lua_bounded.c -- library functions whose C loops a rule could make
 * endless, replaced in the sandbox by ones with the same results that
 * either return at once or charge their loop to the instruction budget.
 *
 * No hook fires inside a C function, so neither instruction_budget, nor
 * batch_seconds, nor SIGTERM reaches these loops:
 *
 *   string.rep("", math.maxinteger)                copies nothing, 2^63 times
 *   table.move({}, 1, math.maxinteger - 1, 2)      moves nils, 2^63 times
 *   table.insert(t, 1, v), table.remove(t, 1)      with a __len that says 2^63
 *
 * string.rep of empty pieces returns "" (any other result needs memory,
 * which memory_mb bounds).  table.move works in chunks of BOUNDED_CHUNK
 * elements through Lua's own, in the order Lua's loop would take; insert
 * and remove are written out (Lua's loop, with a charge every
 * BOUNDED_CHUNK elements).  An element costs 1/LP_PATTERN_STEPS of an
 * instruction, as a pattern step does.
 */
#include "config.h"

#include <lauxlib.h>

#include "lua_plugin.h"

#define BOUNDED_CHUNK 65536

static void charge_chunk(lua_State *L, lua_Integer elements)
{
    lp_worker *w = LP_WORKER(L);
    if (w->fatal[0] || lp_charge(w, L, elements / LP_PATTERN_STEPS))
        lp_raise_fatal(L, w);
}

/* Call the original function (upvalue 1) with this call's arguments. */
static int call_original(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int bounded_rep(lua_State *L)
{
    size_t len, seplen = 0;
    luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (!lua_isnoneornil(L, 3))
        luaL_checklstring(L, 3, &seplen);
    if (n <= 0 || len + seplen == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    return call_original(L);
}

static int bounded_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int dst = lua_isnoneornil(L, 5) ? 1 : 5;
    if (e < f || e - f < BOUNDED_CHUNK) /* small: Lua's own, checks included */
        return call_original(L);
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
    lua_Integer n = e - f + 1;
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    int forward = t > e || t <= f || (dst != 1 && !lua_compare(L, 1, dst, LUA_OPEQ));
    for (lua_Integer done = 0; done < n; done += BOUNDED_CHUNK) {
        lua_Integer k = n - done < BOUNDED_CHUNK ? n - done : BOUNDED_CHUNK;
        lua_Integer from = forward ? f + done : e - done - k + 1;
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushvalue(L, 1);
        lua_pushinteger(L, from);
        lua_pushinteger(L, from + k - 1);
        lua_pushinteger(L, t + (from - f));
        lua_pushvalue(L, dst);
        lua_call(L, 5, 0);
        charge_chunk(L, k);
    }
    lua_pushvalue(L, dst);
    return 1;
}

/* Argument 1 is a table, or has the metamethods insert/remove use (as
 * Lua's checktab); its length, through __len if it has one. */
static lua_Integer length_rw(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE) {
        static const char *const needed[] = {"__index", "__newindex", "__len"};
        int ok = lua_getmetatable(L, 1);
        for (int i = 0; ok && i < 3; i++) {
            lua_pushstring(L, needed[i]);
            ok = lua_rawget(L, -2) != LUA_TNIL;
            lua_pop(L, 1);
        }
        if (!ok)
            luaL_checktype(L, 1, LUA_TTABLE); /* the error Lua gives */
        lua_pop(L, 1);
    }
    return luaL_len(L, 1);
}

static int bounded_insert(lua_State *L)
{
    lua_Integer e = (lua_Integer)((lua_Unsigned)length_rw(L) + 1u); /* first empty */
    lua_Integer pos = e;
    switch (lua_gettop(L)) {
    case 2: break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
        for (lua_Integer i = e, k = 0; i > pos; i--) {
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
            if (++k == BOUNDED_CHUNK) {
                charge_chunk(L, k);
                k = 0;
            }
        }
        break;
    default: return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

static int bounded_remove(lua_State *L)
{
    lua_Integer size = length_rw(L);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size) /* argument #1 in the message, as Debian's Lua 5.4.4 says */
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1,
                      "position out of bounds");
    lua_geti(L, 1, pos);
    for (lua_Integer k = 0; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
        if (++k == BOUNDED_CHUNK) {
            charge_chunk(L, k);
            k = 0;
        }
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

/* lib.name = fn, with the original as fn's upvalue. */
static void wrap(lua_State *L, const char *lib, const char *name, lua_CFunction fn)
{
    lua_getglobal(L, lib);
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void lp_bounded_install(lua_State *L)
{
    wrap(L, "string", "rep", bounded_rep);
    wrap(L, "table", "move", bounded_move);
    wrap(L, "table", "insert", bounded_insert);
    wrap(L, "table", "remove", bounded_remove);
}
