/*
 * commands.h -- subcommands that live in files of their own (detect, test).
 * Each takes the arguments after its name and returns an exit code.
 */
#ifndef MEKONG_COMMANDS_H
#define MEKONG_COMMANDS_H

#include <stddef.h>

typedef struct mk_command {
    const char *name;
    int (*fn)(int argc, char **argv);
} mk_command;

extern const mk_command mk_extra_commands[];
extern const size_t mk_extra_command_count;

/* mekong detect FILE (cmd_detect.c) */
int mk_cmd_detect(int argc, char **argv);

/* mekong test (cmd_test.c) */
int mk_cmd_test(int argc, char **argv);

#endif
