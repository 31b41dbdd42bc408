/*
 * lock.c -- one run at a time: a lock for the pipeline (<run folder>/lock)
 * and one for every output the engine knows of (".NAME.lock" beside it),
 * so that two runs of one pipeline, or two pipelines writing one file,
 * never write at the same time.
 *
 * Locks are flock(2) locks on those files: the kernel drops them when the
 * process ends, however it ends, so a dead run's lock is simply free (its
 * file stays, with the dead holder's details, and is taken over).  The
 * holder writes its pid, host, start time and pipeline into the file; a
 * run that finds a lock taken names them.  Locks are taken in the order of
 * their paths, so two runs that want some of the same files cannot hold
 * one each and wait for the other.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

struct mk_locks {
    size_t n;
    int *fds;
    char **paths;
};

static int make_dirs(const char *dir)
{
    char *copy = strdup(dir);
    if (!copy)
        return -1;
    for (char *s = copy + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            free(copy);
            return -1;
        }
        if (!(*s = c))
            break;
    }
    free(copy);
    return 0;
}

/* The lock file of an output: ".NAME.lock" beside it, its folder resolved
 * (two spellings of one file get one lock).  NULL for a device or a pipe,
 * which is written directly and never replaced. */
static char *output_lock_path(const char *output)
{
    struct stat st;
    if (stat(output, &st) == 0 && !S_ISREG(st.st_mode))
        return NULL;
    char *dir = mk_dir_of(output);
    const char *base = strrchr(output, '/');
    base = base ? base + 1 : output;
    if (!dir || make_dirs(dir) != 0) {
        free(dir);
        return NULL;
    }
    char *real = realpath(dir, NULL);
    free(dir);
    if (!real)
        return NULL;
    size_t n = strlen(real) + strlen(base) + 16;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/.%s.lock", strcmp(real, "/") == 0 ? "" : real, base);
    free(real);
    return path;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lock files of p, sorted, without repeats. */
static char **lock_paths(const mk_pipeline *p, size_t *n)
{
    size_t nout = 0;
    char **outputs = mk_output_paths(p, &nout);
    char **paths = calloc(nout + 1, sizeof(char *));
    char *dir = mk_run_dir(p);
    *n = 0;
    if (outputs && paths && dir && make_dirs(dir) == 0) {
        char *real = realpath(dir, NULL);
        if (real && (paths[*n] = mk_path_join(real, "lock")))
            (*n)++;
        for (size_t i = 0; real && i < nout; i++) {
            char *lock = output_lock_path(outputs[i]);
            char *in = lock ? mk_dir_of(lock) : NULL;
            if (in && strcmp(in, real) == 0) /* the run folder's lock covers it */
                free(lock);
            else if (lock)
                paths[(*n)++] = lock;
            free(in);
        }
        free(real);
    }
    for (size_t i = 0; i < nout; i++)
        free(outputs[i]);
    free(outputs);
    free(dir);
    if (!paths || !*n) {
        free(paths);
        return NULL;
    }
    qsort(paths, *n, sizeof(char *), by_path);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (k && strcmp(paths[k - 1], paths[i]) == 0)
            free(paths[i]);
        else
            paths[k++] = paths[i];
    }
    *n = k;
    return paths;
}

/* Who holds the lock in fd, from what it wrote: "pid 12 on host h since T
 * (pipeline P)". */
static long read_holder(int fd, char *buf, size_t len)
{
    char text[1024];
    ssize_t got = pread(fd, text, sizeof text - 1, 0);
    text[got > 0 ? got : 0] = '\0';
    long pid = 0;
    char host[256] = "?", since[64] = "?", pipeline[512] = "?";
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "pid ", 4) == 0)
            pid = strtol(line + 4, NULL, 10);
        else if (strncmp(line, "host ", 5) == 0)
            snprintf(host, sizeof host, "%s", line + 5);
        else if (strncmp(line, "started ", 8) == 0)
            snprintf(since, sizeof since, "%s", line + 8);
        else if (strncmp(line, "pipeline ", 9) == 0)
            snprintf(pipeline, sizeof pipeline, "%s", line + 9);
    }
    if (pid && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        pid = 0; /* what a dead holder wrote: the new one has not written yet */
    if (pid)
        snprintf(buf, len, "pid %ld on host %s, started %s (pipeline %s)", pid, host, since,
                 pipeline);
    else
        snprintf(buf, len, "a run that has just started (it has not written its name yet)");
    return pid;
}

static void write_holder(int fd, const mk_pipeline *p, time_t started)
{
    char host[256] = "?", when[32], text[2048];
    gethostname(host, sizeof host - 1);
    struct tm tm;
    gmtime_r(&started, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *real = realpath(p->path, NULL);
    int n = snprintf(text, sizeof text, "pid %ld\nhost %s\nstarted %s\npipeline %s\n",
                     (long)getpid(), host, when, real ? real : p->path);
    free(real);
    if (ftruncate(fd, 0) == 0 && n > 0)
        (void)!pwrite(fd, text, (size_t)(n < (int)sizeof text ? n : (int)sizeof text - 1), 0);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take the lock in path within the deadline: 0; 1 held (msg names the
 * holder); -1 (msg says why). */
static int take_one(const char *path, double deadline, int *fd_out, char *msg, size_t len)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(msg, len, "cannot open the lock file %s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(msg, len, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        /* a holder that has just taken the lock writes its name at once:
         * given half a second more to do so, so that the message names it */
        char holder[1024];
        if (now_seconds() >= deadline + 0.5 || mk_run_stop_requested() ||
            (now_seconds() >= deadline && read_holder(fd, holder, sizeof holder) != 0)) {
            read_holder(fd, holder, sizeof holder);
            snprintf(msg, len, "another run holds the lock %s: %s", path, holder);
            close(fd);
            return 1;
        }
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
}

int mk_locks_take(const mk_pipeline *p, int wait_seconds, time_t started, mk_locks **out, char *msg,
                  size_t len)
{
    *out = NULL;
    char *dir = mk_run_dir(p);
    if (dir && make_dirs(dir) != 0) {
        snprintf(msg, len, "cannot make the run folder %s: %s (state_dir: puts it elsewhere)", dir,
                 strerror(errno));
        free(dir);
        return -1;
    }
    free(dir);
    mk_locks *l = calloc(1, sizeof(*l));
    if (!l || !(l->paths = lock_paths(p, &l->n)) || !(l->fds = calloc(l->n, sizeof(int)))) {
        snprintf(msg, len,
                 "cannot make the lock files of %s (out of memory, or a folder that "
                 "cannot be made)",
                 p->name);
        mk_locks_release(l);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        l->fds[i] = -1;
    double deadline = now_seconds() + wait_seconds;
    for (size_t i = 0; i < l->n; i++) {
        int rc = take_one(l->paths[i], deadline, &l->fds[i], msg, len);
        if (rc != 0) {
            mk_locks_release(l);
            return rc;
        }
        write_holder(l->fds[i], p, started);
    }
    *out = l;
    return 0;
}

void mk_locks_release(mk_locks *l)
{
    if (!l)
        return;
    for (size_t i = 0; l->fds && i < l->n; i++)
        if (l->fds[i] >= 0)
            close(l->fds[i]); /* the file stays: removing it would race a waiting run */
    for (size_t i = 0; l->paths && i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    free(l->fds);
    free(l);
}
