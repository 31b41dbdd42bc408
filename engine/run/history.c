/*
 * history.c -- the run history: every run's JSON report, one file per run
 * in <pipeline folder>/.mekong/<pipeline name>/history/, named by the time
 * it was kept (UTC, nanoseconds) so that names sort in run order; the
 * oldest beyond history.keep are removed.  Read back for the drift checks,
 * the HTML trend and `mekong history`.  Kept after the run's outputs are
 * published, not as part of their set: a crash in between loses one entry
 * of the history, never an output.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"
#include "util/json_read.h"
#include "util/words.h"

#define MAX_REPORT_BYTES (64u * 1024u * 1024u)

char *mk_history_dir(const mk_pipeline *p)
{
    char *d = mk_run_dir(p); /* the run folder, state_dir: moves it (run.h) */
    char *h = d ? mk_path_join(d, "history") : NULL;
    free(d);
    return h;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The report files of dir, sorted (oldest first); NULL-free array. */
static char **list_reports(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !mk_ends_with(e->d_name, ".json"))
            continue;
        char **grown = realloc(names, (*n + 1) * sizeof(*grown));
        if (!grown)
            break;
        names = grown;
        if ((names[*n] = strdup(e->d_name)))
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof(*names), by_name);
    return names;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16384;
            char *grown = cap <= MAX_REPORT_BYTES ? realloc(buf, cap) : NULL;
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int mk_history_load(const char *dir, size_t max, mk_history *h)
{
    memset(h, 0, sizeof(*h));
    size_t n;
    char **names = list_reports(dir, &n);
    size_t from = max && n > max ? n - max : 0;
    h->runs = calloc(n ? n : 1, sizeof(*h->runs));
    if (!h->runs) {
        free_names(names, n);
        return -1;
    }
    for (size_t i = from; i < n; i++) {
        char *path = mk_path_join(dir, names[i]);
        size_t len = 0;
        char *text = path ? read_file(path, &len) : NULL;
        mk_jnode *report = text ? mk_json_parse(text, len) : NULL;
        free(text);
        if (!report || report->kind != MK_J_OBJECT) {
            mk_log(MK_LOG_WARN, "history: %s is not a run report; left out",
                   path ? path : names[i]);
            mk_json_free(report);
            free(path);
            h->unreadable++;
            continue;
        }
        h->runs[h->n].file = path;
        h->runs[h->n++].report = report;
    }
    free_names(names, n);
    return 0;
}

void mk_history_free(mk_history *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->runs[i].file);
        mk_json_free(h->runs[i].report);
    }
    free(h->runs);
    memset(h, 0, sizeof(*h));
}

/* Temporary reports of runs that died while keeping theirs (kill -9). */
static void sweep_dead_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        long pid;
        unsigned long long start;
        if (e->d_name[0] != '.' || mk_outfile_temp_owner(e->d_name, &pid, &start) != 0 ||
            mk_outfile_owner_alive(pid, start))
            continue;
        char *path = mk_path_join(dir, e->d_name);
        if (path)
            unlink(path);
        free(path);
    }
    if (d)
        closedir(d);
}

/* Remove the oldest reports of dir beyond keep, and dead runs' temporaries. */
static void prune(const char *dir, size_t keep)
{
    sweep_dead_temporaries(dir);
    size_t n;
    char **names = list_reports(dir, &n);
    for (size_t i = 0; n > keep && i < n - keep; i++) {
        char *path = mk_path_join(dir, names[i]);
        if (path && unlink(path) != 0 && errno != ENOENT)
            mk_log(MK_LOG_WARN, "history: cannot remove %s: %s", path, strerror(errno));
        free(path);
    }
    free_names(names, n);
}

/* Keep this run's report in the history (a failure to is a warning: the
 * run itself is done). */
void mk_history_append(mk_run *run)
{
    size_t keep = run->p->ops ? run->p->ops->history_keep : 30;
    if (keep == 0)
        return;
    char *dir = mk_history_dir(run->p);
    if (!dir)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char stamp[32], name[96];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(name, sizeof name, "%s.%09ldZ-%ld.json", stamp, (long)now.tv_nsec, (long)getpid());
    char *path = mk_path_join(dir, name);
    if (path && mk_report_write(run, path, NULL, 0) != 0)
        mk_log(MK_LOG_WARN, "history: this run's report was not kept in %s", dir);
    else if (path)
        prune(dir, keep);
    free(path);
    free(dir);
}
