/*
 * outfile.c -- see outfile.h.
 */
#include "config.h"

#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTFILE_BUFFER (256u * 1024u)

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
    size_t n = strlen(path) + 32;
    f->tmp_path = malloc(n);
    if (!f->b.buf || !f->final_path || !f->tmp_path)
        goto nomem;
    f->b.cap = OUTFILE_BUFFER;

    /* ".name.tmp-XXXXXX" beside the final name */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(f->tmp_path, n, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, path + dirlen);

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
    free(f->tmp_path);
    f->tmp_path = NULL;
    mk_outfile_abort(f);
    return 0;
}

void mk_outfile_abort(mk_outfile *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp_path)
        unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->final_path);
    free(f->b.buf);
    free(f);
}
