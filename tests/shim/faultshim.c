/*
 * faultshim.c -- a preload library for the fault-injection tests
 * (tests/scripts/publish-faults.sh): the Nth call of one system call fails,
 * as SQLite's tests make the Nth write or malloc fail.
 *
 *   MEKONG_FAULT=CALL:N[:after-fsync][:onwards]
 *
 * CALL is write (to a file, fd > 2: not the log), fsync, rename (rename,
 * renameat, renameat2), open (open, open64, openat, mkstemp) or malloc.
 * With after-fsync, calls are counted from the first fsync on: the start
 * of the publish step, where the outputs are finished.  With onwards,
 * every call from the Nth on fails (so that undoing fails too).  The failing call
 * sets errno (ENOSPC for write, EIO for fsync and rename, EACCES for open,
 * ENOMEM for malloc; malloc is interposed by faultshim-malloc.so only,
 * the same source built with FAULTSHIM_MALLOC: a sanitizer build's own
 * allocator must not be bypassed).  When it fails, the shim appends "CALL N" to the
 * file MEKONG_FAULT_LOG names, so that the test knows the fault was hit;
 * at exit it appends "calls CALL TOTAL" (how many there were).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef FAULTSHIM_MALLOC
extern void *__libc_malloc(size_t size);
#endif

enum { C_NONE, C_WRITE, C_FSYNC, C_RENAME, C_OPEN, C_MALLOC };

static int target = -1; /* -1: not read yet */
static long fail_at;
static int after_fsync, onwards;
static atomic_int armed;
static atomic_long count;

static void log_line(const char *text)
{
    const char *path = getenv("MEKONG_FAULT_LOG");
    if (!path)
        return;
    static int (*real_open)(const char *, int, ...);
    static ssize_t (*real_write)(int, const void *, size_t);
    if (!real_open)
        real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    if (!real_write)
        real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    int fd = real_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        real_write(fd, text, strlen(text));
        close(fd);
    }
}

static const char *call_name(int c)
{
    static const char *const names[] = {"", "write", "fsync", "rename", "open", "malloc"};
    return names[c];
}

static void at_end(void)
{
    char line[96];
    snprintf(line, sizeof line, "calls %s %ld\n", call_name(target), atomic_load(&count));
    log_line(line);
}

static void setup(void)
{
    const char *spec = getenv("MEKONG_FAULT");
    target = C_NONE;
    if (!spec)
        return;
    static const struct {
        const char *name;
        int c;
    } calls[] = {
        {"write", C_WRITE}, {"fsync", C_FSYNC},   {"rename", C_RENAME},
        {"open", C_OPEN},   {"malloc", C_MALLOC},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        size_t n = strlen(calls[i].name);
        if (strncmp(spec, calls[i].name, n) == 0 && spec[n] == ':') {
            target = calls[i].c;
            fail_at = strtol(spec + n + 1, NULL, 10);
            after_fsync = strstr(spec, ":after-fsync") != NULL;
            onwards = strstr(spec, ":onwards") != NULL;
        }
    }
    atomic_store(&armed, !after_fsync);
    if (target != C_NONE)
        atexit(at_end);
}

/* 1 when this call of c is the one to fail. */
static int should_fail(int c)
{
    if (target == -1)
        setup();
    if (c == C_FSYNC && after_fsync)
        atomic_store(&armed, 1);
    if (c != target || !atomic_load(&armed))
        return 0;
    long n = atomic_fetch_add(&count, 1) + 1;
    if (n != fail_at && !(onwards && n > fail_at))
        return 0;
    char line[64];
    snprintf(line, sizeof line, "%s %ld\n", call_name(c), n);
    log_line(line);
    return 1;
}

#define REAL(name)                                                                                 \
    static __typeof__(&name) real_##name;                                                          \
    if (!real_##name)                                                                              \
    real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    if (fd > 2 && should_fail(C_WRITE)) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, buf, n);
}

int fsync(int fd)
{
    REAL(fsync);
    if (should_fail(C_FSYNC)) {
        errno = EIO;
        return -1;
    }
    return real_fsync(fd);
}

int rename(const char *a, const char *b)
{
    REAL(rename);
    if (should_fail(C_RENAME)) {
        errno = EIO;
        return -1;
    }
    return real_rename(a, b);
}

int renameat(int fa, const char *a, int fb, const char *b)
{
    REAL(renameat);
    if (should_fail(C_RENAME)) {
        errno = EIO;
        return -1;
    }
    return real_renameat(fa, a, fb, b);
}

int renameat2(int fa, const char *a, int fb, const char *b, unsigned flags)
{
    REAL(renameat2);
    if (should_fail(C_RENAME)) {
        errno = EIO;
        return -1;
    }
    return real_renameat2(fa, a, fb, b, flags);
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    REAL(open);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (should_fail(C_OPEN)) {
        errno = EACCES;
        return -1;
    }
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    REAL(open64);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (should_fail(C_OPEN)) {
        errno = EACCES;
        return -1;
    }
    return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (should_fail(C_OPEN)) {
        errno = EACCES;
        return -1;
    }
    return real_openat(dirfd, path, flags, mode);
}

int mkstemp(char *tmpl)
{
    REAL(mkstemp);
    if (should_fail(C_OPEN)) {
        errno = EACCES;
        return -1;
    }
    return real_mkstemp(tmpl);
}

#ifdef FAULTSHIM_MALLOC
/* Only in faultshim-malloc.so: a sanitizer build has an allocator of its
 * own, which a preloaded malloc would bypass. */
void *malloc(size_t size)
{
    if (target != -1 && target == C_MALLOC && should_fail(C_MALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}
#endif
