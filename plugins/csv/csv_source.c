/*
 * csv_source.c -- the csv source: RFC 4180 files read with libcsv.
 *
 * Field bytes are kept exactly: libcsv's trimming of blanks around unquoted
 * fields is switched off (trimming is a rule's job).  An unquoted empty
 * field is NULL, a quoted empty field the empty string (PostgreSQL's CSV
 * convention), so csv -> csv round-trips.  The input is fed to libcsv one
 * physical line (ended by LF, CRLF or CR alone) at a time, which gives
 * every record the line it starts on and lets a batch end between records
 * without buffering more than one read block.  Records that cannot become
 * rows (wrong field count, NUL byte, an empty line when there is more than
 * one column, unterminated quote at end of file) are rejected with their
 * line.
 *
 * Text is decoded once per field, after parsing, to UTF-8 NFC (vntext.h):
 * the delimiter, quote and line ends are ASCII in every supported
 * single-byte encoding, so fields can be cut before they are decoded.
 * UTF-16 is the exception: it is converted to UTF-8 block by block before
 * libcsv sees it.
 *
 * incremental: true reads only the files that are new or changed since the
 * last successful run (csv_state.c): the glob's files are filtered into
 * src->paths at open, and each file read to its end is remembered with the
 * SHA-256 of the bytes read.
 */
#include "config.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv_plugin.h"
#include "csv_state.h"
#include "mekong_kit.h"
#include "util/textout.h"
#include "vntext/vntext.h"

#define READ_BLOCK (1u << 20)

/* libcsv's parser states (csv.c): outside any record, and inside a field. */
#define LIBCSV_ROW_NOT_BEGUN 0
#define LIBCSV_FIELD_BEGUN 2

typedef struct csv_source {
    mk_context *ctx;
    const mk_host *host;
    struct csv_parser parser;
    int parser_ready;

    /* files */
    glob_t files;
    char **paths;        /* the files to read: the glob's, less those unchanged */
    size_t npaths;
    size_t file_index;   /* file being read */
    int fd;
    const char *path;    /* current file */

    /* read buffer: data[pos, len) not yet fed to libcsv; data is buf, or
     * utf8.data after UTF-16 conversion */
    char *buf;
    const char *data;
    size_t pos, len;
    int eof;
    uint64_t line;        /* line of the next byte to feed (1-based) */
    uint64_t record_line; /* line the record being parsed started on */
    uint64_t record;      /* records of this file so far, the header not counted */
    size_t line_start;    /* buf offset where the current line began */
    size_t lf_at;         /* data offset of the next LF at or after pos, len if
                           * none, (size_t)-1 when not yet searched */
    int after_cr;         /* the last line fed ended with a CR alone */

    /* the record being assembled: fields point into the batch arena */
    mk_value *fields;
    size_t nfields, fields_cap;
    char bad[512];        /* why the record must be rejected, "" if fine */
    int header_pending;   /* the next record is the header */
    int has_records;      /* the host's batches have record numbers (since 1.1) */
    int failed;

    mk_batch *batch;      /* batch being filled (NULL while reading the header) */
    const mk_schema *schema;
    char **header;        /* column names of the first file */
    size_t ncols;
    const char *null_marker;
    size_t null_marker_len;
    long long max_field;
    char delimiter, quote;
    int header_wanted;

    /* decoding (see vntext.h) */
    vn_decoder *decoder;      /* NULL for encoding: bytes */
    vn_decoder *utf8;         /* per_row_utf8: the UTF-8 reading of a row */
    int utf16;                /* the stream is UTF-16: convert before parsing */
    int on_invalid;
    vn_utf16_stream u16;
    vn_buf utf8_block;        /* UTF-16 converted to UTF-8 */
    vn_buf scratch;           /* decoded field */
    vn_buf line_scratch;      /* a decoded line (legacy encodings, simple lines) */
    uint64_t replacements;    /* U+FFFD, reported at the end of each batch */
    int plain_utf8;           /* encoding utf-8 (no UTF-16, no per_row_utf8) */
    int record_clean;         /* the fast path found the record valid UTF-8 NFC */
    char *unquoted;           /* fast path: a field with its doubled quotes undone */
    size_t unquoted_cap;
    int columns_given;     /* names come from the columns option */
    uint64_t file_offset;  /* bytes of the current file read so far */

    /* incremental: true */
    int incremental;
    int header_only;       /* every file unchanged: paths[0] gives only the header */
    int done;              /* every file read to its end */
    csv_increment inc;
    csv_resume *resume;    /* per path: where a file that grew goes on */
    int jump_after_header; /* the current file goes on at its resume offset ... */
    int jump_pending;      /* ... now */
    int unterminated;      /* the current file ended inside a quote */
    char last_byte;        /* of the current file */
    csv_sha256 sha;        /* of the current file's bytes */
    char mtime[40];        /* of the current file, at open */
    char inc_error[512];   /* a failure to remember a file (read-ahead thread) */

    /* shard_range: (mekong run --shard) the one file is read from resume[0] to range_end */
    int ranged;
    uint64_t range_end;
    size_t *part_of;       /* shard_files: paths[i] is part part_of[i] (its place in the glob) */
    const char **parts;    /* shard_parts: the whole run's files (NULL: the glob's) */
    size_t nparts;
    const char *mark_sha;  /* shard_range, incremental: the file's SHA-256, from the plan */
} csv_source;

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/* A field ended: keep its bytes (quoted: it was in quotes, so it is never
 * the NULL marker). */
/* A field longer than max_field_bytes fails the run, on every path (libcsv
 * resets its count at each record end, so a long field on one line passed). */
static int field_too_long(csv_source *src, size_t len)
{
    if ((long long)len <= src->max_field)
        return 0;
    src->host->error(src->ctx,
                     "%s:%llu: field %zu is %zu bytes, longer than max_field_bytes (%lld); if "
                     "the data is right, raise max_field_bytes",
                     src->path, (unsigned long long)src->record_line, src->nfields + 1, len,
                     src->max_field);
    src->failed = 1;
    return 1;
}

static void add_field(csv_source *src, const char *s, size_t len, int quoted, int check_nul)
{
    if (src->failed || field_too_long(src, len))
        return;
    if (src->nfields == src->fields_cap) {
        size_t cap = src->fields_cap ? src->fields_cap * 2 : 32;
        mk_value *f = realloc(src->fields, cap * sizeof(*f));
        if (!f) {
            src->failed = 1;
            src->host->error(src->ctx, "out of memory");
            return;
        }
        src->fields = f;
        src->fields_cap = cap;
    }
    mk_value *v = &src->fields[src->nfields++];
    const char *nul = s && check_nul ? memchr(s, '\0', len) : NULL;
    if (nul && !src->bad[0])
        snprintf(src->bad, sizeof src->bad,
                 "NUL byte in field %zu (byte %zu of the field): the file may be binary or "
                 "UTF-16 (then set encoding)",
                 src->nfields, (size_t)(nul - (const char *)s) + 1);
    if (!s) {
        v->ptr = NULL;
        v->len = 0;
        return;
    }
    if (src->null_marker && len == src->null_marker_len && !quoted &&
        memcmp(s, src->null_marker, len) == 0) {
        v->ptr = NULL;
        v->len = 0;
        return;
    }
    if (!src->header_pending) {
        char *p = src->host->batch_alloc(src->batch, len ? len : 1);
        if (!p) {
            src->failed = 1;
            src->host->error(src->ctx, "out of memory");
            return;
        }
        memcpy(p, s, len);
        v->ptr = p;
    } else {
        /* header: kept until open() copies the names */
        char *p = malloc(len + 1);
        if (!p) {
            src->failed = 1;
            return;
        }
        memcpy(p, s, len);
        p[len] = '\0';
        v->ptr = p;
    }
    v->len = len;
}

/* A field ended (libcsv callback). */
static void on_field(void *s, size_t len, void *data)
{
    csv_source *src = data;
    add_field(src, s, len, src->parser.quoted, 1);
}

static void free_header_fields(csv_source *src)
{
    for (size_t i = 0; i < src->nfields; i++)
            free((char *)src->fields[i].ptr);
}

static int take_header(csv_source *src);

/* Which decoder reads this record: with per_row_utf8, a row that reads as
 * UTF-8 (and not clearly as the legacy encoding) is UTF-8. */
static vn_decoder *record_decoder(csv_source *src)
{
    if (!src->utf8)
        return src->decoder;
    int legacy = 0;
    for (size_t i = 0; i < src->nfields && !legacy; i++) {
        const mk_value *v = &src->fields[i];
        if (v->ptr)
            legacy = vn_detect_row(src->decoder, v->ptr, v->len, &src->scratch) == VN_ROW_LEGACY;
    }
    return legacy ? src->decoder : src->utf8;
}

/* Decode every field of the record to UTF-8 NFC, in place (into the batch
 * arena, or malloc'd strings for the header).  0, or -1 with src->bad set
 * (the row is rejected with its original bytes) or src->failed. */
static int decode_record(csv_source *src, int header)
{
    vn_decoder *d = record_decoder(src);
    if (!d || src->record_clean)
        return 0;
    for (size_t i = 0; i < src->nfields; i++) {
        mk_value *v = &src->fields[i];
        if (!v->ptr)
            continue;
        const char *out;
        size_t out_len;
        vn_error e;
        e.replacements = 0;
        int rc = vn_decode_field(d, v->ptr, v->len, &out, &out_len, &src->scratch, &e);
        src->replacements += e.replacements;
        if (rc == VN_EINVALID) {
            const char *col = !header && i < src->ncols ? src->header[i] : NULL;
            snprintf(src->bad, sizeof src->bad, "field %zu%s%s%s: %s (encoding %s)", i + 1,
                     col ? " (" : "", col ? col : "", col ? ")" : "", e.message,
                     vn_decoder_name(d));
            return -1;
        }
        if (rc != VN_OK) {
            src->host->error(src->ctx, "out of memory decoding a field");
            src->failed = 1;
            return -1;
        }
        if (out == v->ptr)
            continue;
        char *copy = header ? malloc(out_len + 1) : src->host->batch_alloc(src->batch, out_len + 1);
        if (!copy) {
            src->host->error(src->ctx, "out of memory");
            src->failed = 1;
            return -1;
        }
        memcpy(copy, out, out_len);
        copy[out_len] = '\0';
        if (header)
            free((char *)v->ptr);
        v->ptr = copy;
        v->len = out_len;
    }
    return 0;
}

/* A record ended (libcsv callback). */
/* The record just parsed cannot be a row: to the rejects file, with its
 * first line and record number. */
static int reject_record(csv_source *src, const char *rule)
{
    const mk_host *h = src->host;
    if (MK_HOST_HAS(h, source_reject_record))
        return h->source_reject_record(src->ctx, src->fields, src->nfields, src->record_line,
                                       src->record, rule, src->bad);
    return h->source_reject(src->ctx, src->fields, src->nfields, src->record_line, rule,
                            src->bad);
}

static void on_record(int c, void *data)
{
    (void)c;
    csv_source *src = data;
    if (src->failed)
        return;
    if (src->header_pending) {
        src->header_pending = 0;
        if (decode_record(src, 1) != 0) {
            if (!src->failed)
                src->host->error(src->ctx, "%s:%llu: the header cannot be decoded: %s", src->path,
                                 (unsigned long long)src->record_line, src->bad);
            src->failed = 1;
        } else if (take_header(src) != 0) {
            src->failed = 1;
        } else if (src->jump_after_header) {
            src->jump_after_header = 0;
            src->jump_pending = 1; /* the rows before the offset were loaded already */
        }
        free_header_fields(src);
        src->nfields = 0;
        return;
    }
    const mk_host *h = src->host;
    const char *rule = "csv.nul_byte";
    src->record++;
    if (!src->bad[0] && src->nfields == 0) {
        /* only blank_line() ends a record without a field */
        snprintf(src->bad, sizeof src->bad,
                 "the line is empty, the header has %zu fields (an empty line is a row only in "
                 "a one-column file, holding NULL)",
                 src->ncols);
        rule = "csv.blank_line";
    } else if (!src->bad[0] && src->nfields != src->ncols) {
        snprintf(src->bad, sizeof src->bad, "record has %zu field%s, the header has %zu",
                 src->nfields, src->nfields == 1 ? "" : "s", src->ncols);
        rule = "csv.field_count";
    }
    if (!src->bad[0] && decode_record(src, 0) != 0) {
        if (src->failed)
            return;
        rule = "encoding.invalid";
    }
    if (src->bad[0]) {
        if (reject_record(src, rule) != MK_OK)
            src->failed = 1;
    } else {
        size_t r = h->batch_add_row(src->batch);
        if (r == (size_t)-1) {
            src->failed = 1;
            h->error(src->ctx, "out of memory");
            return;
        }
        memcpy(&MK_CELL(src->batch, r, 0), src->fields, src->ncols * sizeof(mk_value));
        src->batch->info[r].position = src->record_line;
        src->batch->info[r].part =
            (uint32_t)(src->part_of ? src->part_of[src->file_index] : src->file_index);
        if (src->has_records)
            src->batch->record[r] = src->record;
    }
    src->nfields = 0;
    src->bad[0] = '\0';
    src->record_clean = 0;
}

/* Column names must be UTF-8, whatever the encoding (with encoding: bytes
 * the header is not decoded): they become CSV headers and JSON keys.
 * 0, or -1 after an error naming the column and the byte. */
static int header_name_utf8(csv_source *src, size_t col, const char *name)
{
    size_t len = strlen(name);
    size_t ok = mkk_utf8_valid_prefix(name, len);
    if (ok == len)
        return 0;
    src->host->error(src->ctx,
                     "%s:%llu: column %zu of the header is not valid UTF-8 (byte 0x%02x at byte "
                     "%zu of the name): column names must be UTF-8",
                     src->path, (unsigned long long)src->record_line, col + 1,
                     (unsigned)(unsigned char)name[ok], ok + 1);
    return -1;
}

typedef struct named_column {
    const char *name;
    size_t index;
} named_column;

static int by_name_then_index(const void *a, const void *b)
{
    const named_column *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The first column (in header order) whose name an earlier one has, and
 * that earlier one: 1 if there is one, 0 if not, -1 out of memory.  By
 * sorting, not by comparing every pair: a header of 100,000 columns. */
static int first_duplicate(char *const *names, size_t n, size_t *first, size_t *second)
{
    named_column *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = (named_column){names[i], i};
    qsort(v, n, sizeof *v, by_name_then_index);
    int found = 0;
    for (size_t j = 1, start = 0; j < n; j++) {
        if (strcmp(v[j].name, v[start].name) != 0) {
            start = j;
        } else if (j == start + 1 && (!found || v[j].index < *second)) {
            *first = v[start].index;
            *second = v[j].index;
            found = 1;
        }
    }
    free(v);
    return found;
}

/* The header record is in src->fields (malloc'd strings). */
static int take_header(csv_source *src)
{
    const mk_host *h = src->host;
    size_t n = src->nfields;
    if (src->file_index > 0) {
        /* every file of the source must have the first file's columns */
        int same = n == src->ncols;
        for (size_t i = 0; same && !src->columns_given && i < n; i++)
            same = src->fields[i].ptr && strcmp(src->fields[i].ptr, src->header[i]) == 0;
        if (!same) {
            h->error(src->ctx,
                     "%s:%llu: the header differs from the first file's (%s): files of one "
                     "source must have the same columns; give them sources of their own",
                     src->path, (unsigned long long)src->record_line, src->paths[0]);
            return -1;
        }
        return 0;
    }
    if (src->ncols) /* names given by the columns: option; the header line is skipped */
        return n == src->ncols ? 0 : (h->error(src->ctx,
                                               "%s:%llu: the header has %zu columns but "
                                               "'columns' names %zu",
                                               src->path, (unsigned long long)src->record_line, n,
                                               src->ncols),
                                      -1);
    src->header = calloc(n ? n : 1, sizeof(char *));
    if (!src->header)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *name = src->fields[i].ptr;
        if (!name || !*name) {
            h->error(src->ctx, "%s:%llu: column %zu of the header has no name: name it, or give "
                               "the names with the 'columns' option",
                     src->path, (unsigned long long)src->record_line, i + 1);
            src->ncols = i;
            return -1;
        }
        if (header_name_utf8(src, i, name) != 0) {
            src->ncols = i;
            return -1;
        }
        src->header[i] = strdup(name);
        src->ncols = i + 1;
        if (!src->header[i])
            return -1;
    }
    size_t first = 0, second = 0;
    int dup = first_duplicate(src->header, n, &first, &second);
    if (dup != 0) {
        if (dup > 0)
            h->error(src->ctx,
                     "%s:%llu: column name '%s' appears twice in the header (columns %zu and "
                     "%zu)",
                     src->path, (unsigned long long)src->record_line, src->header[first],
                     first + 1, second + 1);
        return -1;
    }
    src->schema = h->schema_intern(src->ctx, (const char *const *)src->header, n);
    return src->schema ? 0 : -1;
}

static int open_file(csv_source *src)
{
    src->path = src->paths[src->file_index];
    struct stat st;
    if (stat(src->path, &st) != 0) {
        src->host->error(src->ctx, "cannot open %s: %s", src->path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        src->host->error(src->ctx, "%s is a directory: give a file or a glob such as %s/*.csv",
                         src->path, src->path);
        return -1;
    }
    src->fd = open(src->path, O_RDONLY | O_CLOEXEC);
    if (src->fd < 0) {
        src->host->error(src->ctx, "cannot open %s: %s (check the path and its permissions)",
                         src->path, strerror(errno));
        return -1;
    }
    if (src->incremental) {
        struct stat at_open;
        csv_sha256_init(&src->sha);
        if (fstat(src->fd, &at_open) == 0)
            csv_mtime_text(&at_open, src->mtime);
        src->unterminated = 0;
        src->last_byte = 0;
        int grew = src->resume && src->resume[src->file_index].offset > 0;
        src->jump_after_header = grew && src->header_wanted;
        src->jump_pending = grew && !src->header_wanted;
    }
    if (src->ranged) { /* the header first (at byte 0), then the range */
        int later = src->resume[0].offset > 0;
        src->jump_after_header = later && src->header_wanted;
        src->jump_pending = later && !src->header_wanted;
    }
    src->pos = src->len = 0;
    src->eof = 0;
    src->file_offset = 0;
    if (src->utf16 && vn_utf16_init(&src->u16, vn_decoder_name(src->decoder), src->on_invalid) != VN_OK) {
        src->host->error(src->ctx, "cannot start UTF-16 decoding");
        return -1;
    }
    src->line = 1;
    src->record_line = 1;
    src->record = 0;
    src->line_start = 0;
    src->after_cr = 0;
    src->header_pending = src->header_wanted;
    src->bad[0] = '\0';
    src->nfields = 0;
    if (src->parser_ready)
        csv_free(&src->parser);
    if (csv_init(&src->parser, CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
        src->host->error(src->ctx, "out of memory");
        return -1;
    }
    src->parser_ready = 1;
    csv_set_delim(&src->parser, (unsigned char)src->delimiter);
    csv_set_quote(&src->parser, (unsigned char)src->quote);
    csv_set_space_func(&src->parser, no_space);
    csv_set_blk_size(&src->parser, 1u << 16);
    size_t part = src->part_of ? src->part_of[src->file_index] : src->file_index;
    src->host->source_part(src->ctx, (uint32_t)part, src->path);
    return 0;
}

/* incremental: the file just read to its end goes into the new state. */
static int remember_file(csv_source *src)
{
    csv_file_mark m = {0};
    if (src->ranged && !src->mark_sha)
        return 0; /* a range of a file: the shard with the end and the hash remembers it */
    if (src->ranged)
        snprintf(m.sha256, sizeof m.sha256, "%s", src->mark_sha);
    else
        csv_sha256_hex(&src->sha, m.sha256);
    snprintf(m.mtime, sizeof m.mtime, "%s", src->mtime);
    m.size = src->file_offset;
    m.lines = src->line;
    m.records = src->record;
    m.appendable = !src->utf16 && !src->unterminated && m.size > 0 && src->last_byte == '\n';
    m.path = csv_state_key(src->host->pipeline_dir(src->ctx), src->path);
    int rc = m.path ? csv_inc_loaded(&src->inc, &m) : -1;
    free(m.path);
    if (rc != 0)
        src->host->error(src->ctx, "out of memory remembering %s", src->path);
    return rc;
}

/* End of the current file: flush libcsv; an unterminated quote rejects
 * the record it was in. */
static int finish_file(csv_source *src)
{
    /* libcsv reports an open quote at the end only in strict mode, which
     * would also refuse a stray quote inside an unquoted field (data we
     * keep), so look at its state ourselves. */
    int unterminated = src->parser.pstate == LIBCSV_FIELD_BEGUN && src->parser.quoted;
    src->unterminated = unterminated;
    if (unterminated && !src->failed) {
        /* the open field's bytes are still in libcsv's buffer */
        if (!src->header_pending) {
            on_field(src->parser.entry_buf, src->parser.entry_pos, src);
            snprintf(src->bad, sizeof src->bad,
                     "a quoted field opened in the record starting at line %llu is never "
                     "closed (end of file reached): close the quote",
                     (unsigned long long)src->record_line);
            src->record++;
            if (!src->failed && reject_record(src, "csv.unterminated_quote") != MK_OK)
                src->failed = 1;
        } else {
            free_header_fields(src);
            src->host->error(src->ctx, "%s: the header has a quote that is never closed",
                             src->path);
            src->failed = 1;
        }
        src->nfields = 0;
        src->bad[0] = '\0';
        csv_free(&src->parser);
        src->parser_ready = 0;
    } else {
        csv_fini(&src->parser, on_field, on_record, src);
    }
    close(src->fd);
    src->fd = -1;
    if (src->incremental && !src->failed && !src->header_only && remember_file(src) != 0)
        src->failed = 1;
    return src->failed ? -1 : 0;
}

/* UTF-16: convert the block just read to UTF-8 and read from that. */
static int convert_utf16_block(csv_source *src, size_t n)
{
    vn_error e;
    src->utf8_block.len = 0;
    int rc = n ? vn_utf16_feed(&src->u16, src->buf, n, &src->utf8_block, &e)
               : vn_utf16_finish(&src->u16, &src->utf8_block, &e);
    if (rc != VN_OK) {
        src->host->error(src->ctx, "%s: %s; set on_invalid: replace to read it anyway", src->path,
                         rc == VN_ENOMEM ? "out of memory" : e.message);
        return -1;
    }
    src->replacements += src->u16.replacements;
    src->u16.replacements = 0;
    src->data = src->utf8_block.data;
    src->len = src->utf8_block.len;
    return 0;
}

static int read_block(csv_source *src)
{
    ssize_t n;
    size_t want = READ_BLOCK;
    if (src->ranged) { /* the range ends at range_end: the end of the file for this run */
        uint64_t left = src->range_end > src->file_offset ? src->range_end - src->file_offset : 0;
        if (left < want)
            want = (size_t)left;
    }
    do
        n = read(src->fd, src->buf, want);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        src->host->error(src->ctx, "cannot read %s: %s", src->path, strerror(errno));
        return -1;
    }
    src->pos = 0;
    src->len = (size_t)n;
    src->data = src->buf;
    src->lf_at = (size_t)-1;
    if (src->incremental && n > 0) {
        if (!src->ranged) /* a range: the plan hashed the file */
            csv_sha256_update(&src->sha, src->buf, (size_t)n);
        src->last_byte = src->buf[n - 1];
    }
    if (src->utf16) {
        src->file_offset += (uint64_t)n;
        if (convert_utf16_block(src, (size_t)n) != 0)
            return -1;
        if (n == 0)
            src->eof = 1;
        return 0;
    }
    if (n == 0)
        src->eof = 1;
    if (src->file_offset == 0 && n >= 2) {
        const unsigned char *u = (const unsigned char *)src->buf;
        if (n >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
            src->pos = 3; /* UTF-8 byte-order mark */
        } else if (src->decoder && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))) {
            src->host->error(src->ctx,
                             "%s starts with a UTF-16 byte-order mark: set 'encoding: utf-16'",
                             src->path);
            return -1;
        }
    }
    src->file_offset += (uint64_t)n;
    return 0;
}

/* ---- the fast path ----------------------------------------------------
 *
 * Most records are one line whose quoted fields open and close on it.
 * Such a line is split here and handed to the same callbacks, with the
 * results libcsv would give: bytes kept, an unquoted empty field NULL, ""
 * the empty string, doubled quotes undone.  Anything else -- a quote
 * inside an unquoted field or after a closing quote, a quoted field that
 * goes on to the next line, more than FAST_MAX_FIELDS fields, a line
 * longer than max_field_bytes -- goes to libcsv.  libcsv costs about 2.5 ns a byte (it
 * copies every byte and calls the space test for each); on the benchmark
 * file this path made csv -> csv about twice as fast.
 */
#define FAST_MAX_FIELDS 256

typedef struct fast_field {
    const char *ptr;
    size_t len;
    int quoted;  /* in quotes */
    int doubled; /* holds doubled quotes to undo */
} fast_field;

/* Split line [line, line + len) (without its line end) into fields; 0 when
 * it is not a simple line. */
static size_t split_simple_line(const csv_source *src, const char *line, size_t len,
                                fast_field *f)
{
    const char *p = line, *end = line + len;
    const char d = src->delimiter, q = src->quote;
    /* no CR in the line: next_line() ends lines at every CR */
    if (p == end || (long long)len > src->max_field || memchr(line, '\0', len))
        return 0; /* NUL bytes: libcsv's path reports them */
    const uint64_t pd = MK_BYTE_PATTERN(d), pq = MK_BYTE_PATTERN(q);
    size_t n = 0;
    for (;;) {
        if (n == FAST_MAX_FIELDS)
            return 0;
        fast_field *field = &f[n++];
        if (p < end && *p == q) {
            const char *s = p + 1;
            field->doubled = 0;
            for (;;) {
                const char *c = memchr(s, q, (size_t)(end - s));
                if (!c)
                    return 0; /* the field goes on past this line */
                if (c + 1 < end && c[1] == q) {
                    field->doubled = 1;
                    s = c + 2;
                    continue;
                }
                field->ptr = p + 1;
                field->len = (size_t)(c - (p + 1));
                field->quoted = 1;
                p = c + 1;
                break;
            }
            if (p == end)
                return n;
            if (*p != d)
                return 0; /* "abc"def: libcsv's business */
            p++;
        } else {
            const char *s = p;
            /* eight bytes a step up to the delimiter or a quote */
            while (end - p >= 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                uint64_t m = mk_word_has_byte(w, pd) | mk_word_has_byte(w, pq);
                if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                    /* the lowest flag is exact (false flags only follow a match) */
                    p += __builtin_ctzll(m) >> 3;
#endif
                    break;
                }
                p += 8;
            }
            while (p < end && *p != d) {
                if (*p == q)
                    return 0;
                p++;
            }
            field->ptr = s;
            field->len = (size_t)(p - s);
            field->quoted = 0;
            field->doubled = 0;
            if (p == end)
                return n;
            p++;
        }
    }
}

/* Undo the doubled quotes of a quoted field into src->unquoted. */
static const char *undouble_quotes(csv_source *src, const fast_field *f, size_t *len)
{
    if (f->len > src->unquoted_cap) {
        char *grown = realloc(src->unquoted, f->len);
        if (!grown)
            return NULL;
        src->unquoted = grown;
        src->unquoted_cap = f->len;
    }
    size_t o = 0;
    for (size_t i = 0; i < f->len; i++) {
        src->unquoted[o++] = f->ptr[i];
        if (f->ptr[i] == src->quote)
            i++; /* the second of the pair */
    }
    *len = o;
    return src->unquoted;
}

/* One line as one record, when it is simple; 0 when libcsv must read it,
 * 1 when done (src->failed may be set). */
static int feed_simple_line(csv_source *src, const char *line, size_t len)
{
    fast_field f[FAST_MAX_FIELDS];
    /* A legacy single-byte encoding decodes the whole line at once: the
     * delimiter, the quote and CR are ASCII, which decode to themselves and
     * never combine with a neighbour, so field by field would give the same
     * text, one call per field slower.  A line that does not decode is left
     * to the field-by-field path, which says which field is bad. */
    int decoded = 0;
    vn_error e;
    e.replacements = 0;
    if (src->decoder && !src->plain_utf8 && !src->utf16 && !src->utf8 &&
        (long long)len <= src->max_field && !memchr(line, '\0', len)) {
        const char *out;
        size_t out_len;
        if (vn_decode_field(src->decoder, line, len, &out, &out_len, &src->line_scratch, &e) ==
            VN_OK) {
            line = out;
            len = out_len;
            decoded = 1;
        }
    }
    size_t n = split_simple_line(src, line, len, f);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n && !src->failed; i++) {
        if (!f[i].quoted && f[i].len == 0) {
            add_field(src, NULL, 0, 0, 0);
        } else if (f[i].doubled) {
            size_t ulen;
            const char *u = undouble_quotes(src, &f[i], &ulen);
            if (!u) {
                src->host->error(src->ctx, "out of memory");
                src->failed = 1;
                return 1;
            }
            add_field(src, u, ulen, 1, 0);
        } else {
            add_field(src, f[i].ptr, f[i].len, f[i].quoted, 0);
        }
    }
    /* valid UTF-8 in NFC as a whole line is valid NFC field by field (the
     * fields are split at ASCII bytes): one scan instead of one per field */
    if (decoded) {
        src->replacements += e.replacements;
        src->record_clean = 1;
    } else if (src->plain_utf8 && vn_is_nfc_quick(line, len)) {
        src->record_clean = 1;
    }
    on_record('\n', src);
    return 1;
}

/* Where the line at data[pos] ends.  A line ends at LF, CRLF or a CR
 * alone, as libcsv ends records at each: feeding it one line at a time
 * keeps every call to one record at most, so a batch cannot overflow and
 * the header is never followed by rows before the source has a batch.
 * Sets *seg (bytes to feed, line end included) and *content (bytes before
 * the line end); returns 0 when the block ends before the line does. */
static int next_line(csv_source *src, size_t *seg, size_t *content)
{
    const char *start = src->data + src->pos;
    size_t avail = src->len - src->pos;
    /* the next LF is remembered: a CR-only file has none, and searching
     * the rest of the block again for every line would be quadratic */
    if (src->lf_at == (size_t)-1 || src->lf_at < src->pos) {
        const char *nl = memchr(start, '\n', avail);
        src->lf_at = nl ? (size_t)(nl - src->data) : src->len;
    }
    size_t to_lf = src->lf_at - src->pos;
    const char *cr = memchr(start, '\r', to_lf);
    if (cr) {
        *content = (size_t)(cr - start);
        /* CRLF is one line end; any other CR ends a line alone */
        *seg = *content + 1 == to_lf && to_lf < avail ? to_lf + 1 : *content + 1;
        return 1;
    }
    *content = to_lf;
    *seg = to_lf < avail ? to_lf + 1 : avail;
    return to_lf < avail;
}

/* Hand bytes to libcsv; 0, or -1 on error. */
static int parse_bytes(csv_source *src, const char *p, size_t n)
{
    if (csv_parse(&src->parser, p, n, on_field, on_record, src) != n) {
        src->host->error(src->ctx, "%s:%llu: %s", src->path, (unsigned long long)src->line,
                         csv_strerror(csv_error(&src->parser)));
        return -1;
    }
    if (src->failed)
        return -1;
    if ((long long)src->parser.entry_pos > src->max_field) {
        src->host->error(src->ctx,
                         "%s:%llu: a field of the record starting here is longer than "
                         "max_field_bytes (%lld): an unterminated quote? If the data is "
                         "right, raise max_field_bytes",
                         src->path, (unsigned long long)src->record_line, src->max_field);
        return -1;
    }
    return 0;
}

/* An empty line between records (libcsv would skip it).  In a one-column
 * file it is a row holding NULL: that is how the sink writes such a row,
 * and how PostgreSQL reads it.  With more columns it cannot be a row, and
 * on_record rejects it, so that it is counted rather than lost. */
static void blank_line(csv_source *src)
{
    if (src->ncols == 1)
        add_field(src, NULL, 0, 0, 0);
    on_record('\n', src);
}

/* Feed the next line (or the rest of the block); 0, or -1 on error. */
static int feed_line(csv_source *src)
{
    const char *start = src->data + src->pos;
    if (src->after_cr && *start == '\n') {
        /* the LF of a CRLF cut apart by the block end: its line is counted */
        src->after_cr = 0;
        src->pos++;
        return parse_bytes(src, start, 1);
    }
    size_t seg, content;
    int ended = next_line(src, &seg, &content);
    src->after_cr = ended && start[seg - 1] == '\r';
    int done = 0;
    if (src->parser.pstate == LIBCSV_ROW_NOT_BEGUN) {
        src->record_line = src->line;
        if (ended && !src->header_pending && content == 0) {
            blank_line(src);
            done = 1;
        } else if (ended && !src->header_pending) {
            done = feed_simple_line(src, start, content);
        }
    }
    if (done ? src->failed : parse_bytes(src, start, seg) != 0)
        return -1;
    src->pos += seg;
    if (ended)
        src->line++;
    return 0;
}

/* incremental: a file that grew goes on where the last run stopped (the
 * header, if any, was just read again). */
static int jump_to_tail(csv_source *src)
{
    const csv_resume *r = &src->resume[src->file_index];
    src->jump_pending = 0;
    if (lseek(src->fd, (off_t)r->offset, SEEK_SET) < 0) {
        src->host->error(src->ctx, "cannot read %s from byte %llu: %s", src->path,
                         (unsigned long long)r->offset, strerror(errno));
        return -1;
    }
    src->pos = src->len = 0;
    src->eof = 0;
    src->lf_at = (size_t)-1;
    src->after_cr = 0;
    src->line = r->line;
    src->record = r->record;
    src->file_offset = r->offset;
    src->sha = r->sha;
    return 0;
}

/* Feed lines to libcsv until the batch is full (or, while reading the
 * header, until the header is read) or the file ends.  Returns 0 when it
 * stopped for the batch, 1 at end of file, -1 on error. */
static int feed(csv_source *src)
{
    for (;;) {
        if (src->jump_pending && jump_to_tail(src) != 0)
            return -1;
        if (src->header_pending == 0 && (!src->batch || src->batch->nrows >= src->batch->cap))
            return 0;
        if (src->pos == src->len) {
            if (src->eof)
                return finish_file(src) == 0 ? 1 : -1;
            if (read_block(src) != 0)
                return -1;
            continue;
        }
        if (feed_line(src) != 0)
            return -1;
    }
}

/* Open files in turn until one yields a header (or all are read). */
static int read_header(csv_source *src)
{
    while (src->file_index < src->npaths) {
        if (open_file(src) != 0)
            return -1;
        if (!src->header_wanted)
            return 0;
        int rc = feed(src);
        if (rc < 0)
            return -1;
        if (!src->header_pending)
            return 0;
        src->host->log(src->ctx, MK_LOG_WARN, "%s is empty: no header, no rows", src->path);
        src->file_index++;
    }
    return 0;
}

static int set_columns(csv_source *src)
{
    const mk_host *h = src->host;
    size_t n = h->opt_count(src->ctx, "columns");
    if (n == 0) {
        if (!src->header_wanted) {
            h->error(src->ctx, "header: false needs the column names: columns: [a, b, ...]");
            return -1;
        }
        return 0;
    }
    src->header = calloc(n, sizeof(char *));
    if (!src->header)
        return -1;
    src->columns_given = 1;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        h->opt_entry(src->ctx, "columns", i, NULL, &name);
        src->header[i] = strdup(name);
        src->ncols = i + 1;
    }
    src->schema = h->schema_intern(src->ctx, (const char *const *)src->header, n);
    return src->schema ? 0 : -1;
}

/* encoding: auto -- decide from the first megabyte of the first file. */
static const char *detect_encoding(csv_source *src)
{
    const mk_host *h = src->host;
    const char *path = src->paths[0];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        h->error(src->ctx, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t got = 0;
    ssize_t n;
    while (got < READ_BLOCK && (n = read(fd, src->buf + got, READ_BLOCK - got)) > 0)
        got += (size_t)n;
    close(fd);
    vn_detection det;
    if (vn_detect(src->buf, got, &det) != VN_OK) {
        h->error(src->ctx, "encoding: auto: %s: %s", path, det.message);
        return NULL;
    }
    char conf[32];
    snprintf(conf, sizeof conf, "%.2f", det.confidence);
    h->report_set(src->ctx, "encoding_detected", det.encoding);
    h->report_set(src->ctx, "encoding_confidence", conf);
    h->report_set(src->ctx, "encoding_detection", det.message);
    h->log(src->ctx, MK_LOG_INFO, "encoding: auto: %s", det.message);
    return strcmp(det.encoding, "ascii") == 0 ? "utf-8" : det.encoding;
}

static int set_encoding(csv_source *src)
{
    const mk_host *h = src->host;
    const char *name = h->opt_string(src->ctx, "encoding");
    const char *mode = h->opt_string(src->ctx, "on_invalid");
    if (strcmp(mode, "replace") == 0) {
        src->on_invalid = VN_REPLACE;
    } else if (strcmp(mode, "reject") == 0) {
        src->on_invalid = VN_REJECT;
    } else {
        h->error(src->ctx, "on_invalid must be 'reject' or 'replace', not '%s'", mode);
        return -1;
    }
    vn_buf_init(&src->scratch);
    vn_buf_init(&src->line_scratch);
    vn_buf_init(&src->utf8_block);
    if (strcmp(name, "bytes") == 0)
        return 0; /* no decoding, no validation */
    if (strcasecmp(name, "auto") == 0 && !(name = detect_encoding(src)))
        return -1;
    char err[512];
    src->decoder = vn_decoder_new(name, src->on_invalid, err, sizeof err);
    if (!src->decoder) {
        h->error(src->ctx, "encoding: %s; or bytes (no decoding at all)", err);
        return -1;
    }
    src->utf16 = vn_encoding_is_stream(name);
    src->plain_utf8 = !src->utf16 && strcmp(vn_decoder_name(src->decoder), "utf-8") == 0;
    h->report_set(src->ctx, "encoding", vn_decoder_name(src->decoder));
    if (h->opt_bool(src->ctx, "per_row_utf8")) {
        if (src->utf16 || strcmp(vn_decoder_name(src->decoder), "utf-8") == 0) {
            h->error(src->ctx, "per_row_utf8 needs a legacy encoding (e.g. encoding: tcvn3)");
            return -1;
        }
        src->utf8 = vn_decoder_new("utf-8", src->on_invalid, err, sizeof err);
        if (!src->utf8)
            return -1;
        src->plain_utf8 = 0;
    }
    h->text_checked(src->ctx); /* every value is decoded or checked: valid UTF-8 */
    return 0;
}

/* incremental: true -- keep in src->paths only the files that are new or
 * changed since the last successful run. */
static int choose_files(csv_source *src)
{
    const mk_host *h = src->host;
    if (!MK_HOST_HAS(h, state_get)) {
        h->error(src->ctx, "incremental: true needs a mekong with state (1.2 or later)");
        return -1;
    }
    char err[512];
    if (csv_inc_load(&src->inc, h->state_get(src->ctx), err, sizeof err) != 0) {
        h->error(src->ctx, "%s", err);
        return -1;
    }
    src->incremental = 1;
    src->paths = calloc(src->files.gl_pathc + 1, sizeof(char *));
    src->resume = calloc(src->files.gl_pathc + 1, sizeof(csv_resume));
    src->npaths = 0;
    if (!src->paths || !src->resume)
        return -1;
    size_t skipped = 0, grown = 0;
    for (size_t i = 0; i < src->files.gl_pathc; i++) {
        const char *file = src->files.gl_pathv[i];
        char *key = csv_state_key(h->pipeline_dir(src->ctx), file);
        int read_it;
        csv_resume *r = &src->resume[src->npaths];
        if (!key || csv_inc_decide(&src->inc, key, file, &read_it, r, err, sizeof err) != 0) {
            free(key);
            h->error(src->ctx, "out of memory");
            return -1;
        }
        free(key);
        if (err[0])
            h->log(src->ctx, MK_LOG_WARN, "%s", err);
        if (read_it && r->offset)
            h->log(src->ctx, MK_LOG_INFO, "%s grew since it was loaded: reading from byte %llu "
                   "(line %llu) on", file, (unsigned long long)r->offset,
                   (unsigned long long)r->line);
        grown += read_it && r->offset;
        if (read_it)
            src->paths[src->npaths++] = src->files.gl_pathv[i];
        else
            skipped++;
    }
    h->report_add(src->ctx, "files_unchanged", (int64_t)skipped);
    h->report_add(src->ctx, "files_grown", (int64_t)grown);
    h->report_add(src->ctx, "files_read", (int64_t)src->npaths);
    if (!src->npaths && src->files.gl_pathc && src->header_wanted) {
        src->paths[src->npaths++] = src->files.gl_pathv[0]; /* for its header only */
        src->header_only = 1;
        memset(&src->resume[0], 0, sizeof src->resume[0]);
    }
    return 0;
}

/* shard_parts: the files of the whole run (an incremental one reads only
 * some of the glob's), so that rows are labelled as one run labels them. */
static int shard_parts(csv_source *src)
{
    const mk_host *h = src->host;
    size_t n = h->opt_count(src->ctx, "shard_parts");
    if (!n)
        return 0;
    src->parts = calloc(n, sizeof(char *));
    if (!src->parts)
        return -1;
    for (size_t i = 0; i < n; i++)
        h->opt_entry(src->ctx, "shard_parts", i, NULL, &src->parts[i]);
    src->nparts = n;
    return 0;
}

static size_t part_in(const csv_source *src, const char *file)
{
    for (size_t i = 0; i < src->nparts; i++)
        if (strcmp(src->parts[i], file) == 0)
            return i;
    return 0;
}

/* shard_resume entry k for src->paths[j]: "-" (whole), or where a file
 * that grew goes on, and its hash so far. */
static int shard_resume(csv_source *src, size_t k, size_t j)
{
    const mk_host *h = src->host;
    if (k >= h->opt_count(src->ctx, "shard_resume"))
        return 0;
    if (!src->resume && !(src->resume = calloc(src->files.gl_pathc + 1, sizeof(csv_resume))))
        return -1;
    const char *v;
    h->opt_entry(src->ctx, "shard_resume", k, NULL, &v);
    if (strcmp(v, "-") == 0)
        return 0;
    unsigned long long off, line, record;
    char hash[CSV_SHA256_TEXT];
    csv_resume *r = &src->resume[j];
    if (sscanf(v, "%llu %llu %llu %193s", &off, &line, &record, hash) != 4 ||
        csv_sha256_load(&r->sha, off, hash) != 0) {
        h->error(src->ctx, "shard_resume must be - or OFFSET LINE RECORD HASH, not '%s'", v);
        return -1;
    }
    r->offset = off;
    r->line = line;
    r->record = record;
    return 0;
}

/* shard_files: keep in src->paths only the files the shard plan gave this
 * shard ("-" alone: none; the first file then gives only the header). */
static int choose_shard_files(csv_source *src, size_t n)
{
    const mk_host *h = src->host;
    src->paths = calloc(src->files.gl_pathc + 1, sizeof(char *));
    src->part_of = calloc(src->files.gl_pathc + 1, sizeof(size_t));
    if (!src->paths || !src->part_of || shard_parts(src) != 0)
        return -1;
    src->npaths = 0;
    for (size_t i = 0; i < src->files.gl_pathc; i++) {
        for (size_t k = 0; k < n; k++) {
            const char *file;
            h->opt_entry(src->ctx, "shard_files", k, NULL, &file);
            if (strcmp(file, src->files.gl_pathv[i]) == 0) {
                src->part_of[src->npaths] = src->parts ? part_in(src, file) : i;
                if (shard_resume(src, k, src->npaths) != 0)
                    return -1;
                src->paths[src->npaths++] = src->files.gl_pathv[i];
                break;
            }
        }
    }
    const char *first;
    h->opt_entry(src->ctx, "shard_files", 0, NULL, &first);
    int none = n == 1 && strcmp(first, "-") == 0;
    if (src->npaths != n && !none) {
        h->error(src->ctx, "shard_files names %zu file(s), %zu of them match %s: the files "
                 "changed since the shard plan was made; make the plan again (mekong plan)",
                 n, src->npaths, h->opt_string(src->ctx, "path"));
        return -1;
    }
    if (none && src->files.gl_pathc && src->header_wanted) {
        src->paths[src->npaths++] = src->files.gl_pathv[0]; /* for its header only */
        src->header_only = 1;
    }
    return 0;
}

/* shard_range START-END with shard_line and shard_record: read one range
 * of the one file (docs/SCALE.md). */
static int choose_shard_range(csv_source *src, const char *range)
{
    const mk_host *h = src->host;
    unsigned long long start, end;
    char tail;
    if (sscanf(range, "%llu-%llu%c", &start, &end, &tail) != 2 || end < start) {
        h->error(src->ctx, "shard_range must be START-END (bytes, START <= END), not '%s'", range);
        return -1;
    }
    if (src->npaths != 1) {
        h->error(src->ctx, "shard_range reads one file, but %s matches %zu",
                 h->opt_string(src->ctx, "path"), src->npaths);
        return -1;
    }
    if (!src->resume && !(src->resume = calloc(1, sizeof(csv_resume))))
        return -1;
    src->ranged = 1;
    src->mark_sha = h->opt_string(src->ctx, "shard_sha256");
    src->range_end = end;
    src->resume[0].offset = start;
    src->resume[0].line = (uint64_t)h->opt_int(src->ctx, "shard_line");
    src->resume[0].record = (uint64_t)h->opt_int(src->ctx, "shard_record");
    return 0;
}

static int choose_shard(csv_source *src)
{
    const mk_host *h = src->host;
    size_t nfiles = h->opt_count(src->ctx, "shard_files");
    const char *range = h->opt_string(src->ctx, "shard_range");
    if (!nfiles && !range)
        return 0;
    /* incremental: the plan chose what to read, from the state (the shard
     * does not read it); the shard remembers what it read to the end */
    src->incremental = h->opt_bool(src->ctx, "incremental");
    if (nfiles && range && (!src->incremental || nfiles != 1)) {
        h->error(src->ctx, "give shard_files or shard_range, not both (but one file of an "
                 "incremental glob)");
        return -1;
    }
    if (nfiles && choose_shard_files(src, nfiles) != 0)
        return -1;
    if (range && choose_shard_range(src, range) != 0)
        return -1;
    if (src->incremental) { /* the files of this shard; the merge counts the whole run's */
        size_t grown = 0;
        for (size_t i = 0; !src->ranged && src->resume && i < src->npaths; i++)
            grown += src->resume[i].offset > 0;
        h->report_add(src->ctx, "files_unchanged", 0);
        h->report_add(src->ctx, "files_grown", (int64_t)grown);
        h->report_add(src->ctx, "files_read", (int64_t)(src->header_only ? 0 : src->npaths));
    }
    return 0;
}

static int csv_source_open(mk_context *ctx, const mk_host *host, void **state)
{
    csv_source *src = calloc(1, sizeof(*src));
    if (!src)
        return MK_NOMEM;
    *state = src;
    src->ctx = ctx;
    src->host = host;
    src->fd = -1;
    src->has_records = MK_HOST_HAS(host, row_origin);
    src->delimiter = host->opt_string(ctx, "delimiter")[0];
    src->quote = host->opt_string(ctx, "quote")[0];
    src->header_wanted = host->opt_bool(ctx, "header");
    src->null_marker = host->opt_string(ctx, "null");
    src->null_marker_len = src->null_marker ? strlen(src->null_marker) : 0;
    src->max_field = host->opt_int(ctx, "max_field_bytes");
    if (csv_check_char(host, ctx, "delimiter", src->delimiter) != 0 ||
        csv_check_char(host, ctx, "quote", src->quote) != 0)
        return MK_ERROR;
    if (src->delimiter == src->quote) {
        host->error(ctx, "delimiter and quote must differ");
        return MK_ERROR;
    }
    if (src->max_field < 1) {
        host->error(ctx, "max_field_bytes must be at least 1, not %lld", src->max_field);
        return MK_ERROR;
    }
    const char *pattern = host->opt_string(ctx, "path");
    int g = glob(pattern, GLOB_ERR, NULL, &src->files);
    if (g == GLOB_NOMATCH) {
        host->error(ctx, "no file matches %s (paths are relative to the pipeline file)", pattern);
        return MK_ERROR;
    }
    if (g != 0) {
        host->error(ctx, "cannot read the files of %s: %s", pattern, strerror(errno));
        return MK_ERROR;
    }
    src->paths = src->files.gl_pathv;
    src->npaths = src->files.gl_pathc;
    if (choose_shard(src) != 0)
        return MK_ERROR;
    if (!src->ranged && src->paths == src->files.gl_pathv && host->opt_bool(ctx, "incremental") &&
        choose_files(src) != 0)
        return MK_ERROR;
    /* Every file to read is a part from the start (a shard: every file of
     * the glob), so that a row's label ("in/2024.csv" when there are
     * several) does not depend on how far the read-ahead has got. */
    char **all = src->part_of ? src->files.gl_pathv : src->paths;
    for (size_t i = src->parts ? 0 : src->part_of ? src->files.gl_pathc : src->npaths; i-- > 0;)
        host->source_part(ctx, (uint32_t)i, all[i]);
    for (size_t i = src->nparts; i-- > 0;)
        host->source_part(ctx, (uint32_t)i, src->parts[i]);
    src->buf = malloc(READ_BLOCK);
    if (!src->buf)
        return MK_NOMEM;
    if (set_encoding(src) != 0 || set_columns(src) != 0)
        return MK_ERROR;
    if (src->ranged && src->utf16) {
        host->error(ctx, "shard_range cannot split UTF-16 (convert the file to UTF-8, or run it "
                    "as one shard)");
        return MK_ERROR;
    }
    if (read_header(src) != 0)
        return MK_ERROR;
    if (!src->schema) /* every file empty */
        src->schema = host->schema_intern(ctx, NULL, 0);
    return MK_OK;
}

static const mk_schema *csv_source_schema(void *state)
{
    csv_source *src = state;
    return src->schema;
}

static int csv_source_next_batch(void *state, mk_batch *b)
{
    csv_source *src = state;
    src->batch = b;
    if (src->header_only) { /* every file unchanged: only its header was wanted */
        if (src->fd >= 0)
            close(src->fd);
        src->fd = -1;
        src->done = 1;
        return MK_DONE;
    }
    while (src->file_index < src->npaths) {
        if (src->fd < 0) {
            if (src->host->stopping())
                return MK_STOPPED;
            if (open_file(src) != 0)
                return MK_ERROR;
        }
        int rc = feed(src);
        if (src->replacements) {
            src->host->report_add(src->ctx, "replacements", (int64_t)src->replacements);
            src->replacements = 0;
        }
        if (rc < 0)
            return MK_ERROR;
        if (rc == 0)
            return MK_OK; /* batch full */
        if (src->header_pending) /* a later file was empty */
            src->host->log(src->ctx, MK_LOG_WARN, "%s is empty: no header, no rows", src->path);
        src->file_index++;
    }
    src->done = 1;
    return MK_DONE;
}

static void csv_source_close(void *state)
{
    csv_source *src = state;
    if (!src)
        return;
    if (src->fd >= 0)
        close(src->fd);
    if (src->parser_ready)
        csv_free(&src->parser);
    if (src->header_pending)
        free_header_fields(src);
    for (size_t i = 0; src->header && i < src->ncols; i++)
        free(src->header[i]);
    free(src->header);
    free(src->fields);
    free(src->unquoted);
    free(src->buf);
    vn_decoder_free(src->decoder);
    vn_decoder_free(src->utf8);
    vn_buf_free(&src->scratch);
    vn_buf_free(&src->line_scratch);
    vn_buf_free(&src->utf8_block);
    if (src->incremental && src->done) { /* stage what the state becomes; saved on publish */
        char *json = csv_inc_json(&src->inc);
        if (json)
            src->host->state_set(src->ctx, json);
        else
            src->host->log(src->ctx, MK_LOG_ERROR, "out of memory: the state is not advanced");
        free(json);
    }
    csv_inc_free(&src->inc);
    free(src->resume);
    free(src->part_of);
    free(src->parts);
    if (src->paths != src->files.gl_pathv)
        free(src->paths);
    globfree(&src->files);
    free(src);
}

const mk_source_ops csv_source_ops = {
    csv_source_open,
    csv_source_schema,
    csv_source_next_batch,
    csv_source_close,
};
