/*
 * jsonl.c -- the jsonl sink: one JSON object per row, one row per line.
 *
 * NULL is null; every value is a JSON string (values are text in mekong:
 * "007" stays "007").  Control characters are escaped.  Invalid UTF-8 is
 * never written as-is: invalid_utf8: reject sends the row to the rejects
 * file with the column and byte offset; replace writes U+FFFD for each bad
 * byte and counts the replacements in the run report.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong.h"
#include "util/outfile.h"
#include "util/textout.h"

typedef struct jsonl_sink {
    mk_context *ctx;
    const mk_host *host;
    mk_outfile *out;
    int replace;
    const mk_schema *keyed;   /* schema the keys below were made for */
    char **keys;              /* "\"name\":" per column, escaped */
    size_t *key_len;
    size_t nkeys;
} jsonl_sink;

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file to write (written atomically when the run succeeds)"},
    {"invalid_utf8", MK_OPT_STRING, 0, "reject",
     "what to do with a value that is not valid UTF-8: reject (the row) or replace (with U+FFFD)",
     "reject|replace"},
    {NULL, 0, 0, NULL, NULL},
};

static void free_keys(jsonl_sink *s)
{
    for (size_t i = 0; i < s->nkeys; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->key_len);
    s->keys = NULL;
    s->key_len = NULL;
    s->nkeys = 0;
}

/* Escape the column names once per schema. */
static int make_keys(jsonl_sink *s, const mk_schema *schema)
{
    free_keys(s);
    s->keys = calloc(schema->ncols ? schema->ncols : 1, sizeof(char *));
    s->key_len = calloc(schema->ncols ? schema->ncols : 1, sizeof(size_t));
    if (!s->keys || !s->key_len)
        return MK_NOMEM;
    s->nkeys = schema->ncols;
    for (size_t c = 0; c < schema->ncols; c++) {
        const char *n = schema->names[c];
        size_t len = strlen(n);
        char *k = malloc(len * 6 + 4);
        if (!k)
            return MK_NOMEM;
        size_t o = 0;
        k[o++] = c ? ',' : '{';
        k[o++] = '"';
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)n[i];
            if (ch == '"' || ch == '\\') {
                k[o++] = '\\';
                k[o++] = (char)ch;
            } else if (ch < 0x20) {
                o += (size_t)sprintf(k + o, "\\u%04x", ch);
            } else {
                k[o++] = (char)ch;
            }
        }
        k[o++] = '"';
        k[o++] = ':';
        s->keys[c] = k;
        s->key_len[c] = o;
    }
    s->keyed = schema;
    return MK_OK;
}

static int jsonl_open(mk_context *ctx, const mk_host *host, void **state)
{
    jsonl_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    const char *mode = host->opt_string(ctx, "invalid_utf8");
    if (strcmp(mode, "replace") == 0) {
        s->replace = 1;
    } else if (strcmp(mode, "reject") != 0) {
        host->error(ctx, "invalid_utf8 must be 'reject' or 'replace', not '%s'", mode);
        return MK_ERROR;
    }
    char err[1024];
    s->out = mk_outfile_open(host->opt_string(ctx, "path"), err, sizeof err);
    if (!s->out) {
        host->error(ctx, "%s", err);
        return MK_ERROR;
    }
    return MK_OK;
}

static int jsonl_write(void *state, const mk_batch *b)
{
    jsonl_sink *s = state;
    if (b->schema != s->keyed && make_keys(s, b->schema) != MK_OK)
        return MK_NOMEM;
    size_t ncols = b->schema->ncols;
    size_t replaced = 0;
    int checked = s->host->batch_text_checked(s->ctx, b); /* known valid: no second check */
    for (size_t r = 0; r < b->nrows; r++) {
        if (!s->replace && !checked) {
            size_t off;
            long bad = mk_cells_first_invalid_utf8(&MK_CELL(b, r, 0), ncols, &off);
            if (bad >= 0) {
                char why[512];
                snprintf(why, sizeof why, "column %s is not valid UTF-8 (byte %zu)",
                         b->schema->names[bad], off + 1);
                if (s->host->row_reject(s->ctx, b, r, "jsonl.invalid_utf8", why) != MK_OK)
                    return MK_ERROR;
                continue;
            }
        }
        if (ncols == 0)
            mk_outfile_putc(s->out, '{');
        for (size_t c = 0; c < ncols; c++) {
            const mk_value *v = &MK_CELL(b, r, c);
            mk_outfile_write(s->out, s->keys[c], s->key_len[c]);
            if (!v->ptr)
                mk_outfile_write(s->out, "null", 4);
            else
                mk_json_write_string(s->out, v->ptr, v->len,
                                     checked || !s->replace ? MK_JSON_VALID : MK_JSON_REPLACE,
                                     &replaced);
        }
        mk_outfile_write(s->out, "}\n", 2);
    }
    if (replaced)
        s->host->report_add(s->ctx, "utf8_replacements", (int64_t)replaced);
    if (s->out->err) {
        s->host->error(s->ctx, "cannot write %s: %s", s->out->final_path, strerror(s->out->err));
        return MK_ERROR;
    }
    return MK_OK;
}

static int jsonl_close(void *state, int commit)
{
    jsonl_sink *s = state;
    int rc = MK_OK;
    if (!s)
        return MK_OK;
    if (s->out) {
        char err[1024];
        if (!commit)
            mk_outfile_abort(s->out);
        else if (mk_outfile_commit(s->out, err, sizeof err) != 0) {
            s->host->error(s->ctx, "%s", err);
            rc = MK_ERROR;
        }
    }
    free_keys(s);
    free(s);
    return rc;
}

static const mk_sink_ops jsonl_sink_ops = {jsonl_open, jsonl_write, jsonl_close};

static const mk_plugin jsonl_plugin = {
    MK_PLUGIN_HEAD, "jsonl", PACKAGE_VERSION,
    "JSON Lines files: one object per row, values as strings, NULL as null",
    NULL, NULL, NULL, NULL, sink_options, &jsonl_sink_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &jsonl_plugin;
}
