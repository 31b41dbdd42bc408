/*
 * dedupe.c -- the dedupe transform: one row per key.
 *
 *   key: [national_id]         the columns that make the key (one or more)
 *   keep: first                which occurrence passes (first is the only
 *                              one a single pass can keep: see below)
 *   on_duplicate: reject       reject (rule "duplicate", the reason names
 *                              where the first occurrence came from) or drop
 *   null_key: pass             a key with a NULL cell: pass (never a
 *                              duplicate, as in SQL), reject
 *                              (rule "duplicate.null_key") or compare (NULL
 *                              is a value like any other)
 *
 * Trade-off: keys are kept as 128-bit hashes in an mkk_keyset (32 to 64
 * bytes a key, never the key's bytes), each with a 64-bit payload that
 * says where the key was first seen: an index into a small table of
 * (source, file) pairs and the record number in that file.  So memory
 * grows with the number of distinct keys only, and a reason can name the
 * first occurrence without keeping its row.  Two keys whose hashes are
 * equal count as one (odds in docs/PLUGIN-KIT.md).
 *
 * keep: last is refused at open with a message: the engine gives every
 * row its fate while its batch is processed, so the last occurrence of a
 * key is known only at the end, after the earlier ones have already
 * passed.  See docs/PLUGINS.md (dedupe) for what it would take.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong.h"
#include "mekong_kit.h"

/* The payload of a key: where it was first seen. */
#define ORIGIN_BITS 15
#define ORIGIN_UNKNOWN ((1u << ORIGIN_BITS) - 1) /* table full, or no source */
#define IS_LINE_BIT (1ull << 48)                /* the number is a line, not a record */
#define NUMBER_MASK ((1ull << 48) - 1)

typedef struct origin_slot {
    uint32_t source, part;
    const char *name, *file; /* host strings: live until the end of the run */
} origin_slot;

enum { ON_DUP_REJECT, ON_DUP_DROP };
enum { NULL_PASS, NULL_REJECT, NULL_COMPARE };

typedef struct dedupe_state {
    mk_context *ctx;
    const mk_host *host;
    int on_duplicate, null_key;
    mkk_colmap *columns; /* the key columns, per input schema */
    mk_value *cells;     /* the key of the row at hand */
    size_t nkey;
    mkk_keyset *seen;
    origin_slot *origins;
    size_t norigins, last_origin;
    uint64_t duplicates, null_keys;
    uint64_t (*hashes)[2]; /* per row of the batch at hand: its key's hash */
    uint8_t *has_null;     /* per row: a key cell is NULL */
    size_t hashes_cap;
} dedupe_state;

static const mk_option_decl options[] = {
    {"key", MK_OPT_LIST, 1, NULL, "the columns that make the key: [national_id]"},
    {"keep", MK_OPT_STRING, 0, "first", "which occurrence of a key passes", "first|last"},
    {"on_duplicate", MK_OPT_STRING, 0, "reject",
     "a later occurrence is rejected (rule duplicate) or dropped", "reject|drop"},
    {"null_key", MK_OPT_STRING, 0, "pass",
     "a key with a NULL cell: pass, reject (rule duplicate.null_key) or compare as a value",
     "pass|reject|compare"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int read_key_option(dedupe_state *d)
{
    const mk_host *h = d->host;
    size_t n = h->opt_count(d->ctx, "key");
    if (n == 0) {
        h->error(d->ctx, "key names no column: key: [national_id]");
        return MK_ERROR;
    }
    const char **names = calloc(n, sizeof(*names));
    if (!names)
        return MK_NOMEM;
    for (size_t i = 0; i < n; i++)
        h->opt_entry(d->ctx, "key", i, NULL, &names[i]);
    d->columns = mkk_colmap_new(h, names, n);
    free(names);
    d->nkey = n;
    d->cells = calloc(n, sizeof(mk_value));
    return d->columns && d->cells ? MK_OK : MK_NOMEM;
}

static int dedupe_open(mk_context *ctx, const mk_host *host, void **state)
{
    dedupe_state *d = calloc(1, sizeof(*d));
    if (!d)
        return MK_NOMEM;
    *state = d;
    d->ctx = ctx;
    d->host = host;
    if (!MK_HOST_HAS(host, row_origin)) {
        host->error(ctx, "dedupe needs a newer mekong (its host has no row_origin)");
        return MK_ERROR;
    }
    if (mkk_opt_choice(host, ctx, "keep", "first|last") == 1) {
        host->error(ctx, "keep: last is not supported: every row gets its fate while its batch "
                         "is processed, so earlier occurrences would already have passed; "
                         "use keep: first (sort the input newest first to keep the latest)");
        return MK_ERROR;
    }
    d->on_duplicate = mkk_opt_choice(host, ctx, "on_duplicate", "reject|drop");
    d->null_key = mkk_opt_choice(host, ctx, "null_key", "pass|reject|compare");
    if (d->on_duplicate < 0)
        d->on_duplicate = ON_DUP_REJECT;
    if (d->null_key < 0)
        d->null_key = NULL_PASS;
    int rc = read_key_option(d);
    if (rc != MK_OK)
        return rc;
    if (!(d->seen = mkk_keyset_new()))
        return MK_NOMEM;
    host->text_checked(ctx); /* rows pass unchanged */
    return MK_OK;
}

/* The key columns of schema s, or NULL after an error naming a missing one. */
static const long *key_columns(dedupe_state *d, const mk_schema *s)
{
    const long *cols = mkk_colmap_get(d->columns, s);
    if (!cols) {
        d->host->error(d->ctx, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < d->nkey; i++) {
        if (cols[i] >= 0)
            continue;
        const char *name;
        d->host->opt_entry(d->ctx, "key", i, NULL, &name);
        const char *near = mkk_suggest(name, (const char *const *)s->names, s->ncols);
        d->host->error(d->ctx, "key column '%s' is not in the rows%s%s%s", name,
                       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        return NULL;
    }
    return cols;
}

/* The index in the origin table of row r's (source, file). */
static uint32_t origin_index(dedupe_state *d, const mk_batch *in, size_t r)
{
    const mk_rowinfo *info = &in->info[r];
    if (d->last_origin < d->norigins) {
        const origin_slot *o = &d->origins[d->last_origin];
        if (o->source == info->source && o->part == info->part)
            return (uint32_t)d->last_origin;
    }
    for (size_t i = 0; i < d->norigins; i++)
        if (d->origins[i].source == info->source && d->origins[i].part == info->part)
            return (uint32_t)(d->last_origin = i);
    mk_origin where;
    if (d->norigins >= ORIGIN_UNKNOWN || d->host->row_origin(d->ctx, in, r, &where) != MK_OK ||
        !where.source)
        return ORIGIN_UNKNOWN;
    origin_slot *grown = realloc(d->origins, (d->norigins + 1) * sizeof(*grown));
    if (!grown)
        return ORIGIN_UNKNOWN; /* the reason will say less, nothing else changes */
    d->origins = grown;
    grown[d->norigins] = (origin_slot){info->source, info->part, where.source, where.file};
    return (uint32_t)(d->last_origin = d->norigins++);
}

static uint64_t make_payload(dedupe_state *d, const mk_batch *in, size_t r)
{
    uint64_t record = in->record ? in->record[r] : 0;
    uint64_t number = record ? record : in->info[r].position | IS_LINE_BIT;
    return (uint64_t)origin_index(d, in, r) << 49 | (number & (NUMBER_MASK | IS_LINE_BIT));
}

/* "(national_id) "0793..."": the key for a reason, each value cut at 40
 * bytes on a letter boundary. */
static void describe_key(dedupe_state *d, char *buf, size_t len)
{
    size_t used = 0;
    for (size_t i = 0; i < d->nkey && used < len; i++) {
        const char *name;
        d->host->opt_entry(d->ctx, "key", i, NULL, &name);
        const mk_value *v = &d->cells[i];
        size_t n = v->ptr ? mkk_utf8_valid_prefix(v->ptr, v->len > 40 ? 40 : v->len) : 0;
        while (v->ptr && n > 0 && n < v->len && ((unsigned char)v->ptr[n] & 0xc0) == 0x80)
            n--;
        int w = v->ptr ? snprintf(buf + used, len - used, "%s%s \"%.*s%s\"", i ? ", " : "", name,
                                  (int)n, v->ptr, n < v->len ? "..." : "")
                       : snprintf(buf + used, len - used, "%s%s NULL", i ? ", " : "", name);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* Where the first occurrence came from, for people. */
static void describe_first(dedupe_state *d, uint64_t payload, char *buf, size_t len)
{
    uint32_t o = (uint32_t)(payload >> 49);
    uint64_t n = payload & NUMBER_MASK;
    const char *unit = payload & IS_LINE_BIT ? "line" : "record";
    if (o >= d->norigins) {
        snprintf(buf, len, "a row of no known source (%s %" PRIu64 ")", unit, n);
        return;
    }
    const origin_slot *s = &d->origins[o];
    if (s->file)
        snprintf(buf, len, "%s %s %" PRIu64 " (%s)", s->name, unit, n, s->file);
    else
        snprintf(buf, len, "%s %s %" PRIu64, s->name, unit, n);
}

static int duplicate_row(dedupe_state *d, const mk_batch *in, size_t r, uint64_t first)
{
    d->duplicates++;
    if (d->on_duplicate == ON_DUP_DROP)
        return d->host->row_drop(d->ctx, in, r);
    char key[400], where[600], reason[1100];
    describe_key(d, key, sizeof key);
    describe_first(d, first, where, sizeof where);
    snprintf(reason, sizeof reason, "%s was seen first in %s", key, where);
    return d->host->row_reject(d->ctx, in, r, "duplicate", reason);
}

/* The key cells of row r into d->cells; 1 when one of them is NULL. */
static int read_key(dedupe_state *d, const mk_batch *in, size_t r, const long *cols)
{
    int has_null = 0;
    for (size_t i = 0; i < d->nkey; i++) {
        d->cells[i] = MK_CELL(in, r, cols[i]);
        has_null |= MK_IS_NULL(d->cells[i]);
    }
    return has_null;
}

/* The hash of every row's key, each slot asked for at once: in a big set
 * every key is a cache miss, and asked for together the misses overlap. */
static int hash_batch(dedupe_state *d, const mk_batch *in, const long *cols)
{
    if (in->nrows > d->hashes_cap) {
        size_t cap = in->nrows;
        void *h = realloc(d->hashes, cap * sizeof(*d->hashes));
        if (h)
            d->hashes = h;
        void *n = realloc(d->has_null, cap);
        if (n)
            d->has_null = n;
        if (!h || !n)
            return MK_NOMEM;
        d->hashes_cap = cap;
    }
    for (size_t r = 0; r < in->nrows; r++) {
        d->has_null[r] = (uint8_t)read_key(d, in, r, cols);
        if (d->has_null[r] && d->null_key != NULL_COMPARE)
            continue;
        mkk_key_hash(d->cells, d->nkey, d->hashes[r]);
        mkk_keyset_prefetch(d->seen, d->hashes[r]);
    }
    return MK_OK;
}

/* The fate of row r: pass, reject or drop. */
static int dedupe_row(dedupe_state *d, const mk_batch *in, size_t r, const long *cols,
                      mk_batch *out)
{
    const mk_host *h = d->host;
    if (d->has_null[r] && d->null_key != NULL_COMPARE) {
        d->null_keys++;
        if (d->null_key == NULL_PASS)
            return h->row_pass(d->ctx, in, r, out);
        char key[400], reason[500];
        read_key(d, in, r, cols);
        describe_key(d, key, sizeof key);
        snprintf(reason, sizeof reason, "the key has a NULL cell: %s", key);
        return h->row_reject(d->ctx, in, r, "duplicate.null_key", reason);
    }
    uint64_t first = 0;
    int seen = mkk_keyset_insert(d->seen, d->hashes[r], make_payload(d, in, r), &first);
    if (seen < 0)
        return MK_NOMEM;
    if (seen) {
        read_key(d, in, r, cols); /* for the reason */
        return duplicate_row(d, in, r, first);
    }
    return h->row_pass(d->ctx, in, r, out);
}

static int dedupe_process(void *state, const mk_batch *in, mk_batch *out)
{
    dedupe_state *d = state;
    const long *cols = key_columns(d, in->schema);
    if (!cols)
        return MK_ERROR;
    out->schema = in->schema;
    int rc = hash_batch(d, in, cols);
    for (size_t r = 0; rc == MK_OK && r < in->nrows; r++)
        rc = dedupe_row(d, in, r, cols, out);
    if (rc != MK_OK)
        return rc;
    d->host->rule_checked(d->ctx, "duplicate", in->nrows);
    return MK_OK;
}

/* The report: keys held, memory held, duplicates found. */
static int dedupe_finish(void *state, mk_batch *out)
{
    (void)out;
    dedupe_state *d = state;
    const mk_host *h = d->host;
    h->report_add(d->ctx, "keys", (int64_t)mkk_keyset_count(d->seen));
    h->report_add(d->ctx, "key_memory_bytes", (int64_t)mkk_keyset_bytes(d->seen));
    h->report_add(d->ctx, "duplicates", (int64_t)d->duplicates);
    h->report_add(d->ctx, "null_keys", (int64_t)d->null_keys);
    return MK_OK;
}

static void dedupe_close(void *state)
{
    dedupe_state *d = state;
    if (!d)
        return;
    mkk_colmap_free(d->columns);
    mkk_keyset_free(d->seen);
    free(d->cells);
    free(d->origins);
    free(d->hashes);
    free(d->has_null);
    free(d);
}

static const mk_transform_ops dedupe_ops = {dedupe_open, dedupe_process, dedupe_finish,
                                            dedupe_close};

static const mk_plugin dedupe_plugin = {
    MK_PLUGIN_HEAD, "dedupe", PACKAGE_VERSION,
    "one row per key: later occurrences rejected (rule duplicate) or dropped",
    NULL, NULL, options, &dedupe_ops, NULL, NULL,
    offsetof(mk_host, row_origin) + sizeof(void (*)(void)), /* uses row_origin */
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &dedupe_plugin;
}
