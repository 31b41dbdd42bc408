/*
 * lua_sandbox.c -- a worker's Lua state: the sandbox a rule runs in, its
 * memory cap and its instruction budget.
 *
 * The sandbox is made by taking things away from the standard libraries
 * rather than by building a new environment: what remains is the plain
 * language (base, string, table, math, utf8, coroutine), the harmless part
 * of os (time, date, clock, difftime) and a read-only io.open/io.lines for
 * lookup tables, limited to the files lua_files.c allows.  Whatever was taken away is replaced by a function that
 * fails with "X is not available in rules (sandbox)", so a rule that tries
 * gets told why instead of "attempt to call a nil value".  require finds
 * Lua source only, in the rule file's folder, the pipeline's folder and the
 * rule library (lua/); C modules cannot be loaded, except mekong.vn, which
 * the plugin links and preloads.
 *
 * The memory cap is a lua_Alloc that counts bytes.  Crossing the cap
 * (memory_mb) makes the count hook fire at the next instruction; the hook
 * collects garbage and, if the state is still above the cap, stops the rule
 * with the file and line.  A single allocation that would go far beyond the
 * cap is refused outright (Lua then raises "not enough memory"), and the
 * position is taken from the stack at that moment.
 *
 * The instruction budget is a count hook.  It fires every hook_step
 * instructions and subtracts from the row's budget; when that is spent the
 * hook raises an error naming file:line, and from then on fires after every
 * instruction so a rule that catches the error with pcall cannot go on.
 * The hook runs whatever the budget (instruction_budget: 0 too): it also
 * ends the call when the run was asked to stop (SIGINT/SIGTERM) or the
 * batch ran longer than batch_seconds.  Lua code that hooks never reach is
 * kept out: the pattern functions are ours and charge their steps to the
 * same budget (lua_pattern.c), and finalizers (__gc, run with hooks off)
 * are refused by setmetatable.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_pattern.h"
#include "lua_plugin.h"
#include "vnlib.h" /* the rule library's C part (lua/vnlib.c), linked into this plugin */


/* ---- memory ------------------------------------------------------------- */

/* Where the running Lua code is, as "file:line", into buf. */
void lp_where_now(lua_State *L, char *buf, size_t len)
{
    lua_Debug ar;
    buf[0] = '\0';
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar))
            break;
        if (ar.currentline > 0) {
            snprintf(buf, len, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

static void hook(lua_State *L, lua_Debug *ar);

static void *lp_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lp_worker *w = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        w->mem -= old;
        return NULL;
    }
    if (nsize > old && w->mem + (nsize - old) > w->hard_cap) {
        if (!w->mem_refused && w->L)
            lp_where_now(w->L, w->mem_where, sizeof w->mem_where);
        w->mem_refused = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    w->mem = w->mem - old + nsize;
    if (w->mem > w->soft_cap && !w->over_cap && w->L) {
        /* let the hook look at it before the next instruction */
        w->over_cap = 1;
        lua_sethook(w->L, hook, LUA_MASKCOUNT, 1);
    }
    return p;
}

/* ---- instruction budget, time limit and stop requests ----------------- */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void lp_deadline_start(lp_worker *w)
{
    double limit = w->lp->batch_seconds;
    w->deadline = limit > 0 ? now_seconds() + limit : 0;
}

/* Charge n instructions (or pattern steps) to the running call; 1 with
 * w->fatal set when the call must stop: a stop request (SIGINT/SIGTERM),
 * the time limit or the budget spent. */
int lp_charge(lp_worker *w, lua_State *L, long long n)
{
    char where[256];
    if (w->lp->host->stopping()) {
        w->stopped = 1;
        snprintf(w->fatal, sizeof w->fatal, "interrupted");
        return 1;
    }
    if (w->deadline > 0 && now_seconds() > w->deadline) {
        lp_where_now(L, where, sizeof where);
        snprintf(w->fatal, sizeof w->fatal,
                 "%s%sthe rule ran longer than batch_seconds (%g s) on one batch; an endless "
                 "loop? (raise batch_seconds if it really needs more)",
                 where, where[0] ? ": " : "", w->lp->batch_seconds);
        return 1;
    }
    if (w->budget_total == 0)
        return 0;
    w->budget_left -= n;
    if (w->budget_left > 0)
        return 0;
    lp_where_now(L, where, sizeof where);
    if (lua_getfield(L, LUA_REGISTRYINDEX, VNLIB_LOOKUP_LOADING) == LUA_TSTRING && w->cur)
        snprintf(w->fatal, sizeof w->fatal,
                 "%s%slookup.load(\"%s\") in process() ran more than instruction_budget "
                 "(%lld) instructions: load tables in setup() or at the top of the rule file, "
                 "once per worker, where the budget is 100 times larger",
                 where, where[0] ? ": " : "", lua_tostring(L, -1), w->budget_total);
    else
        snprintf(w->fatal, sizeof w->fatal,
                 "%s%sthe rule ran more than instruction_budget (%lld) instructions (%d steps of "
                 "pattern matching or table.move count as one); an endless loop, or a pattern that "
                 "backtracks? "
                 "(raise instruction_budget if it really needs more)",
                 where, where[0] ? ": " : "", w->budget_total, LP_PATTERN_STEPS);
    lua_pop(L, 1);
    return 1;
}

void lp_raise_fatal(lua_State *L, lp_worker *w)
{
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", w->fatal);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lp_worker *w = LP_WORKER(L);
    if (w->fatal[0])
        lp_raise_fatal(L, w);
    if (w->over_cap) {
        lua_gc(L, LUA_GCCOLLECT);
        if (w->mem <= w->soft_cap) {
            w->over_cap = 0;
            lua_sethook(L, hook, LUA_MASKCOUNT, w->hook_step);
            return;
        }
        char where[256];
        lp_where_now(L, where, sizeof where);
        snprintf(w->fatal, sizeof w->fatal,
                 "%s%sthe rule uses more than memory_mb (%zu MB) of memory; is something "
                 "growing without bound? (raise memory_mb if it really needs more)",
                 where, where[0] ? ": " : "", w->soft_cap >> 20);
        lp_raise_fatal(L, w);
    }
    if (lp_charge(w, L, w->hook_step))
        lp_raise_fatal(L, w);
}

/* The pattern functions (lua_pattern.c) charge their steps here, at
 * LP_PATTERN_STEPS a Lua instruction: a step is a few nanoseconds of C, so
 * a linear scan of a 1 MB value costs what a short loop would, and a
 * pattern that backtracks without end still meets the budget in
 * milliseconds. */
static void pattern_charge(lua_State *L, unsigned steps)
{
    lp_worker *w = LP_WORKER(L);
    if (w->fatal[0] || lp_charge(w, L, steps / LP_PATTERN_STEPS))
        lp_raise_fatal(L, w);
}

void lp_budget_start(lp_worker *w, long long budget)
{
    /* the hook always runs: it also looks for stop requests and the time
     * limit, every LP_HOOK_STEP instructions (a clock read per 10,000
     * instructions costs nothing measurable) */
    w->budget_total = budget > 0 ? budget : 0;
    w->budget_left = w->budget_total;
    w->hook_step = budget > 0 && budget < LP_HOOK_STEP ? (int)budget : LP_HOOK_STEP;
    if (!w->over_cap)
        lua_sethook(w->L, hook, LUA_MASKCOUNT, w->hook_step);
}

int lp_runaway(lp_worker *w, int status)
{
    if (w->fatal[0])
        return 1;
    if (status == LUA_ERRMEM || w->mem_refused) {
        snprintf(w->fatal, sizeof w->fatal,
                 "%s%sthe rule needed more than memory_mb (%zu MB) of memory (an allocation was "
                 "refused); is something growing without bound? (raise memory_mb if it really "
                 "needs more)",
                 w->mem_where, w->mem_where[0] ? ": " : "", w->soft_cap >> 20);
        return 1;
    }
    return 0;
}

/* ---- the sandbox -------------------------------------------------------- */

static int not_available(lua_State *L)
{
    return luaL_error(L, "%s is not available in rules (sandbox)",
                      lua_tostring(L, lua_upvalueindex(1)));
}

static void stub(lua_State *L, int table, const char *field, const char *display)
{
    lua_pushstring(L, display);
    lua_pushcclosure(L, not_available, 1);
    lua_setfield(L, table, field);
}

/* load() of text only: precompiled chunks can crash the VM.  The chunk's
 * environment is the rule's globals unless an env is given. */
static int safe_load(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 1)
        return luaL_error(L, "bad argument #1 to 'load' (value expected)");
    if (n >= 3 && !lua_isnil(L, 3) && strcmp(luaL_checkstring(L, 3), "t") != 0)
        return luaL_error(L, "load: only text chunks (mode \"t\") are allowed in rules (sandbox)");
    /* without an env argument the chunk gets the rule's globals, as in Lua;
     * an explicit nil stays nil */
    int nargs = n >= 4 ? 4 : 3;
    lua_settop(L, nargs);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
}

/* print() goes to stderr: stdout may be a sink. */
static int safe_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    fwrite(s, 1, len, stderr);
    return 0;
}

/* setmetatable without finalizers: Lua runs __gc with hooks off, where
 * neither the instruction budget, the time limit nor a stop request can
 * end an endless loop. */
static int safe_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL; /* raw, as Lua looks */
        lua_pop(L, 1);
        if (has_gc)
            return luaL_error(L, "setmetatable: finalizers (__gc) are not available in rules "
                                 "(sandbox): they run where the instruction budget, the time "
                                 "limit and SIGTERM cannot stop them");
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int debug_index(lua_State *L)
{
    return luaL_error(L, "debug.%s is not available in rules (sandbox)",
                      lua_isstring(L, 2) ? lua_tostring(L, 2) : "?");
}

typedef struct chunk_reader {
    FILE *f;
    char buf[8192];
} chunk_reader;

static const char *read_chunk(lua_State *L, void *ud, size_t *size)
{
    (void)L;
    chunk_reader *r = ud;
    *size = fread(r->buf, 1, sizeof r->buf, r->f);
    return *size ? r->buf : NULL;
}

/* Load the module file at path (checked like io.open); 0: no such file. */
static int load_module(lua_State *L, const char *name, const char *path)
{
    int fd = lp_open_checked(L, "require", path, path);
    if (fd < 0)
        return 0;
    chunk_reader *r = malloc(sizeof *r);
    FILE *f = r ? fdopen(fd, "r") : NULL;
    if (!f) {
        free(r);
        close(fd);
        return luaL_error(L, "error loading module '%s' from file '%s': cannot read it", name,
                          path);
    }
    r->f = f;
    lua_pushfstring(L, "@%s", path);
    int st = lua_load(L, read_chunk, r, lua_tostring(L, -1), "t");
    int bad = ferror(f);
    fclose(f);
    free(r);
    lua_remove(L, -2);
    if (st != LUA_OK || bad)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, path,
                          st != LUA_OK ? lua_tostring(L, -1) : "read error");
    lua_pushstring(L, path);
    return 1;
}

/* The searcher for require: Lua files under the allowed folders only. */
static int searcher(lua_State *L)
{
    lp_worker *w = LP_WORKER(L);
    const char *name = luaL_checkstring(L, 1);
    if (strstr(name, "..") || strchr(name, '/') || strchr(name, '\\') || !name[0]) {
        lua_pushfstring(L, "\n\tmodule names are dotted names (sandbox): '%s'", name);
        return 1;
    }
    const char *dirs[3] = {w->lp->script_dir, w->lp->pipeline_dir, w->lp->lua_dir};
    char rel[512];
    snprintf(rel, sizeof rel, "%s", name);
    for (char *p = rel; *p; p++)
        if (*p == '.')
            *p = '/';
    luaL_Buffer tried;
    luaL_buffinit(L, &tried);
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || (i > 0 && dirs[i - 1] && strcmp(dirs[i], dirs[i - 1]) == 0))
            continue;
        for (int init = 0; init < 2; init++) {
            char path[4096];
            snprintf(path, sizeof path, init ? "%s/%s/init.lua" : "%s/%s.lua", dirs[i], rel);
            if (load_module(L, name, path))
                return 2;
            lua_pushfstring(L, "\n\tno file '%s'", path);
            luaL_addvalue(&tried);
        }
    }
    luaL_pushresult(&tried);
    return 1;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    luaL_requiref(L, name, fn, 1);
    lua_pop(L, 1);
}

static void make_sandbox(lua_State *L)
{
    open_lib(L, LUA_GNAME, luaopen_base);
    open_lib(L, LUA_LOADLIBNAME, luaopen_package);
    open_lib(L, LUA_COLIBNAME, luaopen_coroutine);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    open_lib(L, LUA_OSLIBNAME, luaopen_os);
    open_lib(L, LUA_IOLIBNAME, luaopen_io);

    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    stub(L, g, "dofile", "dofile");
    stub(L, g, "loadfile", "loadfile");
    lua_getfield(L, g, "load");
    lua_pushcclosure(L, safe_load, 1);
    lua_setfield(L, g, "load");
    lua_pushcfunction(L, safe_print);
    lua_setfield(L, g, "print");

    /* os: time and dates only */
    lua_getfield(L, g, "os");
    int os = lua_gettop(L);
    static const char *const os_out[] = {"execute", "exit", "getenv", "remove", "rename",
                                         "setlocale", "tmpname"};
    for (size_t i = 0; i < sizeof os_out / sizeof os_out[0]; i++) {
        char display[32];
        snprintf(display, sizeof display, "os.%s", os_out[i]);
        stub(L, os, os_out[i], display);
    }
    lua_pop(L, 1);

    /* io: a fresh table with read-only open and lines */
    lua_getfield(L, g, "io");
    int oldio = lua_gettop(L);
    lua_newtable(L);
    int io = lua_gettop(L);
    lua_pushcfunction(L, lp_io_open);
    lua_setfield(L, io, "open");
    lua_pushcfunction(L, lp_io_lines);
    lua_setfield(L, io, "lines");
    lua_getfield(L, oldio, "type");
    lua_setfield(L, io, "type");
    static const char *const io_out[] = {"popen", "write", "read", "output", "input", "tmpfile",
                                         "close"};
    for (size_t i = 0; i < sizeof io_out / sizeof io_out[0]; i++) {
        char display[32];
        snprintf(display, sizeof display, "io.%s", io_out[i]);
        stub(L, io, io_out[i], display);
    }
    lua_pushvalue(L, io);
    lua_setfield(L, g, "io");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, io);
    lua_setfield(L, -2, "io");
    lua_pop(L, 3);

    /* string.dump makes bytecode, which load() refuses anyway; the pattern
     * functions are ours, with a step counter (lua_pattern.c) */
    lua_getfield(L, g, "string");
    stub(L, lua_gettop(L), "dump", "string.dump");
    lp_pattern_install(L, lua_gettop(L));
    lua_pop(L, 1);
    lp_bounded_install(L); /* string.rep, table.move/insert/remove (lua_bounded.c) */

    lua_getfield(L, g, "setmetatable");
    lua_pushcclosure(L, safe_setmetatable, 1);
    lua_setfield(L, g, "setmetatable");

    /* debug: a table whose every field says why */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushcfunction(L, debug_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, g, "debug");

    /* package: our searcher; no C modules */
    lua_getfield(L, g, "package");
    int pkg = lua_gettop(L);
    stub(L, pkg, "loadlib", "package.loadlib");
    stub(L, pkg, "searchpath", "package.searchpath");
    lua_pushliteral(L, "");
    lua_setfield(L, pkg, "cpath");
    lua_pushliteral(L, "");
    lua_setfield(L, pkg, "path");
    lua_getfield(L, pkg, "searchers");
    lua_rawgeti(L, -1, 1); /* the preload searcher */
    lua_newtable(L);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushcfunction(L, searcher);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, pkg, "searchers");
    lua_pop(L, 1); /* old searchers */
    lua_getfield(L, pkg, "preload");
    lua_pushcfunction(L, luaopen_mekong_vn);
    lua_setfield(L, -2, "mekong.vn");
    lua_pushcfunction(L, luaopen_mekong_lookup_core);
    lua_setfield(L, -2, "mekong.lookup_core");
    lua_pop(L, 2);
    lua_pop(L, 1); /* globals */
}

/* ---- opening a worker's state ------------------------------------------ */

static int params_table(lua_State *L, lp_plugin *lp)
{
    const mk_host *h = lp->host;
    size_t n = h->opt_count(lp->ctx, "params");
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const char *key, *value;
        if (h->opt_entry(lp->ctx, "params", i, &key, &value) != MK_OK || !key)
            continue;
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
    return 1;
}

int lp_state_open(lp_worker *w, char *err, size_t errlen)
{
    lp_plugin *lp = w->lp;
    w->soft_cap = lp->memory_cap;
    w->hard_cap = lp->memory_cap + lp->memory_cap / 2;
    lua_State *L = lua_newstate(lp_alloc, w);
    if (!L) {
        snprintf(err, errlen, "cannot make a Lua state (out of memory?)");
        return MK_NOMEM;
    }
    w->L = L;
    LP_WORKER(L) = w;
    lp_pattern_set_charge(pattern_charge);
    make_sandbox(L);
    lp_rows_register(L);
    params_table(L, lp);
    lua_setglobal(L, "params");

    char chunkname[1024];
    snprintf(chunkname, sizeof chunkname, "@%s", lp->script_name);
    if (luaL_loadbufferx(L, lp->code, lp->code_len, chunkname, "t") != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        return MK_ERROR;
    }
    /* the file's top level and setup() get a generous budget, and
     * batch_seconds as for a batch */
    lp_budget_start(w, lp->budget > 0 ? lp->budget * 100 : 0);
    lp_deadline_start(w);
    int st = lua_pcall(L, 0, 0, 0);
    if (st == LUA_OK) {
        if (lua_getglobal(L, "setup") == LUA_TFUNCTION) {
            lua_getglobal(L, "params");
            st = lua_pcall(L, 1, 0, 0);
        } else {
            lua_pop(L, 1);
        }
    }
    lp_budget_start(w, 0);
    if (st != LUA_OK) {
        if (w->stopped)
            return MK_STOPPED;
        if (lp_runaway(w, st))
            snprintf(err, errlen, "%s", w->fatal);
        else
            snprintf(err, errlen, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1)
                                                           : "error object is not a string");
        return MK_ERROR;
    }
    lp->has_process = lua_getglobal(L, "process") == LUA_TFUNCTION;
    lp->has_finish = lua_getglobal(L, "finish") == LUA_TFUNCTION;
    lua_pop(L, 2);
    return MK_OK;
}

void lp_state_close(lp_worker *w)
{
    if (w->L)
        lua_close(w->L);
    w->L = NULL;
}
