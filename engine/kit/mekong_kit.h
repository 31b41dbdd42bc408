/*
 * mekong_kit.h -- the plugin kit: what every plugin would otherwise write
 * again, in one installed library (libmekongkit, pkg-config --libs mekong).
 *
 *   mkk_plans    an opaque plan per input schema (schemas are interned)
 *   mkk_colmap   the input column of each name a plugin wants, per schema
 *   mkk_opt_*    option helpers that work with old and new hosts
 *   mkk_file     an output file that appears only when the run succeeds,
 *                with buffered writes, CSV fields and JSON strings
 *   mkk_utf8_*   checking and repairing UTF-8 (rows, values)
 *   mkk_keyset   a set of 128-bit key hashes (dedupe, unique keys)
 *
 * Functions that can fail report through the host (host->error with the
 * step's context, naming what failed) and return an mk_status, so a
 * plugin returns what it got.  The kit keeps no global state: everything
 * belongs to the object it was made for, used from one thread at a time.
 *
 * Trade-off: the writers of mkk_file are inline (no call, no syscall per
 * byte or row: this is every sink's hot path), so the head of struct
 * mkk_file (its buffer) is in this header and part of the library's ABI.
 * Plugins never touch its members; they use the functions below.
 * Everything else is opaque.  Names start with mkk_; the library exports
 * nothing else.
 */
#ifndef MEKONG_KIT_H
#define MEKONG_KIT_H

#include <stddef.h>
#include <string.h>

#include "mekong.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- plans per input schema ------------------------------------------- */

/* Whatever a plugin works out once per input schema (column indexes, escaped
 * keys, ...), kept by schema pointer.  The last schema looked up is
 * answered first (plugins look up once per batch, usually the same). */
typedef struct mkk_plans mkk_plans;

/* A new, empty cache; free_plan (NULL: free()) frees each plan at the end. */
mkk_plans *mkk_plans_new(void (*free_plan)(void *plan));
/* The plan put for schema s, or NULL. */
void *mkk_plans_get(mkk_plans *ps, const mk_schema *s);
/* Keep plan for s (replacing and freeing an earlier one): MK_OK, or MK_NOMEM
 * after freeing plan. */
int mkk_plans_put(mkk_plans *ps, const mk_schema *s, void *plan);
/* Free the cache and every plan in it.  NULL is fine. */
void mkk_plans_free(mkk_plans *ps);

/* ---- columns by name ---------------------------------------------------- */

/* Index of column name in s, or -1 (host->column_find when the host has it). */
long mkk_column_find(const mk_host *h, const mk_schema *s, const char *name);

/* The input columns of the names a plugin wants (a sink's file columns, a
 * transform's option), worked out once per input schema. */
typedef struct mkk_colmap mkk_colmap;

/* A map for n wanted names (copied); NULL when out of memory. */
mkk_colmap *mkk_colmap_new(const mk_host *h, const char *const *names, size_t n);
/* Per wanted name, its column in s or -1 when s has none; NULL when out of
 * memory.  Valid until the map is freed. */
const long *mkk_colmap_get(mkk_colmap *m, const mk_schema *s);
/* The first column of s that is not a wanted name, or -1 (-2: out of memory). */
long mkk_colmap_unwanted(mkk_colmap *m, const mk_schema *s);
/* How many names the map wants. */
size_t mkk_colmap_size(const mkk_colmap *m);
/* Free the map.  NULL is fine. */
void mkk_colmap_free(mkk_colmap *m);

/* The output schema of a transform made from input schema in: names[c]
 * comes from input column source[c] (>= 0, whose type it keeps) or is made
 * by the plugin (source[c] < 0, type made[c]; made NULL: text).  Types are
 * used only when the host has schema_intern_typed.  NULL: out of memory. */
const mk_schema *mkk_schema_derive(const mk_host *h, mk_context *ctx, const mk_schema *in,
                                   const char *const *names, const long *source,
                                   const mk_type *made, size_t n);

/* ---- options -------------------------------------------------------------- */

/* The index of string option name's value in choices ("a|b|c", as declared
 * in the option's mk_option_decl.choices), or -1 when it has no value or
 * another one.  host->opt_choice when the host has it. */
int mkk_opt_choice(const mk_host *h, mk_context *ctx, const char *name, const char *choices);

/* The candidate closest to word, for a "did you mean" in a message, or NULL
 * when none is close (at most 1 edit up to 4 bytes, len / 3 + 1 beyond). */
const char *mkk_suggest(const char *word, const char *const *candidates, size_t n);

/* ---- output files ------------------------------------------------------- */

/* An output file written under a temporary name beside its final one and
 * renamed into place on commit; an existing device or FIFO (/dev/stdout) is
 * written directly.  Writes are buffered (256 KiB); a failed write is
 * remembered and reported by mkk_file_check or mkk_file_close. */
typedef struct mkk_file mkk_file;

/* The buffer, for the inline writers below only (ABI of the kit; the rest
 * of the object is the kit's). */
struct mkk_file {
    char *buf;
    size_t len, cap;
};

/* Open the output path (missing folders are made).  NULL after host->error
 * naming the path when it cannot be created. */
mkk_file *mkk_file_open(const mk_host *h, mk_context *ctx, const char *path);
/* Commit (flush, fsync, rename into place) or throw away (remove the
 * temporary file), then free f.  MK_OK, or MK_ERROR after host->error naming
 * the path and the reason.  NULL is fine (MK_OK). */
int mkk_file_close(mkk_file *f, int commit);
/* MK_OK while every write succeeded; else MK_ERROR after host->error
 * ("cannot write PATH: reason").  Call it at the end of a sink's write(). */
int mkk_file_check(mkk_file *f);
/* The errno of the first failed write, 0 if none. */
int mkk_file_error(const mkk_file *f);
/* The final path, as given to mkk_file_open. */
const char *mkk_file_path(const mkk_file *f);
/* Write bytes that do not fit in the buffer (what mkk_file_write calls). */
int mkk_file_write_slow(mkk_file *f, const void *p, size_t n);

/* Write n bytes: 0, or -1 when a write failed (see mkk_file_check). */
static inline int mkk_file_write(mkk_file *f, const void *p, size_t n)
{
    if (f->cap - f->len < n)
        return mkk_file_write_slow(f, p, n);
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

/* Write one byte: 0 or -1. */
static inline int mkk_file_putc(mkk_file *f, char c)
{
    if (f->len == f->cap)
        return mkk_file_write_slow(f, &c, 1);
    f->buf[f->len++] = c;
    return 0;
}

/* Write a NUL-terminated string: 0 or -1. */
static inline int mkk_file_puts(mkk_file *f, const char *s)
{
    return mkk_file_write(f, s, strlen(s));
}

/* A name for a temporary file or folder beside final:
 * ".NAME.tmp-PID-START-XXXXXX" (malloc'd), ready for mkstemp or mkdtemp.
 * The engine removes such names of dead processes beside a pipeline's
 * outputs; hand the finished file or folder to mk_host.publish_path. */
char *mkk_temp_name(const char *final);

/* ---- CSV fields and JSON strings --------------------------------------- */

typedef struct mkk_csv_style {
    char delimiter;    /* ',' */
    char quote;        /* '"' */
    int formula_guard; /* a cell a spreadsheet would run gets a leading ' */
} mkk_csv_style;

/* One CSV field (RFC 4180): NULL (ptr NULL) as nothing, "" as "", quoted
 * when it holds the delimiter, quote, CR or LF or has edge blanks.  0/-1. */
int mkk_csv_field(mkk_file *f, const mkk_csv_style *st, const char *ptr, size_t len);
/* mkk_csv_field of the value with U+FFFD for each maximal invalid UTF-8
 * subpart; adds the replacements to *replaced.  0/-1. */
int mkk_csv_field_repaired(mkk_file *f, const mkk_csv_style *st, const char *ptr, size_t len,
                           size_t *replaced);

/* What mkk_json_string does with text that is not valid UTF-8. */
enum {
    MKK_JSON_CHECK = 0,   /* write nothing, return -2 */
    MKK_JSON_REPLACE = 1, /* U+FFFD per maximal invalid subpart, counted */
    MKK_JSON_VALID = 2,   /* known valid (batch_text_checked): not checked */
};
/* A quoted JSON string; controls, quote, backslash, U+2028/9 escaped.
 * 0, -1 (write failed) or -2 (MKK_JSON_CHECK and invalid). */
int mkk_json_string(mkk_file *f, const char *ptr, size_t len, int mode, size_t *replaced);

/* ---- reading JSON: a saved state (mk_host.state_get) ------------------------ */

/* After the JSON value at p (white space before it skipped), or NULL when
 * it is not one JSON value (or nests deeper than 64). */
const char *mkk_json_skip(const char *p, const char *end);
/* Walk an object: *pp starts at its '{'; each call gives the next member
 * (key at its '"', value from value to value_end) and returns 1, then 0 at
 * the end, -1 for text that is not JSON. */
int mkk_json_member(const char **pp, const char *end, const char **key, const char **value,
                    const char **value_end);
/* Walk an array the same way: *pp starts at its '['. */
int mkk_json_item(const char **pp, const char *end, const char **value, const char **value_end);
/* The JSON string at p (at its '"') decoded to UTF-8, malloc'd and
 * NUL-terminated (a \u0000 becomes U+FFFD); NULL when p is no string. */
char *mkk_json_decode(const char *p, const char *end);
/* 1 when the JSON string at p equals the NUL-terminated text s. */
int mkk_json_equals(const char *p, const char *end, const char *s);

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Length of the valid UTF-8 prefix of s (== len when it is all valid). */
size_t mkk_utf8_valid_prefix(const char *s, size_t len);
/* The first of n cells that is not valid UTF-8 (NULL is valid), or -1;
 * *offset: where its first bad byte is. */
long mkk_utf8_check_cells(const mk_value *cells, size_t n, size_t *offset);
/* Copy s into out (room for 3 * len bytes) with U+FFFD per maximal invalid
 * subpart; returns the bytes written, adds the replacements to *replaced. */
size_t mkk_utf8_repair(const char *s, size_t len, char *out, size_t *replaced);
/* Reject row r of b (host->row_reject with rule and a reason naming the
 * column and byte) when a cell is not valid UTF-8: 1 when rejected, 0 when
 * valid, or the (negative) status of a failed row_reject. */
int mkk_utf8_reject_row(const mk_host *h, mk_context *ctx, const mk_batch *b, size_t r,
                        const char *rule);

/* ---- key sets ------------------------------------------------------------- */

/* A set of 128-bit key hashes with a 64-bit payload (dedupe, schema
 * primaryKey/uniqueKeys).  Only hashes are kept: 24 bytes a slot, at most
 * three quarters of the slots used, so 32 to 64 bytes a key (the old
 * table is given back while it moves, so doubling adds little).  Two keys whose hashes are equal count as
 * one: odds about n^2 / 2^129 for n keys (1.5e-23 at 100 million).
 * Hashes are for one run in memory: not stable across machines. */
typedef struct mkk_keyset mkk_keyset;
/* An empty set, or NULL when out of memory. */
mkk_keyset *mkk_keyset_new(void);
/* Free the set.  NULL is fine. */
void mkk_keyset_free(mkk_keyset *ks);
/* How many keys the set holds. */
size_t mkk_keyset_count(const mkk_keyset *ks);
/* Memory held, in bytes. */
size_t mkk_keyset_bytes(const mkk_keyset *ks);
/* Hash a composite key of n cells (NULL distinct from "", cell boundaries unambiguous). */
void mkk_key_hash(const mk_value *cells, size_t n, uint64_t out[2]);
/* 0: new, stored with payload.  1: already there, *first = the payload stored with it.  -1: no memory. */
int mkk_keyset_insert(mkk_keyset *ks, const uint64_t h[2], uint64_t payload, uint64_t *first);
/* Insert, or give a key already there a new payload: 0 new, 1 replaced (*old = the payload it
 * had), -1 no memory.  For "the latest occurrence" (dedupe keep: last). */
int mkk_keyset_replace(mkk_keyset *ks, const uint64_t h[2], uint64_t payload, uint64_t *old);
/* 1: h is in the set, *payload (when not NULL) = the payload stored with it.  0: it is not (the set
 * does not learn it).  Read only: once filled, a set may be asked from several threads at once. */
int mkk_keyset_find(const mkk_keyset *ks, const uint64_t h[2], uint64_t *payload);
/* A hint: h will be inserted soon (the slot is fetched into the cache).
 * Hash a batch of keys, prefetch each, then insert them: a big set is a
 * cache miss per key, and the misses then overlap. */
void mkk_keyset_prefetch(const mkk_keyset *ks, const uint64_t h[2]);

#ifdef __cplusplus
}
#endif
#endif /* MEKONG_KIT_H */
