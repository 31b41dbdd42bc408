/*
 * vnlib.c -- mekong.vn: the C helpers of the rule library.
 *
 * Every function takes a string (or nil) and gives a string (or nil).  The
 * trade-off is speed on the common row: a value the function would not change
 * is returned as the very same Lua string, so cleaning clean data allocates
 * nothing; otherwise the result is built in a luaL_Buffer.  NFC, decoding and
 * case restoration go through engine/vntext with a scratch buffer that
 * belongs to the Lua state (one per worker thread), so they do not allocate
 * per call either once the buffer has grown.
 *
 * Contract shared by all functions (docs/RULES.md, "The rule library"):
 *   - nil in, nil out;
 *   - anything but a string or nil is an argument error (values are strings;
 *     nothing is converted from a number);
 *   - text that is not valid UTF-8 gives nil and "invalid UTF-8 at byte N"
 *     (decode is the exception: its input is bytes in a legacy encoding).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <utf8proc.h>

#include "vnlib.h"
#include "vntext/vntext.h"

#define VNLIB_STATE "mekong.vn.state"
#define VNLIB_DECODERS 8
/* A scratch buffer that grew beyond this is given back after the call. */
#define VNLIB_SCRATCH_KEEP (1u << 20)

typedef struct vnlib_decoder {
    const char *name; /* canonical name, static storage of vntext */
    int on_invalid;
    vn_decoder *decoder;
} vnlib_decoder;

/* Per Lua state: the upvalue of every function. */
typedef struct vnlib_state {
    vn_buf scratch;
    vnlib_decoder decoders[VNLIB_DECODERS];
    int ndecoders;
} vnlib_state;

static int state_gc(lua_State *L)
{
    vnlib_state *st = luaL_checkudata(L, 1, VNLIB_STATE);
    vn_buf_free(&st->scratch);
    for (int i = 0; i < st->ndecoders; i++)
        vn_decoder_free(st->decoders[i].decoder);
    st->ndecoders = 0;
    return 0;
}

static vnlib_state *state_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static void scratch_release(vnlib_state *st)
{
    if (st->scratch.cap > VNLIB_SCRATCH_KEEP)
        vn_buf_free(&st->scratch);
}

/* ---- arguments ---------------------------------------------------------- */

/*
 * The text argument at index 1.  Returns 0 when *s and *len are ready; otherwise
 * the function's results are on the stack (nil, or nil and a message) and the
 * return value is their number.
 */
static int text_arg(lua_State *L, const char **s, size_t *len)
{
    int type = lua_type(L, 1);
    if (type == LUA_TNIL || type == LUA_TNONE) {
        lua_pushnil(L);
        return 1;
    }
    if (type != LUA_TSTRING)
        return luaL_typeerror(L, 1, "string or nil");
    *s = lua_tolstring(L, 1, len);
    size_t bad = vn_utf8_validate(*s, *len);
    if (bad != *len) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid UTF-8 at byte %I", (lua_Integer)bad + 1);
        return 2;
    }
    return 0;
}

/* ---- UTF-8 of validated text -------------------------------------------- */

/* The code point at s[i] (valid UTF-8); returns the index after it. */
static size_t next_cp(const unsigned char *s, size_t i, int32_t *cp)
{
    unsigned c = s[i];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return i + 1;
    }
    if (c < 0xE0) {
        *cp = (int32_t)(((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu));
        return i + 2;
    }
    if (c < 0xF0) {
        *cp = (int32_t)(((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu));
        return i + 3;
    }
    *cp = (int32_t)(((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
                    (s[i + 3] & 0x3Fu));
    return i + 4;
}

/* The start of the code point that ends just before s[i] (i > 0). */
static size_t prev_cp_start(const unsigned char *s, size_t i)
{
    do
        i--;
    while (i > 0 && (s[i] & 0xC0) == 0x80);
    return i;
}

static void add_cp(luaL_Buffer *b, int32_t cp)
{
    char *p = luaL_prepbuffsize(b, 4);
    luaL_addsize(b, (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)p));
}

/* Unicode White_Space (PropList.txt), the set trim and collapse remove. */
static int is_space(int32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= '\t' && cp <= '\r');
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static int is_letter(utf8proc_category_t c)
{
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

static int is_mark(utf8proc_category_t c)
{
    return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}

/*
 * A result that is the input with some spans replaced, built lazily: until
 * the first replacement nothing is copied, and an input without any is
 * returned as the same Lua string.
 */
typedef struct lazy_out {
    lua_State *L;
    luaL_Buffer b;
    const char *s;
    size_t done; /* s[0..done) is in b (or was unchanged) */
    int started;
} lazy_out;

static void lazy_init(lazy_out *o, lua_State *L, const char *s)
{
    o->L = L;
    o->s = s;
    o->done = 0;
    o->started = 0;
}

/* s[start..end) becomes rep[0..replen). */
static void lazy_replace(lazy_out *o, size_t start, size_t end, const char *rep, size_t replen)
{
    if (!o->started) {
        luaL_buffinit(o->L, &o->b);
        o->started = 1;
    }
    luaL_addlstring(&o->b, o->s + o->done, start - o->done);
    luaL_addlstring(&o->b, rep, replen);
    o->done = end;
}

static void lazy_replace_cp(lazy_out *o, size_t start, size_t end, int32_t cp)
{
    char enc[4];
    lazy_replace(o, start, end, enc, (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)enc));
}

/* Push the result (argument 1 itself when nothing changed); returns 1. */
static int lazy_push(lazy_out *o, size_t len)
{
    if (!o->started) {
        lua_pushvalue(o->L, 1);
        return 1;
    }
    luaL_addlstring(&o->b, o->s + o->done, len - o->done);
    luaL_pushresult(&o->b);
    return 1;
}

/* ---- case ---------------------------------------------------------------- */

enum { CASE_LOWER, CASE_UPPER, CASE_TITLE };

/* Title case: is the next letter inside a word after cp (category c)?
 * Letters, marks and digits continue a word; the apostrophes of names such as
 * M'gar / M’gar keep a word going (no capital after them); anything else ends it. */
static int word_continues(int in_word, int32_t cp, utf8proc_category_t c)
{
    if (is_letter(c) || is_mark(c) || c == UTF8PROC_CATEGORY_ND)
        return 1;
    if (cp == '\'' || cp == 0x2019)
        return in_word;
    return 0;
}

static int map_case(lua_State *L, int how)
{
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    const unsigned char *s = (const unsigned char *)str;
    lazy_out o;
    lazy_init(&o, L, str);
    int in_word = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        int32_t cp, mapped;
        if (s[i] < 0x80 && how != CASE_TITLE) {
            cp = s[i++];
            mapped = how == CASE_UPPER ? (cp >= 'a' && cp <= 'z' ? cp - 32 : cp)
                                       : (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        } else if (s[i] < 0x80) { /* title case, ASCII */
            cp = s[i++];
            int letter = (cp | 32) >= 'a' && (cp | 32) <= 'z';
            mapped = letter ? (in_word ? (cp | 32) : (cp & ~32)) : cp;
            in_word = letter || (cp >= '0' && cp <= '9') || (cp == '\'' && in_word);
        } else {
            i = next_cp(s, i, &cp);
            if (how == CASE_UPPER) {
                mapped = utf8proc_toupper(cp);
            } else if (how == CASE_LOWER) {
                mapped = utf8proc_tolower(cp);
            } else {
                utf8proc_category_t c = utf8proc_category(cp);
                if (is_letter(c))
                    mapped = in_word ? utf8proc_tolower(cp) : utf8proc_totitle(cp);
                else
                    mapped = cp;
                in_word = word_continues(in_word, cp, c);
            }
        }
        if (mapped != cp)
            lazy_replace_cp(&o, start, i, mapped);
    }
    return lazy_push(&o, len);
}

static int vn_upper(lua_State *L)
{
    return map_case(L, CASE_UPPER);
}

static int vn_lower(lua_State *L)
{
    return map_case(L, CASE_LOWER);
}

static int vn_title(lua_State *L)
{
    return map_case(L, CASE_TITLE);
}

/* ---- whitespace ------------------------------------------------------------ */

static int vn_trim(lua_State *L)
{
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    const unsigned char *s = (const unsigned char *)str;
    size_t a = 0, b = len;
    while (a < b) {
        int32_t cp;
        size_t next = next_cp(s, a, &cp);
        if (!is_space(cp))
            break;
        a = next;
    }
    while (b > a) {
        size_t start = prev_cp_start(s, b);
        int32_t cp;
        next_cp(s, start, &cp);
        if (!is_space(cp))
            break;
        b = start;
    }
    if (a == 0 && b == len)
        lua_pushvalue(L, 1);
    else
        lua_pushlstring(L, str + a, b - a);
    return 1;
}

static int vn_collapse(lua_State *L)
{
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    const unsigned char *s = (const unsigned char *)str;
    lazy_out o;
    lazy_init(&o, L, str);
    size_t i = 0;
    int seen_text = 0;
    while (i < len) {
        int32_t cp;
        size_t start = i;
        i = next_cp(s, i, &cp);
        if (!is_space(cp)) {
            seen_text = 1;
            continue;
        }
        /* a run of spaces: s[start..i) */
        size_t end = i;
        while (end < len) {
            size_t next = next_cp(s, end, &cp);
            if (!is_space(cp))
                break;
            end = next;
        }
        if (!seen_text || end == len)
            lazy_replace(&o, start, end, "", 0); /* at either end: removed */
        else if (end - start != 1 || s[start] != ' ')
            lazy_replace(&o, start, end, " ", 1);
        i = end;
    }
    return lazy_push(&o, len);
}

/* ---- NFC and keys ------------------------------------------------------------ */

static int vn_nfc_fn(lua_State *L)
{
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    vnlib_state *st = state_of(L);
    const char *out;
    size_t out_len;
    int rc = vn_nfc(str, len, &out, &out_len, &st->scratch);
    if (rc == VN_ENOMEM)
        return luaL_error(L, "nfc: out of memory");
    if (rc != VN_OK) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid UTF-8");
        return 2;
    }
    if (out == str)
        lua_pushvalue(L, 1);
    else
        lua_pushlstring(L, out, out_len);
    scratch_release(st);
    return 1;
}

static int vn_fold(lua_State *L)
{
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    const unsigned char *s = (const unsigned char *)str;
    lazy_out o;
    lazy_init(&o, L, str);
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        int32_t cp, key;
        if (s[i] < 0x80) {
            cp = s[i++];
            if (cp >= 'A' && cp <= 'Z')
                lazy_replace_cp(&o, start, i, cp + 32);
            continue;
        }
        i = next_cp(s, i, &cp);
        if (cp == 0x0110 || cp == 0x0111) {
            key = 'd';
        } else if (utf8proc_category(cp) == UTF8PROC_CATEGORY_MN) {
            lazy_replace(&o, start, i, "", 0);
            continue;
        } else {
            int32_t d[8];
            int nd = vn_decompose_cp(cp, d);
            int marks_only = 1;
            for (int k = 1; k < nd; k++)
                if (utf8proc_category(d[k]) != UTF8PROC_CATEGORY_MN)
                    marks_only = 0;
            key = utf8proc_tolower(nd > 1 && marks_only ? d[0] : cp);
            if (key == 0x0111)
                key = 'd';
        }
        if (key != cp)
            lazy_replace_cp(&o, start, i, key);
    }
    return lazy_push(&o, len);
}

/* The five Vietnamese tone marks, as the digit tone_key appends. */
static int tone_id(int32_t cp)
{
    switch (cp) {
    case 0x0301: return 1; /* sắc */
    case 0x0300: return 2; /* huyền */
    case 0x0309: return 3; /* hỏi */
    case 0x0303: return 4; /* ngã */
    case 0x0323: return 5; /* nặng */
    default: return 0;
    }
}

#define CLUSTER_MAX 32
#define TONES_MAX 8

typedef struct tone_state {
    luaL_Buffer b;
    int32_t cluster[CLUSTER_MAX]; /* a starter and its marks, tones removed */
    int ncluster;
    char tones[TONES_MAX];
    int ntones;
} tone_state;

/* Write the cluster out in canonical order, composed. */
static void cluster_flush(tone_state *t)
{
    int n = t->ncluster;
    if (n == 0)
        return;
    for (int k = 1; k < n; k++) { /* stable insertion sort of the marks by class */
        int32_t cp = t->cluster[k];
        int ccc = utf8proc_get_property(cp)->combining_class;
        int j = k;
        while (j > 0 && ccc != 0 && utf8proc_get_property(t->cluster[j - 1])->combining_class > ccc) {
            t->cluster[j] = t->cluster[j - 1];
            j--;
        }
        t->cluster[j] = cp;
    }
    if (n > 1) {
        utf8proc_ssize_t m = utf8proc_normalize_utf32(t->cluster, n, UTF8PROC_COMPOSE);
        if (m > 0)
            n = (int)m;
    }
    for (int k = 0; k < n; k++)
        add_cp(&t->b, t->cluster[k]);
    t->ncluster = 0;
}

static void syllable_end(tone_state *t)
{
    cluster_flush(t);
    luaL_addlstring(&t->b, t->tones, (size_t)t->ntones);
    t->ntones = 0;
}

static int vn_tone_key(lua_State *L)
{
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    const unsigned char *s = (const unsigned char *)str;
    tone_state t;
    t.ncluster = 0;
    t.ntones = 0;
    luaL_buffinit(L, &t.b);
    size_t i = 0;
    int in_syllable = 0;
    while (i < len) {
        int32_t cp;
        size_t start = i;
        i = next_cp(s, i, &cp);
        utf8proc_category_t c = utf8proc_category(cp);
        if (!is_letter(c) && !is_mark(c)) {
            if (in_syllable)
                syllable_end(&t);
            in_syllable = 0;
            luaL_addlstring(&t.b, str + start, i - start);
            continue;
        }
        in_syllable = 1;
        int32_t d[8];
        int nd = vn_decompose_cp(cp, d);
        int has_tone = 0;
        for (int k = 0; k < nd; k++)
            has_tone |= tone_id(d[k]) != 0;
        if (!has_tone) { /* kept as it is: no needless decomposition */
            d[0] = cp;
            nd = 1;
        }
        for (int k = 0; k < nd; k++) {
            int tone = tone_id(d[k]);
            if (tone) {
                if (t.ntones < TONES_MAX)
                    t.tones[t.ntones++] = (char)('0' + tone);
                continue;
            }
            int starter = utf8proc_get_property(d[k])->combining_class == 0;
            if ((starter && t.ncluster > 0) || t.ncluster == CLUSTER_MAX)
                cluster_flush(&t);
            t.cluster[t.ncluster++] = d[k];
        }
    }
    if (in_syllable)
        syllable_end(&t);
    luaL_pushresult(&t.b);
    return 1;
}

/* tone_style(s, "old"|"new"): hoà <-> hòa, thuỷ <-> thủy, khoẻ <-> khỏe
 * (vn_tone_style, engine/vntext/vn_tone.c, says which syllables). */
static int vn_tone_style_fn(lua_State *L)
{
    static const char *const styles[] = {"old", "new", NULL};
    int style = luaL_checkoption(L, 2, NULL, styles) == 1 ? VN_TONE_NEW : VN_TONE_OLD;
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    vnlib_state *st = state_of(L);
    int changed;
    if (vn_tone_style(str, len, style, &st->scratch, &changed) == VN_ENOMEM)
        return luaL_error(L, "tone_style: out of memory");
    if (changed)
        lua_pushlstring(L, st->scratch.data, st->scratch.len);
    else
        lua_pushvalue(L, 1);
    scratch_release(st);
    return 1;
}

/* ---- vntext: decoding and case restoration ---------------------------------- */

static vn_decoder *decoder_for(lua_State *L, vnlib_state *st, const char *canonical, int on_invalid)
{
    for (int i = 0; i < st->ndecoders; i++)
        if (st->decoders[i].on_invalid == on_invalid && strcmp(st->decoders[i].name, canonical) == 0)
            return st->decoders[i].decoder;
    char err[256];
    vn_decoder *d = vn_decoder_new(canonical, on_invalid, err, sizeof err);
    if (!d) {
        luaL_error(L, "decode: %s", err);
        return NULL;
    }
    if (st->ndecoders == VNLIB_DECODERS) { /* forget the oldest */
        vn_decoder_free(st->decoders[0].decoder);
        memmove(&st->decoders[0], &st->decoders[1], sizeof st->decoders[0] * (VNLIB_DECODERS - 1));
        st->ndecoders--;
    }
    st->decoders[st->ndecoders].name = vn_decoder_name(d);
    st->decoders[st->ndecoders].on_invalid = on_invalid;
    st->decoders[st->ndecoders].decoder = d;
    st->ndecoders++;
    return d;
}

static int vn_decode(lua_State *L)
{
    static const char *const modes[] = {"reject", "replace", NULL};
    int type = lua_type(L, 1);
    const char *encoding = luaL_checkstring(L, 2);
    int on_invalid = luaL_checkoption(L, 3, "reject", modes) == 1 ? VN_REPLACE : VN_REJECT;
    if (type == LUA_TNIL || type == LUA_TNONE) {
        lua_pushnil(L);
        return 1;
    }
    if (type != LUA_TSTRING)
        return luaL_typeerror(L, 1, "string or nil");
    const char *canonical = vn_encoding_canonical(encoding);
    if (!canonical) {
        lua_pushnil(L);
        lua_pushfstring(L, "unknown encoding '%s' (known: %s)", encoding, vn_encoding_names());
        return 2;
    }
    vnlib_state *st = state_of(L);
    vn_decoder *d = decoder_for(L, st, canonical, on_invalid);
    size_t len;
    const char *src = lua_tolstring(L, 1, &len);
    const char *out;
    size_t out_len;
    vn_error e;
    memset(&e, 0, sizeof e);
    int rc = vn_decode_field(d, src, len, &out, &out_len, &st->scratch, &e);
    if (rc == VN_ENOMEM)
        return luaL_error(L, "decode: out of memory");
    if (rc != VN_OK) {
        lua_pushnil(L);
        lua_pushstring(L, e.message[0] ? e.message : "cannot decode");
        scratch_release(st);
        return 2;
    }
    if (out == src)
        lua_pushvalue(L, 1);
    else
        lua_pushlstring(L, out, out_len);
    scratch_release(st);
    return 1;
}

static int vn_restore_case_fn(lua_State *L)
{
    static const char *const modes[] = {"name", "heading", NULL};
    int mode = luaL_checkoption(L, 2, NULL, modes) == 0 ? VN_CASE_NAME : VN_CASE_HEADING;
    const char *str;
    size_t len;
    int n = text_arg(L, &str, &len);
    if (n)
        return n;
    vnlib_state *st = state_of(L);
    int rc = vn_restore_case(str, len, mode, &st->scratch);
    if (rc == VN_ENOMEM)
        return luaL_error(L, "restore_case: out of memory");
    if (rc != VN_OK) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid UTF-8");
        return 2;
    }
    if (st->scratch.len == len && memcmp(st->scratch.data, str, len) == 0)
        lua_pushvalue(L, 1);
    else
        lua_pushlstring(L, st->scratch.data, st->scratch.len);
    scratch_release(st);
    return 1;
}

/* ---- the module -------------------------------------------------------------- */

static const luaL_Reg vn_functions[] = {
    {"nfc", vn_nfc_fn},           {"upper", vn_upper},
    {"lower", vn_lower},          {"title", vn_title},
    {"trim", vn_trim},            {"collapse", vn_collapse},
    {"fold", vn_fold},            {"tone_key", vn_tone_key},
    {"tone_style", vn_tone_style_fn},
    {"decode", vn_decode},        {"restore_case", vn_restore_case_fn},
    {NULL, NULL},
};

int luaopen_mekong_vn(lua_State *L)
{
    luaL_newlibtable(L, vn_functions);
    vnlib_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    vn_buf_init(&st->scratch);
    if (luaL_newmetatable(L, VNLIB_STATE)) {
        lua_pushcfunction(L, state_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    luaL_setfuncs(L, vn_functions, 1);
    return 1;
}
