/*
 * cmd_run.c -- `mekong run PIPELINE`: run a pipeline.  SIGINT and SIGTERM
 * ask the run to stop (once the pipeline has loaded); the exit code is the
 * run's (MK_EXIT_* in run.h).
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/run.h"
#include "run/shard.h"

static void on_signal(int sig)
{
    mk_run_request_stop(sig);
}

static int run_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    mk_run_options o = {a->report, !a->quiet && isatty(2)};
    o.full_refresh = a->full_refresh;
    if (!a->shard != !a->dir) {
        mk_log(MK_LOG_ERROR, "mekong run: --shard and --dir go together (--shard I|auto --dir "
               "SHARED); see 'mekong help run'");
        return MK_EXIT_USAGE;
    }
    if (!a->shard)
        return mk_run_pipeline(p, &o);
    char *report;
    int rc = mk_shard_prepare(p, a->dir, a->shard, &report);
    if (rc == MK_EXIT_OK) {
        o.report_path = report; /* the shard's own; --report is the merge's business */
        rc = mk_run_pipeline(p, &o);
    }
    free(report);
    return rc;
}

int mk_cmd_run(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "run", "run", run_loaded);
}
