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
     "mekong run PIPELINE [--set NAME=VALUE]... [--report FILE] [--full-refresh] "
     "[--quiet|--verbose]",
     "Run a pipeline: read its sources, apply its transforms, write its sinks, its rejects\n"
     "file and its run report.  Outputs appear only when the run succeeds.\n"
     "  --set NAME=VALUE   define ${NAME} for the pipeline file (before the environment)\n"
     "  --report FILE      write the JSON run report here instead of the pipeline's report:\n"
     "  --full-refresh     ignore the saved state (steps start from nothing); the run saves anew\n"
     "  --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
     "  --quiet            only errors on stderr;  --verbose  also debug messages\n"
     "Exit status: 0 success, 1 the run failed (nothing published), 2 usage or pipeline\n"
     "file error, 3 a quality threshold was crossed (outputs not published by default).",
     mk_cmd_run},
    {"state", "mekong state PIPELINE [--reset] [--set NAME=VALUE]...",
     "Show what the pipeline's steps saved for the next run (incremental marks, the files a\n"
     "csv source with incremental: true has loaded): the state file(s), indented.\n"
     "  --reset   remove the state, so that the next run reads everything\n"
     "The state advances only when a run publishes; see docs/OPERATIONS.md.",
     mk_cmd_state},
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
