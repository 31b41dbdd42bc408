/*
 * cmd_run.c -- `mekong run PIPELINE`: run a pipeline.  SIGINT and SIGTERM
 * ask the run to stop (once the pipeline has loaded); the exit code is the
 * run's (MK_EXIT_* in run.h).
 *
 * A stop request is seen between batches, by the csv source while it
 * reads, and by rules at their next hook (lua_sandbox.c), so a run ends
 * well within a second.  Code that never looks (a plugin busy in a C
 * loop) is the watchdog's: STOP_GRACE after the signal it removes the
 * temporary files of every output still open and ends the process with
 * status 1, so a stop request is never ignored.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/run.h"
#include "run/shard.h"
#include "run/shard_dedupe.h"
#include "util/outfile.h"

#define STOP_GRACE_MS 1200 /* the promise is 2 s from the signal to the end */

static sem_t stop_posted;

static void on_signal(int sig)
{
    mk_run_request_stop(sig);
    sem_post(&stop_posted); /* async-signal-safe */
}

/* The plugin kit's outputs (csv, jsonl sinks) are listed in the kit's own
 * copy of the outfile code: ask it through its exported name. */
static int remove_kit_temps(void)
{
    void *kit = dlopen("libmekongkit.so.0", RTLD_LAZY | RTLD_NOLOAD);
    if (!kit)
        return 0;
    int (*remove_temps)(void);
    *(void **)&remove_temps = dlsym(kit, "mkk_file_remove_temps");
    int n = remove_temps ? remove_temps() : 0;
    dlclose(kit);
    return n;
}

static void *watchdog(void *arg)
{
    (void)arg;
    while (sem_wait(&stop_posted) != 0)
        ;
    struct timespec t = {STOP_GRACE_MS / 1000, (STOP_GRACE_MS % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
    int n = mk_outfile_remove_temps() + remove_kit_temps();
    mk_log(MK_LOG_ERROR,
           "the run did not stop within %d ms of the signal (a plugin busy in C?): ending it "
           "now, run failed, %d temporary file%s removed; outputs already published stay",
           STOP_GRACE_MS, n, n == 1 ? "" : "s");
    _exit(MK_EXIT_FAILED);
    return NULL;
}

static int run_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    pthread_t dog;
    if (sem_init(&stop_posted, 0, 0) == 0 && pthread_create(&dog, NULL, watchdog, NULL) == 0)
        pthread_detach(dog);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    mk_run_options o = {a->report, !a->quiet && isatty(2) && !mk_log_json};
    o.full_refresh = a->full_refresh;
    o.dry_run = a->dry_run;
    o.metrics_path = a->metrics;
    if (!a->shard != !a->dir || (a->stage && !a->shard)) {
        mk_log(MK_LOG_ERROR, "mekong run: --shard and --dir go together (--shard I|auto --dir "
               "SHARED), and --stage needs them; see 'mekong help run'");
        return MK_EXIT_USAGE;
    }
    if (!a->shard)
        return mk_run_pipeline(p, &o);
    if (a->stage && strcmp(a->stage, "decide") == 0) /* no rows: the buckets' keys */
        return mk_shard_decide(p, a->dir, a->shard);
    char *report;
    int rc = mk_shard_prepare(p, a->dir, a->shard, a->stage, &report);
    if (rc == MK_EXIT_OK) {
        o.report_path = report; /* the shard's own; --report is the merge's business */
        o.shard = 1;
        rc = mk_run_pipeline(p, &o);
        if (rc == MK_EXIT_OK && !a->stage) /* a keys stage has no parts */
            mk_shard_join_parts(p, a->dir, a->shard);
    }
    free(report);
    return rc;
}

int mk_cmd_run(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "run", "run", run_loaded);
}
