/*
 * rejects.c -- the rejects file: every rejected row, with where it came
 * from, the step that refused it and why.
 *
 * CSV (the default): one header for the whole run, made of every source's
 * columns in order of first appearance, then _source, _file, _record,
 * _line, _stage, _reason.  A row fills the columns its source has and
 * leaves the others empty, so the rejects of differently shaped sources
 * stay one file; _source tells them apart (docs/PIPELINES.md says how to
 * read it per source).
 *
 * JSON Lines (rejects: { path: ..., format: jsonl }, or a .jsonl path):
 * one object per rejected row with the same underscore keys (the rule in
 * _rule of its own, the reason alone in _reason), "fields"
 * (the row as its source read it) and, for a row rejected after a
 * transform changed it, "values": the row at the moment of rejection, so
 * columns computed before the rejection (a record id) are kept.
 *
 * rejects.formula_guard (default: true when a sink has formula_guard: true)
 * makes every field of the CSV rejects file inert in a spreadsheet, as the
 * csv sink's option does (util/textout.c); JSON Lines are not opened in
 * spreadsheets and are unchanged.
 *
 * Text that is not valid UTF-8 is written with U+FFFD in JSON Lines and
 * as is in CSV (the rejects file keeps what was read).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"
#include "util/textout.h"
#include "util/words.h"

static const char *const extra_columns[] = {"_source", "_file", "_record", "_line", "_stage",
                                            "_reason"};
#define N_EXTRA (sizeof extra_columns / sizeof extra_columns[0])

/* Comma, double quote; formula_guard as the pipeline decided
 * (rejects.formula_guard, else true when a sink has formula_guard: true). */
static mk_csv_style style_of(const mk_run *run)
{
    mk_csv_style st = {',', '"', run->p->rejects_formula_guard == 1};
    return st;
}

/* Add the names of s not yet in seen to names[0..*n) (room for them is
 * there: see union_schema). */
static int add_names(const mk_schema *s, mk_nameset *seen, const char **names, size_t *n)
{
    for (size_t c = 0; s && c < s->ncols; c++) {
        int added = mk_nameset_add(seen, s->names[c]);
        if (added < 0)
            return -1;
        if (added)
            names[(*n)++] = s->names[c];
    }
    return 0;
}

static int union_schema(mk_run *run)
{
    mk_pipeline *p = run->p;
    size_t total = N_EXTRA, n = 0;
    for (size_t s = 0; s < p->nsources; s++) {
        mk_context *src = &run->sources[s];
        const mk_schema *schema = src->step->plugin.desc->source->schema(src->state);
        total += schema ? schema->ncols : 0;
    }
    const char **names = malloc(total * sizeof(char *));
    mk_nameset *seen = mk_nameset_new();
    int rc = names && seen ? 0 : -1;
    for (size_t s = 0; s < p->nsources && rc == 0; s++) {
        mk_context *src = &run->sources[s];
        rc = add_names(src->step->plugin.desc->source->schema(src->state), seen, names, &n);
    }
    mk_nameset_free(seen);
    if (rc != 0) {
        free(names);
        return -1;
    }
    for (size_t i = 0; i < N_EXTRA; i++)
        names[n++] = extra_columns[i];
    run->rejects_schema = mk_schema_intern(run->schemas, names, n);
    free(names);
    return run->rejects_schema ? 0 : -1;
}

int mk_rejects_open(mk_run *run)
{
    if (union_schema(run) != 0)
        return mk_run_fail(run, "out of memory");
    char err[1024];
    run->rejects = mk_outfile_open(run->p->rejects_path, err, sizeof err);
    if (!run->rejects)
        return mk_run_fail(run, "rejects: %s", err);
    if (run->p->rejects_jsonl)
        return MK_OK;
    mk_csv_style st = style_of(run);
    for (size_t c = 0; c < run->rejects_schema->ncols; c++) {
        if (c)
            mk_outfile_putc(run->rejects, ',');
        const char *name = run->rejects_schema->names[c];
        mk_csv_write_field(run->rejects, &st, name, strlen(name));
    }
    mk_outfile_putc(run->rejects, '\n');
    return MK_OK;
}

/* The value of column name of the rejected row's fields, or NULL. */
static const mk_value *field_of(const mk_reject *r, size_t c, const char *name)
{
    long k;
    if (!r->schema)
        k = (long)c; /* positional: the source's own columns, in order */
    else if (c < r->schema->ncols && strcmp(r->schema->names[c], name) == 0)
        k = (long)c;
    else
        k = mk_schema_find(r->schema, name);
    return k >= 0 && (size_t)k < r->nfields ? &r->fields[k] : NULL;
}

static void put_text(mk_outfile *f, const mk_csv_style *st, const char *s)
{
    mk_csv_write_field(f, st, s, strlen(s));
    mk_outfile_putc(f, ',');
}

static void put_number(mk_outfile *f, uint64_t n)
{
    char buf[32];
    if (n) /* 0: unknown, left empty */
        mk_outfile_write(f, buf, (size_t)snprintf(buf, sizeof buf, "%" PRIu64, n));
    mk_outfile_putc(f, ',');
}

static int write_csv(mk_run *run, const mk_reject *r)
{
    mk_outfile *f = run->rejects;
    const mk_schema *u = run->rejects_schema;
    size_t ncols = u->ncols - N_EXTRA;
    mk_csv_style st = style_of(run);
    for (size_t c = 0; c < ncols; c++) {
        const mk_value *v = field_of(r, c, u->names[c]);
        if (v)
            mk_csv_write_field(f, &st, v->ptr, v->len);
        mk_outfile_putc(f, ',');
    }
    char src[1024], why[4096];
    mk_source_label(run, r->source, r->part, src, sizeof src);
    const char *file = mk_source_file(run, r->source, r->part);
    put_text(f, &st, src);
    put_text(f, &st, file ? file : "");
    put_number(f, r->record);
    put_number(f, r->line);
    put_text(f, &st, r->stage);
    int n = snprintf(why, sizeof why, "%s: %s", r->rule, r->reason);
    size_t wl = n < 0 ? 0 : (size_t)n < sizeof why ? (size_t)n : mk_utf8_whole(why, sizeof why - 1);
    mk_csv_write_field(f, &st, why, wl);
    return mk_outfile_putc(f, '\n');
}

static void json_key(mk_outfile *f, const char *key, int first)
{
    if (!first)
        mk_outfile_putc(f, ',');
    mk_json_write_string(f, key, strlen(key), MK_JSON_REPLACE, NULL);
    mk_outfile_putc(f, ':');
}

static void json_text(mk_outfile *f, const char *key, const char *ptr, size_t len)
{
    json_key(f, key, 0);
    if (ptr)
        mk_json_write_string(f, ptr, len, MK_JSON_REPLACE, NULL);
    else
        mk_outfile_puts(f, "null");
}

static void json_row(mk_outfile *f, const char *key, const mk_schema *s, const mk_value *v,
                     size_t n)
{
    json_key(f, key, 0);
    mk_outfile_putc(f, '{');
    for (size_t c = 0; c < n && s && c < s->ncols; c++) {
        json_key(f, s->names[c], c == 0);
        if (v[c].ptr)
            mk_json_write_string(f, v[c].ptr, v[c].len, MK_JSON_REPLACE, NULL);
        else
            mk_outfile_puts(f, "null");
    }
    mk_outfile_putc(f, '}');
}

static void json_number(mk_outfile *f, const char *key, uint64_t n)
{
    char buf[32];
    json_key(f, key, 0);
    if (n)
        mk_outfile_write(f, buf, (size_t)snprintf(buf, sizeof buf, "%" PRIu64, n));
    else
        mk_outfile_puts(f, "null");
}

static int write_jsonl(mk_run *run, const mk_reject *r)
{
    mk_outfile *f = run->rejects;
    char src[1024];
    mk_source_label(run, r->source, r->part, src, sizeof src);
    const char *file = mk_source_file(run, r->source, r->part);
    mk_outfile_putc(f, '{');
    json_key(f, "_source", 1);
    mk_json_write_string(f, src, strlen(src), MK_JSON_REPLACE, NULL);
    json_text(f, "_file", file, file ? strlen(file) : 0);
    json_number(f, "_record", r->record);
    json_number(f, "_line", r->line);
    json_text(f, "_stage", r->stage, strlen(r->stage));
    json_text(f, "_rule", r->rule, strlen(r->rule));
    json_text(f, "_reason", r->reason, strlen(r->reason));
    json_row(f, "fields", r->schema, r->fields, r->nfields);
    if (r->now)
        json_row(f, "values", r->now_schema, r->now, r->now_schema->ncols);
    mk_outfile_putc(f, '}');
    return mk_outfile_putc(f, '\n');
}

static int write_now(mk_run *run, const mk_reject *r)
{
    return run->p->rejects_jsonl ? write_jsonl(run, r) : write_csv(run, r);
}

/* ---- a batch's rejects in input order --------------------------------------- */

/* A queued reject: its texts and values are copies (a held row's values
 * go when it is rejected; a batch's when the batch is handed back). */
typedef struct mk_pending_reject {
    mk_reject r;
    char *rule, *reason;
    mk_value *owned; /* fields, then values now, then their bytes: one block */
    size_t seq;
} mk_pending_reject;

static size_t bytes_of(const mk_value *v, size_t n)
{
    size_t b = n * sizeof(mk_value);
    for (size_t i = 0; v && i < n; i++)
        b += v[i].len;
    return b;
}

static char *copy_values(mk_value *to, const mk_value *from, size_t n, char *at)
{
    for (size_t i = 0; i < n; i++) {
        to[i].len = from[i].len;
        to[i].ptr = from[i].ptr ? at : NULL;
        if (from[i].ptr)
            memcpy(at, from[i].ptr, from[i].len);
        at += from[i].len;
    }
    return at;
}

/* Copy q's fields and values now into q->owned. */
static int own_values(mk_pending_reject *q)
{
    size_t nf = q->r.fields ? q->r.nfields : 0;
    size_t nn = q->r.now && q->r.now_schema ? q->r.now_schema->ncols : 0;
    mk_value *v = malloc(bytes_of(q->r.fields, nf) + bytes_of(q->r.now, nn) + 1);
    if (!v)
        return -1;
    char *at = (char *)(v + nf + nn);
    at = copy_values(v, q->r.fields, nf, at);
    copy_values(v + nf, q->r.now, nn, at);
    q->owned = v;
    q->r.fields = nf ? v : NULL;
    q->r.now = nn ? v + nf : NULL;
    return 0;
}

static int queue(mk_run *run, const mk_reject *r)
{
    if (run->npending == run->pending_cap) {
        size_t cap = run->pending_cap ? run->pending_cap * 2 : 64;
        mk_pending_reject *grown = realloc(run->pending, cap * sizeof(*grown));
        if (!grown)
            return -1;
        run->pending = grown;
        run->pending_cap = cap;
    }
    mk_pending_reject *q = &run->pending[run->npending];
    q->r = *r;
    q->rule = strdup(r->rule);
    q->reason = strdup(r->reason);
    q->owned = NULL;
    q->seq = run->seq_rejects++;
    if (!q->rule || !q->reason || own_values(q) != 0) {
        free(q->rule);
        free(q->reason);
        return -1;
    }
    q->r.rule = q->rule;
    q->r.reason = q->reason;
    run->npending++;
    return 0;
}

/* Position: source, file, record, line, then the order they came in. */
static int by_position(const void *a_, const void *b_)
{
    const mk_pending_reject *a = a_, *b = b_;
    uint64_t ka[5] = {a->r.source, a->r.part, a->r.record, a->r.line, a->seq};
    uint64_t kb[5] = {b->r.source, b->r.part, b->r.record, b->r.line, b->seq};
    for (int i = 0; i < 5; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

/* Whether q lies at or before the last row of batch b. */
static int not_after(const mk_pending_reject *q, const mk_batch *b)
{
    size_t n = b->nrows - 1;
    uint64_t ka[4] = {q->r.source, q->r.part, q->r.record, q->r.line};
    uint64_t kb[4] = {b->info[n].source, b->info[n].part, b->record ? b->record[n] : 0,
                      b->info[n].position};
    for (int i = 0; i < 4; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i];
    return 1;
}

static void drop_pending(mk_pending_reject *q)
{
    free(q->rule);
    free(q->reason);
    free(q->owned);
}

void mk_rejects_hold(mk_run *run)
{
    run->rejects_held = 1;
}

int mk_rejects_flush(mk_run *run, const mk_batch *b, int all)
{
    run->rejects_held = 0;
    if (run->npending > 1)
        qsort(run->pending, run->npending, sizeof(*run->pending), by_position);
    int rc = 0;
    size_t kept = 0;
    for (size_t i = 0; i < run->npending; i++) {
        mk_pending_reject *q = &run->pending[i];
        if (!all && (!b || !b->nrows || !not_after(q, b))) {
            run->pending[kept++] = *q; /* waits for the rows before it */
            continue;
        }
        if (rc == 0)
            rc = write_now(run, &q->r);
        drop_pending(q);
    }
    run->npending = kept;
    if (rc != 0)
        return mk_run_fail(run, "cannot write the rejects file %s", run->p->rejects_path);
    return MK_OK;
}

int mk_rejects_write(mk_run *run, const mk_reject *r)
{
    if (!run->rejects) /* a dry run: counted, not written */
        return MK_OK;
    return run->rejects_held ? queue(run, r) : write_now(run, r);
}

int mk_rejects_close(mk_run *run, int commit)
{
    for (size_t i = 0; i < run->npending; i++) /* a run that failed */
        drop_pending(&run->pending[i]);
    run->npending = 0;
    free(run->pending);
    run->pending = NULL;
    run->pending_cap = 0;
    if (!run->rejects)
        return MK_OK;
    char err[1024];
    int rc = MK_OK;
    if (commit) {
        size_t before = run->npub;
        if (mk_publish_outfile(run, run->rejects, "the rejects file", err, sizeof err) != MK_OK)
            rc = mk_run_fail(run, "%s", err);
        mk_publish_kind(run, before, "rejects");
    } else {
        mk_outfile_abort(run->rejects);
    }
    run->rejects = NULL;
    return rc;
}
