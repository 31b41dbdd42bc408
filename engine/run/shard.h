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

#include "pipeline.h"
#include "util/outfile.h"

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

/* shard_xml.c: an xml sink's parts joined into one document, part by part
 * in plan order (the head of the first part with rows, their records, one
 * end tag; no part with rows: the first part). */
typedef struct mk_xml_join {
    char *head;      /* declaration and root start tag, once a part had rows */
    size_t head_len;
    char end[300];   /* "</ROOT>\n" */
    char *empty;     /* the first part without rows (the whole document) */
    size_t empty_len;
} mk_xml_join;
void mk_xml_join_init(mk_xml_join *j);
/* Part path onto f; 0, or -1 with why in err. */
int mk_xml_join_part(mk_xml_join *j, mk_outfile *f, const char *path, char *err, size_t len);
/* After the last part: the end tag (or the empty document).  0 or -1. */
int mk_xml_join_end(mk_xml_join *j, mk_outfile *f, char *err, size_t len);
void mk_xml_join_free(mk_xml_join *j);

#endif
