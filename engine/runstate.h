/*
 * runstate.h -- the state of one run, shared by run.c (the loop and the
 * host table) and report.c (the JSON and HTML reports).  Not part of the
 * plugin API.
 */
#ifndef MEKONG_RUNSTATE_H
#define MEKONG_RUNSTATE_H

#include <stdint.h>
#include <time.h>

#include "batch.h"
#include "pipeline.h"
#include "util/outfile.h"

#define MK_RULE_SAMPLES 20
#define MK_NO_SOURCE UINT32_MAX

typedef struct mk_sample {
    char *source;
    uint64_t position;
    int rejected;   /* 1 reject, 0 warning */
    char *message;
    char *values;   /* "col=value, ..." excerpt */
} mk_sample;

struct mk_rule_stat {
    char *name;
    char *stage;
    uint64_t checked, rejected, warned;
    size_t nsamples;
    mk_sample samples[MK_RULE_SAMPLES];
};

typedef enum { FATE_NONE = 0, FATE_PASS, FATE_REJECT, FATE_DROP } mk_fate;

typedef struct mk_run {
    mk_pipeline *p;
    mk_schema_registry *schemas;
    mk_batch *source_batch;       /* the batch of the flow being processed */
    mk_batch *own_source_batch;   /* used when no source is being read */
    mk_batch **stage_out;         /* one output batch per transform depth */
    size_t stage_out_count;

    /* the transform call in progress, for fate checks */
    mk_context *cur_stage;
    const mk_batch *cur_in;
    unsigned char *fate;
    size_t fate_cap;
    int fate_error;

    /* the batch the sinks are writing, and which of its rows a sink has
     * rejected already: a row refused by two sinks is one rejected row */
    const mk_batch *sink_in;
    int sink_in_checked;          /* every value of sink_in is known valid UTF-8 */
    unsigned char *sink_rejected_row;
    size_t sink_rejected_cap;

    mk_outfile *rejects;
    const mk_schema *rejects_schema;  /* union of the sources' columns */

    mk_rule_stat **rules;
    size_t nrules;

    uint64_t read, added, reached_sinks, written, rejected, dropped, warned;
    uint64_t sink_rejected;
    struct timespec started;
    time_t started_wall;
    double elapsed;
    const char *status;       /* "ok", "failed", "threshold" */
    char failure[2048];       /* why the run failed */
    int balanced;
    int show_progress;
    double last_progress;
    char **threshold_failures;
    size_t nthreshold_failures;
} mk_run;

/* Write the JSON report (and the HTML one when asked). 0 or -1. */
int mk_report_write(mk_run *run, const char *json_path, const char *html_path);
/* The HTML page alone (report_html.c). 0 or -1. */
int mk_report_html(mk_run *run, const char *path);

#endif
