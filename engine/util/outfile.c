/*
 * outfile.c -- see outfile.h.
 */
#include "config.h"

#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTFILE_BUFFER (256u * 1024u)

unsigned long long mk_process_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* after "pid (comm) ": field 3 is the state; starttime is field 22 */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

int mk_outfile_temp_owner(const char *name, long *pid, unsigned long long *start)
{
    const char *tag = strstr(name, ".tmp-");
    char *end;
    while (tag && tag[5] != '\0') {
        const char *p = tag + 5;
        long pv = strtol(p, &end, 10);
        if (end > p && *end == '-') {
            unsigned long long sv = strtoull(end + 1, &end, 10);
            if (*end == '-' && strlen(end + 1) >= 6 && pv > 0) {
                *pid = pv;
                *start = sv;
                return 0;
            }
        }
        tag = strstr(tag + 1, ".tmp-");
    }
    return -1;
}

int mk_outfile_owner_alive(long pid, unsigned long long start)
{
    if (pid == (long)getpid())
        return start == mk_process_start(pid);
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    unsigned long long now = mk_process_start(pid);
    return now == 0 || now == start; /* /proc unreadable: assume alive */
}

/* ".name.tmp-PID-START-" beside path: whose temporary file it is, so that
 * a later run can tell those of dead processes (mk_outfile_temp_owner). */
void mk_outfile_temp_prefix(const char *path, char *buf, size_t len)
{
    static unsigned long long start;
    static long pid;
    if (pid != (long)getpid()) {
        pid = (long)getpid();
        start = mk_process_start(pid);
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(buf, len, "%.*s.%s.tmp-%ld-%llu-", (int)dirlen, path, path + dirlen, pid, start);
}

/* ---- temporary files of this process, for mk_outfile_remove_temps ------ */

#define OUTFILE_LIVE_MAX 1024 /* more outputs at once are not listed */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static mk_outfile *live[OUTFILE_LIVE_MAX];

static void live_add(mk_outfile *f)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < OUTFILE_LIVE_MAX; i++)
        if (!live[i]) {
            live[i] = f;
            break;
        }
    pthread_mutex_unlock(&live_lock);
}

static void live_forget(mk_outfile *f)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < OUTFILE_LIVE_MAX; i++)
        if (live[i] == f)
            live[i] = NULL;
    pthread_mutex_unlock(&live_lock);
}

int mk_outfile_remove_temps(void)
{
    /* called while the process ends: a thread stuck holding the lock
     * (which only guards the list) does not stop it */
    int locked = 0;
    for (int tries = 0; tries < 100 && !locked; tries++) {
        locked = pthread_mutex_trylock(&live_lock) == 0;
        if (!locked)
            usleep(1000);
    }
    int n = 0;
    for (size_t i = 0; i < OUTFILE_LIVE_MAX; i++)
        if (live[i] && live[i]->tmp_path && unlink(live[i]->tmp_path) == 0)
            n++;
    if (locked)
        pthread_mutex_unlock(&live_lock);
    return n;
}

/* mkdir -p for the directory part of path. */
static int make_parent_dirs(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    for (char *s = copy + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            free(copy);
            return -1;
        }
        *s = '/';
    }
    free(copy);
    return 0;
}

mk_outfile *mk_outfile_open(const char *path, char *err, size_t errlen)
{
    mk_outfile *f = calloc(1, sizeof(*f));
    if (!f)
        goto nomem;
    f->fd = -1;
    f->b.buf = malloc(OUTFILE_BUFFER);
    f->final_path = strdup(path);
    size_t n = strlen(path) + 64;
    f->tmp_path = malloc(n);
    if (!f->b.buf || !f->final_path || !f->tmp_path)
        goto nomem;
    f->b.cap = OUTFILE_BUFFER;

    /* ".name.tmp-PID-START-XXXXXX" beside the final name */
    mk_outfile_temp_prefix(path, f->tmp_path, n);
    strcat(f->tmp_path, "XXXXXX");

    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "output %s is a directory: give a file name", path);
        mk_outfile_abort(f);
        return NULL;
    }
    int to_stdout = strcmp(path, "-") == 0; /* "-": standard output, as it is */
    if (to_stdout || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
        /* /dev/null, /dev/stdout, a FIFO: written directly (renaming a
         * file over a device would replace it) */
        free(f->tmp_path);
        f->tmp_path = NULL;
        f->direct = 1;
        f->fd = to_stdout ? fcntl(1, F_DUPFD_CLOEXEC, 3) : open(path, O_WRONLY | O_CLOEXEC);
        if (f->fd < 0) {
            snprintf(err, errlen, "cannot open %s for writing: %s", path, strerror(errno));
            mk_outfile_abort(f);
            return NULL;
        }
        return f;
    }
    make_parent_dirs(f->tmp_path);
    f->fd = mkstemp(f->tmp_path);
    if (f->fd < 0) {
        snprintf(err, errlen, "cannot create a file beside %s: %s", path, strerror(errno));
        free(f->tmp_path);
        f->tmp_path = NULL;
        mk_outfile_abort(f);
        return NULL;
    }
    live_add(f);
    /* mkstemp makes 0600; outputs get the usual 0666 less the umask */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(f->fd, 0666 & ~mask);
    return f;
nomem:
    snprintf(err, errlen, "out of memory opening %s", path);
    mk_outfile_abort(f);
    return NULL;
}

static int write_all(mk_outfile *f, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            f->err = errno;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int mk_outfile_flush(mk_outfile *f)
{
    if (f->err)
        return -1;
    if (f->b.len && write_all(f, f->b.buf, f->b.len) != 0)
        return -1;
    f->b.len = 0;
    return 0;
}

int mk_outfile_write_direct(mk_outfile *f, const void *p, size_t n)
{
    if (f->err)
        return -1;
    return write_all(f, p, n);
}

int mk_outfile_adopt(mk_outfile *f, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (f->direct || f->b.len || f->err || fstat(f->fd, &st) != 0 || st.st_size != 0)
        return 1;
    if (rename(path, f->tmp_path) != 0) {
        if (errno == EXDEV)
            return 1;
        snprintf(err, errlen, "cannot rename %s to %s: %s", path, f->tmp_path, strerror(errno));
        return -1;
    }
    int fd = open(f->tmp_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", f->tmp_path, strerror(errno));
        return -1;
    }
    close(f->fd);
    f->fd = fd;
    return 0;
}

int mk_outfile_finish(mk_outfile *f, char **tmp_path, char *err, size_t errlen)
{
    *tmp_path = NULL;
    if (f->direct)
        return mk_outfile_commit(f, err, errlen);
    if (mk_outfile_flush(f) != 0 || fsync(f->fd) != 0) {
        if (!f->err)
            f->err = errno;
        snprintf(err, errlen, "cannot write %s: %s", f->tmp_path, strerror(f->err));
        mk_outfile_abort(f);
        return -1;
    }
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", f->tmp_path, strerror(errno));
        mk_outfile_abort(f);
        return -1;
    }
    *tmp_path = f->tmp_path;
    f->tmp_path = NULL;
    mk_outfile_abort(f);
    return 0;
}

int mk_outfile_commit(mk_outfile *f, char *err, size_t errlen)
{
    if (f->direct) {
        int rc = mk_outfile_flush(f);
        if (rc != 0)
            snprintf(err, errlen, "cannot write %s: %s", f->final_path, strerror(f->err));
        else if (close(f->fd) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", f->final_path, strerror(errno));
            rc = -1;
        }
        f->fd = -1;
        mk_outfile_abort(f);
        return rc;
    }
    if (mk_outfile_flush(f) != 0 || fsync(f->fd) != 0) {
        if (!f->err)
            f->err = errno;
        snprintf(err, errlen, "cannot write %s: %s", f->tmp_path, strerror(f->err));
        mk_outfile_abort(f);
        return -1;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        snprintf(err, errlen, "cannot write %s: %s", f->tmp_path, strerror(errno));
        mk_outfile_abort(f);
        return -1;
    }
    f->fd = -1;
    if (rename(f->tmp_path, f->final_path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", f->tmp_path, f->final_path,
                 strerror(errno));
        mk_outfile_abort(f);
        return -1;
    }
    live_forget(f);
    free(f->tmp_path);
    f->tmp_path = NULL;
    mk_outfile_abort(f);
    return 0;
}

void mk_outfile_abort(mk_outfile *f)
{
    if (!f)
        return;
    live_forget(f);
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp_path)
        unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->final_path);
    free(f->b.buf);
    free(f);
}
