/*
 * main.c -- the mekong program: `mekong --version`, and every other command
 * dispatched through the table in commands.c (one file per command here).
 * Logging is set by the commands' own options (args.c), and the signal
 * handlers by `mekong run` (cmd_run.c).
 *
 * Exit codes: 0 success, 1 the run failed, 2 usage or pipeline-file error,
 * 3 a data-quality threshold was crossed (see run.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mekong.h"
#include "run/run.h"

static int is_either(const char *s, const char *a, const char *b)
{
    return strcmp(s, a) == 0 || strcmp(s, b) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        mk_cli_usage(stderr);
        return MK_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (is_either(name, "--version", "version")) {
        printf("mekong %s (plugin ABI %u)\n", PACKAGE_VERSION, MK_ABI_VERSION);
        return MK_EXIT_OK;
    }
    if (is_either(name, "--help", "-h"))
        name = "help";
    const mk_command *c = mk_command_find(name);
    if (!c) {
        fprintf(stderr, "mekong: unknown command '%s'\n\n", name);
        mk_cli_usage(stderr);
        return MK_EXIT_USAGE;
    }
    return c->fn(argc - 2, argv + 2);
}
