/*
 * commands.c -- the table of mekong's commands: name, usage line, help
 * text and function.  main.c dispatches through it and `mekong help` lists
 * it; a new command adds its line here (and its function in commands.h).
 */
#include "config.h"

#include <string.h>

#include "commands.h"

const mk_command mk_commands[] = {
    {"run",
     "mekong run PIPELINE [--set NAME=VALUE]... [--report FILE] [--full-refresh] [--dry-run] "
     "[--shard I|auto --dir SHARED [--stage keys|decide]] [--quiet|--verbose]",
     "Run a pipeline: read its sources, apply its transforms, write its sinks, its rejects\n"
     "file and its run report.  Outputs appear only when the run succeeds.\n"
     "  --set NAME=VALUE   define ${NAME} for the pipeline file (before the environment)\n"
     "  --report FILE      write the JSON run report here instead of the pipeline's report:\n"
     "  --full-refresh     ignore the saved state (steps start from nothing); the run saves anew\n"
     "  --dry-run          read and transform everything, write nothing (sinks are not\n"
     "                     opened); the report goes to stdout, or to --report FILE\n"
     "  --metrics FILE     write Prometheus textfile metrics here (instead of metrics:)\n"
     "  --log-format json  every log line as one JSON object (default: text)\n"
     "  --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
     "  --quiet            only errors on stderr;  --verbose  also debug messages\n"
     "Exit status: 0 success, 1 the run failed (nothing published), 2 usage or pipeline\n"
     "file error, 3 a quality threshold or drift check failed (outputs not published by\n"
     "default), 4 another run holds the lock (lock_wait: seconds to wait; nothing touched).\n"
     "  --shard I|auto --dir SHARED   run shard I of the plan in SHARED (see mekong plan);\n"
     "                     auto: JOB_COMPLETION_INDEX, or SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN\n"
     "  --stage keys|decide  dedupe across shards, before the shards: every shard's keys\n"
     "                     stage, then the decide stage of every bucket I (mekong plan says)\n"
     "See mekong(1).",
     mk_cmd_run},
    {"plan", "mekong plan PIPELINE --shards N --dir SHARED [--full-refresh] [--set NAME=VALUE]...",
     "Plan a run as N shards (docs/SCALE.md): write SHARED/plan.json, which gives each shard\n"
     "whole files of the csv source, or byte ranges of its one file that start on record\n"
     "boundaries, with the line and record numbers they start at (a postgres source: key\n"
     "ranges).  Then run every shard (mekong run PIPELINE --shard I --dir SHARED) and merge them.\n"
     "  --full-refresh     a postgres source with incremental: ignore its stored mark (the\n"
     "                     merge saves the new one)",
     mk_cmd_plan},
    {"merge", "mekong merge PIPELINE --dir SHARED [--report FILE] [--set NAME=VALUE]...",
     "Merge the shards of the plan in SHARED: refused unless every shard finished; then each\n"
     "sink's parts are joined in plan order (one header), the rejects too, the shards' reports\n"
     "are added up into one, thresholds are checked on the totals, and all of it is published\n"
     "as one set, as one run would.  Running it again publishes the same outputs again.",
     mk_cmd_merge},
    {"state", "mekong state PIPELINE [--reset] [--set NAME=VALUE]...",
     "Show what the pipeline's steps saved for the next run (incremental marks, the files a\n"
     "csv source with incremental: true has loaded): the state file(s), indented.\n"
     "  --reset   remove the state, so that the next run reads everything\n"
     "The state advances only when a run publishes; see docs/OPERATIONS.md.",
     mk_cmd_state},
    {"preview", "mekong preview PIPELINE [-n ROWS] [--set NAME=VALUE]...",
     "Show the first ROWS rows (default 20) after each stage -- each source as read, then\n"
     "each transform's output -- as aligned tables.  Nothing is written.",
     mk_cmd_preview},
    {"history", "mekong history PIPELINE [--set NAME=VALUE]...",
     "List the runs kept in the pipeline's history (history: { keep: N }, default 30):\n"
     "start time, status, rows read, written and rejected, seconds, drift checks that\n"
     "warned or failed.  See docs/NIGHTLY.md.",
     mk_cmd_history},
    {"check", "mekong check PIPELINE [--set NAME=VALUE]... [--plugin-dir DIR]",
     "Check a pipeline file without reading data: YAML syntax, variables, every key against\n"
     "the plugins' declared options (with suggestions), types and required options.  The\n"
     "plugins are loaded.  Exit status 0 when the file is good, 2 otherwise.",
     mk_cmd_check},
    {"plugins", "mekong plugins [--plugin-dir DIR]",
     "List every plugin found on the search path with its roles, version and options.",
     mk_cmd_plugins},
    {"detect", "mekong detect FILE",
     "Guess the encoding of a file (UTF-8, Windows-1258, TCVN3, VNI, VISCII), print the\n"
     "choice with its confidence and a few decoded sample lines.",
     mk_cmd_detect},
    {"test", "mekong test FILE...",
     "Run the test cases of a rule file or pipeline (see docs/RULES.md); print a diff for\n"
     "each failure; exit non-zero if any fails.",
     mk_cmd_test},
#ifdef MK_HAVE_TABLE_COMMANDS /* built with the datapackage plugin's libraries */
    {"infer", "mekong infer FILE.csv|PIPELINE.yaml [-o SCHEMA.json]",
     "Propose a Table Schema (v2, JSON) from data: the types every value reads as, formats,\n"
     "required and unique columns, a likely primary key, enums for low-cardinality text\n"
     "columns.  A pipeline runs its sources and transforms; nothing is written.  See\n"
     "docs/SCHEMA.md.",
     mk_cmd_infer},
    {"validate", "mekong validate PACKAGE",
     "Check a Data Package (its folder or datapackage.json) against its descriptor: each\n"
     "resource's bytes, sha256/md5 hash and, for CSV, every row against its schema.\n"
     "Exit status 0 valid, 3 not valid, 2 usage error or unreadable descriptor.",
     mk_cmd_validate},
#endif
    {"help", "mekong help [COMMAND]", "Show help for mekong or one of its commands.", mk_cmd_help},
};
const size_t mk_command_count = sizeof mk_commands / sizeof mk_commands[0];

const mk_command *mk_command_find(const char *name)
{
    for (size_t i = 0; i < mk_command_count; i++)
        if (strcmp(mk_commands[i].name, name) == 0)
            return &mk_commands[i];
    return NULL;
}
