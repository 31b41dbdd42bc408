/*
 * testkit.c -- a plugin for the engine's own tests.
 *
 * source:    rows "n" = 1..count (count 0: without end, for signal tests)
 * transform: every Nth row dropped / rejected / emitted twice, a row left
 *            without a fate on purpose, or a failure at a given row, so
 *            the tests can prove the engine's accounting and its checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mekong.h"

typedef struct kit {
    mk_context *ctx;
    const mk_host *host;
    long long count, next, seen;
    long long drop_every, reject_every, emit_every, forget_at, fail_at, hang_at;
    const mk_schema *schema;
} kit;

static const mk_option_decl source_options[] = {
    {"count", MK_OPT_INT, 0, "10", "rows to make (0: no end)"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_option_decl transform_options[] = {
    {"drop_every", MK_OPT_INT, 0, "0", "drop every Nth row"},
    {"reject_every", MK_OPT_INT, 0, "0", "reject every Nth row"},
    {"emit_every", MK_OPT_INT, 0, "0", "emit every Nth row twice"},
    {"forget_at", MK_OPT_INT, 0, "0", "leave row N without a fate (a plugin bug)"},
    {"fail_at", MK_OPT_INT, 0, "0", "fail at row N"},
    {"hang_at", MK_OPT_INT, 0, "0",
     "at row N, wait forever in C without looking at stopping() (the stop watchdog's test)"},
    {NULL, 0, 0, NULL, NULL},
};

static int kit_open(mk_context *ctx, const mk_host *host, void **state)
{
    kit *k = calloc(1, sizeof(*k));
    if (!k)
        return MK_NOMEM;
    *state = k;
    k->ctx = ctx;
    k->host = host;
    static const char *const names[] = {"n"};
    k->schema = host->schema_intern(ctx, names, 1);
    k->count = host->opt_int(ctx, "count");
    k->drop_every = host->opt_int(ctx, "drop_every");
    k->reject_every = host->opt_int(ctx, "reject_every");
    k->emit_every = host->opt_int(ctx, "emit_every");
    k->forget_at = host->opt_int(ctx, "forget_at");
    k->fail_at = host->opt_int(ctx, "fail_at");
    k->hang_at = host->opt_int(ctx, "hang_at");
    return MK_OK;
}

static const mk_schema *kit_schema(void *state)
{
    return ((kit *)state)->schema;
}

static int kit_next(void *state, mk_batch *b)
{
    kit *k = state;
    while (b->nrows < b->cap) {
        if (k->count && k->next >= k->count)
            return MK_DONE;
        char num[32];
        int len = snprintf(num, sizeof num, "%lld", ++k->next);
        size_t r = k->host->batch_add_row(b);
        if (r == (size_t)-1 || k->host->batch_set(b, r, 0, num, (size_t)len) != MK_OK)
            return MK_NOMEM;
        b->info[r].position = (uint64_t)k->next;
    }
    return MK_OK;
}

static int every(long long n, long long i)
{
    return n > 0 && i % n == 0;
}

static int kit_process(void *state, const mk_batch *in, mk_batch *out)
{
    kit *k = state;
    const mk_host *h = k->host;
    for (size_t r = 0; r < in->nrows; r++) {
        long long i = ++k->seen;
        if (i == k->fail_at) {
            h->error(k->ctx, "testkit fails at row %lld as asked", i);
            return MK_ERROR;
        }
        if (i == k->forget_at)
            continue;
        while (i == k->hang_at)
            pause(); /* deaf to stop requests: a signal only ends pause() */
        int rc;
        if (every(k->drop_every, i))
            rc = h->row_drop(k->ctx, in, r);
        else if (every(k->reject_every, i))
            rc = h->row_reject(k->ctx, in, r, "testkit.every", "rejected as asked");
        else
            rc = h->row_pass(k->ctx, in, r, out);
        if (rc == MK_OK && every(k->emit_every, i) && !every(k->drop_every, i) &&
            !every(k->reject_every, i))
            rc = h->row_pass(k->ctx, in, r, out);
        if (rc != MK_OK)
            return rc;
    }
    return MK_OK;
}

static void kit_close(void *state)
{
    free(state);
}

static const mk_source_ops source_ops = {kit_open, kit_schema, kit_next, kit_close};
static const mk_transform_ops transform_ops = {kit_open, kit_process, NULL, kit_close};

static const mk_plugin testkit_plugin = {
    MK_PLUGIN_HEAD, "testkit", "1", "rows and fates on demand, for the engine's tests",
    source_options, &source_ops, transform_options, &transform_ops, NULL, NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &testkit_plugin;
}
