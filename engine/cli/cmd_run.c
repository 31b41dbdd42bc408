/*
 * cmd_run.c -- `mekong run PIPELINE`: run a pipeline.  SIGINT and SIGTERM
 * ask the run to stop (once the pipeline has loaded); the exit code is the
 * run's (MK_EXIT_* in run.h).
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/run.h"

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
    mk_run_options o = {a->report, !a->quiet && isatty(2) && !mk_log_json};
    o.full_refresh = a->full_refresh;
    o.dry_run = a->dry_run;
    o.metrics_path = a->metrics;
    return mk_run_pipeline(p, &o);
}

int mk_cmd_run(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "run", "run", run_loaded);
}
