/*
 * args.h -- the options run, check and plugins share (--set, --report,
 * --plugin-dir, --quiet, --verbose) and the loading of a pipeline that run
 * and check have in common (args.c).
 */
#ifndef MEKONG_CLI_ARGS_H
#define MEKONG_CLI_ARGS_H

#include <stddef.h>

#include "pipefile.h"
#include "pipeline.h"

typedef struct mk_cli_args {
    const char *pipeline;
    const char *report;
    char **plugin_dirs;
    size_t nplugin_dirs;
    cfg_vars vars;
    int quiet, verbose;
    int dry_run;         /* --dry-run (run) */
    const char *metrics; /* --metrics PATH (run) */
    int full_refresh; /* run (or plan) --full-refresh */
    int reset;        /* state --reset */
    const char *shards; /* plan --shards N */
    const char *shard;  /* run --shard I|auto */
    const char *stage;  /* run --stage keys|decide (dedupe across shards) */
    const char *dir;    /* plan, run --shard, merge: --dir SHARED */
} mk_cli_args;

/* Parse the arguments of command cmd into a; want_pipeline: one PIPELINE
 * argument is required.  Sets the log threshold for --quiet/--verbose.
 * Returns 0, or an exit code after printing what is wrong.  --set splits
 * its argv string in place.  Call mk_cli_args_free() in both cases. */
int mk_cli_args_parse(int argc, char **argv, mk_cli_args *a, int want_pipeline, const char *cmd);
void mk_cli_args_free(mk_cli_args *a);

/* What run or check does with a pipeline that loaded; returns the exit code. */
typedef int (*mk_cli_pipeline_fn)(mk_pipeline *p, const mk_cli_args *a);

/* Parse the arguments of cmd, load the pipeline and hand it to fn.  When
 * the file does not load, logs "PIPELINE: pipeline not <not_what>; ..." and
 * returns MK_EXIT_USAGE. */
int mk_cli_with_pipeline(int argc, char **argv, const char *cmd, const char *not_what,
                         mk_cli_pipeline_fn fn);

#endif
