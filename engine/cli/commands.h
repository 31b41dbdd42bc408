/*
 * commands.h -- the table of mekong's commands (commands.c) and the
 * function of each command, one file per command in engine/cli/.
 *
 * A command takes the arguments after its name and returns an exit code
 * (MK_EXIT_* in run.h).  Adding a command is adding its file, its function
 * below and its line in the table.
 */
#ifndef MEKONG_COMMANDS_H
#define MEKONG_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

typedef struct mk_command {
    const char *name;
    const char *usage; /* one line: "mekong NAME ARGS..." */
    const char *help;  /* shown by `mekong help NAME` after the usage */
    int (*fn)(int argc, char **argv);
} mk_command;

/* Every command, in the order `mekong help` lists them. */
extern const mk_command mk_commands[];
extern const size_t mk_command_count;

/* The command called name, or NULL. */
const mk_command *mk_command_find(const char *name);

/* The overview `mekong help` prints, listing the table (cmd_help.c). */
void mk_cli_usage(FILE *out);

int mk_cmd_run(int argc, char **argv);     /* cmd_run.c */
int mk_cmd_check(int argc, char **argv);   /* cmd_check.c */
int mk_cmd_plugins(int argc, char **argv); /* cmd_plugins.c */
int mk_cmd_detect(int argc, char **argv);  /* cmd_detect.c */
int mk_cmd_test(int argc, char **argv);    /* cmd_test.c */
int mk_cmd_help(int argc, char **argv);    /* cmd_help.c */
int mk_cmd_preview(int argc, char **argv); /* cmd_preview.c */
int mk_cmd_history(int argc, char **argv); /* cmd_history.c */
int mk_cmd_state(int argc, char **argv);   /* cmd_state.c */
int mk_cmd_plan(int argc, char **argv);    /* cmd_plan.c */
int mk_cmd_merge(int argc, char **argv);   /* cmd_plan.c */
int mk_cmd_infer(int argc, char **argv);   /* cmd_infer.c */
int mk_cmd_validate(int argc, char **argv); /* cmd_validate.c */

#endif
