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
 *   shard_dedupe.c dedupe across shards: the keys and decide stages
 */
#ifndef MEKONG_SHARD_H
#define MEKONG_SHARD_H

#include <stddef.h>

#include "pipeline.h"

/* 1 when p can run as shards, else 0 with why in msg. */
int mk_shard_supported(const mk_pipeline *p, char *msg, size_t len);

/* mekong plan: write DIR/plan.json for n shards.  An exit code. */
int mk_shard_plan(const mk_pipeline *p, int n, const char *dir);

/* mekong run --shard: which is a number or "auto" (JOB_COMPLETION_INDEX,
 * or SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN).  Turns p into that
 * shard's pipeline (its source reads the shard's part of the input, its
 * outputs go to the shard's folder, thresholds wait for the merge);
 * stage: NULL, or "keys" (--stage keys, dedupe across shards:
 * shard_dedupe.h); *report: where its report goes (malloc'd).  An exit
 * code. */
int mk_shard_prepare(mk_pipeline *p, const char *dir, const char *which, const char *stage,
                     char **report);

/* mekong merge: refuse unless every shard of the plan finished; join the
 * parts in plan order and publish them, the rejects and one report as one
 * set.  report: --report, or NULL.  An exit code. */
int mk_shard_merge(mk_pipeline *p, const char *dir, const char *report);

/* shard.c, for shard_plan.c: the plan file of DIR (malloc'd). */
char *mk_shard_plan_path(const char *dir);

/* shard.c, for shard_dedupe.c: the shard number which names (a number or
 * auto): 0, -1 not a number, -2 auto without the variables (said why). */
int mk_shard_index(const char *which, int *k);
/* The plan id (malloc'd) and shard count of DIR's plan for p: 0, or -1
 * after saying why. */
int mk_shard_plan_info(const char *dir, const mk_pipeline *p, char **id, int *shards);

#endif
