/*
 * flow.c -- the batch loop.  One source batch at a time goes through the
 * source's own transforms, the pipeline's transforms and every sink; then
 * the next.  A source reads on its read-ahead thread (readahead.h), so it
 * fills batch k+1 while batch k flows here.
 *
 * Each transform call gets an explicit mk_call: the batch it may give
 * fates to, where the fates go, and the source batch the rows came from
 * (for the rejects file).  After the call every row must have a fate.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ops.h"
#include "readahead.h"
#include "run_internal.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show_progress(mk_run *run)
{
    if (!run->show_progress)
        return;
    double t = now_seconds();
    if (t - run->last_progress < 0.5)
        return;
    run->last_progress = t;
    double el = t - ((double)run->started.tv_sec + (double)run->started.tv_nsec / 1e9);
    fprintf(stderr, "\r\033[K%" PRIu64 " rows read, %" PRIu64 " written, %.0f rows/s", run->read,
            run->written, el > 0 ? (double)run->read / el : 0.0);
    mk_log_progress_shown(1);
}

static mk_batch *stage_batch(mk_run *run, size_t depth)
{
    if (depth >= run->stage_out_count) {
        size_t n = depth + 1;
        mk_batch **grown = realloc(run->stage_out, n * sizeof(*grown));
        if (!grown)
            return NULL;
        run->stage_out = grown;
        for (size_t i = run->stage_out_count; i < n; i++)
            run->stage_out[i] = NULL;
        run->stage_out_count = n;
    }
    if (!run->stage_out[depth])
        run->stage_out[depth] = mk_batch_new(NULL);
    return run->stage_out[depth];
}

static int grow_bytes(unsigned char **p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    unsigned char *m = realloc(*p, n);
    if (!m)
        return -1;
    *p = m;
    *cap = n;
    return 0;
}

/* Every row of the call got a fate; count them. */
static int check_fates(mk_run *run, mk_context *t, const mk_batch *in, const mk_batch *out)
{
    uint64_t passed = 0;
    for (size_t i = 0; i < in->nrows; i++) {
        if (run->fate[i] == FATE_NONE)
            return mk_run_fail(run,
                               "transform %s (plugin %s) left row %zu of a batch without a fate: "
                               "each row must be passed, rejected or dropped (a plugin bug)",
                               t->step->name, t->step->plugin_name, i);
        passed += run->fate[i] == FATE_PASS;
    }
    t->rows_in += in->nrows;
    t->rows_passed += passed;
    t->rows_out += out->nrows;
    run->added += out->nrows - passed;
    return MK_OK;
}

/* One transform over one batch, with fate checks and counters. */
static int transform_batch(mk_run *run, mk_context *t, const mk_batch *source_batch,
                           const mk_batch *in, mk_batch *out)
{
    if (grow_bytes(&run->fate, &run->fate_cap, in->nrows) != 0)
        return mk_run_fail(run, "out of memory");
    if (in->nrows) /* an empty batch (an empty shard) before any other: fate is still NULL */
        memset(run->fate, 0, in->nrows);
    mk_batch_reset(out, in->schema);
    mk_call call = {in, source_batch, run->fate, NULL, 0, 0};
    t->call = &call;
    int rc = t->step->plugin.desc->transform->process(t->state, in, out);
    t->call = NULL;
    if (rc != MK_OK || call.bad)
        return mk_run_step_failed(run, t, "process", rc == MK_OK ? MK_ERROR : rc);
    return check_fates(run, t, in, out);
}

/* Write a batch to every sink.  An empty batch reaches them only when no
 * row did (see mk_flow_announce_columns). */
static int sinks_write(mk_run *run, const mk_batch *source_batch, const mk_batch *b,
                       int checked)
{
    if (b->nrows == 0 && run->reached_sinks > 0)
        return MK_OK;
    run->reached_sinks += b->nrows;
    if (grow_bytes(&run->sink_rejected_row, &run->sink_rejected_cap, b->nrows) != 0)
        return mk_run_fail(run, "out of memory");
    if (b->nrows)
        memset(run->sink_rejected_row, 0, b->nrows);
    mk_call call = {b, source_batch, NULL, run->sink_rejected_row, checked, 0};
    mk_ops_rows_to_sinks(run, b);
    for (size_t i = 0; run->o->dry_run && i < run->p->nsinks; i++)
        run->sinks[i].rows_written += b->nrows; /* not opened: would be written */
    for (size_t i = 0; !run->o->dry_run && i < run->p->nsinks; i++) {
        mk_context *s = &run->sinks[i];
        uint64_t before = s->rows_rejected;
        s->call = &call;
        int rc = s->step->plugin.desc->sink->write(s->state, b);
        s->call = NULL;
        if (rc != MK_OK || call.bad)
            return mk_run_step_failed(run, s, "write", rc == MK_OK ? MK_ERROR : rc);
        s->rows_written += b->nrows - (s->rows_rejected - before);
    }
    return MK_OK;
}

/* Run batch b through stages[from..n) and then the sinks. */
static int flow(mk_run *run, mk_context **stages, size_t n, size_t from, mk_batch *b,
                int checked)
{
    const mk_batch *cur = b;
    for (size_t i = from; i < n; i++) {
        mk_batch *out = stage_batch(run, i);
        if (!out)
            return mk_run_fail(run, "out of memory");
        if (transform_batch(run, stages[i], b, cur, out) != MK_OK)
            return MK_ERROR;
        mk_ops_stage_rows(run, stages[i]->step, out);
        cur = out;
        checked = checked && stages[i]->text_checked;
    }
    return sinks_write(run, b, cur, checked);
}

/* The stages a row of source s passes: its own chain, then the pipeline's. */
static mk_context **stages_of(mk_run *run, mk_context *src, size_t *n)
{
    mk_pipeline *p = run->p;
    size_t chain = src->step->chain_len;
    *n = chain + p->ntransforms;
    mk_context **st = calloc(*n ? *n : 1, sizeof(*st));
    if (!st)
        return NULL;
    for (size_t i = 0; i < chain; i++)
        st[i] = &src->chain[i];
    for (size_t i = 0; i < p->ntransforms; i++)
        st[chain + i] = &run->transforms[i];
    return st;
}

/* The rejects a source made while reading batch rb, then its status. */
static int source_batch_ready(mk_run *run, mk_context *src, mk_readahead_batch *rb)
{
    for (size_t i = 0; i < rb->nrejects; i++) {
        mk_deferred_reject *d = &rb->rejects[i];
        if (mk_source_reject_now(src, d->fields, d->nfields, d->line, d->record, d->part,
                                 d->rule, d->reason) != MK_OK)
            return mk_run_fail(run, "cannot write the rejects file %s", run->p->rejects_path);
    }
    if (rb->status != MK_OK && rb->status != MK_DONE)
        return mk_run_step_failed(run, src, "reading", rb->status);
    mk_batch *b = rb->batch;
    for (size_t i = 0; i < b->nrows; i++) /* origin: set by the read-ahead */
        b->info[i].source = (uint32_t)src->step->index;
    src->rows_out += b->nrows;
    run->read += b->nrows;
    mk_ops_stage_rows(run, src->step, b);
    return MK_OK;
}

static int stop_now(mk_run *run)
{
    int sig = mk_run_stop_requested();
    if (!sig && mk_ops_stop_early(run)) {
        mk_run_fail(run, "stopped early: the stage watcher has the rows it wanted");
        return 1;
    }
    if (!sig)
        return 0;
    mk_run_fail(run, "interrupted by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return 1;
}

int mk_flow_read_source(mk_run *run, mk_context *src)
{
    size_t nstages;
    mk_context **stages = stages_of(run, src, &nstages);
    if (!stages)
        return mk_run_fail(run, "out of memory");
    const mk_source_ops *ops = src->step->plugin.desc->source;
    mk_readahead *ra =
        mk_readahead_start(src, ops, src->state, ops->schema(src->state), run->p->batch_rows);
    if (!ra) {
        free(stages);
        return mk_run_fail(run, "cannot start reading %s: out of memory or threads",
                           src->step->name);
    }
    src->readahead = ra;
    int rc = MK_OK;
    for (;;) {
        mk_readahead_batch *rb = mk_readahead_next(ra);
        mk_rejects_hold(run); /* the batch's rejects in input order (rejects.c) */
        int ok = source_batch_ready(run, src, rb) == MK_OK &&
                 flow(run, stages, nstages, 0, rb->batch, src->text_checked) == MK_OK;
        if (mk_rejects_flush(run, rb->batch, !ok || rb->status != MK_OK) != MK_OK || !ok) {
            rc = MK_ERROR;
            break;
        }
        run->written = run->reached_sinks - run->sink_rejected;
        show_progress(run);
        int status = rb->status;
        mk_readahead_release(ra);
        if (stop_now(run)) {
            rc = MK_ERROR;
            break;
        }
        if (status == MK_DONE)
            break;
    }
    mk_readahead_stop(ra);
    src->readahead = NULL;
    free(stages);
    return rc;
}

/* When no row reached the sinks, send them one empty batch with the
 * columns the first source's rows would have had, so a header-only input
 * still gives a file with a header. */
int mk_flow_announce_columns(mk_run *run)
{
    mk_pipeline *p = run->p;
    if (run->reached_sinks > 0 || p->nsources == 0)
        return MK_OK;
    mk_context *src = &run->sources[0];
    size_t n;
    mk_context **stages = stages_of(run, src, &n);
    if (!stages)
        return mk_run_fail(run, "out of memory");
    mk_batch *b = run->empty_source_batch;
    mk_batch_reset(b, src->step->plugin.desc->source->schema(src->state));
    int rc = flow(run, stages, n, 0, b, 0);
    free(stages);
    return rc;
}

/* End of input: each of the first `nfinish` stages may emit rows, which go
 * through the stages after it and then the sinks.  Those rows come from no
 * source. */
static int finish_stages(mk_run *run, mk_context **stages, size_t n, size_t nfinish)
{
    for (size_t i = 0; i < nfinish; i++) {
        mk_context *t = stages[i];
        if (!t->step->plugin.desc->transform->finish)
            continue;
        /* a batch beyond the per-depth ones that flow() uses */
        mk_batch *out = stage_batch(run, n + 1);
        if (!out)
            return mk_run_fail(run, "out of memory");
        mk_batch_reset(out, NULL);
        mk_holds_before_finish(t, out);
        int rc = t->step->plugin.desc->transform->finish(t->state, out);
        uint64_t released = 0; /* held rows it passed keep their origin (hold.c) */
        if (rc == MK_OK && mk_holds_after_finish(t, out, &released) != MK_OK)
            rc = MK_ERROR;
        if (rc != MK_OK)
            return mk_run_step_failed(run, t, "finish", rc);
        t->rows_out += out->nrows;
        run->added += out->nrows - released;
        mk_ops_stage_rows(run, t->step, out);
        /* nothing emitted: the stages after it would see a batch without
         * columns (and map would find none of the columns it names) */
        if (out->nrows == 0)
            continue;
        if (flow(run, stages, n, i + 1, out, t->text_checked) != MK_OK)
            return MK_ERROR;
    }
    return MK_OK;
}

static int finish_chain(mk_run *run, mk_context *src, size_t skip, size_t count)
{
    size_t n;
    mk_context **st = stages_of(run, src, &n);
    if (!st)
        return mk_run_fail(run, "out of memory");
    int rc = finish_stages(run, st + skip, n - skip, count);
    free(st);
    return rc;
}

int mk_flow_finish_all(mk_run *run)
{
    mk_pipeline *p = run->p;
    /* each source's own chain first; its rows continue through the
     * pipeline's transforms */
    for (size_t s = 0; s < p->nsources; s++) {
        mk_context *src = &run->sources[s];
        if (src->step->chain_len && finish_chain(run, src, 0, src->step->chain_len) != MK_OK)
            return MK_ERROR;
    }
    if (p->nsources == 0)
        return MK_OK;
    /* the pipeline's transforms: the tail of any source's stage list */
    return finish_chain(run, &run->sources[0], run->sources[0].step->chain_len, p->ntransforms);
}
