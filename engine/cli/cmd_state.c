/*
 * cmd_state.c -- `mekong state PIPELINE [--reset]`: show what the
 * pipeline's steps saved for the next run (the state files, indented), or
 * clear it so that the next run starts from nothing (under the pipeline's
 * locks, as a run: not while one runs).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/run.h"
#include "util/json.h"

static void put_stdout(void *data, const char *p, size_t n)
{
    fwrite(p, 1, n, data);
}

static int show_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            printf("%s: no state saved yet\n", path);
            return 0;
        }
        mk_log(MK_LOG_ERROR, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char buf[65536];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            char *grown = realloc(text, cap = (len + got + 1) * 2);
            if (!grown) {
                free(text);
                fclose(f);
                mk_log(MK_LOG_ERROR, "out of memory reading %s", path);
                return -1;
            }
            text = grown;
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    printf("%s:\n", path);
    const char *end = text + len, *stop = text ? mk_json_skip(text, end) : NULL;
    int rc = 0;
    if (!stop || mk_json_ws(stop, end) != end) {
        mk_log(MK_LOG_ERROR,
               "%s is not valid JSON: repair it, or clear it with 'mekong state --reset'", path);
        rc = -1;
    } else {
        mk_json_pretty(text, end, 0, put_stdout, stdout);
        putchar('\n');
    }
    free(text);
    return rc;
}

static int reset_file(const char *path)
{
    if (unlink(path) == 0) {
        printf("removed %s\n", path);
        return 0;
    }
    if (errno == ENOENT)
        return 0;
    mk_log(MK_LOG_ERROR, "cannot remove %s: %s", path, strerror(errno));
    return -1;
}

static int state_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    size_t n;
    char **paths = mk_state_paths(p, &n);
    if (!paths) {
        mk_log(MK_LOG_ERROR, "out of memory");
        return MK_EXIT_FAILED;
    }
    mk_locks *locks = NULL;
    char msg[2048];
    int held = a->reset ? mk_locks_take(p, p->lock_wait, time(NULL), &locks, msg, sizeof msg) : 0;
    if (held) {
        mk_log(MK_LOG_ERROR, "%s: state not cleared: %s", p->name, msg);
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
        free(paths);
        return held > 0 ? MK_EXIT_LOCKED : MK_EXIT_FAILED;
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        if ((a->reset ? reset_file(paths[i]) : show_file(paths[i])) != 0)
            failed = 1;
        free(paths[i]);
    }
    free(paths);
    mk_locks_release(locks);
    if (a->reset && !failed)
        printf("%s: state cleared; the next run reads everything\n", p->name);
    return failed ? MK_EXIT_FAILED : MK_EXIT_OK;
}

int mk_cmd_state(int argc, char **argv)
{
    return mk_cli_with_pipeline(argc, argv, "state", "read", state_loaded);
}
