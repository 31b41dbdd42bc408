/*
 * lua_rows.c -- what a rule sees: the row, reject/drop/warn/check/emit/count,
 * and the loop that runs process() over a worker's slice of a batch.
 *
 * The row is one userdata per Lua state, reused for every row (so a rule
 * must not keep it after process() returns).  Reading row.name looks the
 * name up in a per-schema table (name -> column) and pushes the cell's bytes;
 * writing copies the new bytes into the worker's scratch batch arena.  Before
 * process() runs, the row's output cells are set to point at the input
 * bytes, so nothing is copied for columns the rule leaves alone and nothing
 * is malloc'd per field.  This proxy was measured against a plain Lua table
 * (row: table, kept for comparison): see docs/RULES.md.
 *
 * reject() and drop() end the row at once: they record the fate and raise a
 * private error value that the loop recognizes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_plugin.h"
#include "mekong_kit.h"
#include "vntext/vntext.h"

static char stop_key;   /* address used as the "row is finished" error value */
static char null_key;   /* address of the NULL sentinel */
#define ROW_META "mekong.row"

/* ---- worker storage ----------------------------------------------------- */

size_t lp_text_add(lp_worker *w, const char *s, size_t len)
{
    if (w->text_len + len + 1 > w->text_cap) {
        size_t cap = w->text_cap ? w->text_cap : 4096;
        while (cap < w->text_len + len + 1)
            cap *= 2;
        char *t = realloc(w->text, cap);
        if (!t)
            return (size_t)-1;
        w->text = t;
        w->text_cap = cap;
    }
    size_t at = w->text_len;
    memcpy(w->text + at, s, len);
    w->text[at + len] = '\0';
    w->text_len += len + 1;
    return at;
}

int lp_counter_add(lp_counters *c, const char *name, uint64_t n)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].name, name) == 0) {
            c->v[i].n += n;
            return 0;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        lp_counter *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    c->v[c->n].name = copy;
    c->v[c->n++].n = n;
    return 0;
}

void lp_counters_free(lp_counters *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].name);
    free(c->v);
    memset(c, 0, sizeof(*c));
}

static int stop_row(lua_State *L)
{
    lua_pushlightuserdata(L, &stop_key);
    return lua_error(L);
}

static lp_worker *row_worker(lua_State *L, const char *fn)
{
    lp_worker *w = LP_WORKER(L);
    if (!w->cur)
        luaL_error(L, "%s() can only be called while a row is processed", fn);
    return w;
}

static size_t text_arg(lua_State *L, lp_worker *w, int idx, const char *dflt)
{
    size_t len;
    const char *s = luaL_optlstring(L, idx, dflt, &len);
    size_t at = lp_text_add(w, s, len);
    if (at == (size_t)-1)
        luaL_error(L, "out of memory");
    return at;
}

/* ---- column lookup ------------------------------------------------------ */

/* Push the name -> column table of the worker's current plan (cached in the
 * registry per plan). */
static void push_columns(lua_State *L, const lp_plan *p)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, p) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, (int)(p->out->ncols + p->nremoved));
    for (size_t c = 0; c < p->out->ncols; c++) {
        lua_pushinteger(L, (lua_Integer)c + 1);
        lua_setfield(L, -2, p->out->names[c]);
    }
    for (size_t i = 0; i < p->nremoved; i++) {
        lua_pushinteger(L, -1 - p->removed[i]);
        lua_setfield(L, -2, p->in->names[p->removed[i]]);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, p);
}

/* The column of p (output or removed) closest to name, if close enough. */
static const char *closest_column(const lp_plan *p, const char *name)
{
    const char *cands[256];
    size_t n = 0;
    for (size_t i = 0; i < p->out->ncols && n < 256; i++)
        cands[n++] = p->out->names[i];
    for (size_t i = 0; i < p->nremoved && n < 256; i++)
        cands[n++] = p->in->names[p->removed[i]];
    return mkk_suggest(name, cands, n);
}

/* A column the rows do not have is a typo in the rule, not a problem of the
 * data: it ends the run (w->fatal, which lp_worker_run checks after every
 * row, so a pcall in the rule cannot hide it), at the Lua line that did it. */
static int no_such_column(lua_State *L, lp_worker *w, int key)
{
    if (lua_type(L, key) != LUA_TSTRING)
        return luaL_error(L, "rows are indexed by column name, not by a %s",
                          luaL_typename(L, key));
    const char *name = lua_tostring(L, key);
    const mk_schema *s = w->plan->out;
    char have[600];
    size_t len = 0;
    have[0] = '\0';
    for (size_t c = 0; c < s->ncols && len < sizeof have - 1; c++)
        len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", c ? ", " : "",
                                s->names[c]);
    const char *near = closest_column(w->plan, name);
    luaL_where(L, 1);
    snprintf(w->fatal, sizeof w->fatal,
             "%sthe row has no column '%s' (it has: %s)%s%s%s A column the rule adds must be "
             "declared: columns = { add = { \"%s\" } }",
             lua_tostring(L, -1), name, have, near ? "; did you mean '" : ".", near ? near : "",
             near ? "'?" : "", name);
    lua_pop(L, 1);
    lua_pushstring(L, w->fatal); /* already says where: not luaL_error */
    return lua_error(L);
}

/* A column the rule declared optional (columns.optional): rows of some
 * sources lack it, and reading it there gives nil. */
static int optional_column(const lp_worker *w, lua_State *L, int key)
{
    const char *name = lua_type(L, key) == LUA_TSTRING ? lua_tostring(L, key) : NULL;
    for (size_t i = 0; name && i < w->lp->noptional; i++)
        if (strcmp(w->lp->optional_columns[i], name) == 0)
            return 1;
    return 0;
}

/* The column of the key at absolute index key in the column table on top
 * of the stack (popped): > 0 output column + 1, < 0 -(removed input
 * column + 1); 0 only for an optional column the row lacks, when reading. */
static lua_Integer column_in(lua_State *L, lp_worker *w, int key, int reading)
{
    lua_pushvalue(L, key);
    lua_Integer k = lua_rawget(L, -2) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 2);
    if (k == 0 && !(reading && optional_column(w, L, key)))
        no_such_column(L, w, key);
    return k;
}

static lua_Integer column_of(lua_State *L, lp_worker *w, int key)
{
    key = lua_absindex(L, key);
    push_columns(L, w->plan);
    return column_in(L, w, key, 0);
}

/* column_of for the row proxy at index 1, whose user value is the column
 * table of the current plan (set for every batch: see lp_worker_run): one
 * lookup instead of a registry lookup and then one. */
static lua_Integer proxy_column_of(lua_State *L, lp_worker *w, int key, int reading)
{
    lua_getiuservalue(L, 1, 1);
    return column_in(L, w, key, reading);
}

/* The scratch batch's memory counts against memory_mb with the Lua
 * state's: a rule that emits millions of rows (or sets huge values) ends
 * the run as one whose tables grow would.  Its row storage is estimated
 * from the batch's capacity, its bytes counted as they are copied. */
static void scratch_charge(lua_State *L, lp_worker *w, size_t bytes)
{
    const mk_batch *b = w->scratch;
    w->scratch_bytes += bytes;
    size_t rows = b->vcap * sizeof(mk_value) + b->cap * (sizeof(mk_rowinfo) + sizeof(uint64_t));
    if (w->mem + rows + w->scratch_bytes <= w->soft_cap)
        return;
    char where[256];
    lp_where_now(L, where, sizeof where);
    snprintf(w->fatal, sizeof w->fatal,
             "%s%sthe rule's memory and the rows it made (emit, values set) pass memory_mb (%zu "
             "MB); is a rule emitting without end? (raise memory_mb if it really needs more)",
             where, where[0] ? ": " : "", w->soft_cap >> 20);
    lp_raise_fatal(L, w);
}

/* Turn the Lua value at idx into cell bytes in the scratch arena. */
static mk_value to_cell(lua_State *L, lp_worker *w, int idx, const char *column)
{
    mk_value v = {NULL, 0};
    char num[32];
    idx = lua_absindex(L, idx);
    const char *s;
    size_t len;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return v;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == &null_key)
            return v;
        break;
    case LUA_TSTRING: {
        s = lua_tolstring(L, idx, &len);
        /* values leave mekong as UTF-8: bytes a rule built (a string.sub in
         * the middle of a letter, legacy bytes not decoded) stop here, at the
         * rule's line, rather than at a sink */
        size_t ok = vn_utf8_validate(s, len);
        if (ok != len)
            luaL_error(L,
                       "column '%s' was given text that is not valid UTF-8 (byte %d of the "
                       "value); decode legacy bytes with vn.decode, and cut text with utf8 "
                       "functions, not string.sub",
                       column, (int)ok + 1);
        goto copy;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            len = (size_t)snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
            s = num;
            goto copy;
        }
        luaL_error(L,
                   "column '%s' was given the number %f: values are strings; use "
                   "string.format to say how it is written",
                   column, lua_tonumber(L, idx));
        return v;
    default:
        break;
    }
    luaL_error(L, "column '%s' was given a %s: values are strings (or nil for NULL)", column,
               luaL_typename(L, idx));
    return v;
copy:;
    scratch_charge(L, w, len ? len : 1);
    char *dst = w->lp->host->batch_alloc(w->scratch, len ? len : 1);
    if (!dst)
        luaL_error(L, "out of memory");
    memcpy(dst, s, len);
    v.ptr = dst;
    v.len = len;
    return v;
}

/* ---- the row proxy ------------------------------------------------------ */

static int row_index(lua_State *L)
{
    lp_worker *w = LP_WORKER(L);
    if (!w->row_live)
        return luaL_error(L, "a row can only be used while process() runs for it");
    lua_Integer k = proxy_column_of(L, w, 2, 1);
    if (k == 0) { /* optional, and this row lacks it */
        lua_pushnil(L);
        return 1;
    }
    mk_value v = k > 0 ? MK_CELL(w->scratch, (size_t)w->out_row, (size_t)(k - 1))
                       : MK_CELL(w->in, w->row, (size_t)(-k - 1));
    if (v.ptr)
        lua_pushlstring(L, v.ptr, v.len);
    else
        lua_pushnil(L);
    return 1;
}

static int row_newindex(lua_State *L)
{
    lp_worker *w = LP_WORKER(L);
    if (!w->row_live)
        return luaL_error(L, "a row can only be used while process() runs for it");
    lua_Integer k = proxy_column_of(L, w, 2, 0);
    if (k < 0)
        return luaL_error(L, "column '%s' is removed (columns.remove): it can be read, not set",
                          lua_tostring(L, 2));
    MK_CELL(w->scratch, (size_t)w->out_row, (size_t)(k - 1)) =
        to_cell(L, w, 3, lua_tostring(L, 2));
    return 0;
}

/* pairs(row): the output columns and their values (NULL columns skipped,
 * like nil fields of a table). */
static int row_next(lua_State *L)
{
    lp_worker *w = LP_WORKER(L);
    if (!w->row_live)
        return luaL_error(L, "a row can only be used while process() runs for it");
    const mk_schema *s = w->plan->out;
    size_t c = 0;
    if (!lua_isnil(L, 2)) {
        lua_Integer k = column_of(L, w, 2);
        c = k > 0 ? (size_t)k : 0;
    }
    for (; c < s->ncols; c++) {
        mk_value v = MK_CELL(w->scratch, (size_t)w->out_row, c);
        if (!v.ptr)
            continue;
        lua_pushstring(L, s->names[c]);
        lua_pushlstring(L, v.ptr, v.len);
        return 2;
    }
    lua_pushnil(L);
    return 1;
}

static int row_pairs(lua_State *L)
{
    lua_pushcfunction(L, row_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int row_tostring(lua_State *L)
{
    lua_pushliteral(L, "row");
    return 1;
}

/* ---- rule functions ----------------------------------------------------- */

static int l_reject(lua_State *L)
{
    lp_worker *w = row_worker(L, "reject");
    size_t rule = text_arg(L, w, 1, "rule");
    size_t msg = text_arg(L, w, 2, "rejected");
    w->cur->fate = LP_REJECT;
    w->cur->rule = rule;
    w->cur->message = msg;
    return stop_row(L);
}

static int l_drop(lua_State *L)
{
    lp_worker *w = row_worker(L, "drop");
    w->cur->fate = LP_DROP;
    return stop_row(L);
}

static int add_warning(lua_State *L, lp_worker *w, int rule_idx, int msg_idx)
{
    if (w->nevents == w->events_cap) {
        size_t cap = w->events_cap ? w->events_cap * 2 : 256;
        lp_event *e = realloc(w->events, cap * sizeof(*e));
        if (!e)
            return luaL_error(L, "out of memory");
        w->events = e;
        w->events_cap = cap;
    }
    lp_event *e = &w->events[w->nevents];
    e->rule = text_arg(L, w, rule_idx, "rule");
    e->message = text_arg(L, w, msg_idx, "warning");
    if (w->cur->nevents == 0)
        w->cur->first_event = (uint32_t)w->nevents;
    w->cur->nevents++;
    w->nevents++;
    return 0;
}

static int l_warn(lua_State *L)
{
    lp_worker *w = row_worker(L, "warn");
    luaL_checkstring(L, 1);
    return add_warning(L, w, 1, 2);
}

static void count_check(lua_State *L, lp_worker *w, const char *rule)
{
    if (lp_counter_add(&w->checked, rule, 1) != 0)
        luaL_error(L, "out of memory");
}

/* check(rule, ok, message): counts a check of rule; rejects when not ok. */
static int l_check(lua_State *L)
{
    lp_worker *w = row_worker(L, "check");
    const char *rule = luaL_checkstring(L, 1);
    count_check(L, w, rule);
    if (lua_toboolean(L, 2)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_settop(L, 3);
    lua_remove(L, 2);
    return l_reject(L);
}

/* check_warn(rule, ok, message): counts a check; warns when not ok. */
static int l_check_warn(lua_State *L)
{
    lp_worker *w = row_worker(L, "check_warn");
    const char *rule = luaL_checkstring(L, 1);
    count_check(L, w, rule);
    int ok = lua_toboolean(L, 2);
    if (!ok)
        add_warning(L, w, 1, 3);
    lua_pushboolean(L, ok);
    return 1;
}

/* checked(rule [, n]): count checks without a verdict. */
static int l_checked(lua_State *L)
{
    lp_worker *w = row_worker(L, "checked");
    const char *rule = luaL_checkstring(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    if (n < 0)
        return luaL_error(L, "checked(): a count cannot be negative");
    if (lp_counter_add(&w->checked, rule, (uint64_t)n) != 0)
        return luaL_error(L, "out of memory");
    return 0;
}

/* emit(tbl): one more row after the current one: a copy of the current row
 * (all NULL in finish()) with the columns of tbl set. */
static int l_emit(lua_State *L)
{
    lp_worker *w = row_worker(L, "emit");
    luaL_checktype(L, 1, LUA_TTABLE);
    const mk_host *h = w->lp->host;
    scratch_charge(L, w, 0);
    size_t r = h->batch_add_row(w->scratch);
    if (r == (size_t)-1)
        return luaL_error(L, "out of memory");
    size_t ncols = w->plan->out->ncols;
    if (w->out_row >= 0)
        memcpy(&MK_CELL(w->scratch, r, 0), &MK_CELL(w->scratch, (size_t)w->out_row, 0),
               ncols * sizeof(mk_value));
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_Integer k = column_of(L, w, -2);
        if (k < 0)
            return luaL_error(L, "emit(): column '%s' is removed (columns.remove)",
                              lua_tostring(L, -2));
        MK_CELL(w->scratch, r, (size_t)(k - 1)) = to_cell(L, w, -1, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    w->cur->nout++;
    return 0;
}

/* count(name [, n]): a total over the whole run (all threads), handed to
 * finish(totals) and shown in the run report. */
static int l_count(lua_State *L)
{
    lp_worker *w = LP_WORKER(L);
    const char *name = luaL_checkstring(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    if (lp_counter_add(&w->totals, name, (uint64_t)n) != 0)
        return luaL_error(L, "out of memory");
    return 0;
}

/* position(): the source line of the current row. */
static int l_position(lua_State *L)
{
    lp_worker *w = row_worker(L, "position");
    if (w->out_row < 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)w->in->info[w->row].position);
    return 1;
}

/* origin(): where the current row came from, as a table { source, file,
 * record, line } (unknown fields nil).  Computed only when called; the
 * host's row_origin may be called from any thread. */
static int l_origin(lua_State *L)
{
    lp_worker *w = LP_WORKER(L);
    if (!w->cur || w->out_row < 0)
        return luaL_error(L, "origin() tells where a row came from: call it in process(row), "
                             "not at the top of the rule file, in setup() or in finish()");
    const mk_host *h = w->lp->host;
    mk_origin o = {NULL, NULL, 0, w->in->info[w->row].position};
    if (MK_HOST_HAS(h, row_origin) && h->row_origin(w->lp->ctx, w->in, w->row, &o) != MK_OK)
        o = (mk_origin){NULL, NULL, 0, w->in->info[w->row].position};
    lua_createtable(L, 0, 4);
    if (o.source) {
        lua_pushstring(L, o.source);
        lua_setfield(L, -2, "source");
    }
    if (o.file) {
        lua_pushstring(L, o.file);
        lua_setfield(L, -2, "file");
    }
    if (o.record) {
        lua_pushinteger(L, (lua_Integer)o.record);
        lua_setfield(L, -2, "record");
    }
    if (o.line) {
        lua_pushinteger(L, (lua_Integer)o.line);
        lua_setfield(L, -2, "line");
    }
    return 1;
}

void lp_rows_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"reject", l_reject},   {"drop", l_drop},         {"warn", l_warn},
        {"check", l_check},     {"check_warn", l_check_warn}, {"checked", l_checked},
        {"emit", l_emit},       {"count", l_count},       {"position", l_position},
        {"origin", l_origin},   {NULL, NULL},
    };
    lua_pushglobaltable(L);
    luaL_setfuncs(L, fns, 0);
    lua_pushlightuserdata(L, &null_key);
    lua_setfield(L, -2, "NULL");
    lua_pop(L, 1);
    luaL_newmetatable(L, ROW_META);
    lua_pushcfunction(L, row_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, row_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, row_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, row_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "row");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

/* ---- table rows (row: table) ------------------------------------------- */

/* Push the current row as a table of its output columns. */
static void push_row_table(lua_State *L, lp_worker *w, int names)
{
    size_t ncols = w->plan->out->ncols;
    const mk_value *cells = &MK_CELL(w->scratch, (size_t)w->out_row, 0);
    lua_createtable(L, 0, (int)ncols);
    for (size_t c = 0; c < ncols; c++) {
        if (!cells[c].ptr)
            continue;
        lua_rawgeti(L, names, (lua_Integer)c + 1);
        lua_pushlstring(L, cells[c].ptr, cells[c].len);
        lua_rawset(L, -3);
    }
}

/* Read the table back: a changed value is copied, an unchanged one kept. */
static void read_row_table(lua_State *L, lp_worker *w, int tbl, int names)
{
    size_t ncols = w->plan->out->ncols;
    for (size_t c = 0; c < ncols; c++) {
        mk_value *cell = &MK_CELL(w->scratch, (size_t)w->out_row, c);
        lua_rawgeti(L, names, (lua_Integer)c + 1);
        lua_rawget(L, tbl);
        size_t len;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (s && cell->ptr && len == cell->len && memcmp(s, cell->ptr, len) == 0) {
            lua_pop(L, 1);
            continue;
        }
        if (!s && !cell->ptr && lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        *cell = to_cell(L, w, -1, w->plan->out->names[c]);
        lua_pop(L, 1);
    }
}

static int read_back(lua_State *L)
{
    read_row_table(L, LP_WORKER(L), 1, 2);
    return 0;
}

static void push_names(lua_State *L, const lp_plan *p)
{
    lua_createtable(L, (int)p->out->ncols, 0);
    for (size_t c = 0; c < p->out->ncols; c++) {
        lua_pushstring(L, p->out->names[c]);
        lua_rawseti(L, -2, (lua_Integer)c + 1);
    }
}

/* ---- running a slice ---------------------------------------------------- */

static int grow_outcomes(lp_worker *w, size_t n)
{
    if (n <= w->outcomes_cap)
        return 0;
    lp_outcome *o = realloc(w->outcomes, n * sizeof(*o));
    if (!o)
        return -1;
    w->outcomes = o;
    w->outcomes_cap = n;
    return 0;
}

/* Record the error of a failed call as the row's fate. */
static void row_failed(lua_State *L, lp_worker *w, int status)
{
    if (lp_runaway(w, status))
        return;
    if (lua_touserdata(L, -1) == &stop_key)
        return; /* reject() or drop(): the fate is set */
    const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    char buf[128];
    if (!msg) {
        snprintf(buf, sizeof buf, "the rule raised an error value of type %s",
                 luaL_typename(L, -1));
        msg = buf;
    }
    w->cur->fate = LP_ERROR;
    w->cur->rule = lp_text_add(w, "lua.error", 9);
    w->cur->message = lp_text_add(w, msg, strlen(msg));
    if (w->cur->rule == (size_t)-1 || w->cur->message == (size_t)-1)
        snprintf(w->fatal, sizeof w->fatal, "out of memory");
}

void lp_worker_run(lp_worker *w)
{
    lp_plugin *lp = w->lp;
    const mk_host *h = lp->host;
    lua_State *L = w->L;
    const lp_plan *p = w->plan;
    size_t ncols = p->out->ncols;
    w->nevents = 0;
    w->nerrors = 0;
    w->text_len = 0;
    w->fatal[0] = '\0';
    w->stopped = 0;
    w->scratch_bytes = 0;
    lp_deadline_start(w);
    h->batch_reset(w->scratch, p->out);
    if (grow_outcomes(w, w->count) != 0) {
        snprintf(w->fatal, sizeof w->fatal, "out of memory");
        return;
    }
    int base = lua_gettop(L);
    if (lp->has_process)
        lua_getglobal(L, "process");
    else
        lua_pushnil(L);
    int fn = base + 1;
    int arg;
    if (lp->table_rows) {
        push_names(L, p);
        arg = base + 2;
    } else {
        /* one proxy per worker, whose user value follows the plan */
        if (lua_rawgetp(L, LUA_REGISTRYINDEX, &w->proxy_key) != LUA_TUSERDATA) {
            lua_pop(L, 1);
            lua_newuserdatauv(L, 0, 1);
            luaL_setmetatable(L, ROW_META);
            lua_pushvalue(L, -1);
            lua_rawsetp(L, LUA_REGISTRYINDEX, &w->proxy_key);
        }
        push_columns(L, p);
        lua_setiuservalue(L, -2, 1);
        arg = base + 2;
    }
    for (size_t i = 0; i < w->count; i++) {
        size_t row = w->first + i;
        lp_outcome *o = &w->outcomes[i];
        memset(o, 0, sizeof(*o));
        size_t r = h->batch_add_row(w->scratch);
        if (r == (size_t)-1) {
            snprintf(w->fatal, sizeof w->fatal, "out of memory");
            break;
        }
        /* output cells start as the input cells */
        mk_value *dst = &MK_CELL(w->scratch, r, 0);
        const mk_value *src = &MK_CELL(w->in, row, 0);
        for (size_t c = 0; c < ncols; c++)
            if (p->source[c] >= 0)
                dst[c] = src[p->source[c]];
        o->first_out = (uint32_t)r;
        o->nout = 1;
        if (!lp->has_process)
            continue;
        w->row = row;
        w->out_row = (long)r;
        w->cur = o;
        w->row_live = 1;
        lp_budget_start(w, lp->budget);
        lua_pushvalue(L, fn);
        int status;
        if (lp->table_rows) {
            push_row_table(L, w, arg);
            lua_pushvalue(L, -1);
            lua_rotate(L, -3, 1); /* table, process, table */
            status = lua_pcall(L, 1, 0, 0);
            if (status == LUA_OK) {
                lua_pushcfunction(L, read_back);
                lua_insert(L, -2);
                lua_pushvalue(L, arg);
                status = lua_pcall(L, 2, 0, 0);
            }
        } else {
            lua_pushvalue(L, arg);
            status = lua_pcall(L, 1, 0, 0);
        }
        w->row_live = 0;
        if (status != LUA_OK) {
            row_failed(L, w, status);
            lua_settop(L, arg);
        }
        w->cur = NULL;
        if (w->fatal[0])
            break;
        if (o->fate == LP_DROP && o->nout > 1) {
            o->fate = LP_PASS; /* dropped itself, but emitted rows go out */
            o->first_out++;
            o->nout--;
        } else if (o->fate != LP_PASS) {
            /* forget what it emitted, and the row unless it was rejected by
             * the rule: replay hands its values to row_reject_values */
            o->nout = 0;
            w->nerrors += o->fate == LP_ERROR;
            lp_truncate(h, w->scratch, o->fate == LP_REJECT ? r + 1 : r);
        }
    }
    lp_budget_start(w, 0);
    lua_settop(L, base);
}

int lp_worker_finish(lp_worker *w, char *err, size_t errlen)
{
    lp_plugin *lp = w->lp;
    lua_State *L = w->L;
    lp_outcome o;
    memset(&o, 0, sizeof o);
    w->nevents = 0;
    w->text_len = 0;
    w->fatal[0] = '\0';
    w->stopped = 0;
    w->scratch_bytes = 0;
    if (w->plan)
        lp->host->batch_reset(w->scratch, w->plan->out);
    else
        lp_truncate(lp->host, w->scratch, 0);
    w->cur = w->plan ? &o : NULL;
    w->out_row = -1;
    lua_getglobal(L, "finish");
    /* the run's count() totals, summed over the threads */
    lua_newtable(L);
    for (int i = 0; i < lp->nworkers; i++) {
        lp_counters *t = &lp->workers[i].totals;
        for (size_t k = 0; k < t->n; k++) {
            lua_getfield(L, -1, t->v[k].name);
            lua_Integer before = lua_tointeger(L, -1);
            lua_pop(L, 1);
            lua_pushinteger(L, before + (lua_Integer)t->v[k].n);
            lua_setfield(L, -2, t->v[k].name);
        }
    }
    lp_budget_start(w, lp->budget > 0 ? lp->budget * 100 : 0);
    lp_deadline_start(w);
    int status = lua_pcall(L, 1, 0, 0);
    lp_budget_start(w, 0);
    w->cur = NULL;
    if (status != LUA_OK) {
        if (lp_runaway(w, status))
            snprintf(err, errlen, "%s", w->fatal);
        else if (lua_touserdata(L, -1) == &stop_key)
            snprintf(err, errlen, "finish() called reject() or drop(), which are for rows");
        else
            snprintf(err, errlen, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1)
                                                           : "finish() raised a non-string error");
        lua_pop(L, 1);
        return MK_ERROR;
    }
    return MK_OK;
}
