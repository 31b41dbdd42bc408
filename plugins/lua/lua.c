/*
 * lua.c -- the lua transform: rules written in Lua 5.4 (see docs/RULES.md).
 *
 *   - plugin: lua
 *     script: rules/citizens.lua
 *     params: { year: "2025" }
 *     threads: 2            # default: number of cores
 *     on_error: reject      # or fail
 *     batch_seconds: 300    # wall clock per batch; more ends the run
 *     read: [data/lookups]  # more files or folders rules may read (lua_files.c)
 *
 * One Lua state per thread; the batch is cut into one contiguous slice per
 * thread, the slices run at the same time, and the main thread replays what
 * happened to each row in input order (lua_plugin.h).  The calling thread
 * runs the first slice itself, so threads: 1 starts no thread at all.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua_plugin.h"
#include "mekong_kit.h"
#include "util/path.h"

static const mk_option_decl options[] = {
    {"script", MK_OPT_PATH, 1, NULL, "the rule file (Lua 5.4)"},
    {"params", MK_OPT_MAP, 0, NULL, "values handed to the rule file: setup(params) and params"},
    {"threads", MK_OPT_INT, 0, "0", "Lua states working in parallel (0: one per core)",
     "0..256"},
    /* no default: not given means reject, and the first batch is checked */
    {"on_error", MK_OPT_STRING, 0, NULL,
     "a Lua error on a row: reject (the row, rule lua.error) or fail (the run); not given: "
     "reject, but the run fails if every row of the first batch fails",
     "reject|fail"},
    {"instruction_budget", MK_OPT_INT, 0, "1000000",
     "Lua instructions allowed per row (0: no limit); more ends the run", "0.."},
    {"memory_mb", MK_OPT_INT, 0, "256",
     "memory cap of each Lua state, in MB, emitted rows included; more ends the run",
     "1..1048576"},
    {"batch_seconds", MK_OPT_INT, 0, "300",
     "wall-clock seconds a rule may take on one batch (and setup, finish) before the run "
     "ends (0: no limit)",
     "0.."},
    {"read", MK_OPT_LIST, 0, NULL,
     "more files or folders rules may read (io.open, io.lines, lookup.load), relative to the "
     "pipeline file; besides the pipeline's folder, the rule file's folder and the rule library; "
     "never /, /proc, /sys or /dev"},
    {"row", MK_OPT_STRING, 0, "proxy", "how rows reach Lua: proxy or table (for measurement)",
     "proxy|table"},
    {NULL, 0, 0, NULL, NULL},
};

/* ---- the rule library folder ------------------------------------------- */

/* lua/ of the source tree when this plugin was loaded from the build tree,
 * the installed copy otherwise; MEKONG_LUA_DIR overrides both. */
static char *library_dir(void)
{
    const char *env = getenv("MEKONG_LUA_DIR");
    if (env && *env)
        return strdup(env);
    Dl_info info;
    if (dladdr((void *)library_dir, &info) && info.dli_fname) {
        size_t bl = strlen(MK_BUILD_DIR);
        if (strncmp(info.dli_fname, MK_BUILD_DIR, bl) == 0 && info.dli_fname[bl] == '/')
            return strdup(MK_LUA_SRC_DIR);
    }
    return strdup(MK_LUA_DIR);
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = lp_fopen_regular(path);
    if (!f)
        return -1;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        errno = bad ? EIO : ENOMEM;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- declared columns --------------------------------------------------- */

/* Read columns = { add = {...}, remove = {...}, optional = {...} } from
 * worker 0's state. */
static int read_columns(lp_plugin *lp, char *err, size_t errlen)
{
    lua_State *L = lp->workers[0].L;
    int rc = MK_OK;
    if (lua_getglobal(L, "columns") == LUA_TNIL) {
        lua_pop(L, 1);
        return MK_OK;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: 'columns' must be a table: columns = { add = {...}, remove = {...} }",
                 lp->script_name);
        lua_pop(L, 1);
        return MK_ERROR;
    }
    static const char *const which[3] = {"add", "remove", "optional"};
    char ***lists[3] = {&lp->add_columns, &lp->remove_columns, &lp->optional_columns};
    size_t *counts[3] = {&lp->nadd, &lp->nremove, &lp->noptional};
    for (int k = 0; k < 3 && rc == MK_OK; k++) {
        char ***list = lists[k];
        size_t *n = counts[k];
        int t = lua_getfield(L, -1, which[k]);
        if (t == LUA_TTABLE) {
            size_t len = (size_t)luaL_len(L, -1);
            *list = calloc(len + 1, sizeof(char *));
            for (size_t i = 0; *list && i < len; i++) {
                lua_rawgeti(L, -1, (lua_Integer)i + 1);
                if (lua_type(L, -1) != LUA_TSTRING) {
                    snprintf(err, errlen, "%s: columns.%s[%zu] is not a column name (a string)",
                             lp->script_name, which[k], i + 1);
                    rc = MK_ERROR;
                    lua_pop(L, 1);
                    break;
                }
                (*list)[(*n)++] = strdup(lua_tostring(L, -1));
                lua_pop(L, 1);
            }
            if (!*list)
                rc = MK_NOMEM;
        } else if (t != LUA_TNIL) {
            snprintf(err, errlen, "%s: columns.%s must be a list of column names", lp->script_name,
                     which[k]);
            rc = MK_ERROR;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

static int listed(char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static const lp_plan *plan_for(lp_plugin *lp, const mk_schema *in)
{
    for (lp_plan *p = lp->plans; p; p = p->next)
        if (p->in == in)
            return p;
    const mk_host *h = lp->host;
    for (size_t i = 0; i < lp->nremove; i++) {
        if (mkk_column_find(h, in, lp->remove_columns[i]) < 0) {
            h->error(lp->ctx, "%s: columns.remove names '%s', but the rows have no such column",
                     lp->script_name, lp->remove_columns[i]);
            return NULL;
        }
    }
    size_t cap = in->ncols + lp->nadd;
    lp_plan *p = calloc(1, sizeof(*p));
    const char **names = calloc(cap ? cap : 1, sizeof(char *));
    if (p) {
        p->source = calloc(cap ? cap : 1, sizeof(long));
        p->removed = calloc(in->ncols ? in->ncols : 1, sizeof(long));
    }
    if (!p || !names || !p->source || !p->removed) {
        free(names);
        if (p) {
            free(p->source);
            free(p->removed);
        }
        free(p);
        return NULL;
    }
    size_t n = 0;
    for (size_t c = 0; c < in->ncols; c++) {
        if (listed(lp->remove_columns, lp->nremove, in->names[c])) {
            p->removed[p->nremoved++] = (long)c;
            continue;
        }
        names[n] = in->names[c];
        p->source[n++] = (long)c;
    }
    for (size_t i = 0; i < lp->nadd; i++) {
        int have = 0;
        for (size_t c = 0; c < n && !have; c++)
            have = strcmp(names[c], lp->add_columns[i]) == 0;
        if (have)
            continue;
        names[n] = lp->add_columns[i];
        p->source[n++] = -1;
    }
    p->in = in;
    /* kept columns keep their types (a rule writes a typed column in its
     * text form); added columns are text */
    p->out = mkk_schema_derive(h, lp->ctx, in, names, p->source, NULL, n);
    free(names);
    if (!p->out) {
        free(p->source);
        free(p->removed);
        free(p);
        return NULL;
    }
    p->next = lp->plans;
    lp->plans = p;
    return p;
}

/* ---- the thread pool ---------------------------------------------------- */

static void *worker_main(void *arg)
{
    lp_worker *w = arg;
    lp_plugin *lp = w->lp;
    for (;;) {
        pthread_mutex_lock(&lp->mutex);
        while (!lp->quit && w->seen_gen == lp->gen)
            pthread_cond_wait(&lp->work_cv, &lp->mutex);
        if (lp->quit) {
            pthread_mutex_unlock(&lp->mutex);
            return NULL;
        }
        w->seen_gen = lp->gen;
        pthread_mutex_unlock(&lp->mutex);
        if (w->count)
            lp_worker_run(w);
        pthread_mutex_lock(&lp->mutex);
        if (--lp->pending == 0)
            pthread_cond_signal(&lp->done_cv);
        pthread_mutex_unlock(&lp->mutex);
    }
}

static int pool_start(lp_plugin *lp)
{
    if (pthread_mutex_init(&lp->mutex, NULL) != 0)
        return -1;
    if (pthread_cond_init(&lp->work_cv, NULL) != 0 || pthread_cond_init(&lp->done_cv, NULL) != 0)
        return -1;
    lp->pool_ready = 1;
    for (int i = 1; i < lp->nworkers; i++) {
        if (pthread_create(&lp->workers[i].thread, NULL, worker_main, &lp->workers[i]) != 0)
            return -1;
        lp->workers[i].started = 1;
    }
    return 0;
}

static void pool_stop(lp_plugin *lp)
{
    if (!lp->pool_ready)
        return;
    pthread_mutex_lock(&lp->mutex);
    lp->quit = 1;
    pthread_cond_broadcast(&lp->work_cv);
    pthread_mutex_unlock(&lp->mutex);
    for (int i = 1; i < lp->nworkers; i++)
        if (lp->workers[i].started)
            pthread_join(lp->workers[i].thread, NULL);
    pthread_cond_destroy(&lp->work_cv);
    pthread_cond_destroy(&lp->done_cv);
    pthread_mutex_destroy(&lp->mutex);
    lp->pool_ready = 0;
}

/* Wake workers 1.. for their slices of the current batch. */
static void pool_start_batch(lp_plugin *lp)
{
    if (lp->nworkers > 1) {
        pthread_mutex_lock(&lp->mutex);
        lp->pending = lp->nworkers - 1;
        lp->gen++;
        pthread_cond_broadcast(&lp->work_cv);
        pthread_mutex_unlock(&lp->mutex);
    }
}

/* Wait until workers 1.. are done; returns 1 if the caller had to wait. */
static int pool_wait(lp_plugin *lp)
{
    int waited = 0;
    if (lp->nworkers > 1) {
        pthread_mutex_lock(&lp->mutex);
        while (lp->pending > 0) {
            waited = 1;
            pthread_cond_wait(&lp->done_cv, &lp->mutex);
        }
        pthread_mutex_unlock(&lp->mutex);
    }
    return waited;
}

/* ---- open / process / finish / close ----------------------------------- */

static void lua_transform_close(void *state);

static int fail_open(lp_plugin *lp, int rc, const char *fmt, const char *what)
{
    lp->host->error(lp->ctx, fmt, what);
    return rc;
}

/* The index of string option name among its two choices a|b, -1 when it
 * has no value, -2 (error set) for another value (hosts without opt_choice
 * do not check declared choices). */
static int choice(lp_plugin *lp, const char *name, const char *a, const char *b)
{
    const mk_host *h = lp->host;
    if (MK_HOST_HAS(h, opt_choice))
        return h->opt_choice(lp->ctx, name);
    const char *v = h->opt_string(lp->ctx, name);
    if (!v)
        return -1;
    if (strcmp(v, a) == 0 || strcmp(v, b) == 0)
        return strcmp(v, b) == 0;
    h->error(lp->ctx, "%s is '%s'; it must be %s or %s", name, v, a, b);
    return -2;
}

static int lua_transform_open(mk_context *ctx, const mk_host *host, void **state)
{
    lp_plugin *lp = calloc(1, sizeof(*lp));
    if (!lp)
        return MK_NOMEM;
    *state = lp;
    lp->ctx = ctx;
    lp->host = host;
    const char *script = host->opt_string(ctx, "script");
    const char *pdir = host->pipeline_dir(ctx);
    lp->script_path = strdup(script);
    lp->pipeline_dir = strdup(pdir ? pdir : ".");
    lp->script_dir = mk_dir_of(script);
    lp->lua_dir = library_dir();
    size_t pl = strlen(lp->pipeline_dir);
    if (strncmp(script, lp->pipeline_dir, pl) == 0 && script[pl] == '/')
        lp->script_name = strdup(script + pl + 1);
    else
        lp->script_name = strdup(script);
    if (!lp->script_path || !lp->pipeline_dir || !lp->script_dir || !lp->lua_dir ||
        !lp->script_name)
        return MK_NOMEM;

    int on_error = choice(lp, "on_error", "reject", "fail");
    if (on_error < -1)
        return MK_ERROR;
    lp->on_error_default = on_error == -1;
    lp->on_error_fail = on_error == 1;
    int row = choice(lp, "row", "proxy", "table");
    if (row < -1)
        return MK_ERROR;
    lp->table_rows = row == 1;
    lp->budget = host->opt_int(ctx, "instruction_budget");
    long long seconds = host->opt_int(ctx, "batch_seconds");
    if (seconds < 0)
        return fail_open(lp, MK_ERROR, "batch_seconds is %s; give a number of seconds (0: no limit)",
                         host->opt_string(ctx, "batch_seconds"));
    lp->batch_seconds = (double)seconds;
    long long mb = host->opt_int(ctx, "memory_mb");
    if (mb < 1 || mb > (1 << 20))
        return fail_open(lp, MK_ERROR, "memory_mb is %s; give a number of MB from 1 to 1048576",
                         host->opt_string(ctx, "memory_mb"));
    lp->memory_cap = (size_t)mb << 20;
    long long threads = host->opt_int(ctx, "threads");
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? cores : 1;
    }
    if (threads > 256)
        return fail_open(lp, MK_ERROR, "threads is %s; give at most 256",
                         host->opt_string(ctx, "threads"));
    lp->nworkers = (int)threads;
    lp->main_share = 1.0 / (double)lp->nworkers;

    int roots = lp_read_roots(lp);
    if (roots != MK_OK)
        return roots;
    if (read_file(script, &lp->code, &lp->code_len) != 0)
        return fail_open(lp, MK_ERROR, "cannot read the rule file %s; check the script: path",
                         script);
    lp->workers = calloc((size_t)lp->nworkers, sizeof(lp_worker));
    if (!lp->workers)
        return MK_NOMEM;
    for (int i = 0; i < lp->nworkers; i++) {
        lp_worker *w = &lp->workers[i];
        w->lp = lp;
        w->index = i;
        w->out_row = -1;
        w->scratch = host->batch_new(NULL);
        if (!w->scratch)
            return MK_NOMEM;
        char err[1200];
        int rc = lp_state_open(w, err, sizeof err);
        if (rc == MK_STOPPED)
            return rc; /* the host says by which signal */
        if (rc != MK_OK) {
            host->error(ctx, "%s (while loading the rule file and running setup)", err);
            return rc;
        }
    }
    char err[600];
    int rc = read_columns(lp, err, sizeof err);
    if (rc != MK_OK) {
        if (rc == MK_ERROR)
            host->error(ctx, "%s", err);
        return rc;
    }
    if (pool_start(lp) != 0)
        return fail_open(lp, MK_ERROR, "cannot start %s threads", host->opt_string(ctx, "threads"));
    host->text_checked(ctx); /* every value a rule sets is checked (to_cell) */
    return MK_OK;
}

/* The rows a passing row became go to out (row_append when the host has
 * it, which tells a bad call from out-of-memory). */
static int replay_pass(lp_plugin *lp, lp_worker *w, const lp_outcome *o, const mk_batch *in,
                       size_t row, mk_batch *out)
{
    const mk_host *h = lp->host;
    size_t ncols = out->schema->ncols;
    int append = MK_HOST_HAS(h, row_append);
    for (uint32_t k = 0; k < o->nout; k++) {
        size_t r;
        if (append) {
            int rc = h->row_append(lp->ctx, in, row, out, &r);
            if (rc != MK_OK)
                return rc == MK_NOMEM ? MK_NOMEM : MK_ERROR;
        } else if ((r = h->row_emit(lp->ctx, in, row, out)) == (size_t)-1) {
            return MK_ERROR;
        }
        memcpy(&MK_CELL(out, r, 0), &MK_CELL(w->scratch, o->first_out + k, 0),
               ncols * sizeof(mk_value));
    }
    return MK_OK;
}

/* A row the rule rejected keeps the values it had then (row_reject_values
 * when the host has it); a row a Lua error stopped is rejected as it came. */
static int replay_reject(lp_plugin *lp, lp_worker *w, const lp_outcome *o, const mk_batch *in,
                         size_t row, const mk_schema *schema)
{
    const mk_host *h = lp->host;
    const char *rule = w->text + o->rule, *reason = w->text + o->message;
    if (o->fate == LP_ERROR && lp->on_error_fail) {
        h->error(lp->ctx,
                 "%s (input line %llu); on_error: fail ends the run on a rule error "
                 "(on_error: reject would reject the row instead)",
                 reason, (unsigned long long)in->info[row].position);
        return MK_ERROR;
    }
    if (o->fate == LP_REJECT && MK_HOST_HAS(h, row_reject_values))
        return h->row_reject_values(lp->ctx, in, row, schema, &MK_CELL(w->scratch, o->first_out, 0),
                                    rule, reason);
    return h->row_reject(lp->ctx, in, row, rule, reason);
}

/* Give the host what worker w recorded for its slice, in row order. */
static int replay(lp_plugin *lp, lp_worker *w, const mk_batch *in, mk_batch *out)
{
    const mk_host *h = lp->host;
    mk_context *ctx = lp->ctx;
    for (size_t i = 0; i < w->count; i++) {
        const lp_outcome *o = &w->outcomes[i];
        size_t row = w->first + i;
        for (uint32_t e = 0; e < o->nevents; e++) {
            const lp_event *ev = &w->events[o->first_event + e];
            if (h->row_warn(ctx, in, row, w->text + ev->rule, w->text + ev->message) != MK_OK)
                return MK_ERROR;
        }
        int rc;
        if (o->fate == LP_PASS)
            rc = replay_pass(lp, w, o, in, row, out);
        else if (o->fate == LP_DROP)
            rc = h->row_drop(ctx, in, row) == MK_OK ? MK_OK : MK_ERROR;
        else
            rc = replay_reject(lp, w, o, in, row, out->schema);
        if (rc != MK_OK)
            return rc;
    }
    for (size_t i = 0; i < w->checked.n; i++) {
        if (w->checked.v[i].n)
            h->rule_checked(ctx, w->checked.v[i].name, w->checked.v[i].n);
        w->checked.v[i].n = 0;
    }
    return MK_OK;
}

/* A worker's run ended by a problem of the rule (w->fatal): the run ends. */
static int worker_fatal(lp_plugin *lp, const lp_worker *w, const mk_batch *in)
{
    if (w->stopped)
        return MK_STOPPED; /* the host says by which signal */
    lp->host->error(lp->ctx, "%s (input line %llu)", w->fatal,
                    (unsigned long long)in->info[w->row].position);
    return MK_ERROR;
}

/* on_error not given, and every row of the first batch with rows failed
 * with a Lua error: the rule is broken, not the data.  MK_ERROR if so. */
static int first_batch_check(lp_plugin *lp, const mk_batch *in)
{
    if (lp->first_batch_done || in->nrows == 0)
        return MK_OK;
    lp->first_batch_done = 1;
    size_t errors = 0;
    const lp_worker *first = NULL;
    for (int i = 0; i < lp->nworkers; i++) {
        const lp_worker *w = &lp->workers[i];
        errors += w->nerrors;
        if (!first && w->count)
            first = w;
    }
    if (!lp->on_error_default || errors < in->nrows || !first)
        return MK_OK;
    lp->host->error(lp->ctx,
                    "all %zu rows of the first batch failed with a Lua error, the first with: %s "
                    "(input line %llu); fix the rule, or set on_error explicitly (reject: such "
                    "rows are rejected, fail: the first ends the run)",
                    in->nrows, first->text + first->outcomes[0].message,
                    (unsigned long long)in->info[first->first].position);
    return MK_ERROR;
}

static int lua_transform_process(void *state, const mk_batch *in, mk_batch *out)
{
    lp_plugin *lp = state;
    const lp_plan *p = plan_for(lp, in->schema);
    if (!p)
        return MK_ERROR;
    lp->last_plan = p;
    out->schema = p->out;
    /*
     * The calling thread runs slice 0 and replays it while the other workers
     * still run theirs; then it waits and replays the rest.  It also has the
     * replay (and, between batches, the sinks) to do, so its slice is smaller:
     * main_share adapts batch by batch -- larger when it had to wait for the
     * workers, smaller when they were done first.  Small batches are not
     * worth waking threads for.
     */
    size_t n = in->nrows;
    size_t parts = (size_t)lp->nworkers;
    if (parts > 1 && n < parts * 64)
        parts = n / 64 ? n / 64 : 1;
    size_t n0 = parts > 1 ? (size_t)((double)n * lp->main_share) : n;
    for (int i = 0; i < lp->nworkers; i++) {
        lp_worker *w = &lp->workers[i];
        w->in = in;
        w->plan = p;
        w->nerrors = 0;
        if (i == 0) {
            w->first = 0;
            w->count = n0;
        } else if ((size_t)i < parts) {
            size_t rest = n - n0, k = (size_t)i - 1, m = parts - 1;
            w->first = n0 + rest * k / m;
            w->count = n0 + rest * (k + 1) / m - w->first;
        } else {
            w->first = n;
            w->count = 0;
        }
    }
    pool_start_batch(lp);
    lp_worker *w0 = &lp->workers[0];
    if (w0->count)
        lp_worker_run(w0);
    int rc = w0->fatal[0] ? worker_fatal(lp, w0, in) : replay(lp, w0, in, out);
    int waited = pool_wait(lp); /* always: the workers read in */
    if (parts > 1) {
        double step = 0.005, top = 0.9, bottom = 0.02;
        lp->main_share += waited ? step : -step;
        if (lp->main_share > top)
            lp->main_share = top;
        if (lp->main_share < bottom)
            lp->main_share = bottom;
    }
    for (int i = 1; rc == MK_OK && i < lp->nworkers; i++) {
        lp_worker *w = &lp->workers[i];
        rc = w->fatal[0] ? worker_fatal(lp, w, in) : replay(lp, w, in, out);
    }
    if (rc == MK_OK)
        rc = first_batch_check(lp, in);
    return rc;
}

static int lua_transform_finish(void *state, mk_batch *out)
{
    lp_plugin *lp = state;
    const mk_host *h = lp->host;
    /* count() totals go to the run report */
    for (int i = 0; i < lp->nworkers; i++) {
        lp_counters *t = &lp->workers[i].totals;
        for (size_t k = 0; k < t->n; k++)
            h->report_add(lp->ctx, t->v[k].name, (int64_t)t->v[k].n);
    }
    if (!lp->has_finish)
        return MK_OK;
    lp_worker *w = &lp->workers[0];
    w->plan = lp->last_plan;
    char err[1200];
    if (lp_worker_finish(w, err, sizeof err) != MK_OK) {
        if (w->stopped)
            return MK_STOPPED;
        h->error(lp->ctx, "%s (in finish())", err);
        return MK_ERROR;
    }
    if (!w->plan || w->scratch->nrows == 0)
        return MK_OK;
    out->schema = w->plan->out;
    size_t ncols = out->schema->ncols;
    for (size_t r = 0; r < w->scratch->nrows; r++) {
        size_t o = h->batch_add_row(out);
        if (o == (size_t)-1)
            return MK_NOMEM;
        memcpy(&MK_CELL(out, o, 0), &MK_CELL(w->scratch, r, 0), ncols * sizeof(mk_value));
    }
    return MK_OK;
}

static void lua_transform_close(void *state)
{
    lp_plugin *lp = state;
    if (!lp)
        return;
    pool_stop(lp);
    for (int i = 0; lp->workers && i < lp->nworkers; i++) {
        lp_worker *w = &lp->workers[i];
        lp_state_close(w);
        if (w->scratch)
            lp->host->batch_free(w->scratch);
        free(w->outcomes);
        free(w->events);
        free(w->text);
        lp_counters_free(&w->checked);
        lp_counters_free(&w->totals);
    }
    free(lp->workers);
    for (lp_plan *p = lp->plans, *next; p; p = next) {
        next = p->next;
        free(p->source);
        free(p->removed);
        free(p);
    }
    for (size_t i = 0; i < lp->nadd; i++)
        free(lp->add_columns[i]);
    for (size_t i = 0; i < lp->nremove; i++)
        free(lp->remove_columns[i]);
    for (size_t i = 0; i < lp->noptional; i++)
        free(lp->optional_columns[i]);
    free(lp->optional_columns);
    free(lp->add_columns);
    free(lp->remove_columns);
    free(lp->code);
    free(lp->script_path);
    free(lp->script_name);
    free(lp->script_dir);
    free(lp->pipeline_dir);
    free(lp->lua_dir);
    lp_read_roots_free(lp);
    free(lp);
}

static const mk_transform_ops lua_ops = {lua_transform_open, lua_transform_process,
                                         lua_transform_finish, lua_transform_close};

static const mk_plugin lua_plugin = {
    MK_PLUGIN_HEAD, "lua", PACKAGE_VERSION,
    "cleaning and validation rules written in Lua 5.4 (docs/RULES.md)",
    NULL, NULL, options, &lua_ops, NULL, NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &lua_plugin;
}
