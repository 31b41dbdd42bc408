/*
 * ops_run.c -- the run's side of nightly operations (ops.h): the mk_ops a
 * run keeps, the calls flow.c makes for rows reaching the sinks and for
 * each stage's output, and what happens after the report (history,
 * metrics, on_failure).
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"

mk_ops *mk_ops_of(mk_run *run)
{
    if (!run->ops)
        run->ops = calloc(1, sizeof(mk_ops));
    return run->ops;
}

const mk_history *mk_ops_history(mk_run *run)
{
    mk_ops *ops = mk_ops_of(run);
    if (!ops)
        return NULL;
    if (!ops->history_loaded) {
        ops->history_loaded = 1;
        char *dir = mk_history_dir(run->p);
        if (dir)
            mk_history_load(dir, 0, &ops->history);
        free(dir);
    }
    return &ops->history;
}

/* The position of column name in schema s, or SIZE_MAX. */
static size_t column_of(const mk_schema *s, const char *name)
{
    for (size_t c = 0; s && c < s->ncols; c++)
        if (strcmp(s->names[c], name) == 0)
            return c;
    return SIZE_MAX;
}

/* null_share: count NULL or empty cells of the checked columns.  The
 * column positions are looked up once per schema, not once per row. */
void mk_ops_rows_to_sinks(mk_run *run, const mk_batch *b)
{
    const mk_ops_config *c = run->p->ops;
    if (!c || !c->nchecks || !b->nrows)
        return;
    mk_ops *ops = mk_ops_of(run);
    if (!ops)
        return;
    if (!ops->nulls) {
        ops->nulls = calloc(c->nchecks, sizeof(uint64_t));
        ops->null_col = calloc(c->nchecks, sizeof(size_t));
        if (!ops->nulls || !ops->null_col)
            return;
    }
    if (ops->null_schema != b->schema) {
        ops->null_schema = b->schema;
        for (size_t i = 0; i < c->nchecks; i++)
            ops->null_col[i] = column_of(b->schema, c->checks[i].subject);
    }
    ops->null_rows += b->nrows;
    for (size_t i = 0; i < c->nchecks; i++) {
        if (c->checks[i].kind != MK_CHECK_NULL_SHARE)
            continue;
        size_t col = ops->null_col[i];
        if (col == SIZE_MAX) { /* the column is not there: no value */
            ops->nulls[i] += b->nrows;
            continue;
        }
        for (size_t r = 0; r < b->nrows; r++)
            ops->nulls[i] += MK_CELL(b, r, col).len == 0;
    }
}

int mk_ops_stage_rows(mk_run *run, const mk_step *step, const mk_batch *b)
{
    if (!run->o->on_stage || !run->o->on_stage(run->o->stage_data, step, b))
        return 0;
    mk_ops *ops = mk_ops_of(run);
    if (ops)
        ops->stop = 1;
    return 1;
}

int mk_ops_stop_early(mk_run *run)
{
    return run->ops && run->ops->stop;
}

/* What a dry run would have written, sink by sink. */
static void dry_run_summary(mk_run *run)
{
    if (run->o->silent)
        return;
    for (size_t i = 0; i < run->p->nsinks; i++) {
        const mk_step *s = run->sinks[i].step;
        const mk_optval *path = mk_step_option(s, "path");
        mk_log(MK_LOG_INFO, "dry run: sink %s (plugin %s%s%s) would have written %" PRIu64 " rows",
               s->name, s->plugin_name, path && path->value ? ", " : "",
               path && path->value ? path->value : "", run->sinks[i].rows_written);
    }
    mk_log(MK_LOG_INFO,
           "dry run: %" PRIu64 " rejected rows would have gone to %s; nothing was "
           "written (no outputs, rejects, history or metrics)",
           run->rejected, run->p->rejects_path);
}

void mk_ops_after_run(mk_run *run, const char *report, int exit_code)
{
    if (run->o->dry_run) {
        dry_run_summary(run);
        return;
    }
    if (run->o->shard) /* the merge keeps the history, writes metrics, calls on_failure */
        return;
    if (report) /* the history keeps reports: a run without one (mekong test) adds none */
        mk_history_append(run);
    const mk_ops_config *c = run->p->ops;
    const char *metrics = run->o->metrics_path ? run->o->metrics_path : c ? c->metrics_path : NULL;
    if (metrics)
        mk_metrics_write(run, metrics, exit_code);
    if (exit_code != 0 && c && c->on_failure)
        mk_hook_run(run, report, exit_code);
}

void mk_ops_free(mk_run *run)
{
    mk_ops *ops = run->ops;
    if (!ops)
        return;
    mk_history_free(&ops->history);
    free(ops->nulls);
    free(ops->null_col);
    free(ops->results);
    free(ops);
    run->ops = NULL;
}
