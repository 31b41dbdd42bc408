/*
 * cmd_plan.c -- `mekong plan PIPELINE --shards N --dir SHARED` and
 * `mekong merge PIPELINE --dir SHARED`: the steps before and after the N
 * shard runs a job scheduler starts (run/shard.h, docs/SCALE.md).
 */
#include "config.h"

#include <stdlib.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/run.h"
#include "run/shard.h"

static int plan_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    char *end = NULL;
    long n = a->shards ? strtol(a->shards, &end, 10) : 0;
    if (!a->shards || *end || n < 1 || n > 100000 || !a->dir) {
        mk_log(MK_LOG_ERROR, "mekong plan: give --shards N (1 to 100000) and --dir SHARED; see "
               "'mekong help plan'");
        return MK_EXIT_USAGE;
    }
    return mk_shard_plan(p, (int)n, a->dir, a->full_refresh);
}

static int merge_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    if (!a->dir) {
        mk_log(MK_LOG_ERROR, "mekong merge: give --dir SHARED (the folder of the plan)");
        return MK_EXIT_USAGE;
    }
    return mk_shard_merge(p, a->dir, a->report);
}

int mk_cmd_plan(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "plan", "planned", plan_loaded);
}

int mk_cmd_merge(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "merge", "merged", merge_loaded);
}
