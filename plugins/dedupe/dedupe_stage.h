/*
 * dedupe_stage.h -- the dedupe step's part in dedupe across shards
 * (dedupe_shard.c; the files: dedupe_shard.h; the stages: docs/SCALE.md).
 *
 *   ds_keys   the keys stage: every row reaching the step gives its key
 *             hash, its number and where it came from to bucket file
 *             hash % N; the files join the run's publish set at the end
 *   ds_dups   a shard's run after the decide stage: the duplicates of
 *             this shard, the N buckets' lists merged by row number, each
 *             with where its key was seen first
 */
#ifndef MEKONG_DEDUPE_STAGE_H
#define MEKONG_DEDUPE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "mekong.h"

/* Where a key was seen first: a source's name and its file (or NULL). */
typedef struct ds_origin {
    const char *source, *file;
} ds_origin;

typedef struct ds_keys ds_keys;

/* Open the N bucket files of shard under folder dir.  NULL after
 * host->error. */
ds_keys *ds_keys_open(const mk_host *h, mk_context *ctx, const char *dir, uint32_t shard,
                      uint32_t buckets);
/* The key hash of row seq, with its origin payload.  MK_OK or MK_ERROR. */
int ds_keys_add(ds_keys *k, const uint64_t hash[2], uint64_t seq, uint64_t payload);
/* Write the origins file (rows: rows that reached the step; the n origins
 * its payloads index) and hand every file to the publish set. */
int ds_keys_finish(ds_keys *k, uint64_t rows, const ds_origin *origins, size_t n);
/* Free; files not finished are thrown away.  NULL is fine. */
void ds_keys_close(ds_keys *k);

typedef struct ds_dups ds_dups;

/* Read shard's duplicates from the N files dir/bucket-B/duplicates.  NULL
 * after host->error (a bucket not decided, or a file of another plan). */
ds_dups *ds_dups_open(const mk_host *h, mk_context *ctx, const char *dir, uint32_t shard,
                      uint32_t buckets);
/* The number of the next duplicate row, or UINT64_MAX when none is left. */
uint64_t ds_dups_next(const ds_dups *d);
/* Take the next duplicate: where its key was seen first and the payload
 * (record or line number).  MK_OK, or MK_ERROR after host->error. */
int ds_dups_take(ds_dups *d, ds_origin *first, uint64_t *payload);
/* The rows the keys stage saw reach the step in this shard. */
uint64_t ds_dups_rows(const ds_dups *d);
/* Memory held, in bytes. */
size_t ds_dups_bytes(const ds_dups *d);
void ds_dups_close(ds_dups *d);

#endif
