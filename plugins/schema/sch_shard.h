/*
 * sch_shard.h -- a schema step's keys across shards (docs/SCALE.md,
 * "Schema keys across shards").  The step's keys (primaryKey, each
 * uniqueKeys entry, each unique field: its "key spaces", numbered in that
 * order) are decided over all rows by the stages of dedupe across shards,
 * through the same files (plugins/dedupe/dedupe_shard.h):
 *
 *   keys stage   every row reaching the step gives, for each key space
 *                whose values it has, the key's hash (mixed with the
 *                space, so spaces never meet), its number and its line
 *   decide       the engine's, as for dedupe: the first row in one run's
 *                order wins
 *   the shard    the row numbers listed are the duplicates, each with the
 *                line of the first occurrence, as one run's key set says
 */
#ifndef MEKONG_SCH_SHARD_H
#define MEKONG_SCH_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "mekong.h"

typedef struct sch_shard sch_shard;

/* From the step's shard options (shard_keys or shard_duplicates, with
 * shard_index and shard_buckets).  *out NULL when neither is set.  MK_OK,
 * or an error after host->error. */
int sch_shard_open(const mk_host *h, mk_context *ctx, size_t nspaces, sch_shard **out);
/* 1 in the keys stage (the rows go no further), 0 in the shard run. */
int sch_shard_is_keys(const sch_shard *sh);

/* The keys stage: the key of space k of the row numbered seq, at line. */
int sch_shard_add(sch_shard *sh, size_t k, const uint64_t hash[2], uint64_t seq, uint64_t line);

/* The shard run: row seq begins (its duplicates are taken from the
 * lists); sch_shard_dup says whether its key of space k is a duplicate
 * (1, *first the line of the first occurrence); sch_shard_row_end checks
 * that every duplicate listed for the row was asked for. */
int sch_shard_row(sch_shard *sh, uint64_t seq);
int sch_shard_dup(sch_shard *sh, size_t k, uint64_t *first);
int sch_shard_row_end(sch_shard *sh);

/* The end: the keys stage writes its files (rows: the rows that reached
 * the step); the shard run checks that as many rows came as in the keys
 * stage and every listed duplicate was found.  MK_OK or an error. */
int sch_shard_finish(sch_shard *sh, uint64_t rows);
/* Memory held by the shard run's lists. */
size_t sch_shard_bytes(const sch_shard *sh);
void sch_shard_close(sch_shard *sh);

#endif
