/*
 * csv_state.h -- the csv source's incremental: true (csv_state.c): which
 * files were read to the end, and SHA-256 of their bytes.
 */
#ifndef MEKONG_CSV_STATE_H
#define MEKONG_CSV_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

typedef struct csv_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char buf[64];
    size_t n;
} csv_sha256;

void csv_sha256_init(csv_sha256 *s);
void csv_sha256_update(csv_sha256 *s, const void *p, size_t n);
/* Finish: 64 hex digits and a NUL in out. */
void csv_sha256_hex(csv_sha256 *s, char out[65]);
/* The state of an unfinished hash as text (CSV_SHA256_TEXT bytes with the
 * NUL), and back (the number of bytes hashed given apart): a shard of
 * `mekong plan` goes on hashing where the plan stopped.  Load: 0 or -1. */
#define CSV_SHA256_TEXT (64 + 1 + 128 + 1)
void csv_sha256_save(const csv_sha256 *s, char out[CSV_SHA256_TEXT]);
int csv_sha256_load(csv_sha256 *s, uint64_t bytes, const char *text);

/* A file read to its end. */
typedef struct csv_file_mark {
    char *path; /* relative to the pipeline's folder when inside it */
    uint64_t size;
    char mtime[40]; /* "2025-01-31T23:10:05.123456789Z" (UTC) */
    char sha256[65];
    /* the file ended with LF outside any quote (and was not UTF-16): rows
     * appended later can be read from byte size on, as line `lines` and
     * record `records` + 1 */
    int appendable;
    uint64_t lines, records;
} csv_file_mark;

/* Where to go on reading a file that grew (csv_inc_decide). */
typedef struct csv_resume {
    uint64_t offset; /* 0: read the whole file */
    uint64_t line;   /* the line at offset */
    uint64_t record; /* records before offset */
    csv_sha256 sha;  /* of the bytes before offset */
} csv_resume;

typedef struct csv_increment {
    csv_file_mark *saved; /* what the last successful run saved */
    size_t nsaved;
    csv_file_mark *done; /* the state to save: files unchanged, and read now */
    size_t ndone, cap;
} csv_increment;

/* The saved state (NULL: none) into inc; 0, or -1 with err. */
int csv_inc_load(csv_increment *inc, const char *saved, char *err, size_t errlen);
/* Whether file (key: its name in the state) must be read, and from where
 * (resume->offset 0: whole); an unchanged one goes to the new state at
 * once.  why: a warning for a changed file ("" otherwise); grew: set when
 * it is read from where it ended.  0, or -1 out of memory. */
int csv_inc_decide(csv_increment *inc, const char *key, const char *file, int *read_it,
                   csv_resume *resume, char *why, size_t whylen);
/* A file read to its end now: m (path copied).  0, or -1 out of memory. */
int csv_inc_loaded(csv_increment *inc, const csv_file_mark *m);
/* The new state as JSON (malloc'd), NULL out of memory. */
char *csv_inc_json(const csv_increment *inc);
void csv_inc_free(csv_increment *inc);

/* The name of file in the state (malloc'd). */
char *csv_state_key(const char *pipeline_dir, const char *file);
/* st's mtime as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ". */
void csv_mtime_text(const struct stat *st, char out[40]);

#endif
