/*
 * csv_sink.c -- the csv sink: RFC 4180 output with a header row.
 *
 * NULL is an empty unquoted field and the empty string is "", so what the
 * csv source reads comes back byte for byte.  The file is written under a
 * temporary name and renamed when the run succeeds.  With formula_guard a
 * cell that a spreadsheet would run as a formula gets a leading apostrophe
 * (see docs/PLUGINS.md for exactly which cells).
 *
 * The output columns are those of the first batch; a later batch with
 * other columns is mapped by name (a missing column is NULL, an extra
 * column fails the run, as it would be lost).
 */
#include "config.h"

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
    char err[1024];
    s->out = mk_outfile_open(host->opt_string(ctx, "path"), err, sizeof err);
    if (!s->out) {
        host->error(ctx, "%s", err);
        return MK_ERROR;
    }
    return MK_OK;
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
    if (b->schema == s->columns) {
        for (size_t r = 0; r < b->nrows; r++) {
            const mk_value *row = &MK_CELL(b, r, 0);
            for (size_t c = 0; c < ncols; c++) {
                if (c)
                    mk_outfile_putc(s->out, s->style.delimiter);
                mk_csv_write_field(s->out, &s->style, row[c].ptr, row[c].len);
            }
            mk_outfile_putc(s->out, '\n');
        }
    } else {
        if (s->mapped != b->schema && make_map(s, b->schema) != MK_OK)
            return MK_ERROR;
        for (size_t r = 0; r < b->nrows; r++) {
            for (size_t i = 0; i < s->columns->ncols; i++) {
                if (i)
                    mk_outfile_putc(s->out, s->style.delimiter);
                if (s->map[i] >= 0) {
                    const mk_value *v = &MK_CELL(b, r, (size_t)s->map[i]);
                    mk_csv_write_field(s->out, &s->style, v->ptr, v->len);
                }
            }
            mk_outfile_putc(s->out, '\n');
        }
    }
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
    free(s);
    return rc;
}

const mk_sink_ops csv_sink_ops = {
    csv_sink_open,
    csv_sink_write,
    csv_sink_close,
};
