/*
 * cmd_history.c -- `mekong history PIPELINE`: the runs kept in the
 * pipeline's history (docs/NIGHTLY.md), oldest first: when each started,
 * its status, rows read, written and rejected, how long it took, and the
 * drift checks that warned or failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/ops.h"
#include "run/run.h"
#include "util/json_read.h"

static double total(const mk_jnode *rep, const char *key)
{
    return mk_json_number(mk_json_get(mk_json_get(rep, "totals"), key), 0);
}

/* "source_rows hanoi fail, null_share ten warn" */
static void check_summary(const mk_jnode *rep, char *buf, size_t len)
{
    buf[0] = '\0';
    const mk_jnode *checks = mk_json_get(rep, "checks");
    for (size_t i = 0; checks && checks->kind == MK_J_ARRAY && i < checks->count; i++) {
        const mk_jnode *c = checks->items[i];
        const char *st = mk_json_string(mk_json_get(c, "status"));
        if (!st || (strcmp(st, "fail") != 0 && strcmp(st, "warn") != 0))
            continue;
        size_t at = strlen(buf);
        snprintf(
            buf + at, len - at, "%s%s %s %s", at ? ", " : "",
            mk_json_string(mk_json_get(c, "check")) ? mk_json_string(mk_json_get(c, "check")) : "?",
            mk_json_string(mk_json_get(c, "subject")) ? mk_json_string(mk_json_get(c, "subject"))
                                                      : "?",
            st);
    }
}

static int list_history(mk_pipeline *p, const mk_cli_args *a)
{
    (void)a;
    char *dir = mk_history_dir(p);
    mk_history h;
    if (!dir || mk_history_load(dir, 0, &h) != 0) {
        free(dir);
        mk_log(MK_LOG_ERROR, "out of memory");
        return MK_EXIT_FAILED;
    }
    if (h.n == 0) {
        printf("%s: no runs in the history (%s)\n", p->name, dir);
    } else {
        printf("%-20s  %-9s  %10s  %10s  %10s  %9s  %s\n", "started", "status", "read", "written",
               "rejected", "seconds", "checks");
        for (size_t i = 0; i < h.n; i++) {
            const mk_jnode *r = h.runs[i].report;
            const char *started = mk_json_string(mk_json_get(r, "started"));
            const char *status = mk_json_string(mk_json_get(r, "status"));
            char checks[512];
            check_summary(r, checks, sizeof checks);
            printf("%-20s  %-9s  %10.0f  %10.0f  %10.0f  %9.2f  %s\n", started ? started : "?",
                   status ? status : "?", total(r, "read"), total(r, "written"),
                   total(r, "rejected"), mk_json_number(mk_json_get(r, "elapsed_seconds"), 0),
                   checks);
        }
        printf("%zu run%s kept in %s\n", h.n, h.n == 1 ? "" : "s", dir);
    }
    int rc = h.unreadable ? MK_EXIT_FAILED : MK_EXIT_OK;
    mk_history_free(&h);
    free(dir);
    return rc;
}

int mk_cmd_history(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "history", "read", list_history);
}
