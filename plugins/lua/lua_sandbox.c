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
 * The instruction budget is a count hook.  It fires every budget_step
 * instructions and subtracts from the row's budget; when that is spent the
 * hook raises an error naming file:line, and from then on fires after every
 * instruction so a rule that catches the error with pcall cannot go on.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_plugin.h"
#include "vnlib.h" /* the rule library's C part (lua/vnlib.c), linked into this plugin */

/* ---- memory ------------------------------------------------------------- */

/* Where the running Lua code is, as "file:line", into buf. */
static void where_now(lua_State *L, char *buf, size_t len)
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
            where_now(w->L, w->mem_where, sizeof w->mem_where);
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

/* ---- instruction budget ------------------------------------------------- */

static void hook(lua_State *L, lua_Debug *ar)
{
    lp_worker *w = LP_WORKER(L);
    if (w->fatal[0]) {
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s", w->fatal);
        return;
    }
    lua_getinfo(L, "Sl", ar);
    if (w->over_cap) {
        lua_gc(L, LUA_GCCOLLECT);
        if (w->mem <= w->soft_cap) {
            w->over_cap = 0;
            lua_sethook(L, w->budget_step ? hook : NULL, w->budget_step ? LUA_MASKCOUNT : 0,
                        w->budget_step);
            return;
        }
        snprintf(w->fatal, sizeof w->fatal,
                 "%s:%d: the rule uses more than memory_mb (%zu MB) of memory; is something "
                 "growing without bound? (raise memory_mb if it really needs more)",
                 ar->short_src, ar->currentline, w->soft_cap >> 20);
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s", w->fatal);
        return;
    }
    if (w->budget_step == 0)
        return;
    w->budget_left -= w->budget_step;
    if (w->budget_left > 0)
        return;
    if (lua_getfield(L, LUA_REGISTRYINDEX, VNLIB_LOOKUP_LOADING) == LUA_TSTRING && w->cur)
        snprintf(w->fatal, sizeof w->fatal,
                 "%s:%d: lookup.load(\"%s\") in process() ran more than instruction_budget "
                 "(%lld) instructions: load tables in setup() or at the top of the rule file, "
                 "once per worker, where the budget is 100 times larger",
                 ar->short_src, ar->currentline, lua_tostring(L, -1), w->budget_total);
    else
        snprintf(w->fatal, sizeof w->fatal,
                 "%s:%d: the rule ran more than instruction_budget (%lld) instructions; an endless "
                 "loop? (raise instruction_budget if it really needs more)",
                 ar->short_src, ar->currentline, w->budget_total);
    lua_pop(L, 1);
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", w->fatal);
}

void lp_budget_start(lp_worker *w, long long budget)
{
    if (budget <= 0) {
        w->budget_step = 0;
        w->budget_left = 0;
        if (!w->over_cap)
            lua_sethook(w->L, NULL, 0, 0);
        return;
    }
    w->budget_step = budget < 10000 ? (int)budget : 10000;
    w->budget_left = budget;
    w->budget_total = budget;
    if (!w->over_cap)
        lua_sethook(w->L, hook, LUA_MASKCOUNT, w->budget_step);
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

    /* string.dump makes bytecode, which load() refuses anyway */
    lua_getfield(L, g, "string");
    stub(L, lua_gettop(L), "dump", "string.dump");
    lua_pop(L, 1);

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
    /* the file's top level and setup() get a generous budget */
    lp_budget_start(w, lp->budget > 0 ? lp->budget * 100 : 0);
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
