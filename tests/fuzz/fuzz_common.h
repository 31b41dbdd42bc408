/*
 * fuzz_common.h -- what the fuzz targets share: a private folder for the
 * files a run reads and writes, and writing a file in it.
 */
#ifndef MK_FUZZ_COMMON_H
#define MK_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[256];

/* A folder of our own under TMPDIR, removed when the fuzzer ends. */
static void fuzz_cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (fuzz_dir[0] && system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

static void fuzz_make_dir(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/mekong-fuzz-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp",
             name);
    if (!mkdtemp(fuzz_dir)) {
        perror("mkdtemp");
        abort();
    }
    atexit(fuzz_cleanup);
}

/* dir/name, into buf. */
static const char *fuzz_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", fuzz_dir, name);
    return buf;
}

static void fuzz_write(const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f = fopen(fuzz_path(path, sizeof path, name), "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

#endif
