/*
 * report_fields.c -- per-field results in the HTML report: a table for each
 * step whose report counters are named fields.NAME.WHAT (the schema
 * transform's checked, passed, missing, null_share, failed, failed.CHECK,
 * distinct, min, max), one row per field, failing fields marked, so a
 * person sees at a glance which column is bad.  The JSON report has the
 * same numbers under the step (stages[NAME]["fields.NAME.WHAT"]).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

enum { MAX_FIELDS = 512 };

static void text(mk_outfile *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        switch (s[i]) {
        case '<': mk_outfile_puts(f, "&lt;"); break;
        case '>': mk_outfile_puts(f, "&gt;"); break;
        case '&': mk_outfile_puts(f, "&amp;"); break;
        case '"': mk_outfile_puts(f, "&quot;"); break;
        default: mk_outfile_putc(f, s[i]);
        }
    }
}

/* The field part of key "fields.NAME.WHAT" (*what: WHAT), or NULL. */
static const char *split_key(const char *key, size_t *len, const char **what)
{
    if (strncmp(key, "fields.", 7) != 0)
        return NULL;
    const char *name = key + 7;
    const char *w = strstr(name, ".failed.");
    if (!w)
        w = strrchr(name, '.');
    if (!w || w == name)
        return NULL;
    *len = (size_t)(w - name);
    *what = w + 1;
    return name;
}

/* Value of counter what of the field (name, len) in c, as text, or NULL. */
static const char *value_of(const mk_context *c, const char *name, size_t len, const char *what,
                            char *buf, size_t cap)
{
    for (size_t i = 0; i < c->report_count; i++) {
        size_t l;
        const char *w, *n = split_key(c->report_keys[i], &l, &w);
        if (!n || l != len || strncmp(n, name, len) != 0 || strcmp(w, what) != 0)
            continue;
        if (!c->report_is_number[i])
            return c->report_values[i];
        snprintf(buf, cap, "%" PRId64, c->report_numbers[i]);
        return buf;
    }
    return NULL;
}

static void cell(mk_outfile *f, const char *v, int number)
{
    mk_outfile_puts(f, number ? "<td class=\"n\">" : "<td>");
    if (v)
        text(f, v, strlen(v));
    mk_outfile_puts(f, "</td>");
}

/* "pattern 3, enum 1": the failures of one field by check. */
static void failures(mk_outfile *f, const mk_context *c, const char *name, size_t len)
{
    int first = 1;
    for (size_t i = 0; i < c->report_count; i++) {
        size_t l;
        const char *w, *n = split_key(c->report_keys[i], &l, &w);
        if (!n || l != len || strncmp(n, name, len) != 0 || strncmp(w, "failed.", 7) != 0)
            continue;
        char buf[160];
        snprintf(buf, sizeof buf, "%s%s %" PRId64, first ? "" : ", ", w + 7, c->report_numbers[i]);
        mk_outfile_puts(f, buf);
        first = 0;
    }
}

static void field_row(mk_outfile *f, const mk_context *c, const char *name, size_t len)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    const char *failed = value_of(c, name, len, "failed", b1, sizeof b1);
    int bad = failed && strcmp(failed, "0") != 0;
    mk_outfile_puts(f, bad ? "<tr class=\"bad\"><td>" : "<tr><td>");
    text(f, name, len);
    mk_outfile_puts(f, "</td>");
    cell(f, value_of(c, name, len, "type", b2, sizeof b2), 0);
    cell(f, value_of(c, name, len, "checked", b3, sizeof b3), 1);
    cell(f, value_of(c, name, len, "passed", b4, sizeof b4), 1);
    cell(f, value_of(c, name, len, "missing", b5, sizeof b5), 1);
    cell(f, value_of(c, name, len, "null_share", b2, sizeof b2), 1);
    cell(f, failed, 1);
    mk_outfile_puts(f, "<td>");
    failures(f, c, name, len);
    mk_outfile_puts(f, "</td>");
    cell(f, value_of(c, name, len, "distinct", b3, sizeof b3), 1);
    cell(f, value_of(c, name, len, "min", b4, sizeof b4), 0);
    cell(f, value_of(c, name, len, "max", b5, sizeof b5), 0);
    mk_outfile_puts(f, "</tr>\n");
}

static void stage_fields(mk_outfile *f, const mk_context *c)
{
    const char *names[MAX_FIELDS];
    size_t lens[MAX_FIELDS], n = 0;
    for (size_t i = 0; i < c->report_count && n < MAX_FIELDS; i++) {
        size_t l;
        const char *w, *name = split_key(c->report_keys[i], &l, &w);
        size_t k = 0;
        while (name && k < n && !(lens[k] == l && strncmp(names[k], name, l) == 0))
            k++;
        if (name && k == n)
            names[n] = name, lens[n++] = l;
    }
    if (!n)
        return;
    mk_outfile_puts(f, "<h2>Fields checked by ");
    text(f, c->step->name, strlen(c->step->name));
    mk_outfile_puts(f, "</h2>\n<table><tr><th>field</th><th>type</th><th>checked</th>"
                       "<th>passed</th><th>missing</th><th>null share</th><th>failed</th>"
                       "<th>by constraint</th><th>distinct</th><th>min</th><th>max</th></tr>\n");
    for (size_t i = 0; i < n; i++)
        field_row(f, c, names[i], lens[i]);
    mk_outfile_puts(f, "</table>\n");
}

void mk_report_html_fields(mk_outfile *f, const mk_run *run)
{
    const mk_pipeline *p = run->p;
    for (size_t i = 0; i < p->nsources; i++)
        for (size_t k = 0; k < run->sources[i].step->chain_len; k++)
            stage_fields(f, &run->sources[i].chain[k]);
    for (size_t i = 0; i < p->ntransforms; i++)
        stage_fields(f, &run->transforms[i]);
}
