/*
 * sch_shard.c -- a schema step's keys across shards (sch_shard.h), over
 * the keys and duplicates files of dedupe across shards
 * (plugins/dedupe/dedupe_shard.c).
 *
 * A key space is named in the files' table of origins ("schema key K"),
 * so a duplicate read back says which of the step's keys it is; the
 * number a duplicate carries is the line of the first occurrence, which
 * is what the step's reason names in one run.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe_shard.h"
#include "dedupe_stage.h"
#include "sch_shard.h"

#define LINE_MASK ((UINT64_C(1) << 48) - 1)

struct sch_shard {
    const mk_host *h;
    mk_context *ctx;
    size_t nspaces;
    ds_keys *keys;
    ds_dups *dups;
    char (*labels)[32];
    uint64_t seq;      /* the shard run: the row begun */
    uint64_t *first;   /* per space: the first occurrence's line */
    unsigned char *is; /* per space: the row's key is a duplicate */
    size_t listed, asked;
};

/* Space k's own hash: the key's, mixed with a constant of k. */
static void mix(size_t k, const uint64_t in[2], uint64_t out[2])
{
    uint64_t z = (uint64_t)k + UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    out[0] = in[0] ^ z;
    out[1] = in[1] ^ (z * UINT64_C(0xff51afd7ed558ccd) + 1);
}

int sch_shard_open(const mk_host *h, mk_context *ctx, size_t nspaces, sch_shard **out)
{
    *out = NULL;
    const char *keys = h->opt_string(ctx, "shard_keys");
    const char *dups = h->opt_string(ctx, "shard_duplicates");
    if (!keys && !dups)
        return MK_OK;
    long long index = h->opt_int(ctx, "shard_index"), buckets = h->opt_int(ctx, "shard_buckets");
    if ((keys && dups) || index < 0 || buckets < 1 || index >= buckets || !nspaces ||
        nspaces >= DS_ORIGIN_UNKNOWN) {
        h->error(ctx, "shard_keys, shard_duplicates and shard_buckets are set by mekong run "
                 "--shard for the keys of a schema across shards (one of the first two, 0 <= "
                 "shard_index < shard_buckets, a schema with keys); leave them out of the "
                 "pipeline");
        return MK_ERROR;
    }
    sch_shard *sh = calloc(1, sizeof(*sh));
    if (!sh || !(sh->labels = calloc(nspaces, sizeof(*sh->labels))) ||
        !(sh->first = calloc(nspaces, sizeof(uint64_t))) || !(sh->is = calloc(nspaces, 1))) {
        sch_shard_close(sh);
        return MK_NOMEM;
    }
    sh->h = h, sh->ctx = ctx, sh->nspaces = nspaces;
    for (size_t k = 0; k < nspaces; k++)
        snprintf(sh->labels[k], sizeof sh->labels[k], "schema key %zu", k);
    if (keys)
        sh->keys = ds_keys_open(h, ctx, keys, (uint32_t)index, (uint32_t)buckets);
    else
        sh->dups = ds_dups_open(h, ctx, dups, (uint32_t)index, (uint32_t)buckets);
    if (!sh->keys && !sh->dups) {
        sch_shard_close(sh);
        return MK_ERROR;
    }
    *out = sh;
    return MK_OK;
}

int sch_shard_is_keys(const sch_shard *sh)
{
    return sh->keys != NULL;
}

int sch_shard_add(sch_shard *sh, size_t k, const uint64_t hash[2], uint64_t seq, uint64_t line)
{
    uint64_t h[2];
    mix(k, hash, h);
    return ds_keys_add(sh->keys, h, seq, (uint64_t)k << DS_ORIGIN_SHIFT | (line & LINE_MASK));
}

static int out_of_step(sch_shard *sh)
{
    sh->h->error(sh->ctx, "the rows reaching this schema step in this shard (%" PRIu64 " so far) "
                 "are not the %" PRIu64 " rows, with the keys, its keys stage saw: the input or "
                 "the steps before it changed since; run the keys and decide stages again "
                 "(docs/SCALE.md)",
                 sh->seq, ds_dups_rows(sh->dups));
    return MK_ERROR;
}

/* The key space a duplicate's origin names, or nspaces. */
static size_t space_of(const sch_shard *sh, const ds_origin *o)
{
    for (size_t k = 0; o->source && k < sh->nspaces; k++)
        if (strcmp(o->source, sh->labels[k]) == 0)
            return k;
    return sh->nspaces;
}

int sch_shard_row(sch_shard *sh, uint64_t seq)
{
    sh->seq = seq;
    memset(sh->is, 0, sh->nspaces);
    sh->listed = sh->asked = 0;
    if (seq >= ds_dups_rows(sh->dups) || ds_dups_next(sh->dups) < seq)
        return out_of_step(sh);
    while (ds_dups_next(sh->dups) == seq) {
        ds_origin o;
        uint64_t payload;
        if (ds_dups_take(sh->dups, &o, &payload) != MK_OK)
            return MK_ERROR;
        size_t k = space_of(sh, &o);
        if (k == sh->nspaces || sh->is[k])
            return out_of_step(sh);
        sh->is[k] = 1;
        sh->first[k] = payload & LINE_MASK;
        sh->listed++;
    }
    return MK_OK;
}

int sch_shard_dup(sch_shard *sh, size_t k, uint64_t *first)
{
    if (!sh->is[k])
        return 0;
    *first = sh->first[k];
    sh->asked++;
    return 1;
}

int sch_shard_row_end(sch_shard *sh)
{
    return sh->asked == sh->listed ? MK_OK : out_of_step(sh);
}

int sch_shard_finish(sch_shard *sh, uint64_t rows)
{
    if (sh->dups) {
        sh->seq = rows;
        return rows == ds_dups_rows(sh->dups) && ds_dups_next(sh->dups) == UINT64_MAX
                   ? MK_OK
                   : out_of_step(sh);
    }
    ds_origin *o = calloc(sh->nspaces, sizeof(*o));
    if (!o)
        return MK_NOMEM;
    for (size_t k = 0; k < sh->nspaces; k++)
        o[k] = (ds_origin){sh->labels[k], NULL};
    int rc = ds_keys_finish(sh->keys, rows, o, sh->nspaces);
    free(o);
    sh->h->report_add(sh->ctx, "rows_to_buckets", (int64_t)rows);
    return rc;
}

size_t sch_shard_bytes(const sch_shard *sh)
{
    return sh->dups ? ds_dups_bytes(sh->dups) : 0;
}

void sch_shard_close(sch_shard *sh)
{
    if (!sh)
        return;
    ds_keys_close(sh->keys);
    ds_dups_close(sh->dups);
    free(sh->labels);
    free(sh->first);
    free(sh->is);
    free(sh);
}
