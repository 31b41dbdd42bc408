/*
 * lua_plugin.h -- internals shared by the files of the lua transform.
 *
 * The plugin keeps one Lua state per worker.  process() splits a batch into
 * contiguous slices, one per worker; a worker runs the rule on its slice and
 * writes what happened to each row (its fate, the rows it became, its
 * warnings) into storage of its own: a scratch batch for the output rows, an
 * outcome per input row and a text buffer for rule names and messages.  The
 * main thread then replays the outcomes in input order through the host, so
 * the output order equals the input order whatever the number of threads,
 * and no host function is ever called from a worker.
 */
#ifndef MK_LUA_PLUGIN_H
#define MK_LUA_PLUGIN_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <lua.h>

#include "mekong.h"

/* What became of one input row. */
enum { LP_PASS = 0, LP_DROP, LP_REJECT, LP_ERROR };

typedef struct lp_outcome {
    uint8_t fate;
    uint32_t first_out, nout;        /* rows in the worker's scratch batch */
    uint32_t first_event, nevents;   /* warnings, in lp_worker.events */
    size_t rule, message;            /* reject/error: offsets in the text buffer */
} lp_outcome;

typedef struct lp_event {
    size_t rule, message;
} lp_event;

/* A named counter: rule checks, or count() totals. */
typedef struct lp_counter {
    char *name;
    uint64_t n;
} lp_counter;

typedef struct lp_counters {
    lp_counter *v;
    size_t n, cap;
} lp_counters;

/* Input schema -> output schema, and where each output column comes from. */
typedef struct lp_plan {
    struct lp_plan *next;
    const mk_schema *in;
    const mk_schema *out;
    long *source;      /* per output column: input column, or -1 (added) */
    long *removed;     /* input columns not in the output (readable only) */
    size_t nremoved;
} lp_plan;

struct lp_plugin;

/* A place rules may read: a folder (and all below) or a single file. */
typedef struct lp_root {
    char *path;   /* real path */
    int dir;
} lp_root;

typedef struct lp_worker {
    struct lp_plugin *lp;
    int index;
    lua_State *L;

    /* memory cap (bytes): soft is memory_mb, hard a little above */
    size_t mem, soft_cap, hard_cap;
    int over_cap, mem_refused;
    char mem_where[256];

    /* instruction budget of the current call (budget_total 0: none), the
     * hook's period, the time limit (monotonic seconds, 0: none) and
     * whether a stop request ended the call */
    long long budget_left, budget_total;
    int hook_step;
    double deadline;
    int stopped;

    /* the job: rows [first, first + count) of in */
    const mk_batch *in;
    size_t first, count;
    const lp_plan *plan;

    /* the row being processed */
    size_t row;        /* index in in */
    long out_row;      /* its row in scratch, -1 in finish() */
    lp_outcome *cur;
    int row_live;      /* the row proxy may be used */
    char proxy_key;    /* its address keys the worker's row proxy in the registry */

    /* results of the job */
    mk_batch *scratch;
    size_t scratch_bytes;  /* value bytes copied into it (memory_mb) */
    lp_outcome *outcomes;
    size_t outcomes_cap;
    lp_event *events;
    size_t nevents, events_cap;
    char *text;
    size_t text_len, text_cap;
    size_t nerrors;    /* rows of the slice rejected by a Lua error */
    lp_counters checked, totals;

    /* a problem that ends the run (budget, memory, setup error) */
    char fatal[1024];

    pthread_t thread;
    int started;
    unsigned seen_gen;
} lp_worker;

typedef struct lp_plugin {
    mk_context *ctx;
    const mk_host *host;
    char *script_path;     /* as resolved by the host */
    char *script_name;     /* for messages: relative to the pipeline folder */
    char *script_dir, *pipeline_dir, *lua_dir;
    lp_root *roots;        /* what rules may read (lua_files.c) */
    size_t nroots;
    char *code;            /* the rule file, read once */
    size_t code_len;
    int on_error_fail;
    int on_error_default;  /* on_error not given: the first batch is checked */
    int first_batch_done;  /* a batch with rows was processed */
    int table_rows;        /* row: table (measurement mode) */
    long long budget;      /* instructions per row, 0: no limit */
    double batch_seconds;  /* wall clock per batch, setup and finish; 0: none */
    size_t memory_cap;
    char **add_columns, **remove_columns, **optional_columns;
    size_t nadd, nremove, noptional;
    lp_plan *plans;
    const lp_plan *last_plan;
    int has_process, has_finish;

    int nworkers;
    lp_worker *workers;
    pthread_mutex_t mutex;
    pthread_cond_t work_cv, done_cv;
    unsigned gen;
    int pending, quit, pool_ready;
    double main_share;     /* of each batch, for the calling thread (adapts) */
} lp_plugin;

/* lua_sandbox.c: make a worker's Lua state, load the rule file, run setup. */
int lp_state_open(lp_worker *w, char *err, size_t errlen);
void lp_state_close(lp_worker *w);
/* The hook's period: how soon a stop request or the time limit is seen. */
#define LP_HOOK_STEP 10000
/* Start the instruction budget for one call (budget 0: none). */
void lp_budget_start(lp_worker *w, long long budget);
/* Start the batch_seconds clock (a batch, setup, finish). */
void lp_deadline_start(lp_worker *w);
/* Where the running Lua code is, as "file:line" ("" when unknown). */
void lp_where_now(lua_State *L, char *buf, size_t len);
/* Pattern steps, or elements moved in C, per instruction of the budget. */
#define LP_PATTERN_STEPS 16
/* Charge n instructions to the running call: 1 with w->fatal set when it
 * must stop (a stop request, batch_seconds, the budget spent). */
int lp_charge(lp_worker *w, lua_State *L, long long n);
/* Raise w->fatal; from then on every instruction raises it again, so a
 * rule that catches the error with pcall cannot go on. */
void lp_raise_fatal(lua_State *L, lp_worker *w);
/* After a failed pcall: describe a budget/memory stop in w->fatal; 1 if so. */
int lp_runaway(lp_worker *w, int status);

/* lua_bounded.c: string.rep, table.move, table.insert and table.remove
 * without C loops a rule can make endless (into the sandbox's tables). */
void lp_bounded_install(lua_State *L);

/* lua_files.c: what rules may read.  lp_read_roots fills lp->roots from the
 * folders and the read: option (MK_ERROR, error set, for a bad entry). */
int lp_read_roots(struct lp_plugin *lp);
void lp_read_roots_free(struct lp_plugin *lp);
/* Open path (already resolved from the pipeline's folder) for reading if
 * rules may read it: an fd, or -1 (errno) when it cannot be opened; a
 * refused path raises a Lua error naming shown and what (io.open, ...). */
int lp_open_checked(lua_State *L, const char *what, const char *shown, const char *path);
/* fopen(path, "rb") of a regular file only, never blocking on a FIFO. */
FILE *lp_fopen_regular(const char *path);
int lp_io_open(lua_State *L);
int lp_io_lines(lua_State *L);

/* lua_rows.c: the row API and the per-slice work. */
void lp_rows_register(lua_State *L);
void lp_worker_run(lp_worker *w);
/* Run finish() in worker 0's state; emitted rows land in its scratch. */
int lp_worker_finish(lp_worker *w, char *err, size_t errlen);
/* Append bytes + NUL to the worker's text buffer; offset or (size_t)-1. */
size_t lp_text_add(lp_worker *w, const char *s, size_t len);
int lp_counter_add(lp_counters *c, const char *name, uint64_t n);
void lp_counters_free(lp_counters *c);

/* Forget the rows of b from n on (host->batch_truncate when the host has it). */
static inline void lp_truncate(const mk_host *h, mk_batch *b, size_t n)
{
    if (MK_HOST_HAS(h, batch_truncate))
        h->batch_truncate(b, n);
    else
        b->nrows = n;
}

#define LP_WORKER(L) (*(lp_worker **)lua_getextraspace(L))

#endif
