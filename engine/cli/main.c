/*
 * main.c -- the mekong command: argument parsing and the subcommands.
 *
 *   mekong run PIPELINE [--set KEY=VALUE]... [--report FILE] [--quiet|--verbose]
 *   mekong check PIPELINE [--set KEY=VALUE]...
 *   mekong plugins
 *   mekong help [COMMAND]
 *   mekong --version
 *
 * Exit codes: 0 success, 1 the run failed, 2 usage or pipeline-file error,
 * 3 a data-quality threshold was crossed (see run.h).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "run.h"

typedef struct common_args {
    const char *pipeline;
    const char *report;
    char **plugin_dirs;
    size_t nplugin_dirs;
    cfg_vars vars;
    int quiet, verbose;
} common_args;

static const struct command_help {
    const char *name, *usage, *text;
} helps[] = {
    {"run", "mekong run PIPELINE [--set NAME=VALUE]... [--report FILE] [--quiet|--verbose]",
     "Run a pipeline: read its sources, apply its transforms, write its sinks, its rejects\n"
     "file and its run report.  Outputs appear only when the run succeeds.\n"
     "  --set NAME=VALUE   define ${NAME} for the pipeline file (before the environment)\n"
     "  --report FILE      write the JSON run report here instead of the pipeline's report:\n"
     "  --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
     "  --quiet            only errors on stderr;  --verbose  also debug messages\n"
     "Exit status: 0 success, 1 the run failed (nothing published), 2 usage or pipeline\n"
     "file error, 3 a quality threshold was crossed (outputs not published by default)."},
    {"check", "mekong check PIPELINE [--set NAME=VALUE]... [--plugin-dir DIR]",
     "Check a pipeline file without reading data: YAML syntax, variables, every key against\n"
     "the plugins' declared options (with suggestions), types and required options.  The\n"
     "plugins are loaded.  Exit status 0 when the file is good, 2 otherwise."},
    {"plugins", "mekong plugins [--plugin-dir DIR]",
     "List every plugin found on the search path with its roles, version and options."},
    {"detect", "mekong detect FILE",
     "Guess the encoding of a file (UTF-8, Windows-1258, TCVN3, VNI, VISCII), print the\n"
     "choice with its confidence and a few decoded sample lines."},
    {"test", "mekong test FILE...",
     "Run the test cases of a rule file or pipeline (see docs/RULES.md); print a diff for\n"
     "each failure; exit non-zero if any fails."},
    {"help", "mekong help [COMMAND]", "Show help for mekong or one of its commands."},
};
#define N_HELPS (sizeof helps / sizeof helps[0])

static void usage(FILE *out)
{
    fprintf(out, "mekong %s - ETL and data-quality engine for Vietnamese public data\n\n",
            PACKAGE_VERSION);
    fputs("Usage:\n", out);
    for (size_t i = 0; i < N_HELPS; i++)
        fprintf(out, "  %s\n", helps[i].usage);
    fputs("  mekong --version\n\nSee 'mekong help COMMAND' and man mekong.\n", out);
}

static int cmd_help(const char *topic)
{
    if (!topic) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_HELPS; i++) {
        if (strcmp(helps[i].name, topic) == 0) {
            printf("Usage: %s\n\n%s\n", helps[i].usage, helps[i].text);
            return 0;
        }
    }
    fprintf(stderr, "mekong: no command '%s'; 'mekong help' lists them\n", topic);
    return MK_EXIT_USAGE;
}

static void free_args(common_args *a)
{
    free(a->plugin_dirs);
    free(a->vars.names);
    free(a->vars.values);
}

/* Parse the options shared by run/check/plugins.  Returns 0, or an exit
 * code after printing what is wrong. */
static int parse_args(int argc, char **argv, common_args *a, int want_pipeline, const char *cmd)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--set") == 0 || strcmp(arg, "--report") == 0 ||
            strcmp(arg, "--plugin-dir") == 0) {
            if (!val) {
                fprintf(stderr, "mekong %s: %s needs a value; see 'mekong help %s'\n", cmd, arg,
                        cmd);
                return MK_EXIT_USAGE;
            }
            i++;
            if (strcmp(arg, "--report") == 0) {
                a->report = val;
            } else if (strcmp(arg, "--plugin-dir") == 0) {
                a->plugin_dirs = realloc(a->plugin_dirs, (a->nplugin_dirs + 1) * sizeof(char *));
                a->plugin_dirs[a->nplugin_dirs++] = argv[i];
            } else {
                char *eq = strchr(argv[i], '=');
                if (!eq || eq == argv[i]) {
                    fprintf(stderr, "mekong %s: --set wants NAME=VALUE, not '%s'\n", cmd, val);
                    return MK_EXIT_USAGE;
                }
                *eq = '\0';
                size_t n = a->vars.count + 1;
                a->vars.names = realloc(a->vars.names, n * sizeof(char *));
                a->vars.values = realloc(a->vars.values, n * sizeof(char *));
                a->vars.names[a->vars.count] = argv[i];
                a->vars.values[a->vars.count] = eq + 1;
                a->vars.count = n;
            }
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            a->verbose = 1;
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "mekong %s: unknown option '%s'; see 'mekong help %s'\n", cmd, arg, cmd);
            return MK_EXIT_USAGE;
        } else if (want_pipeline && !a->pipeline) {
            a->pipeline = arg;
        } else {
            fprintf(stderr, "mekong %s: unexpected argument '%s'; see 'mekong help %s'\n", cmd,
                    arg, cmd);
            return MK_EXIT_USAGE;
        }
    }
    if (want_pipeline && !a->pipeline) {
        fprintf(stderr, "mekong %s: which pipeline file? usage: %s\n", cmd,
                cmd[0] == 'r' ? helps[0].usage : helps[1].usage);
        return MK_EXIT_USAGE;
    }
    if (a->quiet)
        mk_log_threshold = MK_LOG_ERROR;
    if (a->verbose)
        mk_log_threshold = MK_LOG_DEBUG;
    return 0;
}

static void on_signal(int sig)
{
    mk_run_request_stop(sig);
}

static int cmd_run_or_check(int argc, char **argv, int run)
{
    common_args a;
    const char *cmd = run ? "run" : "check";
    int rc = parse_args(argc, argv, &a, 1, cmd);
    if (rc) {
        free_args(&a);
        return rc;
    }
    mk_plugin_path sp;
    mk_pipeline p;
    if (mk_plugin_path_init(&sp, a.plugin_dirs, a.nplugin_dirs) != 0) {
        free_args(&a);
        return MK_EXIT_FAILED;
    }
    if (mk_pipeline_load(a.pipeline, &a.vars, &sp, &p) != 0) {
        mk_log(MK_LOG_ERROR, "%s: pipeline not %s; fix the problems above",
               a.pipeline, run ? "run" : "valid");
        rc = MK_EXIT_USAGE;
    } else if (!run) {
        printf("%s: ok (%zu source%s, %zu transform%s, %zu sink%s)\n", a.pipeline, p.nsources,
               p.nsources == 1 ? "" : "s", p.ntransforms, p.ntransforms == 1 ? "" : "s",
               p.nsinks, p.nsinks == 1 ? "" : "s");
        rc = MK_EXIT_OK;
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        mk_run_options o = {a.report, !a.quiet && isatty(2)};
        rc = mk_run_pipeline(&p, &o);
    }
    mk_pipeline_free(&p);
    mk_plugin_path_free(&sp);
    free_args(&a);
    return rc;
}

static const char *option_type_name(mk_option_type t)
{
    switch (t) {
    case MK_OPT_STRING: return "string";
    case MK_OPT_INT: return "int";
    case MK_OPT_BOOL: return "bool";
    case MK_OPT_CHAR: return "char";
    case MK_OPT_PATH: return "path";
    case MK_OPT_MAP: return "map";
    case MK_OPT_LIST: return "list";
    }
    return "?";
}

static void print_options(const char *role, const mk_option_decl *d)
{
    printf("  %s options:\n", role);
    if (!d || !d->name)
        printf("    (none)\n");
    for (; d && d->name; d++) {
        printf("    %-16s %-6s %s%s", d->name, option_type_name(d->type),
               d->required ? "required. " : "", d->help);
        if (d->choices)
            printf(" [%s]", d->choices);
        if (d->default_value)
            printf(" (default: %s)", d->default_value);
        putchar('\n');
    }
}

static void list_plugin(const char *name, const char *path, void *data)
{
    int *count = data;
    mk_loaded_plugin lp;
    char err[2048];
    (void)name;
    if (mk_plugin_load_file(path, &lp, err, sizeof err) != 0) {
        printf("%s\n  cannot be used: %s\n\n", path, err);
        return;
    }
    const mk_plugin *d = lp.desc;
    char roles[64] = "";
    if (d->source)
        strcat(roles, " source");
    if (d->transform)
        strcat(roles, " transform");
    if (d->sink)
        strcat(roles, " sink");
    printf("%s %s  [%s]  %s\n  %s\n", d->name, d->version, roles + (roles[0] == ' '), path,
           d->summary ? d->summary : "");
    if (d->source)
        print_options("source", d->source_options);
    if (d->transform)
        print_options("transform", d->transform_options);
    if (d->sink)
        print_options("sink", d->sink_options);
    putchar('\n');
    mk_plugin_unload(&lp);
    (*count)++;
}

static int cmd_plugins(int argc, char **argv)
{
    common_args a;
    int rc = parse_args(argc, argv, &a, 0, "plugins");
    if (rc) {
        free_args(&a);
        return rc;
    }
    mk_plugin_path sp;
    if (mk_plugin_path_init(&sp, a.plugin_dirs, a.nplugin_dirs) != 0) {
        free_args(&a);
        return MK_EXIT_FAILED;
    }
    int count = 0;
    mk_plugin_each(&sp, list_plugin, &count);
    if (count == 0) {
        char *where = mk_plugin_path_describe(&sp);
        fprintf(stderr, "mekong plugins: no plugins found in %s\n", where ? where : "?");
        free(where);
        rc = MK_EXIT_FAILED;
    }
    mk_plugin_path_free(&sp);
    free_args(&a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MK_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("mekong %s (plugin ABI %u)\n", PACKAGE_VERSION, MK_ABI_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cmd_help(argc > 2 ? argv[2] : NULL);
    if (strcmp(cmd, "run") == 0)
        return cmd_run_or_check(argc - 2, argv + 2, 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_run_or_check(argc - 2, argv + 2, 0);
    if (strcmp(cmd, "plugins") == 0)
        return cmd_plugins(argc - 2, argv + 2);
    for (size_t i = 0; i < mk_extra_command_count; i++)
        if (strcmp(cmd, mk_extra_commands[i].name) == 0)
            return mk_extra_commands[i].fn(argc - 2, argv + 2);
    fprintf(stderr, "mekong: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return MK_EXIT_USAGE;
}
