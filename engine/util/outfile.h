/*
 * outfile.h -- buffered output files that appear only when complete.
 *
 * An output is written to a temporary file beside its final name (same
 * directory, so the rename is atomic) and renamed over the final name on
 * commit.  A failed or interrupted run aborts: the temporary file is
 * removed and an earlier output under the final name stays untouched.
 * Writes go through a 256 KiB buffer: no syscall per row.
 *
 * A final name that exists and is not a regular file (/dev/null,
 * /dev/stdout, a FIFO) is opened and written directly: there is nothing to
 * rename over, and renaming a file over a device would replace the device.
 * The name "-" is standard output, written directly too.
 *
 * Shared by the engine (rejects, report) and the plugin kit's mkk_file
 * (engine/kit: libmekongkit contains this code), so it knows nothing of
 * plugins or rows.  Its buffer is the kit's struct mkk_file, first in
 * mk_outfile, so the kit lends it to plugins' inline writers as it is.
 */
#ifndef MEKONG_OUTFILE_H
#define MEKONG_OUTFILE_H

#include <stddef.h>
#include <string.h>

#include "mekong_kit.h"

typedef struct mk_outfile {
    mkk_file b;       /* the buffer: b.buf, b.len of b.cap bytes in use */
    int fd;
    int err;          /* first errno of a failed write, 0 if none */
    char *final_path;
    char *tmp_path;   /* NULL when direct */
    int direct;       /* writing the final path itself (not a regular file) */
    void *owner;      /* whoever wraps the file (the kit), NULL */
} mk_outfile;

/* Create the temporary file (and missing parent directories).  NULL with a
 * message in err on failure. */
mk_outfile *mk_outfile_open(const char *path, char *err, size_t errlen);
/* Write out the buffer (when full). 0 or -1 (f->err set). */
int mk_outfile_flush(mk_outfile *f);
/* Flush, fsync and rename to the final name, then free f. 0 or -1. */
int mk_outfile_commit(mk_outfile *f, char *err, size_t errlen);
/* The first half of a commit: flush, fsync and close the temporary file,
 * free f and hand the temporary file's name to *tmp_path (malloc'd; the
 * caller renames or removes it).  A direct file is only flushed and closed
 * (*tmp_path NULL).  0, or -1 with the temporary file removed. */
int mk_outfile_finish(mk_outfile *f, char **tmp_path, char *err, size_t errlen);
/* Make the complete file at path f's content instead of what f holds (f
 * must be empty): path is renamed over f's temporary file, which f then
 * appends to.  0; 1 when that cannot be done (path on another file
 * system, or f direct or not empty: nothing changed, copy instead); -1
 * with a message in err. */
int mk_outfile_adopt(mk_outfile *f, const char *path, char *err, size_t errlen);
/* Remove the temporary file and free f.  NULL is fine. */
void mk_outfile_abort(mk_outfile *f);
/* Temporary files are named ".NAME.tmp-PID-START-XXXXXX" beside NAME
 * (START: the process's start time in clock ticks since boot, as in
 * /proc/PID/stat), so that a later run can tell whose they are.
 * mk_outfile_temp_prefix: that name up to XXXXXX for path, in buf.
 * mk_outfile_temp_owner: the pid and start time in a file name, 0; -1 when
 * it is not such a name.  mk_outfile_owner_alive: whether that process
 * still runs.  mk_process_start: a process's start time, 0 unknown. */
void mk_outfile_temp_prefix(const char *path, char *buf, size_t len);
int mk_outfile_temp_owner(const char *name, long *pid, unsigned long long *start);
int mk_outfile_owner_alive(long pid, unsigned long long start);
unsigned long long mk_process_start(long pid);

/* Remove the temporary files of every output of this process (of this
 * copy of the code: the engine's and the kit's are two) that is neither
 * committed nor aborted; the number removed.  For a process about to end
 * without cleaning up (the stop watchdog, engine/cli/cmd_run.c). */
int mk_outfile_remove_temps(void);
/* Unbuffered write, for blocks larger than the buffer. */
int mk_outfile_write_direct(mk_outfile *f, const void *p, size_t n);

static inline int mk_outfile_write(mk_outfile *f, const void *p, size_t n)
{
    if (f->b.cap - f->b.len < n) {
        if (mk_outfile_flush(f) != 0)
            return -1;
        if (n >= f->b.cap) /* larger than the buffer: write it through */
            return mk_outfile_write_direct(f, p, n);
    }
    memcpy(f->b.buf + f->b.len, p, n);
    f->b.len += n;
    return 0;
}

static inline int mk_outfile_putc(mk_outfile *f, char c)
{
    if (f->b.len == f->b.cap && mk_outfile_flush(f) != 0)
        return -1;
    f->b.buf[f->b.len++] = c;
    return 0;
}

static inline int mk_outfile_puts(mk_outfile *f, const char *s)
{
    return mk_outfile_write(f, s, strlen(s));
}

#endif
