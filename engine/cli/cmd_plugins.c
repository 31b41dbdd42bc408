/*
 * cmd_plugins.c -- `mekong plugins`: list every plugin on the search path
 * with its roles, version and declared options.  Exit status 1 when none is
 * found.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "plugin.h"
#include "run/run.h"

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

static void print_plugin(const mk_plugin *d, const char *path)
{
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
}

/* mk_plugin_each callback; data counts the plugins that could be loaded. */
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
    print_plugin(lp.desc, path);
    mk_plugin_unload(&lp);
    (*count)++;
}

int mk_cmd_plugins(int argc, char **argv)
{
    mk_cli_args a;
    int rc = mk_cli_args_parse(argc, argv, &a, 0, "plugins");
    if (rc) {
        mk_cli_args_free(&a);
        return rc;
    }
    mk_plugin_path sp;
    if (mk_plugin_path_init(&sp, a.plugin_dirs, a.nplugin_dirs) != 0) {
        mk_cli_args_free(&a);
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
    mk_cli_args_free(&a);
    return rc;
}
