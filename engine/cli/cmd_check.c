/*
 * cmd_check.c -- `mekong check PIPELINE`: load a pipeline file and its
 * plugins, validate it, and say how many steps it has.  No data is read.
 */
#include "config.h"

#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "run/run.h"

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static int check_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    printf("%s: ok (%zu source%s, %zu transform%s, %zu sink%s)\n", a->pipeline, p->nsources,
           plural(p->nsources), p->ntransforms, plural(p->ntransforms), p->nsinks,
           plural(p->nsinks));
    return MK_EXIT_OK;
}

int mk_cmd_check(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "check", "valid", check_loaded);
}
