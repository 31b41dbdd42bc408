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

/* ---- matching keys, for C callers (no Lua) ---- */

#include "vntext/vntext.h"

/* Steps of vnlib_key_normalize, applied in this order. */
#define VNLIB_KEY_TRIM 1  /* Unicode white space off both ends */
#define VNLIB_KEY_NFC 2   /* NFC */
#define VNLIB_KEY_LOWER 4 /* lower case */
#define VNLIB_KEY_TONE 8  /* tone placement does not count: hòa = hoà (implies NFC) */
#define VNLIB_KEY_FOLD 16 /* no case, tones or diacritics, đ = d (implies NFC) */

/* Append the key of s (steps as above; then, with pad > 0, a key of ASCII
 * digits shorter than pad gets zeros on the left) to out; tmp is scratch.
 * VN_OK, VN_EINVALID (not UTF-8, with a text step) or VN_ENOMEM.  The key
 * is for comparing, not for showing (TONE writes the tone as \x01 and a
 * digit at the end of each syllable). */
int vnlib_key_normalize(const char *s, size_t len, int steps, int pad, vn_buf *tmp, vn_buf *out);

#endif
