/*
 * table_run.h -- pipelines made in memory for `mekong infer` and
 * `mekong validate`: a CSV file through the real csv source (and the
 * schema transform) into a sink compiled into mekong, with rejects and
 * the report going nowhere, so the commands read data exactly as a run
 * does and write nothing.
 */
#ifndef MEKONG_CLI_TABLE_RUN_H
#define MEKONG_CLI_TABLE_RUN_H

#include "pipefile.h"
#include "plugin.h"
#include "run/run.h"

/* The tree of "csv source on path (delimiter, NULL: ',') [-> schema step
 * with schema file] -> sink plugin"; NULL when out of memory. */
cfg_node *mk_table_tree(const char *path, const char *delimiter, const char *schema,
                        const char *sink);
/* Keep a pipeline tree's sources and transforms, with sink instead of its
 * sinks and no rejects file or report.  -1 when out of memory. */
int mk_table_retarget(cfg_node *root, const char *sink);
/* Build (from file, for messages and relative paths) and run root;
 * returns the run's exit code (MK_EXIT_USAGE when it does not build). */
int mk_table_run(const cfg_node *root, const char *file, const mk_plugin_path *sp,
                 mk_run_options *o);

#endif
