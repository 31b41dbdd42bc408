/*
 * run.c -- one run from start to end: make a context for every step, open
 * them, let flow.c move the rows, close (publishing or not), check that
 * the accounts add up and the thresholds hold, hand the report over and
 * say in one line what happened.
 */
#include "config.h"

#include "run.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"

static volatile sig_atomic_t stop_signal;

void mk_run_request_stop(int signal_number)
{
    stop_signal = signal_number;
}

int mk_run_stop_requested(void)
{
    return stop_signal;
}

int mk_run_fail(mk_run *run, const char *fmt, ...)
{
    if (run->failure[0])
        return MK_ERROR; /* keep the first cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->failure, sizeof run->failure, fmt, ap);
    va_end(ap);
    return MK_ERROR;
}

int mk_run_step_failed(mk_run *run, mk_context *ctx, const char *what, int rc)
{
    if (rc == MK_STOPPED)
        return mk_run_fail(run, "interrupted%s", stop_signal == SIGINT    ? " by SIGINT"
                                                 : stop_signal == SIGTERM ? " by SIGTERM"
                                                                          : "");
    const char *why = ctx->error[0] ? ctx->error
                      : rc == MK_NOMEM ? mk_host_table.status_message(rc)
                                       : "no message given";
    return mk_run_fail(run, "%s %s (plugin %s) failed in %s: %s", mk_role_name(ctx->step->role),
                       ctx->step->name, ctx->step->plugin_name, what, why);
}

/* ---- contexts, opening and closing ----------------------------------------- */

static mk_context *make_contexts(mk_run *run, const mk_step *steps, size_t n)
{
    mk_context *c = calloc(n ? n : 1, sizeof(*c));
    for (size_t i = 0; c && i < n; i++) {
        c[i].run = run;
        c[i].step = &steps[i];
        if (steps[i].chain_len && !(c[i].chain = make_contexts(run, steps[i].chain,
                                                                steps[i].chain_len)))
            return NULL; /* freed with the run: calloc'd, so chain pointers are NULL */
    }
    return c;
}

static void free_contexts(mk_context *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free_contexts(c[i].chain, c[i].step->chain_len);
        mk_context_free(&c[i]);
    }
    free(c);
}

static int open_step(mk_run *run, mk_context *ctx)
{
    ctx->error[0] = '\0';
    const mk_plugin *d = ctx->step->plugin.desc;
    int rc;
    switch (ctx->step->role) {
    case MK_ROLE_SOURCE: rc = d->source->open(ctx, &mk_host_table, &ctx->state); break;
    case MK_ROLE_TRANSFORM: rc = d->transform->open(ctx, &mk_host_table, &ctx->state); break;
    default: rc = d->sink->open(ctx, &mk_host_table, &ctx->state); break;
    }
    ctx->opened = 1;
    return rc == MK_OK ? MK_OK : mk_run_step_failed(run, ctx, "open", rc);
}

static int open_everything(mk_run *run)
{
    mk_pipeline *p = run->p;
    for (size_t i = 0; i < p->nsources; i++) {
        if (open_step(run, &run->sources[i]) != MK_OK)
            return MK_ERROR;
        for (size_t k = 0; k < p->sources[i].chain_len; k++)
            if (open_step(run, &run->sources[i].chain[k]) != MK_OK)
                return MK_ERROR;
    }
    for (size_t i = 0; i < p->ntransforms; i++)
        if (open_step(run, &run->transforms[i]) != MK_OK)
            return MK_ERROR;
    if (run->o->dry_run) /* --dry-run: no rejects file, sinks not opened */
        return MK_OK;
    if (mk_rejects_open(run) != MK_OK)
        return MK_ERROR;
    for (size_t i = 0; i < p->nsinks; i++)
        if (open_step(run, &run->sinks[i]) != MK_OK)
            return MK_ERROR;
    return MK_OK;
}

static void close_transform(mk_context *t)
{
    if (t->opened && t->step->plugin.desc->transform->close)
        t->step->plugin.desc->transform->close(t->state);
    t->opened = 0;
}

static void close_sources_and_transforms(mk_run *run)
{
    mk_pipeline *p = run->p;
    for (size_t i = 0; i < p->nsources; i++) {
        mk_context *s = &run->sources[i];
        for (size_t k = 0; k < s->step->chain_len; k++)
            close_transform(&s->chain[k]);
        if (s->opened && s->step->plugin.desc->source->close)
            s->step->plugin.desc->source->close(s->state);
        s->opened = 0;
    }
    for (size_t i = 0; i < p->ntransforms; i++)
        close_transform(&run->transforms[i]);
}

/* What a sink that committed did not hand to the publish set (a database
 * sink's COMMIT, a device written directly): published already. */
static void note_self_committed(mk_run *run, const mk_context *s)
{
    size_t len = strlen(run->self_committed), cap = sizeof run->self_committed;
    if (len + 1 < cap)
        snprintf(run->self_committed + len, cap - len, "%s%s %s (plugin %s)",
                 len ? ", " : "", mk_role_name(s->step->role), s->step->name,
                 s->step->plugin_name);
}

/* Sinks publish (commit) or throw away; once one fails, the rest and the
 * rejects file must not.  File sinks hand their files to the publish set
 * (mk_host.publish_path); a sink that hands nothing and succeeds (a
 * database's COMMIT) has published its rows itself, before the files. */
static int close_everything(mk_run *run, int commit)
{
    close_sources_and_transforms(run);
    int rc = MK_OK;
    for (size_t i = 0; i < run->p->nsinks; i++) {
        mk_context *s = &run->sinks[i];
        if (!s->opened)
            continue;
        s->opened = 0;
        s->error[0] = '\0';
        int closed = s->step->plugin.desc->sink->close(s->state, commit);
        if (closed != MK_OK && commit) {
            mk_run_step_failed(run, s, "close", MK_ERROR);
            commit = 0;
            rc = MK_ERROR;
        } else if (closed == MK_OK && commit && !s->handed_outputs) {
            note_self_committed(run, s);
        }
    }
    if (mk_rejects_close(run, commit) != MK_OK)
        rc = MK_ERROR;
    return rc;
}

/* ---- accounts and thresholds ------------------------------------------------- */

static void add_threshold_failure(mk_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_threshold_failure(mk_run *run, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **grown = realloc(run->threshold_failures, (run->nthreshold_failures + 1) * sizeof(char *));
    if (!grown)
        return;
    run->threshold_failures = grown;
    run->threshold_failures[run->nthreshold_failures++] = strdup(msg);
}

static void check_rule_threshold(mk_run *run, const mk_threshold *t)
{
    uint64_t rejected = 0, checked = 0;
    for (size_t r = 0; r < run->nrules; r++) {
        if (strcmp(run->rules[r]->name, t->rule) != 0)
            continue;
        rejected += run->rules[r]->rejected;
        checked += run->rules[r]->checked;
    }
    if (!checked)
        checked = run->read;
    double share = checked ? (double)rejected / (double)checked : 0.0;
    if (share > t->max_share)
        add_threshold_failure(run, "rule %s rejected %.2f%% of the rows it checked; the limit is %.2f%%",
                              t->rule, share * 100, t->max_share * 100);
}

static void check_thresholds(mk_run *run)
{
    mk_pipeline *p = run->p;
    for (size_t i = 0; i < p->nthresholds; i++) {
        mk_threshold *t = &p->thresholds[i];
        if (t->rule) {
            check_rule_threshold(run, t);
            continue;
        }
        double share = run->read ? (double)run->rejected / (double)run->read : 0.0;
        if (share > t->max_share)
            add_threshold_failure(run, "%.2f%% of rows were rejected; the limit is %.2f%%",
                                  share * 100, t->max_share * 100);
    }
}

static int accounts_balance(mk_run *run)
{
    run->written = run->reached_sinks - run->sink_rejected;
    if (run->read + run->added != run->written + run->rejected + run->dropped)
        return 0;
    for (size_t i = 0; i < run->p->nsinks; i++)
        if (run->sinks[i].rows_written + run->sinks[i].rows_rejected != run->reached_sinks)
            return 0;
    return 1;
}

/* ---- the run ------------------------------------------------------------------ */

static int init_run(mk_run *run, mk_pipeline *p, const mk_run_options *o)
{
    memset(run, 0, sizeof(*run));
    run->p = p;
    run->o = o;
    run->run_dir = mk_run_dir(p);
    run->show_progress = o->progress;
    clock_gettime(CLOCK_MONOTONIC, &run->started);
    run->started_wall = time(NULL);
    run->schemas = mk_schema_registry_new();
    run->empty_source_batch = mk_batch_new(NULL);
    run->sources = make_contexts(run, p->sources, p->nsources);
    run->transforms = make_contexts(run, p->transforms, p->ntransforms);
    run->sinks = make_contexts(run, p->sinks, p->nsinks);
    return run->schemas && run->empty_source_batch && run->sources && run->transforms &&
                   run->sinks && run->run_dir
               ? 0
               : -1;
}

static void free_run(mk_run *run)
{
    mk_pipeline *p = run->p;
    mk_before_publish_calls(run, 0); /* before the contexts go */
    mk_batch_free(run->empty_source_batch);
    for (size_t i = 0; i < run->stage_out_count; i++)
        mk_batch_free(run->stage_out[i]);
    free(run->stage_out);
    free(run->fate);
    free(run->sink_rejected_row);
    mk_rules_free(run);
    for (size_t i = 0; i < run->nthreshold_failures; i++)
        free(run->threshold_failures[i]);
    free(run->threshold_failures);
    free_contexts(run->sources, p->nsources);
    free_contexts(run->transforms, p->ntransforms);
    free_contexts(run->sinks, p->nsinks);
    mk_state_free(run);
    mk_publish_discard(run);
    mk_locks_release(run->locks);
    free(run->run_dir);
    mk_schema_registry_free(run->schemas);
    mk_ops_free(run);
}

/* Read everything and finish; 1 when it all went well. */
static int move_rows(mk_run *run)
{
    /* a dead run's publish journal first: the state it publishes is read next */
    /* (a dry run writes nothing: it leaves both to the next run) */
    int writes = !run->o->no_run_folder && !run->o->dry_run;
    int ok = !writes || mk_publish_recover(run) == MK_OK;
    if (ok && writes)
        mk_publish_sweep(run);
    ok = ok && mk_state_open(run) == MK_OK && open_everything(run) == MK_OK;
    for (size_t i = 0; ok && i < run->p->nsources; i++)
        ok = mk_flow_read_source(run, &run->sources[i]) == MK_OK;
    if (ok)
        ok = mk_flow_finish_all(run) == MK_OK;
    if (ok)
        ok = mk_flow_announce_columns(run) == MK_OK;
    if (run->show_progress) {
        fputs("\r\033[K", stderr);
        mk_log_progress_shown(0);
    }
    return ok;
}

static void summary(mk_run *run, int ok, int commit, const char *report, int report_written)
{
    mk_pipeline *p = run->p;
    int threshold_failed = run->nthreshold_failures > 0 || mk_drift_failed(run);
    if (run->o->silent)
        return;
    if (!ok) {
        const char *self = run->self_committed;
        mk_log(MK_LOG_ERROR, "run failed: %s; %s%s%s%s%s",
               run->failure[0] ? run->failure : "see the messages above",
               run->published[0] ? run->published : "nothing was published",
               self[0] ? "; these sinks had already committed by themselves (not undone): " : "",
               self, !report ? "" : report_written ? "; report: " : "; no report either: ",
               report ? report : "");
        return;
    }
    for (size_t i = 0; i < run->nthreshold_failures; i++)
        mk_log(MK_LOG_ERROR, "quality threshold crossed: %s", run->threshold_failures[i]);
    mk_log(threshold_failed ? MK_LOG_ERROR : MK_LOG_INFO,
           "%s: %" PRIu64 " rows read, %" PRIu64 " written, %" PRIu64 " rejected, %" PRIu64
           " dropped in %.2f s (%.0f rows/s)%s",
           p->name, run->read, run->written, run->rejected, run->dropped, run->elapsed,
           run->elapsed > 0 ? (double)run->read / run->elapsed : 0.0,
           threshold_failed ? (commit ? "; published anyway (publish_on_failure)"
                                      : "; outputs not published")
                            : "");
}

/* The pipeline's and its outputs' locks (lock.c): 0, 1 held by another
 * run, -1 failed (said). */
static int take_locks(mk_run *run)
{
    const mk_pipeline *p = run->p;
    if (run->o->no_run_folder || run->o->dry_run) /* a dry run never keeps a run out */
        return 0;
    char msg[2048], waited[96] = "";
    int held = mk_locks_take(p, p->lock_wait, run->started_wall, &run->locks, msg, sizeof msg);
    if (!held)
        return 0;
    if (held > 0 && p->lock_wait)
        snprintf(waited, sizeof waited, "; waited %d s (lock_wait)", p->lock_wait);
    else if (held > 0)
        snprintf(waited, sizeof waited, "; lock_wait: SECONDS makes a run wait for it");
    mk_log(MK_LOG_ERROR, "%s: not run: %s%s", p->name, msg, waited);
    if (run->o->failure)
        snprintf(run->o->failure, run->o->failure_len, "%s", msg);
    return held;
}

/* The reports join the publish set, the sinks that asked see the run's
 * own files (mk_host.before_publish), and the set is put in place as a
 * whole (may: the run may publish); otherwise, or when that fails, the
 * set is thrown away and the report alone says what happened.  1 when
 * the run is still good. */
static int publish(mk_run *run, int may, const char *report, int *report_written)
{
    const char *html = run->p->html_report_path;
    if (may && (!report || mk_report_write(run, report, html, 1) == 0) &&
        mk_before_publish_calls(run, 1) == MK_OK && mk_publish_commit(run) == MK_OK) {
        *report_written = report != NULL;
        return 1;
    }
    mk_before_publish_calls(run, 0); /* those not made yet */
    mk_publish_discard(run);
    if (may)
        run->status = "failed";
    *report_written = report && mk_report_write(run, report, html, 0) == 0;
    return !may;
}

int mk_run_pipeline(mk_pipeline *p, const mk_run_options *o)
{
    mk_run run;
    if (init_run(&run, p, o) != 0) {
        mk_log(MK_LOG_ERROR, "out of memory");
        free_run(&run);
        return MK_EXIT_FAILED;
    }
    int held = take_locks(&run);
    if (held) {
        free_run(&run);
        return held > 0 ? MK_EXIT_LOCKED : MK_EXIT_FAILED;
    }
    int ok = move_rows(&run);
    run.balanced = accounts_balance(&run);
    if (ok && !run.balanced)
        ok = mk_run_fail(&run, "row accounts do not add up (a plugin bug): see the report") == MK_OK;
    if (ok)
        check_thresholds(&run);
    if (ok)
        mk_drift_check(&run);
    int threshold_failed = run.nthreshold_failures > 0;
    int drift_failed = mk_drift_failed(&run); /* never published (publish_on_failure too) */
    int commit = ok && !drift_failed && (!threshold_failed || p->publish_on_threshold) &&
                 !o->dry_run;
    if (close_everything(&run, commit) != MK_OK)
        ok = 0;
    else if (commit && mk_state_save(&run) != MK_OK)
        ok = 0;
    if (!commit) /* only sinks that published by themselves */
        run.self_committed[0] = '\0';
    run.balanced = accounts_balance(&run);

    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    run.elapsed = (double)(end.tv_sec - run.started.tv_sec) +
                  (double)(end.tv_nsec - run.started.tv_nsec) / 1e9;
    run.status = !ok ? "failed" : threshold_failed ? "threshold" : drift_failed ? "drift" : "ok";
    const char *report = o->report_path ? o->report_path : o->dry_run ? "-" : p->report_path;
    int report_written = 0;
    if (!publish(&run, ok && commit, report, &report_written))
        ok = 0;
    summary(&run, ok, commit, report, report_written);
    if (!ok && o->failure)
        snprintf(o->failure, o->failure_len, "%s", run.failure);
    int code = !ok ? MK_EXIT_FAILED
               : threshold_failed || drift_failed ? MK_EXIT_THRESHOLD
                                                  : MK_EXIT_OK;
    mk_ops_after_run(&run, report, code);
    free_run(&run);
    return code;
}
