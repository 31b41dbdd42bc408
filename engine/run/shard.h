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
 *   shard_join.c   the parts joined in plan order as the shards finish
 *   shard_dedupe.c dedupe across shards: the keys and decide stages
 */
#ifndef MEKONG_SHARD_H
#define MEKONG_SHARD_H

#include <glob.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"
#include "util/outfile.h"

/* 1 when p can run as shards, else 0 with why in msg. */
int mk_shard_supported(const mk_pipeline *p, char *msg, size_t len);

/* mekong plan: write DIR/plan.json for n shards; full_refresh: a postgres
 * source's incremental mark is ignored (plan --full-refresh).  An exit
 * code. */
int mk_shard_plan(const mk_pipeline *p, int n, const char *dir, int full_refresh);

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

/* mekong run --shard, after the shard published its parts: join them (and
 * those of every shard that finished after the joined prefix) in plan
 * order, so that the merge has nothing left to copy.  Best effort: a
 * failure only leaves the work to the merge. */
void mk_shard_join_parts(const mk_pipeline *p, const char *dir, const char *which);

/* ---- shard_join.c ---- */

/* An output joined from the shards' parts: the part's file name in each
 * shard's folder; skip_header: leave out the first record of every part
 * but the first (a CSV header). */
typedef struct mk_join_out {
    char *name;
    int skip_header;
} mk_join_out;

/* 1 when shard k finished (a whole, successful attempt is in its folder). */
typedef int (*mk_join_done_fn)(void *ctx, int k);

typedef struct mk_join mk_join;

/* The join of plan folder plan_dir (SHARED/<plan id>), locked: NULL when
 * another process holds it and !wait (it looks again after it lets go),
 * or on an error.  outs must live until mk_join_close. */
mk_join *mk_join_open(const char *plan_dir, int shards, const mk_join_out *outs, size_t nout,
                      int wait);
/* Check what is joined, then append every finished shard after it; the
 * number of shards joined (all: shards), or -1 (logged). */
int mk_join_advance(mk_join *j, mk_join_done_fn done, void *ctx);
/* The joined file of output o once every shard is joined, else NULL
 * (malloc'd). */
char *mk_join_path(const mk_join *j, size_t o);
/* Remove the joined files and the state (the merge took them). */
void mk_join_forget(mk_join *j);
/* Let go of the lock; free j. */
void mk_join_close(mk_join *j);
/* Copy the rest of fd to the end of out, leaving out the first record
 * when skip_header; 0 or -1 with errno. */
int mk_join_copy(int fd, int out, int skip_header);

/* shard.c, for shard_plan.c: the plan file of DIR (malloc'd). */
char *mk_shard_plan_path(const char *dir);

/* shard.c: the whole file at path, NUL-terminated (malloc'd; its length in
 * *len), or NULL when it cannot be read. */
char *mk_shard_read_file(const char *path, size_t *len);

/* shard.c, for shard_state.c: member key of the JSON object at [p, end)
 * (its end in *vend), NULL when none; as a number; as a string (malloc'd). */
const char *mk_shard_member(const char *p, const char *end, const char *key, const char **vend);
uint64_t mk_shard_member_num(const char *p, const char *end, const char *key);
char *mk_shard_member_str(const char *p, const char *end, const char *key);

/* shard_state.c: incremental: true in shards.  The plan: what one run
 * would read now (the files, in its order, and where each goes on),
 * decided from the saved state with the csv source's own code. */
typedef struct mk_shard_inc mk_shard_inc;
/* 1 when the source has incremental: true. */
int mk_shard_incremental(const mk_step *src);
/* The decision for the glob g of p's one source; NULL with why in msg. */
mk_shard_inc *mk_shard_inc_choose(const mk_pipeline *p, const glob_t *g, char *msg, size_t len);
void mk_shard_inc_free(mk_shard_inc *inc);
/* The files to read, in one run's order. */
char *const *mk_shard_inc_paths(const mk_shard_inc *inc, size_t *n);
/* Where file i is read from (0: whole), with the line there and the
 * records before it; starts hashing the file from there (ranges). */
uint64_t mk_shard_inc_start(mk_shard_inc *inc, size_t i, uint64_t *line, uint64_t *records);
/* The bytes the range pass reads, into the file's hash (inc NULL: none). */
void mk_shard_inc_hash(mk_shard_inc *inc, const void *p, size_t n);
/* Into the plan: the "incremental" member; a files part's "resume" list
 * (files [first, end) of the read list); a ranges plan's hash and the
 * shard that remembers the file. */
void mk_shard_inc_put(mk_outfile *f, const mk_pipeline *p, const mk_shard_inc *inc);
void mk_shard_inc_put_resume(mk_outfile *f, const mk_shard_inc *inc, size_t first, size_t end);
void mk_shard_inc_put_ranges(mk_outfile *f, mk_shard_inc *inc, int mark_shard);
/* A shard: its source's options from plan part [part, part_end) of shard
 * k; and every state kept in the shard's own folder.  0 or -1. */
int mk_shard_inc_point(mk_pipeline *p, const char *plan, size_t len, const char *part,
                       const char *part_end, int k);
void mk_shard_inc_own_state(mk_pipeline *p);
/* 1 when the plan and p agree on incremental: true; else 0, said. */
int mk_shard_inc_matches(const mk_pipeline *p, const char *plan, size_t len);
/* The merge: stage the state one run would have saved (after the publish
 * journal was recovered, before the outputs join the set).  An mk_status. */
struct mk_run;
int mk_shard_inc_merge(struct mk_run *run, const char *dir, const char *id, int shards,
                       const char *plan, size_t len);

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
/* shard.c, for shard_dedupe.c: the shard number which names (a number or
 * auto): 0, -1 not a number, -2 auto without the variables (said why). */
int mk_shard_index(const char *which, int *k);
/* The plan id (malloc'd) and shard count of DIR's plan for p: 0, or -1
 * after saying why. */
int mk_shard_plan_info(const char *dir, const mk_pipeline *p, char **id, int *shards);

/* shard_state.c, for shard_pg.c: the value the pipeline's state holds for
 * its source now (malloc'd; NULL: none, or *failed with why in msg) and
 * its SHA-256 in start ("none" when none); the SHA-256 of a value. */
char *mk_shard_saved_state(const mk_pipeline *p, char start[65], char *msg, size_t len,
                           int *failed);
void mk_shard_state_hash(const char *value, char out[65]);

/* shard_plan.c, for shard_pg.c: the plan's first members (id, pipeline, mode). */
struct mk_outfile;
void mk_shard_plan_head(struct mk_outfile *f, const mk_pipeline *p, int n, const char *mode);
/* A file as the plan names it (a JSON string): relative to the pipeline's
 * folder when it is in it, so that plan, shards and merge may name the
 * pipeline differently (relative here, absolute on the nodes). */
void mk_shard_put_file(struct mk_outfile *f, const mk_pipeline *p, const char *path);

/* shard_pg.c: PostgreSQL sources (key ranges) and sinks (staging tables
 * merged in one transaction) through the postgres plugin's shard options.
 *   supported     the postgres-specific conditions (1, or 0 with msg)
 *   plan          mekong plan of a postgres source: DIR/plan.json, "mode": "keys"
 *   point_source  a shard's range: from/to NULL = unbounded
 *   point_sink    a shard's sink loads its staging table
 *   merge         apply every postgres sink's staging tables and commit,
 *                 or roll all back (MK_OK or MK_ERROR after mk_run_fail) */
int mk_shard_pg_supported(const mk_pipeline *p, char *msg, size_t len);
int mk_shard_pg_plan(mk_pipeline *p, int n, const char *dir, int full_refresh);
int mk_shard_pg_point_source(mk_step *src, const char *from, const char *to, uint64_t record,
                             uint64_t rows);
/* An incremental postgres source (incremental: [c1, ...]) in shards:
 *   incremental   1 when p's source is one
 *   inc_matches   1 when the plan and p agree on it (else 0, said)
 *   inc_point     a shard's source: the plan's mark and part's bounds
 *   inc_merge     stage the mark one run would have saved (the plan's
 *                 last row), after checking that the pipeline's state is
 *                 still the one the plan read.  An mk_status. */
int mk_shard_pg_incremental(const mk_pipeline *p);
int mk_shard_pg_inc_matches(const mk_pipeline *p, const char *plan, size_t len);
int mk_shard_pg_inc_point(mk_step *src, const char *plan, size_t len, const char *part,
                          const char *part_end);
int mk_shard_pg_inc_merge(struct mk_run *run, const char *plan, size_t len);
int mk_shard_pg_point_sink(mk_step *sink, const char *plan, size_t i, int k);
struct mk_run;
int mk_shard_pg_merge(struct mk_run *run, const char *plan, int shards);

#endif
