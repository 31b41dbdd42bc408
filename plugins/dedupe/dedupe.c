/*
 * dedupe.c -- the dedupe transform: one row per key.
 *
 *   key: [national_id]         the columns that make the key (one or more)
 *   keep: first                which occurrence passes: first or last
 *   on_duplicate: reject       reject (rule "duplicate", the reason names
 *                              where the first occurrence came from) or drop
 *   null_key: pass             a key with a NULL cell: pass (never a
 *                              duplicate, as in SQL), reject
 *                              (rule "duplicate.null_key") or compare (NULL
 *                              is a value like any other)
 *   memory_mb: 8192            what the step may hold (keys, and held rows
 *                              for keep: last); more ends the run
 *   shard_keys, shard_duplicates, shard_index, shard_buckets: set by the
 *                              engine for dedupe across shards (below)
 *
 * Trade-off: keys are kept as 128-bit hashes in an mkk_keyset (32 to 64
 * bytes a key, never the key's bytes), each with a 64-bit payload that
 * says where the key was first seen: an index into a small table of
 * (source, file) pairs and the record number in that file.  So memory
 * grows with the number of distinct keys only, and a reason can name the
 * first occurrence without keeping its row.  Two keys whose hashes are
 * equal count as one (odds in docs/PLUGIN-KIT.md).
 *
 * keep: last holds rows (mk_host.row_hold): every row with a key is held
 * by the host, the key's payload is the number of its held row, and a
 * later occurrence rejects (or drops) the one held before it at once,
 * naming itself; at finish() the rows still held -- the last occurrence
 * of each key, and rows whose key has a NULL with null_key: pass -- pass
 * in the order they were read.  So memory holds one row per distinct key
 * until the end (see docs/PLUGINS.md, dedupe), bounded by memory_mb.
 *
 * Across shards (keep: first; docs/SCALE.md), the engine sets shard
 * options: with shard_keys the step writes every row's key hash, number
 * and origin into shard_buckets bucket files (dedupe_shard.c) and drops
 * the row; with shard_duplicates it keeps no key and takes its shard's
 * duplicates, decided per bucket over all shards, from those lists.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe_stage.h"
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
    int on_duplicate, null_key, keep_last;
    size_t memory_limit; /* bytes: keys and held rows */
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
    /* keep: last */
    const mk_schema *held_schema; /* every held row has it */
    uint64_t *live;               /* a bit per held row: still held */
    size_t live_words;
    uint64_t nheld;               /* rows held so far */
    size_t held_peak;             /* bytes */
    /* across shards: one of these, or neither */
    ds_keys *keys; /* the keys stage */
    ds_dups *dups; /* a shard's run after the decide stage */
    uint64_t seq;  /* rows that reached the step */
    uint64_t distinct; /* with dups: first occurrences seen */
} dedupe_state;

static const mk_option_decl options[] = {
    {"key", MK_OPT_LIST, 1, NULL, "the columns that make the key: [national_id]"},
    {"keep", MK_OPT_STRING, 0, "first", "which occurrence of a key passes", "first|last"},
    {"on_duplicate", MK_OPT_STRING, 0, "reject",
     "an occurrence that does not pass is rejected (rule duplicate) or dropped", "reject|drop"},
    {"null_key", MK_OPT_STRING, 0, "pass",
     "a key with a NULL cell: pass, reject (rule duplicate.null_key) or compare as a value",
     "pass|reject|compare"},
    {"memory_mb", MK_OPT_INT, 0, "8192",
     "memory cap of the keys and, with keep: last, the held rows, in MB; more ends the run"},
    {"shard_keys", MK_OPT_STRING, 0, NULL,
     "across shards (set by mekong run --stage keys): write every row's key into bucket files in "
     "this folder and drop the row"},
    {"shard_duplicates", MK_OPT_STRING, 0, NULL,
     "across shards (set by mekong run --shard): the plan's folder, whose bucket-B/duplicates "
     "lists say which rows of this shard are duplicates"},
    {"shard_index", MK_OPT_INT, 0, "0", "across shards: this shard's number"},
    {"shard_buckets", MK_OPT_INT, 0, "0", "across shards: the number of buckets (= shards)"},
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

/* The shard options: the keys stage, or a shard's duplicates, or neither. */
static int open_shard_stage(dedupe_state *d)
{
    const mk_host *h = d->host;
    const char *keys = h->opt_string(d->ctx, "shard_keys");
    const char *dups = h->opt_string(d->ctx, "shard_duplicates");
    keys = keys && *keys ? keys : NULL;
    dups = dups && *dups ? dups : NULL;
    if (!keys && !dups)
        return MK_OK;
    long long index = h->opt_int(d->ctx, "shard_index");
    long long buckets = h->opt_int(d->ctx, "shard_buckets");
    if ((keys && dups) || d->keep_last || buckets < 1 || buckets > 100000 || index < 0 ||
        index >= buckets) {
        h->error(d->ctx, "shard_keys, shard_duplicates, shard_index and shard_buckets are set "
                 "by mekong run --shard for dedupe across shards (keep: first only, one of the "
                 "first two, 0 <= shard_index < shard_buckets); leave them out of the pipeline");
        return MK_ERROR;
    }
    if (keys)
        d->keys = ds_keys_open(h, d->ctx, keys, (uint32_t)index, (uint32_t)buckets);
    else
        d->dups = ds_dups_open(h, d->ctx, dups, (uint32_t)index, (uint32_t)buckets);
    return d->keys || d->dups ? MK_OK : MK_ERROR;
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
    d->keep_last = mkk_opt_choice(host, ctx, "keep", "first|last") == 1;
    if (d->keep_last && !MK_HOST_HAS(host, held_bytes)) {
        host->error(ctx, "keep: last needs a newer mekong (its host cannot hold rows); "
                         "use keep: first");
        return MK_ERROR;
    }
    long long mb = host->opt_int(ctx, "memory_mb");
    if (mb < 1 || mb > 1048576) {
        host->error(ctx, "memory_mb is %s; give a number of MB from 1 to 1048576",
                    host->opt_string(ctx, "memory_mb"));
        return MK_ERROR;
    }
    d->memory_limit = (size_t)mb << 20;
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
    return open_shard_stage(d);
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

/* Where the first occurrence came from, for people: source (NULL: not
 * known), file, and the payload's record or line number. */
static void describe_origin(const char *source, const char *file, uint64_t payload, char *buf,
                            size_t len)
{
    uint64_t n = payload & NUMBER_MASK;
    const char *unit = payload & IS_LINE_BIT ? "line" : "record";
    if (!source)
        snprintf(buf, len, "a row of no known source (%s %" PRIu64 ")", unit, n);
    else if (file)
        snprintf(buf, len, "%s %s %" PRIu64 " (%s)", source, unit, n, file);
    else
        snprintf(buf, len, "%s %s %" PRIu64, source, unit, n);
}

static void describe_first(dedupe_state *d, uint64_t payload, char *buf, size_t len)
{
    uint32_t o = (uint32_t)(payload >> 49);
    if (o >= d->norigins) {
        describe_origin(NULL, NULL, payload, buf, len);
        return;
    }
    describe_origin(d->origins[o].name, d->origins[o].file, payload, buf, len);
}

/* Row r is a duplicate of the key seen first at where. */
static int duplicate_of(dedupe_state *d, const mk_batch *in, size_t r, const char *where)
{
    d->duplicates++;
    if (d->on_duplicate == ON_DUP_DROP)
        return d->host->row_drop(d->ctx, in, r);
    char key[400], reason[1100];
    describe_key(d, key, sizeof key);
    snprintf(reason, sizeof reason, "%s was seen first in %s", key, where);
    return d->host->row_reject(d->ctx, in, r, "duplicate", reason);
}

static int duplicate_row(dedupe_state *d, const mk_batch *in, size_t r, uint64_t first)
{
    char where[600];
    describe_first(d, first, where, sizeof where);
    return duplicate_of(d, in, r, where);
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
        if ((d->has_null[r] && d->null_key != NULL_COMPARE) || d->dups)
            continue; /* a shard after the decide stage needs no hash */
        mkk_key_hash(d->cells, d->nkey, d->hashes[r]);
        mkk_keyset_prefetch(d->seen, d->hashes[r]);
    }
    return MK_OK;
}

static int reject_null_key(dedupe_state *d, const mk_batch *in, size_t r, const long *cols)
{
    char key[400], reason[500];
    read_key(d, in, r, cols);
    describe_key(d, key, sizeof key);
    snprintf(reason, sizeof reason, "the key has a NULL cell: %s", key);
    return d->host->row_reject(d->ctx, in, r, "duplicate.null_key", reason);
}

/* The fate of row r: pass, reject or drop. */
static int dedupe_row(dedupe_state *d, const mk_batch *in, size_t r, const long *cols,
                      mk_batch *out)
{
    const mk_host *h = d->host;
    if (d->has_null[r] && d->null_key != NULL_COMPARE) {
        d->null_keys++;
        return d->null_key == NULL_PASS ? h->row_pass(d->ctx, in, r, out)
                                        : reject_null_key(d, in, r, cols);
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

/* ---- across shards ------------------------------------------------------- */

/* The keys stage: row r's key to its bucket; the row goes no further. */
static int key_row(dedupe_state *d, const mk_batch *in, size_t r)
{
    uint64_t seq = d->seq++;
    if (!d->has_null[r] || d->null_key == NULL_COMPARE) {
        int rc = ds_keys_add(d->keys, d->hashes[r], seq, make_payload(d, in, r));
        if (rc != MK_OK)
            return rc;
    }
    return d->host->row_drop(d->ctx, in, r);
}

static int out_of_step(dedupe_state *d)
{
    d->host->error(d->ctx, "the rows reaching dedupe in this shard (%" PRIu64 " so far) are not "
                   "the %" PRIu64 " rows its keys stage saw: the input or the steps before "
                   "dedupe changed since; run the keys and decide stages again (docs/SCALE.md)",
                   d->seq, ds_dups_rows(d->dups));
    return MK_ERROR;
}

/* A shard after the decide stage: row r is a duplicate when the lists say
 * so; NULL keys as in one run. */
static int dedupe_row_shard(dedupe_state *d, const mk_batch *in, size_t r, const long *cols,
                            mk_batch *out)
{
    const mk_host *h = d->host;
    uint64_t seq = d->seq++, next = ds_dups_next(d->dups);
    if (next < seq || seq >= ds_dups_rows(d->dups))
        return out_of_step(d);
    if (d->has_null[r] && d->null_key != NULL_COMPARE) {
        d->null_keys++;
        if (next == seq)
            return out_of_step(d);
        return d->null_key == NULL_PASS ? h->row_pass(d->ctx, in, r, out)
                                        : reject_null_key(d, in, r, cols);
    }
    if (next != seq) {
        d->distinct++;
        return h->row_pass(d->ctx, in, r, out);
    }
    ds_origin first;
    uint64_t payload;
    if (ds_dups_take(d->dups, &first, &payload) != MK_OK)
        return MK_ERROR;
    char where[600];
    describe_origin(first.source, first.file, payload, where, sizeof where);
    read_key(d, in, r, cols); /* for the reason */
    return duplicate_of(d, in, r, where);
}

/* The end of the keys stage: the origins its payloads name, and the files
 * into the publish set. */
static int finish_keys(dedupe_state *d)
{
    ds_origin *o = calloc(d->norigins ? d->norigins : 1, sizeof(*o));
    if (!o)
        return MK_NOMEM;
    for (size_t i = 0; i < d->norigins; i++)
        o[i] = (ds_origin){d->origins[i].name, d->origins[i].file};
    int rc = ds_keys_finish(d->keys, d->seq, o, d->norigins);
    free(o);
    d->host->report_add(d->ctx, "rows_to_buckets", (int64_t)d->seq);
    return rc;
}

/* The end of a shard after the decide stage: every row the keys stage saw
 * came, every duplicate listed was found. */
static int finish_shard(dedupe_state *d)
{
    if (d->seq != ds_dups_rows(d->dups) || ds_dups_next(d->dups) != UINT64_MAX)
        return out_of_step(d);
    const mk_host *h = d->host;
    h->report_add(d->ctx, "keys", (int64_t)d->distinct);
    h->report_add(d->ctx, "key_memory_bytes", (int64_t)ds_dups_bytes(d->dups));
    h->report_add(d->ctx, "duplicates", (int64_t)d->duplicates);
    h->report_add(d->ctx, "null_keys", (int64_t)d->null_keys);
    return MK_OK;
}

/* ---- keep: last --------------------------------------------------------- */

/* What the step holds: keys, and held rows with their bits. */
static size_t memory_held(dedupe_state *d)
{
    size_t rows = d->keep_last ? d->host->held_bytes(d->ctx) + d->live_words * 8 : 0;
    return mkk_keyset_bytes(d->seen) + rows;
}

/* 1 (and the message) when the step holds more than memory_mb. */
static int over_memory(dedupe_state *d)
{
    size_t now = memory_held(d);
    if (now > d->held_peak)
        d->held_peak = now;
    if (now <= d->memory_limit)
        return 0;
    size_t mb = d->memory_limit >> 20, keys = mkk_keyset_count(d->seen);
    if (d->keep_last)
        d->host->error(d->ctx,
                       "dedupe holds more than memory_mb (%zu MB): %zu keys and the last row of "
                       "each for keep: last (%zu bytes in all); raise memory_mb, or sort the "
                       "input newest first and use keep: first, which holds no rows",
                       mb, keys, now);
    else
        d->host->error(d->ctx,
                       "dedupe holds more than memory_mb (%zu MB): %zu keys (%zu bytes, 32 to "
                       "64 a key); raise memory_mb",
                       mb, keys, now);
    return 1;
}

/* Mark held row id as still held (on) or released. */
static int set_live(dedupe_state *d, uint64_t id, int on)
{
    size_t w = (size_t)(id / 64);
    if (w >= d->live_words) {
        size_t n = d->live_words ? d->live_words * 2 : 256;
        while (n <= w)
            n *= 2;
        uint64_t *grown = realloc(d->live, n * sizeof(*grown));
        if (!grown)
            return MK_NOMEM;
        memset(grown + d->live_words, 0, (n - d->live_words) * sizeof(*grown));
        d->live = grown;
        d->live_words = n;
    }
    if (on)
        d->live[w] |= 1ull << (id % 64);
    else
        d->live[w] &= ~(1ull << (id % 64));
    return MK_OK;
}

/* Hold row r until a later occurrence or the end. */
static int hold_row(dedupe_state *d, const mk_batch *in, size_t r, uint64_t *id)
{
    if (!d->held_schema)
        d->held_schema = in->schema;
    if (in->schema != d->held_schema) {
        mk_origin where;
        d->host->row_origin(d->ctx, in, r, &where);
        d->host->error(d->ctx,
                       "keep: last needs every row to have the same columns, and rows of %s "
                       "have other columns than the rows before them; make them alike (a map "
                       "step before dedupe) or use keep: first",
                       where.source ? where.source : "an earlier step's finish");
        return MK_ERROR;
    }
    int rc = d->host->row_hold(d->ctx, in, r, id);
    if (rc == MK_OK)
        rc = set_live(d, *id, 1);
    if (rc != MK_OK)
        return rc;
    d->nheld++;
    return over_memory(d) ? MK_ERROR : MK_OK;
}

/* Held row old has a later occurrence: row r of in. */
static int superseded(dedupe_state *d, const mk_batch *in, size_t r, const long *cols,
                      uint64_t old)
{
    d->duplicates++;
    set_live(d, old, 0);
    if (d->on_duplicate == ON_DUP_DROP)
        return d->host->held_drop(d->ctx, old);
    char key[400], where[600], reason[1100];
    read_key(d, in, r, cols);
    describe_key(d, key, sizeof key);
    describe_first(d, make_payload(d, in, r), where, sizeof where);
    snprintf(reason, sizeof reason, "%s has a later occurrence in %s (keep: last)", key, where);
    return d->host->held_reject(d->ctx, old, "duplicate", reason);
}

/* Row r is held; the row held before it with the same key is not. */
static int dedupe_row_last(dedupe_state *d, const mk_batch *in, size_t r, const long *cols)
{
    uint64_t id, old;
    if (d->has_null[r] && d->null_key != NULL_COMPARE) {
        d->null_keys++;
        return d->null_key == NULL_PASS ? hold_row(d, in, r, &id)
                                        : reject_null_key(d, in, r, cols);
    }
    int rc = hold_row(d, in, r, &id);
    if (rc != MK_OK)
        return rc;
    int seen = mkk_keyset_replace(d->seen, d->hashes[r], id, &old);
    if (seen < 0)
        return MK_NOMEM;
    return seen ? superseded(d, in, r, cols, old) : MK_OK;
}

/* The rows still held pass, in the order they were read. */
static int release_held(dedupe_state *d, mk_batch *out)
{
    uint64_t released = 0;
    for (size_t w = 0; w < d->live_words; w++) {
        for (uint64_t bits = d->live[w]; bits; bits &= bits - 1) {
            uint64_t id = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(bits);
            int rc = d->host->held_pass(d->ctx, id, out);
            if (rc != MK_OK)
                return rc;
            released++;
        }
        d->live[w] = 0;
    }
    d->host->report_add(d->ctx, "held_rows_passed", (int64_t)released);
    d->host->report_add(d->ctx, "held_memory_peak_bytes", (int64_t)d->held_peak);
    return MK_OK;
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
        rc = d->keep_last ? dedupe_row_last(d, in, r, cols)
             : d->keys    ? key_row(d, in, r)
             : d->dups    ? dedupe_row_shard(d, in, r, cols, out)
                          : dedupe_row(d, in, r, cols, out);
    if (rc == MK_OK && !d->keep_last && over_memory(d))
        rc = MK_ERROR;
    if (rc != MK_OK)
        return rc;
    d->host->rule_checked(d->ctx, "duplicate", in->nrows);
    return MK_OK;
}

/* The report: keys held, memory held, duplicates found; keep: last
 * passes the rows it still holds. */
static int dedupe_finish(void *state, mk_batch *out)
{
    dedupe_state *d = state;
    const mk_host *h = d->host;
    if (d->keys)
        return finish_keys(d);
    if (d->dups)
        return finish_shard(d);
    int rc = d->keep_last ? release_held(d, out) : MK_OK;
    if (rc != MK_OK)
        return rc;
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
    ds_keys_close(d->keys);
    ds_dups_close(d->dups);
    mkk_colmap_free(d->columns);
    mkk_keyset_free(d->seen);
    free(d->cells);
    free(d->origins);
    free(d->hashes);
    free(d->has_null);
    free(d->live);
    free(d);
}

static const mk_transform_ops dedupe_ops = {dedupe_open, dedupe_process, dedupe_finish,
                                            dedupe_close};

static const mk_plugin dedupe_plugin = {
    MK_PLUGIN_HEAD, "dedupe", PACKAGE_VERSION,
    "one row per key (its first or last): the other occurrences rejected (rule duplicate) or dropped",
    NULL, NULL, options, &dedupe_ops, NULL, NULL,
    offsetof(mk_host, row_origin) + sizeof(void (*)(void)), /* uses row_origin */
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &dedupe_plugin;
}
