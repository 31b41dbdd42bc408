/*
 * hold.c -- held rows (mk_host.row_hold, held_pass, held_reject,
 * held_drop, held_bytes): a transform that can tell a row's fate only
 * after later rows have come (dedupe keep: last) takes the row out of its
 * batch and releases it later.
 *
 * Trade-off: a held row is one block of host memory (its values, the
 * fields its source read when an earlier step changed the row, and their
 * bytes), so releasing it gives the memory back at once; the table of
 * blocks grows by one pointer per row ever held (8 bytes, not given back
 * until the end of the run) so that a held row's number never changes.
 * Releasing goes through the usual fate calls on a one-row view of the
 * block, so rejects, rule counts, samples and events are the same as for
 * a row rejected in its own batch.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

typedef struct mk_held {
    size_t bytes;                /* of this block */
    const mk_schema *schema;     /* of the row when it was held */
    const mk_schema *src_schema; /* of the source's batch, NULL: values are as read */
    mk_rowinfo info;             /* origin 0: the views below have one row */
    uint64_t record;
    mk_value *values, *src_fields;
} mk_held;

typedef struct mk_holds {
    mk_held **rows; /* by number; NULL once released */
    size_t n, cap, live;
    size_t bytes;          /* blocks of rows still held, and the table */
    mk_batch *finish_out;  /* the batch of the finish() call in progress */
    size_t *released;      /* its rows that were released, in order */
    size_t nreleased, released_cap;
} mk_holds;

static mk_holds *holds_of(mk_context *ctx)
{
    if (!ctx->holds)
        ctx->holds = calloc(1, sizeof(mk_holds));
    return ctx->holds;
}

static size_t cells_bytes(const mk_value *v, size_t n)
{
    size_t bytes = n * sizeof(mk_value);
    for (size_t c = 0; c < n; c++)
        bytes += v[c].ptr ? v[c].len : 0;
    return bytes;
}

/* Copy n cells into the block at *cells, their bytes at *at. */
static void copy_cells(mk_value *cells, const mk_value *from, size_t n, char **at)
{
    for (size_t c = 0; c < n; c++) {
        cells[c] = from[c];
        if (!from[c].ptr)
            continue;
        memcpy(*at, from[c].ptr, from[c].len);
        cells[c].ptr = *at;
        *at += from[c].len;
    }
}

/* The block of row of in: values, and the source's fields when the row
 * is no longer as the source read it. */
static mk_held *held_new(mk_context *ctx, const mk_batch *in, size_t row)
{
    const mk_batch *orig = ctx->call->source_batch;
    const mk_rowinfo *info = &in->info[row];
    size_t n = in->schema->ncols, ns = 0;
    const mk_value *src = NULL;
    if (info->source != MK_NO_SOURCE && orig && orig != in && info->origin < orig->nrows) {
        ns = orig->schema->ncols;
        src = &MK_CELL(orig, info->origin, 0);
    }
    size_t bytes = sizeof(mk_held) + cells_bytes(&MK_CELL(in, row, 0), n) + cells_bytes(src, ns);
    mk_held *h = malloc(bytes);
    if (!h)
        return NULL;
    *h = (mk_held){bytes, in->schema, src ? orig->schema : NULL, *info,
                   in->record ? in->record[row] : 0, (mk_value *)(h + 1), NULL};
    h->info.origin = 0;
    h->src_fields = h->values + n;
    char *at = (char *)(h->src_fields + ns);
    copy_cells(h->values, &MK_CELL(in, row, 0), n, &at);
    copy_cells(h->src_fields, src, ns, &at);
    return h;
}

int mk_host_row_hold(mk_context *ctx, const mk_batch *in, size_t row, uint64_t *held)
{
    mk_holds *hs = holds_of(ctx);
    if (!hs)
        return MK_NOMEM;
    int rc = mk_fate_set(ctx, in, row, FATE_HELD);
    if (rc != MK_OK)
        return rc;
    if (hs->n == hs->cap) {
        size_t cap = hs->cap ? hs->cap * 2 : 1024;
        mk_held **grown = realloc(hs->rows, cap * sizeof(*grown));
        if (!grown)
            return MK_NOMEM;
        hs->bytes += (cap - hs->cap) * sizeof(*grown);
        hs->rows = grown;
        hs->cap = cap;
    }
    mk_held *h = held_new(ctx, in, row);
    if (!h)
        return MK_NOMEM;
    hs->rows[hs->n] = h;
    hs->bytes += h->bytes;
    hs->live++;
    *held = hs->n++;
    return MK_OK;
}

/* The held row number, taken out of the table (NULL after an error). */
static mk_held *take(mk_context *ctx, uint64_t held)
{
    mk_holds *hs = ctx->holds;
    if (!hs || held >= hs->n || !hs->rows[held]) {
        mk_host_error(ctx, "plugin released row %llu, which it does not hold (a plugin bug)",
                      (unsigned long long)held);
        if (ctx->call)
            ctx->call->bad = 1;
        return NULL;
    }
    mk_held *h = hs->rows[held];
    hs->rows[held] = NULL;
    hs->bytes -= h->bytes;
    hs->live--;
    return h;
}

/* A one-row batch over the block (and one over its source fields). */
static mk_batch view_of(mk_held *h, int source)
{
    const mk_schema *s = source ? h->src_schema : h->schema;
    mk_batch b = {s, 1, 1, s->ncols, source ? h->src_fields : h->values, &h->info, NULL, &h->record};
    return b;
}

/* Give the held row a fate through fn, as if it were row 0 of its own
 * batch: the rejects file, counts and events are the usual ones. */
static int release(mk_context *ctx, mk_held *h, int fate, const char *rule, const char *reason)
{
    mk_batch row = view_of(h, 0), src = h->src_schema ? view_of(h, 1) : row;
    unsigned char mark = FATE_NONE;
    mk_call call = {&row, &src, &mark, NULL, 0, 0}, *was = ctx->call;
    ctx->call = &call;
    int rc = fate == FATE_REJECT ? mk_host_row_reject(ctx, &row, 0, rule, reason)
                                 : mk_host_row_drop(ctx, &row, 0);
    ctx->call = was;
    free(h);
    return rc;
}

int mk_host_held_reject(mk_context *ctx, uint64_t held, const char *rule, const char *reason)
{
    mk_held *h = take(ctx, held);
    return h ? release(ctx, h, FATE_REJECT, rule, reason) : MK_BADARG;
}

int mk_host_held_drop(mk_context *ctx, uint64_t held)
{
    mk_held *h = take(ctx, held);
    return h ? release(ctx, h, FATE_DROP, NULL, NULL) : MK_BADARG;
}

/* Remember that row r of the finish batch was released (it keeps its origin). */
static int note_released(mk_holds *hs, size_t r)
{
    if (hs->nreleased == hs->released_cap) {
        size_t cap = hs->released_cap ? hs->released_cap * 2 : 1024;
        size_t *grown = realloc(hs->released, cap * sizeof(*grown));
        if (!grown)
            return MK_NOMEM;
        hs->released = grown;
        hs->released_cap = cap;
    }
    hs->released[hs->nreleased++] = r;
    return MK_OK;
}

int mk_host_held_pass(mk_context *ctx, uint64_t held, mk_batch *out)
{
    mk_holds *hs = ctx->holds;
    if (!hs || !out || out != hs->finish_out) {
        mk_host_error(ctx, "held_pass outside finish(), or to another batch than finish's "
                           "(a plugin bug)");
        return MK_BADARG;
    }
    mk_held *h = take(ctx, held);
    if (!h)
        return MK_BADARG;
    if (out->nrows == 0) /* finish's out has no schema of its own yet */
        out->schema = h->schema;
    mk_batch row = view_of(h, 0);
    unsigned char mark = FATE_NONE;
    mk_call call = {&row, &row, &mark, NULL, 0, 0};
    ctx->call = &call;
    size_t r = out->nrows;
    int rc = mk_host_row_pass(ctx, &row, 0, out);
    ctx->call = NULL;
    for (size_t c = 0; rc == MK_OK && c < out->schema->ncols; c++) {
        mk_value v = MK_CELL(out, r, c); /* points into the block: copy */
        if (v.ptr)
            rc = mk_batch_set(out, r, c, v.ptr, v.len);
    }
    free(h);
    if (rc == MK_OK) {
        out->info[r].origin = UINT32_MAX; /* not a row of the batch it flows with */
        rc = note_released(hs, r);
    }
    if (rc == MK_OK)
        ctx->rows_passed++;
    return rc;
}

size_t mk_host_held_bytes(mk_context *ctx)
{
    return ctx->holds ? ctx->holds->bytes : 0;
}

/* finish() made the rows of out that it did not release: they come from
 * no source. */
int mk_holds_after_finish(mk_context *ctx, mk_batch *out, uint64_t *released)
{
    mk_holds *hs = ctx->holds;
    size_t next = 0;
    for (size_t r = 0; r < out->nrows; r++) {
        if (hs && next < hs->nreleased && hs->released[next] == r) {
            next++;
            continue;
        }
        memset(&out->info[r], 0, sizeof(mk_rowinfo));
        out->info[r].source = MK_NO_SOURCE;
        out->record[r] = 0;
    }
    *released = next;
    if (hs) {
        hs->finish_out = NULL;
        hs->nreleased = 0;
    }
    if (hs && hs->live) {
        mk_host_error(ctx, "%zu rows were still held when finish() returned: each held row must "
                           "be passed, rejected or dropped (a plugin bug)", hs->live);
        return MK_ERROR;
    }
    return MK_OK;
}

/* Before ctx's finish(): held_pass may append to out. */
void mk_holds_before_finish(mk_context *ctx, mk_batch *out)
{
    if (ctx->holds)
        ctx->holds->finish_out = out;
}

void mk_holds_free(mk_context *ctx)
{
    mk_holds *hs = ctx->holds;
    if (!hs)
        return;
    for (size_t i = 0; i < hs->n; i++)
        free(hs->rows[i]);
    free(hs->rows);
    free(hs->released);
    free(hs);
    ctx->holds = NULL;
}
