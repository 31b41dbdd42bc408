/*
 * csv_sink.c -- the csv sink: RFC 4180 output with a header row.
 *
 * NULL is an empty unquoted field and the empty string is "", so what the
 * csv source reads comes back byte for byte.  The file is written under a
 * temporary name and renamed when the run succeeds.  With formula_guard a
 * cell that a spreadsheet would run as a formula gets a leading apostrophe
 * (see docs/PLUGINS.md for exactly which cells).
 *
 * Text that is not valid UTF-8 (a source read with encoding: bytes, a rule
 * that built bytes) is never written as it is: invalid_utf8: reject sends
 * the row to the rejects file with the column and byte, replace writes
 * U+FFFD for each bad sequence and counts them in the run report.
 *
 * The output columns are those of the first batch; a later batch with
 * other columns is mapped by name (a missing column is NULL, an extra
 * column fails the run, as it would be lost).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_plugin.h"
#include "util/outfile.h"
#include "util/textout.h"

typedef struct csv_sink {
    mk_context *ctx;
    const mk_host *host;
    mk_outfile *out;
    mk_csv_style style;
    const mk_schema *columns;  /* the file's columns */
    const mk_schema *mapped;   /* schema that map[] was made for */
    long *map;                 /* file column -> batch column, -1 for NULL */
    size_t map_cap;
    int header_written;
    int header;
    int replace;               /* invalid_utf8: replace */
    char *repair;              /* a repaired value (replace) */
    size_t repair_cap;
    size_t replaced;           /* in the batch being written */
} csv_sink;

static int csv_sink_open(mk_context *ctx, const mk_host *host, void **state)
{
    csv_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    s->style.delimiter = host->opt_string(ctx, "delimiter")[0];
    s->style.quote = '"';
    s->style.formula_guard = host->opt_bool(ctx, "formula_guard");
    s->header = host->opt_bool(ctx, "header");
    s->replace = strcmp(host->opt_string(ctx, "invalid_utf8"), "replace") == 0;
    char err[1024];
    s->out = mk_outfile_open(host->opt_string(ctx, "path"), err, sizeof err);
    if (!s->out) {
        host->error(ctx, "%s", err);
        return MK_ERROR;
    }
    return MK_OK;
}

/* One value; with invalid_utf8: replace, a value that is not valid UTF-8
 * is written repaired. */
static void write_cell(csv_sink *s, const mk_value *v, int checked)
{
    if (s->replace && !checked && v->ptr && mk_utf8_valid_prefix(v->ptr, v->len) != v->len) {
        if (v->len * 3 > s->repair_cap) {
            char *r = realloc(s->repair, v->len * 3);
            if (!r) {
                s->out->err = ENOMEM;
                return;
            }
            s->repair = r;
            s->repair_cap = v->len * 3;
        }
        size_t n = mk_utf8_repair(v->ptr, v->len, s->repair, &s->replaced);
        mk_csv_write_field(s->out, &s->style, s->repair, n);
        return;
    }
    mk_csv_write_field(s->out, &s->style, v->ptr, v->len);
}

/* With invalid_utf8: reject, reject row r when one of its values is not
 * valid UTF-8: 1 if rejected, 0 if not, -1 on error. */
static int reject_invalid(csv_sink *s, const mk_batch *b, size_t r, int checked)
{
    size_t off;
    if (s->replace || checked)
        return 0;
    long bad = mk_cells_first_invalid_utf8(&MK_CELL(b, r, 0), b->schema->ncols, &off);
    if (bad < 0)
        return 0;
    char why[512];
    snprintf(why, sizeof why, "column %s is not valid UTF-8 (byte %zu)", b->schema->names[bad],
             off + 1);
    return s->host->row_reject(s->ctx, b, r, "csv.invalid_utf8", why) == MK_OK ? 1 : -1;
}

static int write_header(csv_sink *s)
{
    const mk_schema *c = s->columns;
    for (size_t i = 0; i < c->ncols; i++) {
        if (i)
            mk_outfile_putc(s->out, s->style.delimiter);
        mk_csv_write_field(s->out, &s->style, c->names[i], strlen(c->names[i]));
    }
    return mk_outfile_putc(s->out, '\n');
}

/* Map the file's columns onto a batch schema by name. */
static int make_map(csv_sink *s, const mk_schema *schema)
{
    size_t n = s->columns->ncols;
    if (n > s->map_cap) {
        long *m = realloc(s->map, n * sizeof(long));
        if (!m)
            return MK_NOMEM;
        s->map = m;
        s->map_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        long k = -1;
        for (size_t c = 0; c < schema->ncols; c++)
            if (strcmp(schema->names[c], s->columns->names[i]) == 0)
                k = (long)c;
        s->map[i] = k;
    }
    for (size_t c = 0; c < schema->ncols; c++) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(schema->names[c], s->columns->names[i]) == 0)
                break;
        if (i == n) {
            s->host->error(s->ctx,
                           "rows with a column '%s' reached this sink, whose file has no such "
                           "column (it took its columns from the first rows): align the "
                           "sources with a map transform",
                           schema->names[c]);
            return MK_ERROR;
        }
    }
    s->mapped = schema;
    return MK_OK;
}

static int csv_sink_write(void *state, const mk_batch *b)
{
    csv_sink *s = state;
    if (!s->columns)
        s->columns = b->schema;
    if (!s->header_written) {
        s->header_written = 1;
        if (s->header && write_header(s) != 0)
            goto io_error;
    }
    size_t ncols = b->schema->ncols;
    s->replaced = 0;
    int checked = s->host->batch_text_checked(s->ctx, b); /* known valid: no second check */
    if (b->schema != s->columns && s->mapped != b->schema && make_map(s, b->schema) != MK_OK)
        return MK_ERROR;
    for (size_t r = 0; r < b->nrows; r++) {
        int rej = reject_invalid(s, b, r, checked);
        if (rej < 0)
            return MK_ERROR;
        if (rej)
            continue;
        if (b->schema == s->columns) {
            const mk_value *row = &MK_CELL(b, r, 0);
            for (size_t c = 0; c < ncols; c++) {
                if (c)
                    mk_outfile_putc(s->out, s->style.delimiter);
                write_cell(s, &row[c], checked);
            }
        } else {
            for (size_t i = 0; i < s->columns->ncols; i++) {
                if (i)
                    mk_outfile_putc(s->out, s->style.delimiter);
                if (s->map[i] >= 0)
                    write_cell(s, &MK_CELL(b, r, (size_t)s->map[i]), checked);
            }
        }
        mk_outfile_putc(s->out, '\n');
    }
    if (s->replaced)
        s->host->report_add(s->ctx, "utf8_replacements", (int64_t)s->replaced);
    if (s->out->err)
        goto io_error;
    return MK_OK;
io_error:
    s->host->error(s->ctx, "cannot write %s: %s", s->out->final_path, strerror(s->out->err));
    return MK_ERROR;
}

static int csv_sink_close(void *state, int commit)
{
    csv_sink *s = state;
    int rc = MK_OK;
    if (!s)
        return MK_OK;
    if (s->out) {
        if (commit) {
            char err[1024];
            if (mk_outfile_commit(s->out, err, sizeof err) != 0) {
                s->host->error(s->ctx, "%s", err);
                rc = MK_ERROR;
            }
        } else {
            mk_outfile_abort(s->out);
        }
    }
    free(s->map);
    free(s->repair);
    free(s);
    return rc;
}

const mk_sink_ops csv_sink_ops = {
    csv_sink_open,
    csv_sink_write,
    csv_sink_close,
};
