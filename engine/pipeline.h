/*
 * pipeline.h -- a pipeline file turned into steps with checked options.
 *
 * mk_pipeline_load reads the YAML (pipefile.h), loads every plugin it
 * names, checks every key against the plugin's declared options (unknown
 * keys get a "did you mean"), checks types and required options, fills in
 * defaults and resolves paths relative to the pipeline file.  All errors
 * are collected, each with file:line:column, so one `mekong check` shows
 * them all.  No data is read here.
 */
#ifndef MEKONG_PIPELINE_H
#define MEKONG_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "mekong.h"
#include "pipefile.h"
#include "plugin.h"

typedef enum mk_role { MK_ROLE_SOURCE, MK_ROLE_TRANSFORM, MK_ROLE_SINK } mk_role;

typedef struct mk_optval {
    const mk_option_decl *decl;
    char *value;   /* scalar options (paths resolved); NULL when unset */
    size_t count;  /* map/list entries */
    char **keys;   /* map keys (NULL for lists) */
    char **values;
    int set;       /* given in the file (not a default) */
} mk_optval;

struct mk_options {
    size_t count;
    mk_optval *v;
};

/* One step of the pipeline as the file gave it: a source, a transform or a
 * sink, with its plugin and checked options.  Frozen once loaded; what a
 * run does with it is in the run's mk_context (run/run_internal.h). */
typedef struct mk_step {
    mk_role role;
    char *name;           /* "hanoi", "map#1", ... */
    char *plugin_name;
    int line, column;     /* where the step is in the pipeline file */
    size_t index;         /* position among its kind */
    mk_loaded_plugin plugin;
    struct mk_options opts;
    /* per-source transforms (sources only) */
    struct mk_step *chain;
    size_t chain_len;
    char *state_path;     /* the step's `state:` file, or NULL: the pipeline's */
} mk_step;

typedef struct mk_threshold {
    char *rule; /* NULL: all rows */
    double max_share;
} mk_threshold;

typedef struct mk_pipeline {
    char *path;
    char *dir;          /* folder of the pipeline file */
    char *name;
    mk_step *sources;
    size_t nsources;
    mk_step *transforms;
    size_t ntransforms;
    mk_step *sinks;
    size_t nsinks;
    char *rejects_path;
    int rejects_jsonl;    /* rejects as JSON Lines (format: jsonl, or a .jsonl path) */
    int rejects_formula_guard; /* CSV rejects guarded (rejects.formula_guard, or as the sinks) */
    char *report_path;
    char *html_report_path;
    size_t batch_rows;
    mk_threshold *thresholds;
    size_t nthresholds;
    int publish_on_threshold; /* sinks publish even when a threshold fails */
    struct mk_ops_config *ops; /* history:, checks:, metrics:, on_failure: (run/ops.h) */
    char *state_dir;      /* state_dir: the run folder, or NULL: <dir>/.mekong/<name> */
    int lock_wait;        /* lock_wait: seconds to wait for another run's lock */
} mk_pipeline;

/* 0, or -1 with every problem printed through mk_log (one per line). */
int mk_pipeline_load(const char *path, const cfg_vars *vars, const mk_plugin_path *sp,
                     mk_pipeline *out);
/* The same from a tree already read (or made in memory, as mekong test
 * does); path names the file in messages, dir resolves relative paths. */
int mk_pipeline_build(const cfg_node *root, const char *path, const char *dir,
                      const mk_plugin_path *sp, mk_pipeline *out);
/* The checked value of an option of a step, or NULL. */
const mk_optval *mk_step_option(const mk_step *step, const char *name);
void mk_pipeline_free(mk_pipeline *p);

/* The declared options of a plugin for a role (NULL if it lacks the role). */
const mk_option_decl *mk_plugin_role_options(const mk_plugin *d, mk_role role);
const char *mk_role_name(mk_role role);

#include "util/path.h" /* mk_path_join, mk_dir_of */

#endif
