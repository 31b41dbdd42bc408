/*
 * cmd_help.c -- `mekong help [COMMAND]`: the overview listing every command
 * of the table (also printed on a usage error) and one command's help.
 */
#include "config.h"

#include <stdio.h>

#include "commands.h"
#include "run/run.h"

void mk_cli_usage(FILE *out)
{
    fprintf(out, "mekong %s - ETL and data-quality engine for Vietnamese public data\n\n",
            PACKAGE_VERSION);
    fputs("Usage:\n", out);
    for (size_t i = 0; i < mk_command_count; i++)
        fprintf(out, "  %s\n", mk_commands[i].usage);
    fputs("  mekong --version\n\nSee 'mekong help COMMAND' and man mekong.\n", out);
}

/* Arguments after the first (the topic) are ignored. */
int mk_cmd_help(int argc, char **argv)
{
    if (argc < 1) {
        mk_cli_usage(stdout);
        return MK_EXIT_OK;
    }
    const mk_command *c = mk_command_find(argv[0]);
    if (!c) {
        fprintf(stderr, "mekong: no command '%s'; 'mekong help' lists them\n", argv[0]);
        return MK_EXIT_USAGE;
    }
    printf("Usage: %s\n\n%s\n", c->usage, c->help);
    return MK_EXIT_OK;
}
