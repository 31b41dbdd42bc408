/*
 * commands.c -- the table of subcommands kept in files of their own.
 * A new command adds its entry here.
 */
#include "config.h"

#include "commands.h"

const mk_command mk_extra_commands[] = {
    {"detect", mk_cmd_detect},
    {"test", mk_cmd_test},
};
const size_t mk_extra_command_count = sizeof mk_extra_commands / sizeof mk_extra_commands[0];
