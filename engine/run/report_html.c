/*
 * report_html.c -- the quality report as one self-contained HTML page: no
 * scripts, no fonts or images from the network, inline CSS only, so it
 * opens the same from a mail attachment or a file share.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"

void mk_html_text(mk_outfile *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': mk_outfile_puts(f, "&lt;"); break;
        case '>': mk_outfile_puts(f, "&gt;"); break;
        case '&': mk_outfile_puts(f, "&amp;"); break;
        case '"': mk_outfile_puts(f, "&quot;"); break;
        default: mk_outfile_putc(f, *s);
        }
    }
}

void mk_html_printf(mk_outfile *f, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mk_outfile_puts(f, buf);
}

static const char style[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}"
    "h1{font-size:1.5em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".bar{background:#eee;width:20em;height:1em}.bar span{display:block;height:1em;background:#c0392b}"
    ".bar span.w{background:#e6a700}.ok{color:#1e7b34}.bad{color:#c0392b;font-weight:bold}"
    "details{margin:.3em 0}code{font-size:.9em}tr.bad td{background:#fbeaea}";

static void html_head(mk_outfile *f, const mk_run *run)
{
    mk_outfile_puts(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mekong: ");
    mk_html_text(f, run->p->name);
    mk_outfile_puts(f, "</title><style>");
    mk_outfile_puts(f, style);
    mk_outfile_puts(f, "</style></head><body>\n<h1>Run report: ");
    mk_html_text(f, run->p->name);
    mk_outfile_puts(f, "</h1>\n<p>Status: <span class=\"");
    mk_outfile_puts(f, strcmp(run->status, "ok") == 0 ? "ok\">" : "bad\">");
    mk_html_text(f, run->status);
    mk_outfile_puts(f, "</span>");
    if (run->failure[0]) {
        mk_outfile_puts(f, " &mdash; ");
        mk_html_text(f, run->failure);
    }
    mk_html_printf(f, "</p>\n<p>%.2f s, %.0f rows/s. Accounts %s.</p>\n", run->elapsed,
               run->elapsed > 0 ? (double)run->read / run->elapsed : 0.0,
               run->balanced ? "add up" : "<span class=\"bad\">do not add up</span>");
    for (size_t i = 0; i < run->nthreshold_failures; i++) {
        mk_outfile_puts(f, "<p class=\"bad\">Threshold crossed: ");
        mk_html_text(f, run->threshold_failures[i]);
        mk_outfile_puts(f, "</p>\n");
    }
    mk_html_printf(f,
               "<table><tr><th>read</th><th>written</th><th>rejected</th><th>dropped</th>"
               "<th>warnings</th></tr><tr><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
               "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
               "</td><td class=\"n\">%" PRIu64 "</td></tr></table>\n",
               run->read, run->written, run->rejected, run->dropped, run->warned);
}

static void html_rule_row(mk_outfile *f, const mk_run *run, const mk_rule_stat *r)
{
    uint64_t base = r->checked ? r->checked : run->read;
    double rs = base ? (double)r->rejected / (double)base : 0.0;
    double ws = base ? (double)r->warned / (double)base : 0.0;
    mk_outfile_puts(f, "<tr><td>");
    mk_html_text(f, r->name);
    mk_outfile_puts(f, "</td><td>");
    mk_html_text(f, r->stage);
    mk_html_printf(f,
               "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
               "</td><td class=\"n\">%" PRIu64 "</td><td><div class=\"bar\">"
               "<span style=\"width:%.1f%%\"></span><span class=\"w\" style=\"width:%.1f%%\">"
               "</span></div>%.2f%% rejected, %.2f%% warned</td></tr>\n",
               r->checked, r->rejected, r->warned, rs * 100, ws * 100, rs * 100, ws * 100);
}

static void html_samples(mk_outfile *f, const mk_rule_stat *r)
{
    mk_outfile_puts(f, "<details><summary>Samples of ");
    mk_html_text(f, r->name);
    mk_html_printf(f, " (%zu)</summary><table><tr><th>source</th><th>position</th><th>kind</th>"
                  "<th>message</th><th>values</th></tr>\n", r->nsamples);
    for (size_t k = 0; k < r->nsamples; k++) {
        const mk_sample *s = &r->samples[k];
        mk_outfile_puts(f, "<tr><td>");
        mk_html_text(f, s->source);
        mk_html_printf(f, "</td><td class=\"n\">%" PRIu64 "</td><td>%s</td><td>", s->position,
                   s->rejected ? "reject" : "warning");
        mk_html_text(f, s->message);
        mk_outfile_puts(f, "</td><td><code>");
        mk_html_text(f, s->values);
        mk_outfile_puts(f, "</code></td></tr>\n");
    }
    mk_outfile_puts(f, "</table></details>\n");
}

static void html_rules(mk_outfile *f, const mk_run *run)
{
    mk_outfile_puts(f, "<h2>Rules</h2>\n");
    if (run->nrules == 0) {
        mk_outfile_puts(f, "<p>No rule rejected or warned about any row.</p>\n");
        return;
    }
    mk_outfile_puts(f, "<table><tr><th>rule</th><th>stage</th><th>checked</th><th>rejected</th>"
                       "<th>warned</th><th>share</th></tr>\n");
    for (size_t i = 0; i < run->nrules; i++)
        html_rule_row(f, run, run->rules[i]);
    mk_outfile_puts(f, "</table>\n");
    for (size_t i = 0; i < run->nrules; i++)
        if (run->rules[i]->nsamples)
            html_samples(f, run->rules[i]);
}

static void html_step(mk_outfile *f, const mk_context *c, uint64_t in, uint64_t out,
                      uint64_t rejected, uint64_t dropped)
{
    mk_outfile_puts(f, "<tr><td>");
    mk_outfile_puts(f, mk_role_name(c->step->role));
    mk_outfile_putc(f, ' ');
    mk_html_text(f, c->step->name);
    mk_outfile_puts(f, "</td><td>");
    mk_html_text(f, c->step->plugin_name);
    mk_html_printf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                  "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
               in, out, rejected, dropped);
}

static void html_transform(mk_outfile *f, const mk_context *t)
{
    html_step(f, t, t->rows_in, t->rows_out, t->rows_rejected, t->rows_dropped);
}

static void html_steps(mk_outfile *f, const mk_run *run)
{
    const mk_pipeline *p = run->p;
    mk_outfile_puts(f, "<h2>Steps</h2>\n<table><tr><th>step</th><th>plugin</th><th>in</th>"
                       "<th>out</th><th>rejected</th><th>dropped</th></tr>\n");
    for (size_t i = 0; i < p->nsources; i++) {
        const mk_context *s = &run->sources[i];
        html_step(f, s, s->rows_out + s->rows_rejected, s->rows_out, s->rows_rejected, 0);
        for (size_t k = 0; k < s->step->chain_len; k++)
            html_transform(f, &s->chain[k]);
    }
    for (size_t i = 0; i < p->ntransforms; i++)
        html_transform(f, &run->transforms[i]);
    for (size_t i = 0; i < p->nsinks; i++) {
        const mk_context *s = &run->sinks[i];
        html_step(f, s, s->rows_written + s->rows_rejected, s->rows_written, s->rows_rejected, 0);
    }
    mk_outfile_puts(f, "</table>\n<p>Rejected rows: <code>");
    mk_html_text(f, p->rejects_path);
    mk_outfile_puts(f, "</code></p>\n</body></html>\n");
}

int mk_report_html(mk_run *run, const char *path, int into_set)
{
    char err[1024];
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    if (!f) {
        mk_log(MK_LOG_ERROR, "html report: %s", err);
        if (into_set)
            mk_run_fail(run, "the HTML report cannot be written: %s", err);
        return -1;
    }
    html_head(f, run);
    mk_trend_html(f, run);
    html_rules(f, run);
    mk_report_html_fields(f, run);
    html_steps(f, run);
    return mk_report_end(run, f, into_set, "the HTML report", "report-html");
}
