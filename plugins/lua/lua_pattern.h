/*
 * lua_pattern.h -- Lua 5.4's pattern functions with a step counter
 * (lua_pattern.c), for the rule sandbox.  Self-contained: it needs only Lua,
 * so the unit test can compare it with the real string library.
 */
#ifndef MK_LUA_PATTERN_H
#define MK_LUA_PATTERN_H

#include <lua.h>

/* Steps between two calls of the charge function. */
#define LP_PATTERN_CHUNK 4096u

/* Called with the steps done since the last call; may raise a Lua error
 * (luaL_error) to stop the matching. */
typedef void (*lp_pattern_charge_fn)(lua_State *L, unsigned steps);

/* One charge function for the whole process (set before states run). */
void lp_pattern_set_charge(lp_pattern_charge_fn fn);

/* Replace find, match, gmatch and gsub in the table at index string_table. */
void lp_pattern_install(lua_State *L, int string_table);

#endif
