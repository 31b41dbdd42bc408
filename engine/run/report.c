/*
 * report.c -- the run report: JSON for machines (report:), and a
 * self-contained HTML page for the person reading it in the morning
 * (html_report:).  Both are written atomically, also for failed runs: the
 * report says why a run failed.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"
#include "util/textout.h"

static void jstr(mk_outfile *f, const char *s)
{
    mk_json_write_string(f, s ? s : "", s ? strlen(s) : 0, MK_JSON_REPLACE, NULL);
}

static void jkey(mk_outfile *f, const char *key)
{
    jstr(f, key);
    mk_outfile_putc(f, ':');
}

static void jnum(mk_outfile *f, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    mk_outfile_puts(f, buf);
}

static void jdouble(mk_outfile *f, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.6g", v);
    mk_outfile_puts(f, buf);
}

static void write_extra(mk_outfile *f, const mk_context *c)
{
    for (size_t i = 0; i < c->report_count; i++) {
        mk_outfile_putc(f, ',');
        jkey(f, c->report_keys[i]);
        if (c->report_is_number[i]) {
            char buf[32];
            snprintf(buf, sizeof buf, "%" PRId64, c->report_numbers[i]);
            mk_outfile_puts(f, buf);
        } else {
            jstr(f, c->report_values[i]);
        }
    }
}

static void write_stage(mk_outfile *f, const mk_context *t, int *first)
{
    if (!*first)
        mk_outfile_putc(f, ',');
    *first = 0;
    mk_outfile_puts(f, "\n    {");
    jkey(f, "name");
    jstr(f, t->step->name);
    mk_outfile_putc(f, ',');
    jkey(f, "plugin");
    jstr(f, t->step->plugin_name);
    mk_outfile_puts(f, ",\"in\":");
    jnum(f, t->rows_in);
    mk_outfile_puts(f, ",\"out\":");
    jnum(f, t->rows_out);
    mk_outfile_puts(f, ",\"rejected\":");
    jnum(f, t->rows_rejected);
    mk_outfile_puts(f, ",\"dropped\":");
    jnum(f, t->rows_dropped);
    write_extra(f, t);
    mk_outfile_putc(f, '}');
}

static void write_rules(mk_outfile *f, const mk_run *run)
{
    mk_outfile_puts(f, ",\n  \"rules\": [");
    for (size_t i = 0; i < run->nrules; i++) {
        const mk_rule_stat *r = run->rules[i];
        uint64_t base = r->checked ? r->checked : run->read;
        mk_outfile_puts(f, i ? ",\n    {" : "\n    {");
        jkey(f, "rule");
        jstr(f, r->name);
        mk_outfile_putc(f, ',');
        jkey(f, "stage");
        jstr(f, r->stage);
        mk_outfile_puts(f, ",\"checked\":");
        jnum(f, r->checked);
        mk_outfile_puts(f, ",\"rejected\":");
        jnum(f, r->rejected);
        mk_outfile_puts(f, ",\"warned\":");
        jnum(f, r->warned);
        mk_outfile_puts(f, ",\"rejected_share\":");
        jdouble(f, base ? (double)r->rejected / (double)base : 0.0);
        mk_outfile_puts(f, ",\"warned_share\":");
        jdouble(f, base ? (double)r->warned / (double)base : 0.0);
        mk_outfile_puts(f, ",\"samples\":[");
        for (size_t k = 0; k < r->nsamples; k++) {
            const mk_sample *s = &r->samples[k];
            mk_outfile_puts(f, k ? ",\n      {" : "\n      {");
            jkey(f, "source");
            jstr(f, s->source);
            mk_outfile_puts(f, ",\"position\":");
            jnum(f, s->position);
            mk_outfile_puts(f, ",\"kind\":");
            jstr(f, s->rejected ? "reject" : "warning");
            mk_outfile_putc(f, ',');
            jkey(f, "message");
            jstr(f, s->message);
            mk_outfile_putc(f, ',');
            jkey(f, "values");
            jstr(f, s->values);
            mk_outfile_putc(f, '}');
        }
        mk_outfile_puts(f, "]}");
    }
    mk_outfile_puts(f, "]");
}

static void write_head(mk_outfile *f, const mk_run *run)
{
    char stamp[32];
    struct tm tm;
    gmtime_r(&run->started_wall, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    mk_outfile_puts(f, "{\n  \"pipeline\": ");
    jstr(f, run->p->name);
    mk_outfile_puts(f, ",\n  \"pipeline_file\": ");
    jstr(f, run->p->path);
    mk_outfile_puts(f, ",\n  \"mekong_version\": ");
    jstr(f, PACKAGE_VERSION);
    mk_outfile_puts(f, ",\n  \"started\": ");
    jstr(f, stamp);
    mk_outfile_puts(f, ",\n  \"status\": ");
    jstr(f, run->status);
    if (run->failure[0]) {
        mk_outfile_puts(f, ",\n  \"failure\": ");
        jstr(f, run->failure);
    }
    mk_outfile_puts(f, ",\n  \"elapsed_seconds\": ");
    jdouble(f, run->elapsed);
    mk_outfile_puts(f, ",\n  \"rows_per_second\": ");
    jdouble(f, run->elapsed > 0 ? (double)run->read / run->elapsed : 0.0);
}

static void write_totals(mk_outfile *f, const mk_run *run)
{
    mk_outfile_puts(f, ",\n  \"totals\": {\"read\":");
    jnum(f, run->read);
    mk_outfile_puts(f, ",\"added\":");
    jnum(f, run->added);
    mk_outfile_puts(f, ",\"written\":");
    jnum(f, run->written);
    mk_outfile_puts(f, ",\"rejected\":");
    jnum(f, run->rejected);
    mk_outfile_puts(f, ",\"dropped\":");
    jnum(f, run->dropped);
    mk_outfile_puts(f, ",\"warnings\":");
    jnum(f, run->warned);
    mk_outfile_puts(f, ",\"balanced\":");
    mk_outfile_puts(f, run->balanced ? "true" : "false");
    mk_outfile_puts(f, "}");
}

/* A source or a sink: name, plugin, two counters, its own report keys. */
static void write_end(mk_outfile *f, const mk_context *c, int first, const char *key1,
                      uint64_t n1, uint64_t n2)
{
    mk_outfile_puts(f, first ? "\n    {" : ",\n    {");
    jkey(f, "name");
    jstr(f, c->step->name);
    mk_outfile_putc(f, ',');
    jkey(f, "plugin");
    jstr(f, c->step->plugin_name);
    mk_outfile_putc(f, ',');
    jkey(f, key1);
    jnum(f, n1);
    mk_outfile_puts(f, ",\"rows_rejected\":");
    jnum(f, n2);
    write_extra(f, c);
    mk_outfile_putc(f, '}');
}

static void write_steps(mk_outfile *f, const mk_run *run)
{
    const mk_pipeline *p = run->p;
    mk_outfile_puts(f, ",\n  \"sources\": [");
    for (size_t i = 0; i < p->nsources; i++) {
        const mk_context *s = &run->sources[i];
        write_end(f, s, i == 0, "rows_read", s->rows_out + s->rows_rejected, s->rows_rejected);
    }
    mk_outfile_puts(f, "]");
    mk_outfile_puts(f, ",\n  \"stages\": [");
    int first = 1;
    for (size_t i = 0; i < p->nsources; i++)
        for (size_t k = 0; k < p->sources[i].chain_len; k++)
            write_stage(f, &run->sources[i].chain[k], &first);
    for (size_t i = 0; i < p->ntransforms; i++)
        write_stage(f, &run->transforms[i], &first);
    mk_outfile_puts(f, "]");
    mk_outfile_puts(f, ",\n  \"sinks\": [");
    for (size_t i = 0; i < p->nsinks; i++) {
        const mk_context *s = &run->sinks[i];
        write_end(f, s, i == 0, "rows_written", s->rows_written, s->rows_rejected);
    }
    mk_outfile_puts(f, "]");
}

static void write_rejects_and_thresholds(mk_outfile *f, const mk_run *run)
{
    mk_outfile_puts(f, ",\n  \"rejects\": {\"path\":");
    jstr(f, run->p->rejects_path);
    mk_outfile_puts(f, ",\"format\":");
    jstr(f, run->p->rejects_jsonl ? "jsonl" : "csv");
    /* applied to CSV rejects only */
    mk_outfile_puts(f, !run->p->rejects_jsonl && run->p->rejects_formula_guard == 1
                           ? ",\"formula_guard\":true"
                           : ",\"formula_guard\":false");
    mk_outfile_puts(f, ",\"rows\":");
    jnum(f, run->rejected);
    mk_outfile_puts(f, "}");
    write_rules(f, run);
    mk_outfile_puts(f, ",\n  \"thresholds\": [");
    for (size_t i = 0; i < run->nthreshold_failures; i++) {
        if (i)
            mk_outfile_putc(f, ',');
        mk_outfile_puts(f, "\n    ");
        jstr(f, run->threshold_failures[i]);
    }
    mk_outfile_puts(f, "]");
    mk_drift_report_json(f, run);
    mk_outfile_puts(f, "\n}\n");
}

int mk_report_end(mk_run *run, mk_outfile *f, int into_set, const char *what,
                  const char *kind)
{
    char err[1200];
    size_t before = run->npub;
    int rc = into_set ? mk_publish_outfile(run, f, what, err, sizeof err)
                      : mk_outfile_commit(f, err, sizeof err);
    if (into_set && rc == 0)
        mk_publish_kind(run, before, kind);
    if (rc != 0) {
        mk_log(MK_LOG_ERROR, "%s", err);
        if (into_set)
            mk_run_fail(run, "%s", err);
        return -1;
    }
    return 0;
}

static int write_json(mk_run *run, const char *path, int into_set)
{
    char err[1024];
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    if (!f) {
        mk_log(MK_LOG_ERROR, "report: %s", err);
        if (into_set)
            mk_run_fail(run, "the report cannot be written: %s", err);
        return -1;
    }
    write_head(f, run);
    write_totals(f, run);
    write_steps(f, run);
    write_rejects_and_thresholds(f, run);
    return mk_report_end(run, f, into_set, "the report", "report");
}

int mk_report_write(mk_run *run, const char *json_path, const char *html_path, int into_set)
{
    int rc = write_json(run, json_path, into_set);
    if (html_path && !run->o->dry_run && (rc == 0 || !into_set) &&
        mk_report_html(run, html_path, into_set) != 0)
        rc = -1;
    return rc;
}
