/*
 * drift.c -- checks of this run's figures against the history (checks: in
 * the pipeline; docs/NIGHTLY.md).  Each figure -- rows read by a source,
 * the share a rule rejected, the share of NULL or empty values of a
 * column at the sinks -- is compared with the median of the same figure
 * over the last checks.runs successful runs.  The median, not the mean:
 * one odd night in the history does not move what "usual" is.  A check
 * crossing its fail level ends the run with exit 3 and nothing published;
 * crossing warn is logged and reported.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"
#include "util/json_read.h"
#include "util/textout.h"

/* ---- figures ------------------------------------------------------------ */

int mk_check_figure_in_report(const mk_check *ck, const mk_jnode *report, double *out)
{
    if (ck->kind == MK_CHECK_SOURCE_ROWS) {
        const mk_jnode *s = mk_json_find(mk_json_get(report, "sources"), "name", ck->subject);
        *out = mk_json_number(mk_json_get(s, "rows_read"), -1);
        return *out >= 0;
    }
    if (ck->kind == MK_CHECK_RULE_REJECTS) {
        const mk_jnode *rules = mk_json_get(report, "rules");
        if (!rules || rules->kind != MK_J_ARRAY)
            return 0;
        double rejected = 0, checked = 0;
        for (size_t i = 0; i < rules->count; i++) {
            const char *name = mk_json_string(mk_json_get(rules->items[i], "rule"));
            if (!name || strcmp(name, ck->subject) != 0)
                continue;
            rejected += mk_json_number(mk_json_get(rules->items[i], "rejected"), 0);
            checked += mk_json_number(mk_json_get(rules->items[i], "checked"), 0);
        }
        if (!checked) /* as the report's rejected_share: of the rows read */
            checked = mk_json_number(mk_json_get(mk_json_get(report, "totals"), "read"), 0);
        *out = checked > 0 ? rejected / checked : 0.0;
        return 1; /* a rule that rejected nothing is not in the report */
    }
    const mk_jnode *checks = mk_json_get(report, "checks");
    for (size_t i = 0; checks && checks->kind == MK_J_ARRAY && i < checks->count; i++) {
        const mk_jnode *c = checks->items[i];
        const char *kind = mk_json_string(mk_json_get(c, "check"));
        const char *subject = mk_json_string(mk_json_get(c, "subject"));
        if (kind && subject && strcmp(kind, mk_check_kind_name(ck->kind)) == 0 &&
            strcmp(subject, ck->subject) == 0) {
            *out = mk_json_number(mk_json_get(c, "value"), -1);
            return *out >= 0;
        }
    }
    return 0;
}

/* The rows rule_rejects divides by, as check_rule_threshold in run.c. */
static uint64_t rule_counts(const mk_run *run, const char *rule, uint64_t *rejected)
{
    uint64_t checked = 0;
    *rejected = 0;
    for (size_t r = 0; r < run->nrules; r++) {
        if (strcmp(run->rules[r]->name, rule) != 0)
            continue;
        *rejected += run->rules[r]->rejected;
        checked += run->rules[r]->checked;
    }
    return checked ? checked : run->read;
}

double mk_check_figure_now(const mk_run *run, const mk_check *ck)
{
    if (ck->kind == MK_CHECK_SOURCE_ROWS) {
        for (size_t i = 0; i < run->p->nsources; i++)
            if (strcmp(run->sources[i].step->name, ck->subject) == 0)
                return (double)(run->sources[i].rows_out + run->sources[i].rows_rejected);
        return 0;
    }
    if (ck->kind == MK_CHECK_RULE_REJECTS) {
        uint64_t rejected, base = rule_counts(run, ck->subject, &rejected);
        return base ? (double)rejected / (double)base : 0.0;
    }
    const mk_ops *ops = run->ops;
    size_t i = (size_t)(ck - run->p->ops->checks);
    if (!ops || !ops->nulls || !ops->null_rows)
        return 0;
    return (double)ops->nulls[i] / (double)ops->null_rows;
}

/* One row's share: the smallest share above 0 this run can have, so that
 * a median of 0 still gives a finite factor. */
static double one_row_share(mk_run *run, const mk_check *ck)
{
    uint64_t base = 0, rejected;
    if (ck->kind == MK_CHECK_RULE_REJECTS)
        base = rule_counts(run, ck->subject, &rejected);
    else if (ck->kind == MK_CHECK_NULL_SHARE)
        base = run->ops ? run->ops->null_rows : 0;
    return base ? 1.0 / (double)base : 0.0;
}

/* ---- levels ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Did value cross level l against median m, in the check's direction? */
static int crossed(const mk_level *l, int direction, double x, double m)
{
    if (!l->set)
        return 0;
    if (m <= 0) /* only a source's row count can have a median of 0 */
        return x > 0 && direction >= 0;
    if (l->factor)
        return (direction >= 0 && x >= l->value * m) || (direction <= 0 && x <= m / l->value);
    double rel = (x - m) / m;
    return (direction >= 0 && rel >= l->value) || (direction <= 0 && rel <= -l->value);
}

static void level_text(const mk_level *l, char *buf, size_t len)
{
    if (l->factor)
        snprintf(buf, len, "%gx", l->value);
    else
        snprintf(buf, len, "%g%%", l->value * 100);
}

/* "source hanoi read 50 rows", "rule cccd rejected 12.00% of the rows it
 * checked", "column ho_ten was NULL or empty in 3.00% of the rows" */
static void figure_text(const mk_check *ck, double v, char *buf, size_t len)
{
    if (ck->kind == MK_CHECK_SOURCE_ROWS)
        snprintf(buf, len, "source %s read %.0f rows", ck->subject, v);
    else if (ck->kind == MK_CHECK_RULE_REJECTS)
        snprintf(buf, len, "rule %s rejected %.2f%% of the rows it checked", ck->subject, v * 100);
    else
        snprintf(buf, len, "column %s was NULL or empty in %.2f%% of the rows reaching the sinks",
                 ck->subject, v * 100);
}

static void median_text(const mk_check *ck, double m, char *buf, size_t len)
{
    if (ck->kind == MK_CHECK_SOURCE_ROWS)
        snprintf(buf, len, "%.0f", m);
    else
        snprintf(buf, len, "%.2f%%", m * 100);
}

/* ---- the checks ----------------------------------------------------------- */

/* The figure of ck in the last `runs` successful runs of the history. */
static size_t past_figures(mk_run *run, const mk_check *ck, double *v, size_t runs)
{
    const mk_history *h = mk_ops_history(run);
    size_t n = 0;
    for (size_t i = h ? h->n : 0; i > 0 && n < runs; i--) {
        const mk_jnode *rep = h->runs[i - 1].report;
        const char *status = mk_json_string(mk_json_get(rep, "status"));
        const mk_jnode *dry = mk_json_get(rep, "dry_run");
        if (!status || strcmp(status, "ok") != 0 || (dry && dry->number))
            continue;
        if (mk_check_figure_in_report(ck, rep, &v[n]))
            n++;
    }
    return n;
}

static void evaluate(mk_run *run, const mk_check *ck, mk_check_result *res)
{
    const mk_ops_config *c = run->p->ops;
    double past[1000];
    size_t want = c->check_runs < 1000 ? c->check_runs : 1000;
    res->check = ck;
    res->value = mk_check_figure_now(run, ck);
    res->runs = past_figures(run, ck, past, want);
    char fig[256], med[96], lv[32];
    figure_text(ck, res->value, fig, sizeof fig);
    if (res->runs < c->check_min_runs || res->runs == 0) {
        res->status = "learning";
        snprintf(res->message, sizeof res->message,
                 "%s; %zu earlier successful run%s in the history, %zu needed: not checked yet",
                 fig, res->runs, res->runs == 1 ? "" : "s",
                 c->check_min_runs ? c->check_min_runs : 1);
        return;
    }
    res->median = median_of(past, res->runs);
    double m = res->median, floor = one_row_share(run, ck);
    if (ck->kind != MK_CHECK_SOURCE_ROWS && m < floor)
        m = floor;
    res->change = m > 0 ? (res->value - m) / m : res->value > 0 ? INFINITY : 0;
    const mk_level *hit = crossed(&ck->fail, ck->direction, res->value, m)   ? &ck->fail
                          : crossed(&ck->warn, ck->direction, res->value, m) ? &ck->warn
                                                                             : NULL;
    res->status = !hit ? "ok" : hit == &ck->fail ? "fail" : "warn";
    median_text(ck, res->median, med, sizeof med);
    if (m > res->median) { /* floored: say so, or the factor looks made up */
        char one[40];
        median_text(ck, m, one, sizeof one);
        snprintf(med + strlen(med), sizeof med - strlen(med), ", taken as one row's %s", one);
    }
    if (hit)
        level_text(hit, lv, sizeof lv);
    snprintf(res->message, sizeof res->message,
             "%s; the median of the last %zu successful runs is %s (%+.1f%%, %.2fx)%s%s%s", fig,
             res->runs, med, res->change * 100, m > 0 ? res->value / m : 0.0, hit ? "; " : "",
             hit ? res->status : "", hit ? " level " : "");
    if (hit)
        snprintf(res->message + strlen(res->message), sizeof res->message - strlen(res->message),
                 "%s", lv);
}

void mk_drift_check(mk_run *run)
{
    const mk_ops_config *c = run->p->ops;
    if (!c || !c->nchecks || run->o->on_stage || run->o->shard)
        return; /* a shard's figures are a part: the merge checks the totals */
    mk_ops *ops = mk_ops_of(run);
    if (!ops || !(ops->results = calloc(c->nchecks, sizeof(mk_check_result))))
        return;
    ops->nresults = c->nchecks;
    for (size_t i = 0; i < c->nchecks; i++) {
        mk_check_result *res = &ops->results[i];
        evaluate(run, &c->checks[i], res);
        const char *kind = mk_check_kind_name(c->checks[i].kind);
        if (strcmp(res->status, "fail") == 0) {
            ops->drift_failed = 1;
            mk_log(MK_LOG_ERROR, "drift check %s %s failed: %s", kind, c->checks[i].subject,
                   res->message);
        } else if (strcmp(res->status, "warn") == 0) {
            mk_log(MK_LOG_WARN, "drift check %s %s: %s", kind, c->checks[i].subject, res->message);
        } else {
            mk_log(MK_LOG_DEBUG, "drift check %s %s: %s", kind, c->checks[i].subject, res->message);
        }
    }
}

int mk_drift_failed(mk_run *run)
{
    return run->ops && run->ops->drift_failed;
}

/* ---- in the report ---------------------------------------------------------- */

static void jdouble(mk_outfile *f, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", isfinite(v) ? v : 1e308);
    mk_outfile_puts(f, buf);
}

static void jstring(mk_outfile *f, const char *key, const char *s)
{
    mk_outfile_putc(f, ',');
    mk_json_write_string(f, key, strlen(key), MK_JSON_VALID, NULL);
    mk_outfile_putc(f, ':');
    mk_json_write_string(f, s, strlen(s), MK_JSON_REPLACE, NULL);
}

static void write_check(mk_outfile *f, const mk_run *run, size_t i)
{
    const mk_check *ck = &run->p->ops->checks[i];
    const mk_check_result *res = run->ops && run->ops->results ? &run->ops->results[i] : NULL;
    char buf[80];
    mk_outfile_puts(f, i ? ",\n    {\"check\":" : "\n    {\"check\":");
    const char *kind = mk_check_kind_name(ck->kind);
    mk_json_write_string(f, kind, strlen(kind), MK_JSON_VALID, NULL);
    jstring(f, "subject", ck->subject);
    mk_outfile_puts(f, ",\"value\":");
    jdouble(f, res ? res->value : mk_check_figure_now(run, ck));
    if (ck->kind == MK_CHECK_NULL_SHARE) { /* what the share is of (a merge adds them up) */
        const mk_ops *ops = run->ops;
        snprintf(buf, sizeof buf, ",\"cells\":%" PRIu64 ",\"rows\":%" PRIu64,
                 ops && ops->nulls ? ops->nulls[i] : 0, ops ? ops->null_rows : 0);
        mk_outfile_puts(f, buf);
    }
    if (res && res->runs) {
        mk_outfile_puts(f, ",\"median\":");
        jdouble(f, res->median);
        mk_outfile_puts(f, ",\"change\":");
        jdouble(f, res->change);
    }
    snprintf(buf, sizeof buf, ",\"runs\":%zu", res ? res->runs : 0);
    mk_outfile_puts(f, buf);
    for (int k = 0; k < 2; k++) {
        const mk_level *l = k ? &ck->fail : &ck->warn;
        if (!l->set)
            continue;
        level_text(l, buf, sizeof buf);
        jstring(f, k ? "fail" : "warn", buf);
    }
    jstring(f, "direction", ck->direction < 0 ? "down" : ck->direction > 0 ? "up" : "both");
    jstring(f, "status", res ? res->status : "not run");
    if (res)
        jstring(f, "message", res->message);
    mk_outfile_putc(f, '}');
}

void mk_drift_report_json(mk_outfile *f, const mk_run *run)
{
    mk_outfile_puts(f, run->o->dry_run ? ",\n  \"dry_run\": true" : ",\n  \"dry_run\": false");
    mk_outfile_puts(f, ",\n  \"checks\": [");
    for (size_t i = 0; run->p->ops && i < run->p->ops->nchecks; i++)
        write_check(f, run, i);
    mk_outfile_puts(f, "]");
}
