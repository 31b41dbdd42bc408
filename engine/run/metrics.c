/*
 * metrics.c -- the run's figures as a Prometheus textfile, the format the
 * node_exporter textfile collector reads (metrics: in the pipeline, or
 * mekong run --metrics PATH).  Written at the end of every run (not a dry
 * run) through a temporary file and a rename, so the collector never reads
 * half a file.  mekong_last_success_timestamp_seconds survives failed runs:
 * it is carried over from the file the last run left.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"
#include "util/textout.h"

typedef struct metrics_out {
    mk_outfile *f;
    const char *pipeline;
} metrics_out;

/* A label value: backslash, double quote and line feed escaped, invalid
 * UTF-8 (a rule's name can hold any bytes) as U+FFFD, which the format
 * requires; long values are cut. */
static void label_value(mk_outfile *f, const char *raw)
{
    char fixed[3 * 256 + 1];
    size_t replaced = 0, len = strlen(raw);
    fixed[mk_utf8_repair(raw, len < 256 ? len : 256, fixed, &replaced)] = '\0';
    const char *s = fixed;
    mk_outfile_putc(f, '"');
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            mk_outfile_putc(f, '\\');
        if (*s == '\n') {
            mk_outfile_puts(f, "\\n");
            continue;
        }
        mk_outfile_putc(f, *s);
    }
    mk_outfile_putc(f, '"');
}

static void header(metrics_out *m, const char *name, const char *type, const char *help)
{
    mk_outfile_puts(m->f, "# HELP ");
    mk_outfile_puts(m->f, name);
    mk_outfile_putc(m->f, ' ');
    mk_outfile_puts(m->f, help);
    mk_outfile_puts(m->f, "\n# TYPE ");
    mk_outfile_puts(m->f, name);
    mk_outfile_putc(m->f, ' ');
    mk_outfile_puts(m->f, type);
    mk_outfile_putc(m->f, '\n');
}

/* name{pipeline="...",key="value"} value */
static void sample(metrics_out *m, const char *name, const char *key, const char *value, double v)
{
    mk_outfile_puts(m->f, name);
    mk_outfile_puts(m->f, "{pipeline=");
    label_value(m->f, m->pipeline);
    if (key) {
        mk_outfile_putc(m->f, ',');
        mk_outfile_puts(m->f, key);
        mk_outfile_putc(m->f, '=');
        label_value(m->f, value);
    }
    char buf[64];
    snprintf(buf, sizeof buf, "} %.17g\n", v);
    mk_outfile_puts(m->f, buf);
}

static void gauge(metrics_out *m, const char *name, const char *help, double v)
{
    header(m, name, "gauge", help);
    sample(m, name, NULL, NULL, v);
}

/* The last success time the previous file gave, or 0. */
static double previous_success(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    double v = 0;
    const char *name = "mekong_last_success_timestamp_seconds{";
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, strlen(name)) != 0)
            continue;
        const char *sp = strrchr(line, ' ');
        if (sp)
            v = strtod(sp + 1, NULL);
    }
    fclose(f);
    return v > 0 ? v : 0;
}

static void per_step(metrics_out *m, mk_run *run)
{
    const mk_pipeline *p = run->p;
    header(m, "mekong_source_rows_read", "gauge", "Rows a source read in the last run.");
    for (size_t i = 0; i < p->nsources; i++)
        sample(m, "mekong_source_rows_read", "source", p->sources[i].name,
               (double)(run->sources[i].rows_out + run->sources[i].rows_rejected));
    header(m, "mekong_source_rows_rejected", "gauge", "Rows a source rejected in the last run.");
    for (size_t i = 0; i < p->nsources; i++)
        sample(m, "mekong_source_rows_rejected", "source", p->sources[i].name,
               (double)run->sources[i].rows_rejected);
    header(m, "mekong_sink_rows_written", "gauge",
           "Rows a sink wrote in the last run (published only when the run succeeded).");
    for (size_t i = 0; i < p->nsinks; i++)
        sample(m, "mekong_sink_rows_written", "sink", p->sinks[i].name,
               (double)run->sinks[i].rows_written);
    header(m, "mekong_sink_rows_rejected", "gauge", "Rows a sink refused in the last run.");
    for (size_t i = 0; i < p->nsinks; i++)
        sample(m, "mekong_sink_rows_rejected", "sink", p->sinks[i].name,
               (double)run->sinks[i].rows_rejected);
    header(m, "mekong_rule_rows_rejected", "gauge", "Rows a rule rejected in the last run.");
    for (size_t i = 0; i < run->nrules; i++)
        sample(m, "mekong_rule_rows_rejected", "rule", run->rules[i]->name,
               (double)run->rules[i]->rejected);
}

/* Per drift check, labelled check="source_rows:hanoi": failed or not, and
 * its figure (rows, or a share from 0 to 1). */
static void checks(metrics_out *m, mk_run *run)
{
    if (!run->ops || !run->ops->nresults)
        return;
    static const char *const names[] = {"mekong_check_failed", "mekong_check_value"};
    static const char *const helps[] = {
        "1 when a drift check crossed its fail level in the last run, else 0.",
        "The figure a drift check compared (rows, or a share from 0 to 1)."};
    for (int k = 0; k < 2; k++) {
        header(m, names[k], "gauge", helps[k]);
        for (size_t i = 0; i < run->ops->nresults; i++) {
            const mk_check_result *r = &run->ops->results[i];
            char id[300];
            snprintf(id, sizeof id, "%s:%s", mk_check_kind_name(r->check->kind),
                     r->check->subject);
            sample(m, names[k], "check", id, k ? r->value : strcmp(r->status, "fail") == 0);
        }
    }
}

int mk_metrics_write(mk_run *run, const char *path, int exit_code)
{
    double last_ok = exit_code == 0 ? (double)time(NULL) : previous_success(path);
    char err[1024];
    metrics_out m = {mk_outfile_open(path, err, sizeof err), run->p->name};
    if (!m.f) {
        mk_log(MK_LOG_WARN, "metrics: %s", err);
        return -1;
    }
    gauge(&m, "mekong_last_run_exit_code", "Exit code of the last run (0 ok, see mekong(1)).",
          exit_code);
    gauge(&m, "mekong_last_run_timestamp_seconds", "When the last run started (Unix time).",
          (double)run->started_wall);
    gauge(&m, "mekong_last_run_duration_seconds", "How long the last run took.", run->elapsed);
    if (last_ok > 0)
        gauge(&m, "mekong_last_success_timestamp_seconds",
              "When the last successful run ended (Unix time).", last_ok);
    gauge(&m, "mekong_rows_read", "Rows read by all sources in the last run.", (double)run->read);
    gauge(&m, "mekong_rows_written", "Rows that reached the sinks and were written.",
          (double)run->written);
    gauge(&m, "mekong_rows_rejected", "Rows rejected in the last run.", (double)run->rejected);
    gauge(&m, "mekong_rows_dropped", "Rows dropped on purpose in the last run.",
          (double)run->dropped);
    per_step(&m, run);
    checks(&m, run);
    if (mk_outfile_commit(m.f, err, sizeof err) != 0) {
        mk_log(MK_LOG_WARN, "metrics: %s", err);
        return -1;
    }
    return 0;
}
