/*
 * firstrel.c -- a plugin built against tests/plugins/first-release/mekong.h,
 * a frozen copy of the plugin header as ABI 1 was first released.  The
 * tests load it into today's host, whose descriptor and host table have
 * grown since, and run all three of its roles: the proof that growing the
 * contract does not break plugins already built.
 *
 * source:    rows "n" (1..count) and "word", positions 2..count+1
 * transform: appends "!" to word with row_emit and batch_set
 * sink:      writes "n word line" lines to path
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong.h" /* the first-release copy: see Makefile.inc */

typedef struct first {
    mk_context *ctx;
    const mk_host *host;
    long long count, next;
    const mk_schema *schema;
    FILE *out;
    char *path;
} first;

static const mk_option_decl source_options[] = {
    {"count", MK_OPT_INT, 0, "5", "rows to make"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_option_decl no_options[] = {{NULL, 0, 0, NULL, NULL}};

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file to write"},
    {NULL, 0, 0, NULL, NULL},
};

static int first_open(mk_context *ctx, const mk_host *host, void **state)
{
    first *f = calloc(1, sizeof(*f));
    if (!f)
        return MK_NOMEM;
    *state = f;
    f->ctx = ctx;
    f->host = host;
    static const char *const names[] = {"n", "word"};
    f->schema = host->schema_intern(ctx, names, 2);
    f->count = host->opt_int(ctx, "count");
    return f->schema ? MK_OK : MK_NOMEM;
}

static const mk_schema *first_schema(void *state)
{
    return ((first *)state)->schema;
}

static int first_next(void *state, mk_batch *b)
{
    first *f = state;
    static const char *const words[] = {"mot", "hai", "ba"};
    while (b->nrows < b->cap) {
        if (f->next >= f->count)
            return MK_DONE;
        char num[32];
        int len = snprintf(num, sizeof num, "%lld", ++f->next);
        const char *w = words[f->next % 3];
        size_t r = f->host->batch_add_row(b);
        if (r == (size_t)-1 || f->host->batch_set(b, r, 0, num, (size_t)len) != MK_OK ||
            f->host->batch_set(b, r, 1, w, strlen(w)) != MK_OK)
            return MK_NOMEM;
        b->info[r].position = (uint64_t)f->next + 1;
    }
    return MK_OK;
}

static int first_process(void *state, const mk_batch *in, mk_batch *out)
{
    first *f = state;
    for (size_t r = 0; r < in->nrows; r++) {
        size_t o = f->host->row_emit(f->ctx, in, r, out);
        if (o == (size_t)-1)
            return MK_NOMEM;
        mk_value n = MK_CELL(in, r, 0), w = MK_CELL(in, r, 1);
        char buf[64];
        int len = snprintf(buf, sizeof buf, "%.*s!", (int)w.len, w.ptr);
        MK_CELL(out, o, 0) = n;
        if (f->host->batch_set(out, o, 1, buf, (size_t)len) != MK_OK)
            return MK_NOMEM;
    }
    return MK_OK;
}

static int sink_open(mk_context *ctx, const mk_host *host, void **state)
{
    first *f = calloc(1, sizeof(*f));
    if (!f)
        return MK_NOMEM;
    *state = f;
    f->ctx = ctx;
    f->host = host;
    f->path = strdup(host->opt_string(ctx, "path"));
    f->out = f->path ? fopen(f->path, "w") : NULL;
    if (!f->out) {
        host->error(ctx, "cannot write %s", host->opt_string(ctx, "path"));
        return MK_ERROR;
    }
    return MK_OK;
}

static int sink_write(void *state, const mk_batch *b)
{
    first *f = state;
    for (size_t r = 0; r < b->nrows; r++) {
        mk_value n = MK_CELL(b, r, 0), w = MK_CELL(b, r, 1);
        fprintf(f->out, "%.*s %.*s %llu\n", (int)n.len, n.ptr, (int)w.len, w.ptr,
                (unsigned long long)b->info[r].position);
    }
    return MK_OK;
}

static int sink_close(void *state, int commit)
{
    first *f = state;
    int rc = MK_OK;
    if (f && f->out && fclose(f->out) != 0)
        rc = MK_ERROR;
    if (f && f->path && !commit)
        remove(f->path);
    if (f)
        free(f->path);
    free(f);
    return rc;
}

static void first_close(void *state)
{
    free(state);
}

static const mk_source_ops source_ops = {first_open, first_schema, first_next, first_close};
static const mk_transform_ops transform_ops = {first_open, first_process, NULL, first_close};
static const mk_sink_ops sink_ops = {sink_open, sink_write, sink_close};

static const mk_plugin first_plugin = {
    MK_PLUGIN_HEAD, "firstrel", "1", "built against ABI 1 as first released",
    source_options, &source_ops, no_options, &transform_ops, sink_options, &sink_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &first_plugin;
}
