/*
 * vnlib.h -- mekong.vn, the C part of the rule library: Vietnamese-correct
 * case mapping, whitespace clean-up, NFC, matching keys, legacy decoding and
 * case restoration, as Lua functions.  The Lua modules in lua/mekong/ build
 * on it; docs/RULES.md ("The rule library") documents every function.
 *
 * The lua plugin links this library and preloads it, so a rule gets it with
 * require "mekong.vn" (or, better, through require "mekong.text").
 */
#ifndef MEKONG_LUA_VNLIB_H
#define MEKONG_LUA_VNLIB_H

#include <lua.h>

/* Open the module: pushes a table of functions (nfc, upper, lower, title,
 * trim, collapse, fold, tone_key, decode, restore_case).  Each Lua state gets
 * its own scratch buffer and decoder cache, freed with the state. */
int luaopen_mekong_vn(lua_State *L);

/* mekong.lookup_core (vnlookup.c): lookup tables parsed once per run in C
 * memory and shared read-only by every Lua state (docs/RULES.md,
 * mekong.lookup).  Preloaded by the lua plugin. */
int luaopen_mekong_lookup_core(lua_State *L);
/* Registry field: the path of the table lookup.load is loading, or nil. */
#define VNLIB_LOOKUP_LOADING "mekong.lookup.loading"

#endif
