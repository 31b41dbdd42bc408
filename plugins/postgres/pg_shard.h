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
#include "pg_state.h"

/* The schema holding staging tables and the merge ledger. */
#define PG_SHARD_SCHEMA "mekong_shard"

/* ---- source ---- */

/* An incremental source's columns and the stored mark (n 0: not
 * incremental; old->nvalues 0: no mark, or --full-refresh). */
typedef struct pg_shard_inc {
    const char *const *names;
    size_t n;
    const pg_state_mark *old;
} pg_shard_inc;

/* 1 when the source is a shard of a plan (mekong run --shard set shard_rows). */
int pg_shard_is_shard(mk_context *ctx, const mk_host *h);

/* mekong plan (option shard_plan: N): find the N-1 cut values of
 * shard_key over the table (and where) and report them to the host as
 * shard_total, shard_cut_<k> and shard_pos_<k> (k = 1..N-1); with
 * incremental, cuts of the rows above the mark (pg_shard_inc.c).  MK_OK
 * or MK_ERROR after host->error. */
int pg_shard_plan(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc);

/* A shard's source (shard_from / shard_to set, or shard_key alone in one
 * run; incremental: the mark and the tuple bounds): send the range's
 * bounds as session settings (bound parameters) on c, while its
 * client_encoding is still UTF8.  MK_OK or MK_ERROR. */
int pg_shard_source_setup(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc);

/* Append the range condition (" AND ..." or " WHERE ...": cond says
 * whether a WHERE came before; a shard of an incremental source: the
 * mark's and the tuple bounds') and the ORDER BY: the incremental columns
 * then shard_key (unless among them), or shard_key, or none.  MK_OK,
 * MK_NOMEM or MK_ERROR. */
int pg_shard_source_sql(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *sql, int cond,
                        const pg_shard_inc *inc);

/* The record number before the shard's first row (shard_record, or 0). */
uint64_t pg_shard_first_record(mk_context *ctx, const mk_host *h);

/* At the end of the shard's COPY: MK_OK when it read the planned number
 * of rows (shard_rows), else MK_ERROR (the table changed since the plan). */
int pg_shard_source_check(mk_context *ctx, const mk_host *h, uint64_t read);

/* ---- pg_shard.c for pg_shard_inc.c ---- */

/* " FROM table [WHERE (where)]" into b: MK_OK or MK_NOMEM. */
int pg_shard_from(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *b);
/* The rows of " FROM ..." from into *total, after checking that shard_key
 * is unique and never NULL there.  MK_OK or MK_ERROR. */
int pg_shard_check_key(pg_conn *c, mk_context *ctx, const mk_host *h, const char *from,
                       long long *total);
/* Cut k of n over total rows at a multiple of batch. */
long long pg_shard_cut_position(int k, int n, long long total, long long batch);
/* The table's column's type as the server names it (malloc'd), or NULL
 * after host->error. */
char *pg_shard_column_type(pg_conn *c, mk_context *ctx, const mk_host *h, const char *column);
/* Rows for a parameterised statement. */
PGresult *pg_shard_exec_params(pg_conn *c, const char *sql, int n, const char *const *params);

/* ---- pg_shard_inc.c: incremental sources in shards ---- */

/* The columns shards order and cut an incremental source by: its
 * incremental columns, then shard_key unless it is one of them; *n of
 * them (malloc'd array of borrowed names), NULL on no memory. */
const char **pg_shard_inc_tuple(const pg_shard_inc *inc, const char *key, size_t *n);
int pg_shard_inc_plan(pg_conn *c, mk_context *ctx, const mk_host *h, int n, long long batch,
                      const pg_shard_inc *inc);
int pg_shard_inc_setup(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc);
/* A shard's condition: the mark's (one run's), then the tuple bounds. */
int pg_shard_inc_sql(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *sql, int cond,
                     const pg_shard_inc *inc);

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
