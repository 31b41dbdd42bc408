/*
 * shard_dedupe.h -- dedupe across shards (docs/SCALE.md): a pipeline with
 * one dedupe step (keep: first) runs in four stages over the shard plan,
 * each an ordinary mekong command:
 *
 *   mekong run P --stage keys --shard I --dir D     I = 0..N-1
 *   mekong run P --stage decide --shard B --dir D   B = 0..N-1 (buckets)
 *   mekong run P --shard I --dir D                  I = 0..N-1
 *   mekong merge P --dir D
 *
 * The keys stage is shard I with its dedupe step writing keys into
 * D/<plan>/shard-I/keys/ (plugins/dedupe/dedupe_shard.c); the decide
 * stage is this file's; the shard run's dedupe step reads the decisions.
 * The files: plugins/dedupe/dedupe_shard.h.
 */
#ifndef MEKONG_SHARD_DEDUPE_H
#define MEKONG_SHARD_DEDUPE_H

#include <stddef.h>

#include "pipeline.h"
#include "util/outfile.h"

/* 1 when p's dedupe steps (if any) can run across shards: at most one,
 * keep: first.  Else 0 with why in msg. */
int mk_shard_dedupe_supported(const mk_pipeline *p, char *msg, size_t len);

/* For mk_shard_prepare, once shard k of n (plan id) points at its part:
 * stage "keys" moves the shard's outputs into shard-k/keys/ and has the
 * dedupe step write keys; no stage (NULL) has it read the decisions, and
 * refuses (exit 1) unless every bucket was decided.  *report follows the
 * report's path.  An exit code. */
int mk_shard_dedupe_prepare(mk_pipeline *p, const char *dir, const char *plan, int k, int n,
                            const char *stage, char **report);

/* mekong run --stage decide --shard B: decide bucket B over every shard's
 * keys; refused (exit 1) unless every keys stage finished.  An exit code. */
int mk_shard_decide(mk_pipeline *p, const char *dir, const char *which);

/* mekong plan: the "stages" member of plan.json (the commands to run, in
 * order), and the same for people in the log. */
void mk_shard_stages_json(mk_outfile *f, const mk_pipeline *p, int n, const char *dir);
void mk_shard_stages_log(const mk_pipeline *p, int n, const char *dir);

#endif
