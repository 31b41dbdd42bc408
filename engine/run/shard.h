/*
 * shard.h -- one pipeline run as N shards under a job scheduler
 * (docs/SCALE.md): `mekong plan` writes a shard plan into a shared
 * folder, `mekong run --shard I` runs one shard of it into that folder,
 * `mekong merge` joins the shards' parts and publishes them as one run.
 *
 * The shared folder DIR holds plan.json and, per plan, DIR/<plan id>/
 * shard-<I>/ with the shard's part files, rejects, report.json and run
 * folder (locks, journal).  A shard publishes its folder's files as one
 * set, so a retry replaces its own parts and nothing else.
 *
 *   shard_plan.c   which pipelines can be sharded; the plan (files, or
 *                  byte ranges found by a pass over quote parity)
 *   shard.c        reading the plan; a shard's pipeline; the merge
 */
#ifndef MEKONG_SHARD_H
#define MEKONG_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

/* 1 when p can run as shards, else 0 with why in msg. */
int mk_shard_supported(const mk_pipeline *p, char *msg, size_t len);

/* mekong plan: write DIR/plan.json for n shards.  An exit code. */
int mk_shard_plan(const mk_pipeline *p, int n, const char *dir);

/* mekong run --shard: which is a number or "auto" (JOB_COMPLETION_INDEX,
 * or SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN).  Turns p into that
 * shard's pipeline (its source reads the shard's part of the input, its
 * outputs go to the shard's folder, thresholds wait for the merge);
 * *report: where its report goes (malloc'd).  An exit code. */
int mk_shard_prepare(mk_pipeline *p, const char *dir, const char *which, char **report);

/* mekong merge: refuse unless every shard of the plan finished; join the
 * parts in plan order and publish them, the rejects and one report as one
 * set.  report: --report, or NULL.  An exit code. */
int mk_shard_merge(mk_pipeline *p, const char *dir, const char *report);

/* shard.c, for shard_plan.c: the plan file of DIR (malloc'd). */
char *mk_shard_plan_path(const char *dir);

/* shard_plan.c, for shard_pg.c: the plan's first members (id, pipeline, mode). */
struct mk_outfile;
void mk_shard_plan_head(struct mk_outfile *f, const mk_pipeline *p, int n, const char *mode);

/* shard_pg.c: PostgreSQL sources (key ranges) and sinks (staging tables
 * merged in one transaction) through the postgres plugin's shard options.
 *   supported     the postgres-specific conditions (1, or 0 with msg)
 *   plan          mekong plan of a postgres source: DIR/plan.json, "mode": "keys"
 *   point_source  a shard's range: from/to NULL = unbounded
 *   point_sink    a shard's sink loads its staging table
 *   merge         apply every postgres sink's staging tables and commit,
 *                 or roll all back (MK_OK or MK_ERROR after mk_run_fail) */
int mk_shard_pg_supported(const mk_pipeline *p, char *msg, size_t len);
int mk_shard_pg_plan(mk_pipeline *p, int n, const char *dir);
int mk_shard_pg_point_source(mk_step *src, const char *from, const char *to, uint64_t record,
                             uint64_t rows);
int mk_shard_pg_point_sink(mk_step *sink, const char *plan, size_t i, int k);
struct mk_run;
int mk_shard_pg_merge(struct mk_run *run, const char *plan, int shards);

#endif
