/*
 * pg_shard.h -- the postgres plugin's part in a sharded run (docs/SCALE.md,
 * docs/POSTGRES.md "Shards"): key ranges for the source, staging tables
 * and their one-transaction merge for the sink.  The engine drives it
 * through options it sets (shard_plan, shard_from, ... below); the
 * pipeline file sets only shard_key.
 */
#ifndef MEKONG_PG_SHARD_H
#define MEKONG_PG_SHARD_H

#include <stdint.h>

#include "pg_plugin.h"

/* The schema holding staging tables and the merge ledger. */
#define PG_SHARD_SCHEMA "mekong_shard"

/* ---- source ---- */

/* mekong plan (option shard_plan: N): find the N-1 cut values of
 * shard_key over the table (and where) and report them to the host as
 * shard_total, shard_cut_<k> and shard_pos_<k> (k = 1..N-1).  MK_OK or
 * MK_ERROR after host->error. */
int pg_shard_plan(pg_conn *c, mk_context *ctx, const mk_host *h);

/* A shard's source (shard_from / shard_to set, or shard_key alone in one
 * run): send the range's bounds as session settings (bound parameters) on
 * c, while its client_encoding is still UTF8.  MK_OK or MK_ERROR. */
int pg_shard_source_setup(pg_conn *c, mk_context *ctx, const mk_host *h);

/* Append the range condition (" AND ..." or " WHERE ...": cond says
 * whether a WHERE came before) and, when ordered (no incremental order),
 * " ORDER BY key" to sql.  0 or -1 (out of memory). */
int pg_shard_source_sql(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *sql, int cond,
                        int ordered);

/* The record number before the shard's first row (shard_record, or 0). */
uint64_t pg_shard_first_record(mk_context *ctx, const mk_host *h);

/* At the end of the shard's COPY: MK_OK when it read the planned number
 * of rows (shard_rows), else MK_ERROR (the table changed since the plan). */
int pg_shard_source_check(mk_context *ctx, const mk_host *h, uint64_t read);

/* ---- sink ---- */

/* A shard's sink (option shard_stage): drop its own staging table if a
 * previous attempt left it, create it like the target when the target
 * exists (*created = 1; else the load creates it as it would the target),
 * and give its quoted name in *stage (malloc'd) and, for messages, the
 * bare names of both (*names: "stage\0target\0", malloc'd).  In the
 * load's transaction, so a failed retry keeps the previous attempt's
 * table.  MK_OK or MK_ERROR. */
int pg_shard_stage_open(pg_conn *c, mk_context *ctx, const mk_host *h, const char *target,
                        int target_exists, char **stage, int *created, char **names);

/* Note the input's columns for the merge (the staging table has all the
 * target's, with its defaults, so the server refuses a row in the words it
 * would use for the target).  MK_OK or MK_ERROR. */
int pg_shard_stage_columns(pg_conn *c, mk_context *ctx, const mk_host *h, const mk_schema *sc);

/* The server's words about the staging table as about the target: every
 * occurrence of the staging table's name in buf (size n) becomes the
 * target's (names as pg_shard_stage_open gave them). */
void pg_shard_unstage(char *buf, size_t n, const char *names);

/* mekong merge (option shard_merge: the staging tables in shard order):
 * in the open transaction, apply them to target per mode (0 append, 1
 * replace, 2 upsert), drop them, and note the merge in the ledger; a merge
 * the ledger already holds does nothing.  The caller commits.  MK_OK or
 * MK_ERROR after host->error. */
int pg_shard_merge(pg_conn *c, mk_context *ctx, const mk_host *h, const char *target,
                   const char *table_name, int target_exists, int mode);

#endif
