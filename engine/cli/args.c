/*
 * args.c -- parsing of the options run, check and plugins share, and the
 * load-a-pipeline step common to run and check (see args.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "plugin.h"
#include "run/run.h"

void mk_cli_args_free(mk_cli_args *a)
{
    free(a->plugin_dirs);
    free(a->vars.names);
    free(a->vars.values);
}

static int is_value_option(const char *arg)
{
    return strcmp(arg, "--set") == 0 || strcmp(arg, "--report") == 0 ||
           strcmp(arg, "--plugin-dir") == 0 || strcmp(arg, "--log-format") == 0 ||
           strcmp(arg, "--metrics") == 0 || strcmp(arg, "--shards") == 0 ||
           strcmp(arg, "--shard") == 0 || strcmp(arg, "--dir") == 0 ||
           strcmp(arg, "--stage") == 0;
}

/* --set NAME=VALUE: split val at '=' and add it to the variables. */
static int add_var(mk_cli_args *a, char *val, const char *cmd)
{
    char *eq = strchr(val, '=');
    if (!eq || eq == val) {
        fprintf(stderr, "mekong %s: --set wants NAME=VALUE, not '%s'\n", cmd, val);
        return MK_EXIT_USAGE;
    }
    *eq = '\0';
    size_t n = a->vars.count + 1;
    a->vars.names = realloc(a->vars.names, n * sizeof(char *));
    a->vars.values = realloc(a->vars.values, n * sizeof(char *));
    a->vars.names[a->vars.count] = val;
    a->vars.values[a->vars.count] = eq + 1;
    a->vars.count = n;
    return 0;
}

/* An option that takes a value (is_value_option), with its value val. */
static int value_option(mk_cli_args *a, const char *arg, char *val, const char *cmd)
{
    int plan = strcmp(cmd, "plan") == 0, run = strcmp(cmd, "run") == 0;
    if ((strcmp(arg, "--shards") == 0 && !plan) ||
        ((strcmp(arg, "--shard") == 0 || strcmp(arg, "--stage") == 0) && !run) ||
        (strcmp(arg, "--dir") == 0 && !plan && !run && strcmp(cmd, "merge") != 0)) {
        fprintf(stderr, "mekong %s: unknown option '%s'; see 'mekong help %s'\n", cmd, arg, cmd);
        return MK_EXIT_USAGE;
    }
    if (strcmp(arg, "--shards") == 0) {
        a->shards = val;
    } else if (strcmp(arg, "--shard") == 0) {
        a->shard = val;
    } else if (strcmp(arg, "--stage") == 0) {
        a->stage = val;
    } else if (strcmp(arg, "--dir") == 0) {
        a->dir = val;
    } else if (strcmp(arg, "--report") == 0) {
        a->report = val;
    } else if (strcmp(arg, "--metrics") == 0) {
        if (strcmp(cmd, "run") != 0) {
            fprintf(stderr, "mekong %s: --metrics is an option of mekong run\n", cmd);
            return MK_EXIT_USAGE;
        }
        a->metrics = val;
    } else if (strcmp(arg, "--log-format") == 0) {
        if (strcmp(val, "json") != 0 && strcmp(val, "text") != 0) {
            fprintf(stderr, "mekong %s: --log-format is text or json, not '%s'\n", cmd, val);
            return MK_EXIT_USAGE;
        }
        mk_log_json = strcmp(val, "json") == 0;
    } else if (strcmp(arg, "--plugin-dir") == 0) {
        a->plugin_dirs = realloc(a->plugin_dirs, (a->nplugin_dirs + 1) * sizeof(char *));
        a->plugin_dirs[a->nplugin_dirs++] = val;
    } else {
        return add_var(a, val, cmd);
    }
    return 0;
}

/* Any other argument: a flag, the pipeline, or a mistake. */
static int plain_argument(mk_cli_args *a, const char *arg, int want_pipeline, const char *cmd)
{
    if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
        a->quiet = 1;
    } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
        a->verbose = 1;
    } else if (strcmp(arg, "--dry-run") == 0 && strcmp(cmd, "run") == 0) {
        a->dry_run = 1;
    } else if (strcmp(arg, "--full-refresh") == 0 &&
               (strcmp(cmd, "run") == 0 || strcmp(cmd, "plan") == 0)) {
        a->full_refresh = 1;
    } else if (strcmp(arg, "--reset") == 0 && strcmp(cmd, "state") == 0) {
        a->reset = 1;
    } else if (arg[0] == '-' && arg[1]) {
        fprintf(stderr, "mekong %s: unknown option '%s'; see 'mekong help %s'\n", cmd, arg, cmd);
        return MK_EXIT_USAGE;
    } else if (want_pipeline && !a->pipeline) {
        a->pipeline = arg;
    } else {
        fprintf(stderr, "mekong %s: unexpected argument '%s'; see 'mekong help %s'\n", cmd, arg,
                cmd);
        return MK_EXIT_USAGE;
    }
    return 0;
}

int mk_cli_args_parse(int argc, char **argv, mk_cli_args *a, int want_pipeline, const char *cmd)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        int rc;
        if (is_value_option(argv[i])) {
            if (i + 1 >= argc) {
                fprintf(stderr, "mekong %s: %s needs a value; see 'mekong help %s'\n", cmd, argv[i],
                        cmd);
                return MK_EXIT_USAGE;
            }
            rc = value_option(a, argv[i], argv[i + 1], cmd);
            i++;
        } else {
            rc = plain_argument(a, argv[i], want_pipeline, cmd);
        }
        if (rc)
            return rc;
    }
    if (want_pipeline && !a->pipeline) {
        fprintf(stderr, "mekong %s: which pipeline file? usage: %s\n", cmd,
                mk_command_find(cmd)->usage);
        return MK_EXIT_USAGE;
    }
    if (a->quiet)
        mk_log_threshold = MK_LOG_ERROR;
    if (a->verbose)
        mk_log_threshold = MK_LOG_DEBUG;
    return 0;
}

int mk_cli_with_pipeline(int argc, char **argv, const char *cmd, const char *not_what,
                         mk_cli_pipeline_fn fn)
{
    mk_cli_args a;
    int rc = mk_cli_args_parse(argc, argv, &a, 1, cmd);
    if (rc) {
        mk_cli_args_free(&a);
        return rc;
    }
    mk_plugin_path sp;
    mk_pipeline p;
    if (mk_plugin_path_init(&sp, a.plugin_dirs, a.nplugin_dirs) != 0) {
        mk_cli_args_free(&a);
        return MK_EXIT_FAILED;
    }
    if (mk_pipeline_load(a.pipeline, &a.vars, &sp, &p) != 0) {
        mk_log(MK_LOG_ERROR, "%s: pipeline not %s; fix the problems above", a.pipeline, not_what);
        rc = MK_EXIT_USAGE;
    } else {
        rc = fn(&p, &a);
    }
    mk_pipeline_free(&p);
    mk_plugin_path_free(&sp);
    mk_cli_args_free(&a);
    return rc;
}
