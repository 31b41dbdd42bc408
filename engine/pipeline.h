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

typedef struct mk_rule_stat mk_rule_stat;
struct mk_run;

/* One step of the pipeline: a source, a transform or a sink. */
struct mk_context {
    struct mk_run *run;
    mk_role role;
    char *name;           /* "hanoi", "map#1", ... */
    char *plugin_name;
    int line, column;     /* where the step is in the pipeline file */
    size_t index;         /* position among its kind */
    mk_loaded_plugin plugin;
    struct mk_options opts;
    void *state;
    int opened;
    char error[2048];     /* set by host->error */

    /* files of a multi-file source, by part number (sources only) */
    char **part_names;
    size_t nparts;
    uint32_t current_part;
    struct mk_readahead *readahead; /* while the source reads on its own thread */

    /* per-source transforms (sources only) */
    struct mk_context *chain;
    size_t chain_len;

    /* counters for the report */
    uint64_t rows_in, rows_out, rows_rejected, rows_dropped, rows_passed;
    uint64_t rows_written;     /* sinks */
    int text_checked;          /* promised valid UTF-8 output (mk_host.text_checked) */
    char **report_keys, **report_values;
    size_t report_count;
    int64_t *report_numbers;   /* NULL entries: string value */
    unsigned char *report_is_number;
};

typedef struct mk_threshold {
    char *rule; /* NULL: all rows */
    double max_share;
} mk_threshold;

typedef struct mk_pipeline {
    char *path;
    char *dir;          /* folder of the pipeline file */
    char *name;
    struct mk_context *sources;
    size_t nsources;
    struct mk_context *transforms;
    size_t ntransforms;
    struct mk_context *sinks;
    size_t nsinks;
    char *rejects_path;
    char *report_path;
    char *html_report_path;
    size_t batch_rows;
    mk_threshold *thresholds;
    size_t nthresholds;
    int publish_on_threshold; /* sinks publish even when a threshold fails */
} mk_pipeline;

/* 0, or -1 with every problem printed through mk_log (one per line). */
int mk_pipeline_load(const char *path, const cfg_vars *vars, const mk_plugin_path *sp,
                     mk_pipeline *out);
void mk_pipeline_free(mk_pipeline *p);

/* The declared options of a plugin for a role (NULL if it lacks the role). */
const mk_option_decl *mk_plugin_role_options(const mk_plugin *d, mk_role role);
const char *mk_role_name(mk_role role);

#include "util/path.h" /* mk_path_join, mk_dir_of */

#endif
