/*
 * ops.h -- what unattended nightly runs need around a run (docs/NIGHTLY.md):
 * the pipeline keys history:, checks:, metrics: and on_failure: (ops_config.c),
 * the run history (history.c), drift checks against it (drift.c), the
 * Prometheus textfile (metrics.c), the on_failure hook (hook.c) and the
 * trend in the HTML report (trend_html.c).
 *
 * run.c and flow.c call in with a line each; everything a run keeps for
 * these lives in one mk_ops (run->ops), made on first use.
 */
#ifndef MEKONG_RUN_OPS_H
#define MEKONG_RUN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "pipefile.h"

struct mk_pipeline;
struct mk_run;
struct mk_batch;
struct mk_step;
struct mk_outfile;

/* ---- configuration (ops_config.c) -------------------------------------- */

typedef enum mk_check_kind {
    MK_CHECK_SOURCE_ROWS,  /* rows read by a source */
    MK_CHECK_RULE_REJECTS, /* share of the rows a rule checked that it rejected */
    MK_CHECK_NULL_SHARE,   /* share of the rows reaching the sinks with a NULL or empty column */
} mk_check_kind;

/* A level: "40%" (the figure is 40% or more away from the median) or "5x"
 * (five times the median or more, or a fifth or less). */
typedef struct mk_level {
    int set;
    int factor;   /* 1: "Nx"; 0: "N%" */
    double value; /* N (x) or N/100 (%) */
} mk_level;

typedef struct mk_check {
    mk_check_kind kind;
    char *subject; /* the source, rule or column */
    mk_level warn, fail;
    int direction; /* -1 down only, 0 both ways, 1 up only */
    int line, column;
} mk_check;

typedef struct mk_ops_config {
    size_t history_keep;   /* runs kept in the history; 0: none (default 30) */
    size_t check_runs;     /* the median is of the last N successful runs (default 7) */
    size_t check_min_runs; /* fewer earlier runs: checks are reported, not applied (3) */
    mk_check *checks;
    size_t nchecks;
    char *metrics_path;        /* metrics: (resolved), or NULL */
    char *on_failure;          /* the hook's shell command, or NULL */
    double on_failure_timeout; /* seconds (default 60) */
} mk_ops_config;

extern const char *const mk_ops_keys[]; /* the pipeline keys read here, NULL-ended */

/* Read the keys of mk_ops_keys from the pipeline file's root into a new
 * p->ops; problems are logged as path:line:column.  Returns their count. */
int mk_ops_config_build(struct mk_pipeline *p, const cfg_node *root, const char *path);
/* After the steps are built: a source_rows check naming no source is a problem. */
int mk_ops_config_check_steps(const struct mk_pipeline *p, const char *path);
void mk_ops_config_free(mk_ops_config *c);
const char *mk_check_kind_name(mk_check_kind k);

/* ---- the run's side (run.c, flow.c) ------------------------------------ */

/* flow.c: rows about to reach the sinks (null counts), and every stage's
 * output for a watcher (mekong preview).  Nonzero: stop reading. */
void mk_ops_rows_to_sinks(struct mk_run *run, const struct mk_batch *b);
int mk_ops_stage_rows(struct mk_run *run, const struct mk_step *step, const struct mk_batch *b);
int mk_ops_stop_early(struct mk_run *run);

/* run.c: the drift checks (after the thresholds); 1 when one failed. */
void mk_drift_check(struct mk_run *run);
int mk_drift_failed(struct mk_run *run);
/* The report's "checks" and "dry_run" members (report.c). */
void mk_drift_report_json(struct mk_outfile *f, const struct mk_run *run);
/* The HTML report's trend section (report_html.c). */
void mk_trend_html(struct mk_outfile *f, struct mk_run *run);
/* After the report: history, metrics, on_failure (not in a dry run). */
void mk_ops_after_run(struct mk_run *run, const char *report, int exit_code);
void mk_ops_free(struct mk_run *run);

/* ---- the history (history.c) ------------------------------------------- */

struct mk_jnode;

typedef struct mk_history_entry {
    char *file;              /* its path */
    struct mk_jnode *report; /* the parsed report */
} mk_history_entry;

typedef struct mk_history {
    mk_history_entry *runs; /* oldest first */
    size_t n;
    size_t unreadable; /* files that were not a report */
} mk_history;

/* <pipeline folder>/.mekong/<pipeline name>/history (malloc'd). */
char *mk_history_dir(const struct mk_pipeline *p);
/* The last max runs of dir (all when max is 0); a missing folder is an
 * empty history.  0, or -1 when out of memory. */
int mk_history_load(const char *dir, size_t max, mk_history *h);
void mk_history_free(mk_history *h);

/* Keep this run's report in the history and remove the oldest beyond keep. */
void mk_history_append(struct mk_run *run);

/* ---- what a run keeps (run->ops) ----------------------------------------- */

typedef struct mk_check_result {
    const mk_check *check;
    double value;       /* this run's figure */
    double median;      /* of the earlier successful runs' */
    size_t runs;        /* how many earlier runs the median is of */
    double change;      /* relative change from the median (0.5: +50%) */
    const char *status; /* "ok", "warn", "fail", "learning" */
    char message[600];
} mk_check_result;

typedef struct mk_ops {
    mk_history history;
    int history_loaded;
    /* null_share: per check, cells NULL or empty among the rows reaching
     * the sinks; the column's position in null_schema (SIZE_MAX: absent) */
    uint64_t *nulls;
    size_t *null_col;
    const void *null_schema;
    uint64_t null_rows;
    mk_check_result *results;
    size_t nresults;
    int drift_failed;
    int stop; /* a stage watcher asked to stop reading */
} mk_ops;

/* run->ops, made on first use (NULL when out of memory). */
mk_ops *mk_ops_of(struct mk_run *run);
/* The loaded history (loaded on first use). */
const mk_history *mk_ops_history(struct mk_run *run);

/* A check's figure in a kept report (1), or 0 when the report lacks it. */
int mk_check_figure_in_report(const mk_check *ck, const struct mk_jnode *report, double *out);
/* A check's figure in this run. */
double mk_check_figure_now(const struct mk_run *run, const mk_check *ck);

/* ---- metrics (metrics.c), hook (hook.c) -------------------------------- */

int mk_metrics_write(struct mk_run *run, const char *path, int exit_code);
/* Run the on_failure command; logs its failure; never waits past the timeout. */
void mk_hook_run(struct mk_run *run, const char *report, int exit_code);

#endif
