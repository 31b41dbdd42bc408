/*
 * run.h -- running a loaded pipeline: the batch loop, row accounting,
 * rejects, the run report and the exit status.
 *
 * Rows flow one source batch at a time through the source's own
 * transforms, the pipeline's transforms and every sink; then the next
 * batch.  Values may point into the bytes of earlier batches of the same
 * flow, which all stay alive until the sinks have written.  The files of
 * engine/run/ are described in run_internal.h.
 */
#ifndef MEKONG_RUN_H
#define MEKONG_RUN_H

#include <time.h>

#include "pipeline.h"

/* Exit codes of `mekong run` (documented in README.md and mekong.1). */
enum {
    MK_EXIT_OK = 0,
    MK_EXIT_FAILED = 1,    /* the run failed: nothing was published */
    MK_EXIT_USAGE = 2,     /* command line or pipeline file error */
    MK_EXIT_THRESHOLD = 3, /* data quality below a threshold */
    MK_EXIT_LOCKED = 4,    /* another run holds the lock (nothing was touched) */
};

/* What happened to a row, for a caller that watches the run (mekong test). */
typedef enum mk_event_kind { MK_EVENT_REJECT, MK_EVENT_DROP, MK_EVENT_WARN } mk_event_kind;

typedef struct mk_event {
    mk_event_kind kind;
    const mk_rowinfo *info;   /* the row's origin (info->position: its line) */
    const char *stage;        /* the step's name */
    const char *rule, *message;
} mk_event;

typedef struct mk_run_options {
    const char *report_path; /* --report, overrides the pipeline's */
    int progress;            /* show a progress line (stderr is a terminal) */
    int silent;              /* no summary line and no "run failed" line */
    /* called for every reject, drop and warning, in row order */
    void (*on_event)(void *data, const mk_event *e);
    void *event_data;
    int full_refresh;        /* --full-refresh: steps get no saved state */
    int no_run_folder;       /* mekong test: no locks, journal, sweep or state */
    /* the run's failure message, when it failed (may be NULL) */
    char *failure;
    size_t failure_len;
    /* nightly operations (docs/NIGHTLY.md) */
    int dry_run;              /* --dry-run: read and transform, write nothing */
    const char *metrics_path; /* --metrics, overrides the pipeline's metrics: */
    /* called with every stage's output batch (mekong preview); nonzero stops reading */
    int (*on_stage)(void *data, const mk_step *step, const mk_batch *b);
    void *stage_data;
    /* mekong run --shard: one shard of a plan (docs/SCALE.md): no drift
     * checks, history entry, metrics or on_failure call (the merge's) */
    int shard;
} mk_run_options;

/* Run; returns an exit code. */
int mk_run_pipeline(mk_pipeline *p, const mk_run_options *o);

/* The run folder of a pipeline, where the engine keeps what lasts between
 * runs (state.json, lock, publish.journal, history/): state_dir: or
 * <pipeline folder>/.mekong/<pipeline name>.  malloc'd, NULL: no memory. */
char *mk_run_dir(const mk_pipeline *p);
/* The state files of a pipeline: its own (first) and the distinct files
 * its steps' `state:` keys name; *n of them, each malloc'd, in a malloc'd
 * array.  NULL when out of memory. */
char **mk_state_paths(const mk_pipeline *p, size_t *n);

/* The locks of a pipeline (lock.c): its run folder's and one beside each
 * output it writes.  take: waits up to wait_seconds; 0, 1 when another run
 * holds one (msg names the holder: pid, host, start time), -1 when a lock
 * file cannot be made (msg says why).  release: NULL is fine. */
typedef struct mk_locks mk_locks;
int mk_locks_take(const mk_pipeline *p, int wait_seconds, time_t started, mk_locks **out,
                  char *msg, size_t len);
void mk_locks_release(mk_locks *l);

/* Ask a running pipeline to stop (signal handlers). */
void mk_run_request_stop(int signal_number);

#endif
