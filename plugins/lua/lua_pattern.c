/*
 * lua_pattern.c -- string.find, string.match, string.gmatch and string.gsub
 * for rules, with Lua 5.4's pattern language and a step counter.
 *
 * Lua's own functions match inside C, where no hook fires: a pattern that
 * backtracks (string.rep("a*", 12) .. "b" against 3,000 a's) runs for hours
 * and neither the instruction budget nor SIGTERM can stop it.  These
 * functions behave as Lua 5.4's (same results, same errors: the unit test
 * test_lua_pattern compares them with the real library on many patterns) but
 * count their steps -- one per attempt to match a pattern item at a position
 * -- and every LP_PATTERN_CHUNK steps call a charge function, which counts
 * them against the rule's instruction budget and checks the stop request and
 * the batch's time limit (lua_sandbox.c); it raises a Lua error to stop.
 *
 * The matcher is a backtracking one, like Lua's: recursion only for the
 * items that need to come back (a capture, '?', '*', '+', '-'), at most
 * LP_MATCH_DEPTH levels deep ("pattern too complex", as in Lua).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_pattern.h"

#define LP_MATCH_DEPTH 200 /* Lua's MAXCCALLS */
#define LP_MAX_CAPTURES 32 /* Lua's LUA_MAXCAPTURES */
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define ESC '%'

typedef struct matcher {
    const char *s0, *s_end; /* the subject */
    const char *p_end;      /* end of the pattern */
    lua_State *L;
    int depth;      /* recursion levels left */
    int level;      /* captures started */
    unsigned steps; /* steps since the last charge */
    struct {
        const char *at;
        ptrdiff_t len; /* or CAP_UNFINISHED, CAP_POSITION */
    } cap[LP_MAX_CAPTURES];
} matcher;

static lp_pattern_charge_fn charge_fn;

void lp_pattern_set_charge(lp_pattern_charge_fn fn)
{
    charge_fn = fn;
}

static void step(matcher *m)
{
    if (++m->steps >= LP_PATTERN_CHUNK) {
        m->steps = 0;
        if (charge_fn)
            charge_fn(m->L, LP_PATTERN_CHUNK);
    }
}

static void matcher_start(matcher *m, lua_State *L, const char *s, size_t ls, const char *p,
                          size_t lp)
{
    m->L = L;
    m->s0 = s;
    m->s_end = s + ls;
    m->p_end = p + lp;
    m->steps = 0;
}

static void matcher_reset(matcher *m)
{
    m->level = 0;
    m->depth = LP_MATCH_DEPTH;
}

/* Hand the steps not yet charged to the charge function. */
static void matcher_done(matcher *m)
{
    if (m->steps && charge_fn)
        charge_fn(m->L, m->steps);
    m->steps = 0;
}

/* ---- single items --------------------------------------------------------- */

/* The end of the item starting at p (a character, %x or a [set]). */
static const char *item_end(matcher *m, const char *p)
{
    char c = *p++;
    if (c == ESC) {
        if (p >= m->p_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (p < m->p_end && *p == '^')
            p++;
        /* the first character of a set is never its end: "[]]" is a set */
        do {
            if (p >= m->p_end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == ESC && p < m->p_end)
                p++;
        } while (p >= m->p_end || *p != ']');
        return p + 1;
    }
    return p;
}

static int class_has(int c, int cls)
{
    int in;
    switch (tolower(cls)) {
    case 'a':
        in = isalpha(c);
        break;
    case 'c':
        in = iscntrl(c);
        break;
    case 'd':
        in = isdigit(c);
        break;
    case 'g':
        in = isgraph(c);
        break;
    case 'l':
        in = islower(c);
        break;
    case 'p':
        in = ispunct(c);
        break;
    case 's':
        in = isspace(c);
        break;
    case 'u':
        in = isupper(c);
        break;
    case 'w':
        in = isalnum(c);
        break;
    case 'x':
        in = isxdigit(c);
        break;
    case 'z':
        in = c == 0;
        break; /* deprecated in Lua, still there */
    default:
        return cls == c;
    }
    in = in != 0;
    return isupper(cls) ? !in : in;
}

/* Whether c is in the set [ ... ] from p ('[') to close (']'). */
static int set_has(int c, const char *p, const char *close)
{
    int want = 1;
    p++;
    if (*p == '^') {
        want = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == ESC) {
            p++;
            if (class_has(c, (unsigned char)*p))
                return want;
        } else if (p + 2 < close && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return want;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

/* Whether the subject character at s matches the item p..ep. */
static int item_matches(matcher *m, const char *s, const char *p, const char *ep)
{
    step(m);
    if (s >= m->s_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return 1;
    case ESC:
        return class_has(c, (unsigned char)p[1]);
    case '[':
        return set_has(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

/* ---- the matcher ------------------------------------------------------------ */

static const char *match(matcher *m, const char *s, const char *p);

static const char *balanced(matcher *m, const char *s, const char *p)
{
    if (p + 1 >= m->p_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->s_end || *s != *p)
        return NULL;
    char open = p[0], close = p[1];
    int depth = 1;
    while (++s < m->s_end) {
        step(m);
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *greedy(matcher *m, const char *s, const char *p, const char *ep)
{
    size_t n = 0;
    while (item_matches(m, s + n, p, ep))
        n++;
    for (;;) {
        const char *r = match(m, s + n, ep + 1);
        if (r)
            return r;
        if (n == 0)
            return NULL;
        n--;
    }
}

static const char *lazy(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match(m, s, ep + 1);
        if (r)
            return r;
        if (!item_matches(m, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *capture_open(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= LP_MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].at = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = match(m, s, p);
    if (!r)
        m->level--;
    return r;
}

static const char *capture_close(matcher *m, const char *s, const char *p)
{
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_UNFINISHED)
        l--;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].at;
    const char *r = match(m, s, p);
    if (!r)
        m->cap[l].len = CAP_UNFINISHED;
    return r;
}

/* %1..%9: the text of a closed capture again. */
static const char *back_reference(matcher *m, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    size_t len = (size_t)m->cap[l].len; /* a position capture never matches */
    if ((size_t)(m->s_end - s) >= len && memcmp(m->cap[l].at, s, len) == 0)
        return s + len;
    return NULL;
}

/* %f[set]: the boundary where the previous character is not in the set
 * and the next one is (the subject's ends count as '\0'). */
static const char *frontier(matcher *m, const char *s, const char **p)
{
    const char *q = *p + 2;
    if (q >= m->p_end || *q != '[')
        luaL_error(m->L, "missing '[' after '%%f' in pattern");
    const char *ep = item_end(m, q);
    int before = s == m->s0 ? 0 : (unsigned char)s[-1];
    int after = s < m->s_end ? (unsigned char)*s : 0;
    step(m);
    if (!set_has(before, q, ep - 1) && set_has(after, q, ep - 1)) {
        *p = ep;
        return s;
    }
    return NULL;
}

/* One item and what follows it; returns the end of the match or NULL. */
static const char *match_item(matcher *m, const char *s, const char **pp, int *more)
{
    const char *p = *pp;
    const char *ep = item_end(m, p);
    int suffix = ep < m->p_end ? *ep : '\0';
    *more = 0;
    if (!item_matches(m, s, p, ep)) {
        if (suffix == '*' || suffix == '?' || suffix == '-') {
            *pp = ep + 1; /* zero of them is fine */
            *more = 1;
            return s;
        }
        return NULL;
    }
    switch (suffix) {
    case '?': {
        const char *r = match(m, s + 1, ep + 1);
        if (r)
            return r;
        *pp = ep + 1;
        *more = 1;
        return s;
    }
    case '+':
        return greedy(m, s + 1, p, ep);
    case '*':
        return greedy(m, s, p, ep);
    case '-':
        return lazy(m, s, p, ep);
    default:
        *pp = ep;
        *more = 1;
        return s + 1;
    }
}

static const char *match(matcher *m, const char *s, const char *p)
{
    if (m->depth-- == 0)
        luaL_error(m->L, "pattern too complex");
    int more = 1;
    while (s && more && p < m->p_end) {
        more = 0;
        step(m);
        if (*p == '(') {
            if (p + 1 < m->p_end && p[1] == ')')
                s = capture_open(m, s, p + 2, CAP_POSITION);
            else
                s = capture_open(m, s, p + 1, CAP_UNFINISHED);
        } else if (*p == ')') {
            s = capture_close(m, s, p + 1);
        } else if (*p == '$' && p + 1 == m->p_end) {
            s = s == m->s_end ? s : NULL;
        } else if (*p == ESC && p + 1 < m->p_end && p[1] == 'b') {
            s = balanced(m, s, p + 2);
            p += 4;
            more = 1;
        } else if (*p == ESC && p + 1 < m->p_end && p[1] == 'f') {
            s = frontier(m, s, &p);
            more = 1;
        } else if (*p == ESC && p + 1 < m->p_end && isdigit((unsigned char)p[1])) {
            s = back_reference(m, s, (unsigned char)p[1]);
            p += 2;
            more = 1;
        } else {
            s = match_item(m, s, &p, &more);
        }
    }
    m->depth++;
    return s;
}

/* ---- captures --------------------------------------------------------------- */

/* Push capture i (0-based); with no captures, capture 0 is the whole match. */
static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_UNFINISHED)
        luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION)
        lua_pushinteger(m->L, (m->cap[i].at - m->s0) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].at, (size_t)len);
}

/* Push every capture (or the whole match when s is given and there are
 * none); returns how many. */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int n = (m->level == 0 && s) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* ---- the library functions -------------------------------------------------- */

/* A 1-based start position (negative: from the end) as an offset 0..len+1. */
static size_t start_offset(lua_State *L, int arg, size_t len)
{
    lua_Integer pos = luaL_optinteger(L, arg, 1);
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len + (size_t)pos;
}

static int has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (strchr("^$*+?.([%-", p[i]) && p[i])
            return 1;
    return 0;
}

static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(L, 3, ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *at = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
        if (at) {
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, (lua_Integer)((at - s) + lp));
            return 2;
        }
        luaL_pushfail(L);
        return 1;
    }
    matcher m;
    matcher_start(&m, L, s, ls, p, lp);
    int anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    const char *from = s + init;
    do {
        matcher_reset(&m);
        const char *e = match(&m, from, p);
        if (e) {
            matcher_done(&m);
            if (!find)
                return push_captures(&m, from, e);
            lua_pushinteger(L, (from - s) + 1);
            lua_pushinteger(L, e - s);
            return push_captures(&m, NULL, NULL) + 2;
        }
    } while (from++ < m.s_end && !anchored);
    matcher_done(&m);
    luaL_pushfail(L);
    return 1;
}

static int lp_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int lp_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* gmatch's state, a userdata upvalue of its iterator (the subject and
 * pattern strings are upvalues too, so they stay alive). */
typedef struct gmatch_state {
    matcher m;
    const char *at, *last;
    const char *p;
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    g->m.L = L;
    for (const char *s = g->at; s <= g->m.s_end; s++) {
        matcher_reset(&g->m);
        const char *e = match(&g->m, s, g->p);
        if (e && e != g->last) {
            g->at = g->last = e;
            matcher_done(&g->m);
            return push_captures(&g->m, s, e);
        }
    }
    matcher_done(&g->m);
    return 0;
}

static int lp_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(L, 3, ls);
    if (init > ls)
        init = ls + 1;
    lua_settop(L, 2);
    gmatch_state *g = lua_newuserdatauv(L, sizeof *g, 0);
    matcher_start(&g->m, L, s, ls, p, lp);
    g->at = s + init;
    g->last = NULL;
    g->p = p;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* Append the replacement string (argument 3) for the match s..e. */
static void add_replacement_string(matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
    size_t len;
    const char *r = lua_tolstring(m->L, 3, &len);
    const char *end = r + len;
    while (r < end) {
        const char *esc = memchr(r, ESC, (size_t)(end - r));
        if (!esc) {
            luaL_addlstring(b, r, (size_t)(end - r));
            return;
        }
        luaL_addlstring(b, r, (size_t)(esc - r));
        r = esc + 1;
        if (r < end && *r == ESC) {
            luaL_addchar(b, ESC);
        } else if (r < end && isdigit((unsigned char)*r)) {
            if (*r == '0')
                luaL_addlstring(b, s, (size_t)(e - s));
            else {
                push_capture(m, *r - '1', s, e);
                luaL_tolstring(m->L, -1, NULL);
                lua_remove(m->L, -2);
                luaL_addvalue(b);
            }
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string", ESC);
        }
        r++;
    }
}

/* Append what replaces the match s..e; 0 when the match is kept. */
static int add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int type)
{
    lua_State *L = m->L;
    if (type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (type == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_replacement_string(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int lp_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int type = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L,
                     type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION ||
                         type == LUA_TTABLE,
                     3, "string/function/table");
    matcher m;
    matcher_start(&m, L, s, ls, p, lp);
    int anchored = lp > 0 && *p == '^';
    if (anchored)
        p++;
    const char *src = s, *last = NULL;
    lua_Integer n = 0;
    int changed = 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (n < max) {
        matcher_reset(&m);
        const char *e = match(&m, src, p);
        if (e && e != last) {
            n++;
            changed |= add_replacement(&m, &b, src, e, type);
            src = last = e;
        } else if (src < m.s_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    matcher_done(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.s_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void lp_pattern_install(lua_State *L, int string_table)
{
    static const luaL_Reg fns[] = {
        {"find", lp_find}, {"match", lp_match}, {"gmatch", lp_gmatch},
        {"gsub", lp_gsub}, {NULL, NULL},
    };
    string_table = lua_absindex(L, string_table);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, string_table, f->name);
    }
}
