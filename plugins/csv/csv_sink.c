/*
 * csv_sink.c -- the csv sink: RFC 4180 output with a header row.
 *
 * NULL is an empty unquoted field and the empty string is "", so what the
 * csv source reads comes back byte for byte.  The file is written under a
 * temporary name and renamed when the run succeeds (mkk_file).  With
 * formula_guard a cell that a spreadsheet would run as a formula gets a
 * leading apostrophe, a cell holding a common separator is quoted and a
 * formula after a separator inside a cell gets one too (see
 * docs/PLUGINS.md for exactly which cells).
 *
 * Text that is not valid UTF-8 (a source read with encoding: bytes, a rule
 * that built bytes) is never written as it is: invalid_utf8: reject sends
 * the row to the rejects file with the column and byte, replace writes
 * U+FFFD for each bad sequence and counts them in the run report.
 *
 * Trade-off: the output columns are those of the first batch; a later
 * batch with other columns is mapped by name (mkk_colmap: a missing column
 * is NULL, an extra column fails the run, as it would be lost), at the
 * price of one index read per cell for such batches only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "csv_plugin.h"
#include "mekong_kit.h"

typedef struct csv_sink {
    mk_context *ctx;
    const mk_host *host;
    mkk_file *out;
    mkk_csv_style style;
    const mk_schema *columns;  /* the file's columns */
    mkk_colmap *map;           /* the file's columns in other schemas */
    int header;
    int replace;               /* invalid_utf8: replace */
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
    if (csv_check_char(host, ctx, "delimiter", s->style.delimiter) != 0)
        return MK_ERROR;
    if (s->style.delimiter == s->style.quote) {
        /* the sink always quotes with ": a " delimiter makes fields unreadable */
        host->error(ctx, "delimiter must not be the quote character \"");
        return MK_ERROR;
    }
    s->style.formula_guard = host->opt_bool(ctx, "formula_guard");
    s->header = host->opt_bool(ctx, "header");
    s->replace = mkk_opt_choice(host, ctx, "invalid_utf8", CSV_INVALID_UTF8_CHOICES) == 1;
    s->out = mkk_file_open(host, ctx, host->opt_string(ctx, "path"));
    return s->out ? MK_OK : MK_ERROR;
}

/* One value; with invalid_utf8: replace, a value that is not valid UTF-8
 * is written repaired. */
static inline void write_cell(csv_sink *s, const mk_value *v, int checked)
{
    if (s->replace && !checked)
        mkk_csv_field_repaired(s->out, &s->style, v->ptr, v->len, &s->replaced);
    else
        mkk_csv_field(s->out, &s->style, v->ptr, v->len);
}

/* The file's columns come from the first batch: the header row. */
static int start_file(csv_sink *s, const mk_schema *schema)
{
    s->columns = schema;
    s->map = mkk_colmap_new(s->host, schema->names, schema->ncols);
    if (!s->map)
        return MK_NOMEM;
    if (!s->header)
        return MK_OK;
    for (size_t i = 0; i < schema->ncols; i++) {
        if (i)
            mkk_file_putc(s->out, s->style.delimiter);
        mkk_csv_field(s->out, &s->style, schema->names[i], strlen(schema->names[i]));
    }
    mkk_file_putc(s->out, '\n');
    return MK_OK;
}

/* *map: where the file's columns are in a batch of another schema.
 * MK_ERROR when the batch has a column the file does not. */
static int map_columns(csv_sink *s, const mk_schema *schema, const long **map)
{
    long extra = mkk_colmap_unwanted(s->map, schema);
    if (extra >= 0) {
        s->host->error(s->ctx,
                       "rows with a column '%s' reached this sink, whose file has no such "
                       "column (it took its columns from the first rows): align the "
                       "sources with a map transform",
                       schema->names[extra]);
        return MK_ERROR;
    }
    *map = extra == -1 ? mkk_colmap_get(s->map, schema) : NULL;
    return *map ? MK_OK : MK_NOMEM;
}

/* Row r of b, in the file's column order (map) or its own (map NULL). */
static void write_row(csv_sink *s, const mk_batch *b, size_t r, const long *map, int checked)
{
    if (!map) {
        const mk_value *row = &MK_CELL(b, r, 0);
        for (size_t c = 0; c < b->schema->ncols; c++) {
            if (c)
                mkk_file_putc(s->out, s->style.delimiter);
            write_cell(s, &row[c], checked);
        }
    } else {
        for (size_t i = 0; i < s->columns->ncols; i++) {
            if (i)
                mkk_file_putc(s->out, s->style.delimiter);
            if (map[i] >= 0)
                write_cell(s, &MK_CELL(b, r, (size_t)map[i]), checked);
        }
    }
    mkk_file_putc(s->out, '\n');
}

static int csv_sink_write(void *state, const mk_batch *b)
{
    csv_sink *s = state;
    if (!s->columns && start_file(s, b->schema) != MK_OK)
        return MK_NOMEM;
    const long *map = NULL;
    if (b->schema != s->columns) {
        int rc = map_columns(s, b->schema, &map);
        if (rc != MK_OK)
            return rc;
    }
    s->replaced = 0;
    int checked = s->host->batch_text_checked(s->ctx, b); /* known valid: no second check */
    for (size_t r = 0; r < b->nrows; r++) {
        if (!s->replace && !checked) {
            int rej = mkk_utf8_reject_row(s->host, s->ctx, b, r, "csv.invalid_utf8");
            if (rej < 0)
                return MK_ERROR;
            if (rej)
                continue;
        }
        write_row(s, b, r, map, checked);
    }
    if (s->replaced)
        s->host->report_add(s->ctx, "utf8_replacements", (int64_t)s->replaced);
    return mkk_file_check(s->out);
}

static int csv_sink_close(void *state, int commit)
{
    csv_sink *s = state;
    if (!s)
        return MK_OK;
    int rc = mkk_file_close(s->out, commit);
    mkk_colmap_free(s->map);
    free(s);
    return rc;
}

const mk_sink_ops csv_sink_ops = {
    csv_sink_open,
    csv_sink_write,
    csv_sink_close,
};
