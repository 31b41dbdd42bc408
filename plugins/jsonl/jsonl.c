/*
 * jsonl.c -- the jsonl sink: one JSON object per row, one row per line.
 *
 * NULL is null; every value is a JSON string (values are text in mekong:
 * "007" stays "007").  Control characters are escaped.  Invalid UTF-8 is
 * never written as-is: invalid_utf8: reject sends the row to the rejects
 * file with the column and byte offset; replace writes U+FFFD for each bad
 * byte and counts the replacements in the run report.
 *
 * Trade-off: the keys ("name": with its comma) are escaped once per input
 * schema and kept (mkk_plans), so a row costs one copy per key; a run
 * with many schemas keeps a key set for each until the end.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong.h"
#include "mekong_kit.h"

#define INVALID_UTF8_CHOICES "reject|replace"

/* The keys of one schema: "{\"name\":" then ",\"next\":" ... escaped. */
typedef struct keys {
    size_t n;
    char **key;
    size_t *len;
} keys;

typedef struct jsonl_sink {
    mk_context *ctx;
    const mk_host *host;
    mkk_file *out;
    int replace;
    mkk_plans *keys; /* per schema: keys */
} jsonl_sink;

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file to write (written atomically when the run succeeds)"},
    {"invalid_utf8", MK_OPT_STRING, 0, "reject",
     "what to do with a value that is not valid UTF-8: reject (the row) or replace (with U+FFFD)",
     INVALID_UTF8_CHOICES},
    {NULL, 0, 0, NULL, NULL},
};

static void free_keys(void *plan)
{
    keys *k = plan;
    for (size_t i = 0; k->key && i < k->n; i++)
        free(k->key[i]);
    free(k->key);
    free(k->len);
    free(k);
}

/* The key of column c called name, with its leading '{' or ','. */
static char *make_key(const char *name, size_t c, size_t *out_len)
{
    size_t len = strlen(name);
    char *k = malloc(len * 6 + 4);
    if (!k)
        return NULL;
    size_t o = 0;
    k[o++] = c ? ',' : '{';
    k[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
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
    *out_len = o;
    return k;
}

/* The keys of schema, escaped on first sight and then kept. */
static const keys *keys_of(jsonl_sink *s, const mk_schema *schema)
{
    keys *k = mkk_plans_get(s->keys, schema);
    if (k)
        return k;
    if (!(k = calloc(1, sizeof(*k))))
        return NULL;
    k->key = calloc(schema->ncols ? schema->ncols : 1, sizeof(char *));
    k->len = calloc(schema->ncols ? schema->ncols : 1, sizeof(size_t));
    if (!k->key || !k->len) {
        free_keys(k);
        return NULL;
    }
    for (k->n = 0; k->n < schema->ncols; k->n++) {
        if (!(k->key[k->n] = make_key(schema->names[k->n], k->n, &k->len[k->n]))) {
            free_keys(k);
            return NULL;
        }
    }
    return mkk_plans_put(s->keys, schema, k) == MK_OK ? k : NULL;
}

static int jsonl_open(mk_context *ctx, const mk_host *host, void **state)
{
    jsonl_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    s->replace = mkk_opt_choice(host, ctx, "invalid_utf8", INVALID_UTF8_CHOICES) == 1;
    if (!(s->keys = mkk_plans_new(free_keys)))
        return MK_NOMEM;
    s->out = mkk_file_open(host, ctx, host->opt_string(ctx, "path"));
    return s->out ? MK_OK : MK_ERROR;
}

/* Row r of b as one line. */
static void write_row(jsonl_sink *s, const keys *k, const mk_batch *b, size_t r, int mode,
                      size_t *replaced)
{
    const mk_value *row = &MK_CELL(b, r, 0);
    if (k->n == 0)
        mkk_file_putc(s->out, '{');
    for (size_t c = 0; c < k->n; c++) {
        mkk_file_write(s->out, k->key[c], k->len[c]);
        if (!row[c].ptr)
            mkk_file_write(s->out, "null", 4);
        else
            mkk_json_string(s->out, row[c].ptr, row[c].len, mode, replaced);
    }
    mkk_file_write(s->out, "}\n", 2);
}

static int jsonl_write(void *state, const mk_batch *b)
{
    jsonl_sink *s = state;
    const keys *k = keys_of(s, b->schema);
    if (!k)
        return MK_NOMEM;
    size_t replaced = 0;
    int checked = s->host->batch_text_checked(s->ctx, b); /* known valid: no second check */
    int mode = checked || !s->replace ? MKK_JSON_VALID : MKK_JSON_REPLACE;
    for (size_t r = 0; r < b->nrows; r++) {
        if (!s->replace && !checked) {
            int rej = mkk_utf8_reject_row(s->host, s->ctx, b, r, "jsonl.invalid_utf8");
            if (rej < 0)
                return MK_ERROR;
            if (rej)
                continue;
        }
        write_row(s, k, b, r, mode, &replaced);
    }
    if (replaced)
        s->host->report_add(s->ctx, "utf8_replacements", (int64_t)replaced);
    return mkk_file_check(s->out);
}

static int jsonl_close(void *state, int commit)
{
    jsonl_sink *s = state;
    if (!s)
        return MK_OK;
    int rc = mkk_file_close(s->out, commit);
    mkk_plans_free(s->keys);
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
