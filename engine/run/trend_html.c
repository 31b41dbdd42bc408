/*
 * trend_html.c -- the HTML report's "Last runs" section: the runs of the
 * history and this one, as a table and one small inline SVG chart per
 * figure (the totals, then every checked figure).  No script, no network
 * resource: the page stays one self-contained file.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "run_internal.h"
#include "util/json_read.h"

#define MAX_TREND_RUNS 60
#define CHART_W 260
#define CHART_H 48

typedef struct trend {
    size_t n;                            /* runs shown, oldest first; the last is this run */
    const mk_jnode *rep[MAX_TREND_RUNS]; /* NULL for this run */
    const char *status[MAX_TREND_RUNS];
} trend;

static const char *status_color(const char *s)
{
    if (s && strcmp(s, "ok") == 0)
        return "#1e7b34";
    if (s && strcmp(s, "failed") == 0)
        return "#c0392b";
    return "#e6a700"; /* threshold, drift */
}

/* What a series shows of one run: a total, or a check's figure. */
typedef struct series {
    const char *label;
    const char *total; /* "read", "written", "rejected"; NULL: a check */
    const mk_check *check;
} series;

static double value_at(mk_run *run, const trend *t, const series *s, size_t i)
{
    double v = NAN;
    if (!t->rep[i]) { /* this run */
        if (s->check)
            return mk_check_figure_now(run, s->check);
        return (double)(strcmp(s->total, "read") == 0      ? run->read
                        : strcmp(s->total, "written") == 0 ? run->written
                                                           : run->rejected);
    }
    if (s->check)
        return mk_check_figure_in_report(s->check, t->rep[i], &v) ? v : NAN;
    return mk_json_number(mk_json_get(mk_json_get(t->rep[i], "totals"), s->total), NAN);
}

static void chart(mk_outfile *f, mk_run *run, const trend *t, const series *s)
{
    double v[MAX_TREND_RUNS], lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < t->n; i++) {
        v[i] = value_at(run, t, s, i);
        if (!isnan(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    }
    int share = s->check && s->check->kind != MK_CHECK_SOURCE_ROWS;
    mk_outfile_puts(f, "<tr><td>");
    mk_html_text(f, s->label);
    mk_html_printf(
        f,
        "</td><td><svg class=\"trend\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        "role=\"img\"><polyline fill=\"none\" stroke=\"#555\" stroke-width=\"1.5\" points=\"",
        CHART_W, CHART_H, CHART_W, CHART_H);
    double span = hi > lo ? hi - lo : 1,
           step = t->n > 1 ? (CHART_W - 12.0) / (double)(t->n - 1) : 0;
    for (size_t i = 0; i < t->n; i++)
        if (!isnan(v[i]))
            mk_html_printf(f, "%.1f,%.1f ", 6 + step * (double)i,
                           CHART_H - 6 - (v[i] - lo) / span * (CHART_H - 12));
    mk_outfile_puts(f, "\"/>");
    for (size_t i = 0; i < t->n; i++)
        if (!isnan(v[i]))
            mk_html_printf(
                f,
                "<circle class=\"run\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>run %zu: "
                "%.6g</title></circle>",
                6 + step * (double)i, CHART_H - 6 - (v[i] - lo) / span * (CHART_H - 12),
                status_color(t->status[i]), i + 1, share ? v[i] * 100 : v[i]);
    double last = v[t->n - 1];
    if (share)
        mk_html_printf(f,
                       "</svg></td><td class=\"n\">%.2f%%</td><td class=\"n\">%.2f%% &ndash; "
                       "%.2f%%</td></tr>\n",
                       last * 100, isfinite(lo) ? lo * 100 : 0, isfinite(hi) ? hi * 100 : 0);
    else
        mk_html_printf(
            f, "</svg></td><td class=\"n\">%.0f</td><td class=\"n\">%.0f &ndash; %.0f</td></tr>\n",
            last, isfinite(lo) ? lo : 0, isfinite(hi) ? hi : 0);
}

static void runs_table(mk_outfile *f, mk_run *run, const trend *t)
{
    mk_outfile_puts(f, "<table class=\"runs\"><tr><th>run</th><th>started</th><th>status</th>"
                       "<th>read</th><th>written</th><th>rejected</th><th>seconds</th></tr>\n");
    for (size_t i = 0; i < t->n; i++) {
        const mk_jnode *r = t->rep[i];
        const mk_jnode *tot = mk_json_get(r, "totals");
        char started[40];
        if (r)
            snprintf(started, sizeof started, "%s",
                     mk_json_string(mk_json_get(r, "started"))
                         ? mk_json_string(mk_json_get(r, "started"))
                         : "?");
        else
            snprintf(started, sizeof started, "this run");
        mk_html_printf(f, "<tr><td class=\"n\">%zu</td><td>", i + 1);
        mk_html_text(f, started);
        mk_html_printf(f, "</td><td style=\"color:%s\">", status_color(t->status[i]));
        mk_html_text(f, t->status[i] ? t->status[i] : "?");
        mk_html_printf(
            f,
            "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
            "<td class=\"n\">%.2f</td></tr>\n",
            r ? mk_json_number(mk_json_get(tot, "read"), 0) : (double)run->read,
            r ? mk_json_number(mk_json_get(tot, "written"), 0) : (double)run->written,
            r ? mk_json_number(mk_json_get(tot, "rejected"), 0) : (double)run->rejected,
            r ? mk_json_number(mk_json_get(r, "elapsed_seconds"), 0) : run->elapsed);
    }
    mk_outfile_puts(f, "</table>\n");
}

void mk_trend_html(mk_outfile *f, mk_run *run)
{
    const mk_history *h = mk_ops_history(run);
    trend t = {0};
    size_t from = h && h->n > MAX_TREND_RUNS - 1 ? h->n - (MAX_TREND_RUNS - 1) : 0;
    for (size_t i = from; h && i < h->n; i++) {
        t.rep[t.n] = h->runs[i].report;
        t.status[t.n++] = mk_json_string(mk_json_get(h->runs[i].report, "status"));
    }
    t.rep[t.n] = NULL;
    t.status[t.n++] = run->status;
    if (run->ops && run->ops->nresults) {
        mk_outfile_puts(f, "<h2>Drift checks</h2>\n<table><tr><th>check</th><th>status</th>"
                           "<th>figures</th></tr>\n");
        for (size_t i = 0; i < run->ops->nresults; i++) {
            const mk_check_result *r = &run->ops->results[i];
            mk_outfile_puts(f, "<tr><td>");
            mk_html_text(f, mk_check_kind_name(r->check->kind));
            mk_outfile_putc(f, ' ');
            mk_html_text(f, r->check->subject);
            mk_html_printf(f, "</td><td class=\"%s\">%s</td><td>",
                           strcmp(r->status, "fail") == 0 ? "bad"
                           : strcmp(r->status, "ok") == 0 ? "ok"
                                                          : "",
                           r->status);
            mk_html_text(f, r->message);
            mk_outfile_puts(f, "</td></tr>\n");
        }
        mk_outfile_puts(f, "</table>\n");
    }
    mk_outfile_puts(f, "<h2>Last runs</h2>\n");
    runs_table(f, run, &t);
    mk_outfile_puts(f, "<table class=\"trends\"><tr><th>figure</th><th>trend (oldest left)</th>"
                       "<th>this run</th><th>range</th></tr>\n");
    static const series totals[] = {{"rows read", "read", NULL},
                                    {"rows written", "written", NULL},
                                    {"rows rejected", "rejected", NULL}};
    for (size_t i = 0; i < 3; i++)
        chart(f, run, &t, &totals[i]);
    const mk_ops_config *c = run->p->ops;
    for (size_t i = 0; c && i < c->nchecks; i++) {
        char label[300];
        snprintf(label, sizeof label, "%s %s", mk_check_kind_name(c->checks[i].kind),
                 c->checks[i].subject);
        series s = {label, NULL, &c->checks[i]};
        chart(f, run, &t, &s);
    }
    mk_outfile_puts(f, "</table>\n");
}
