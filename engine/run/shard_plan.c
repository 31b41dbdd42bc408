/*
 * shard_plan.c -- `mekong plan`: which pipelines can run as shards, and
 * the shard plan (see shard.h, docs/SCALE.md).
 *
 * The one csv source is split either by whole files (a glob matching
 * several files: contiguous runs of files of about equal bytes, in glob
 * order) or, for one file, by byte ranges.  A range starts on a record
 * boundary: the plan reads the file once with the states libcsv reads it
 * with (field start, unquoted, quoted, quote seen in a quoted field), so a
 * quoted field holding line breaks never splits, and counts lines (LF,
 * CRLF or CR alone, as the csv source does) and records as it goes, so
 * each range knows the line and record numbers it starts at.  The
 * delimiter, the quote and line ends are ASCII in every single-byte
 * encoding the source reads (TCVN3, VNI, Windows-1258, ...) and in UTF-8,
 * so the pass works on the bytes; a UTF-8 BOM stays in the header's range.
 * UTF-16 is refused.  Several csv sources, which one run reads one after
 * another, are split together: each shard takes a contiguous stretch of
 * their concatenation (plan_sources).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "shard.h"
#include "shard_dedupe.h"
#include "util/outfile.h"
#include "util/textout.h"

#define SCAN_BLOCK (1u << 20)

static const char *opt(const mk_step *s, const char *name)
{
    const mk_optval *ov = mk_step_option(s, name);
    return ov && ov->value ? ov->value : "";
}

static int opt_true(const mk_step *s, const char *name)
{
    const char *v = opt(s, name);
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
           strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0;
}

/* An xml source: split by whole files only (a document cannot be cut). */
static int by_files_only(const mk_step *src)
{
    return strcmp(src->plugin_name, "xml") == 0;
}

/* Several sources: each a csv or xml source, none incremental (plan_sources). */
static int sources_supported(const mk_pipeline *p, char *msg, size_t len)
{
    for (size_t i = 0; i < p->nsources; i++) {
        const mk_step *s = &p->sources[i];
        if ((strcmp(s->plugin_name, "csv") != 0 && !by_files_only(s)) ||
            mk_shard_incremental(s)) {
            snprintf(msg, len, "source %s (plugin %s%s): in a pipeline of several sources, "
                     "shards split csv and xml sources without incremental only; give this "
                     "pipeline one source, or run it as one run", s->name, s->plugin_name,
                     mk_shard_incremental(s) ? ", incremental" : "");
            return 0;
        }
    }
    return 1;
}

int mk_shard_supported(const mk_pipeline *p, char *msg, size_t len)
{
    if (p->nsources > 1 && !sources_supported(p, msg, len))
        return 0;
    if (p->nsources == 0 || (strcmp(p->sources[0].plugin_name, "csv") != 0 &&
                             strcmp(p->sources[0].plugin_name, "postgres") != 0 &&
                             !by_files_only(&p->sources[0]))) {
        snprintf(msg, len, "shards need a source of plugin csv, xml or postgres (this pipeline "
                 "has %zu source(s)%s%s); the engine cannot split other sources", p->nsources,
                 p->nsources ? ", the first of plugin " : "",
                 p->nsources ? p->sources[0].plugin_name : "");
        return 0;
    }
    if (!mk_shard_dedupe_supported(p, msg, len)) /* shard_dedupe.c */
        return 0;
    for (size_t i = 0; i < p->nsinks; i++) {
        const char *pl = p->sinks[i].plugin_name;
        if (strcmp(pl, "csv") != 0 && strcmp(pl, "jsonl") != 0 && strcmp(pl, "xml") != 0 &&
            strcmp(pl, "postgres") != 0 && strcmp(pl, "datapackage") != 0) {
            snprintf(msg, len, "sink %s (plugin %s) cannot be merged from shards yet; only csv, "
                     "jsonl, xml, datapackage and postgres sinks can", p->sinks[i].name, pl);
            return 0;
        }
    }
    return mk_shard_pg_supported(p, msg, len);
}

/* ---- the quote-parity pass ---------------------------------------------- */

enum { ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_SEEN };

typedef struct scan {
    char quote, delim;
    int state;
    int prev_cr;          /* the byte before was a CR */
    int ended;            /* the byte before ended a record (outside quotes) */
    uint64_t line;        /* line of the next byte */
    uint64_t records;     /* records ended so far */
    uint64_t cut_line, cut_records; /* line and records at the last boundary */
} scan;

/* Advance over one byte c; 1 when a record boundary lies just before c
 * (the bytes before it end a record, and c does not continue that
 * record's line end). */
static int scan_byte(scan *s, unsigned char c)
{
    int boundary = 0;
    if (s->ended) {
        if (c == '\n' && s->prev_cr) { /* the LF of a CRLF */
            s->prev_cr = 0;
            return 0;
        }
        s->ended = 0;
        boundary = 1; /* before c: c may be a line end itself (a blank line) */
        s->cut_line = s->line;
        s->cut_records = s->records;
    }
    if (c == '\n') {
        if (!s->prev_cr)
            s->line++;
    } else if (c == '\r') {
        s->line++;
    }
    s->prev_cr = c == '\r';
    int eol = c == '\n' || c == '\r';
    switch (s->state) {
    case ST_QUOTED:
        if (c == (unsigned char)s->quote)
            s->state = ST_QUOTE_SEEN;
        break;
    case ST_QUOTE_SEEN: /* libcsv: "" is a quote; after "x the field goes on quoted */
        if (c == (unsigned char)s->quote)
            s->state = ST_QUOTED;
        else if (c == (unsigned char)s->delim)
            s->state = ST_FIELD;
        else if (eol)
            s->ended = 1, s->records++, s->state = ST_FIELD;
        else
            s->state = ST_QUOTED;
        break;
    case ST_FIELD:
        if (c == (unsigned char)s->quote) {
            s->state = ST_QUOTED;
            break;
        }
        /* fall through */
    default:
        if (c == (unsigned char)s->delim)
            s->state = ST_FIELD;
        else if (eol)
            s->ended = 1, s->records++, s->state = ST_FIELD;
        else
            s->state = ST_UNQUOTED;
    }
    return boundary;
}

/* The number of bytes at the start of b[0, n) that are neither a line end
 * nor the quote: 16 at a time (GCC and Clang vectors, no instruction set
 * named), then one by one. */
typedef unsigned char v16 __attribute__((vector_size(16)));
static size_t plain_bytes(const unsigned char *b, size_t n, unsigned char quote)
{
    const v16 lf = (v16){0} + '\n', cr = (v16){0} + '\r', q = (v16){0} + quote;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16 v;
        memcpy(&v, b + i, 16);
        v16 hit = (v16)((v == lf) | (v == cr) | (v == q));
        uint64_t w[2];
        memcpy(w, &hit, 16);
        if (w[0] | w[1])
            break;
    }
    while (i < n && b[i] != '\n' && b[i] != '\r' && b[i] != quote)
        i++;
    return i;
}

/* Bytes that are neither a line end nor a quote change nothing but whether
 * an unquoted field's next byte starts a field: skip a run of them in
 * buf[i, got) and set the state they leave.  Returns where the run ends
 * (i when buf[i] is not such a byte, or a record just ended, or a quote
 * was just seen in a quoted field). */
static ssize_t plain_run(scan *s, const unsigned char *buf, ssize_t i, ssize_t got)
{
    if (s->ended || s->state == ST_QUOTE_SEEN)
        return i;
    size_t k = plain_bytes(buf + i, (size_t)(got - i), (unsigned char)s->quote);
    if (!k)
        return i;
    if (s->state != ST_QUOTED)
        s->state = buf[i + (ssize_t)k - 1] == (unsigned char)s->delim ? ST_FIELD : ST_UNQUOTED;
    s->prev_cr = 0;
    return i + (ssize_t)k;
}

/* Where a range starts: byte, line, records before it. */
typedef struct cut {
    uint64_t offset, line, records;
} cut;

/* Read path once; cuts[k] for k = 1..n-1: the first record boundary at or
 * after k * size / n and after the header.  cuts[0] is the start. */
static int scan_file(const char *path, const mk_step *src, int n, cut *cuts, uint64_t *size,
                     uint64_t *lines, uint64_t *records, mk_shard_inc *inc, char *msg, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(msg, len, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    unsigned char *buf = malloc(SCAN_BLOCK);
    if (!buf) {
        close(fd);
        snprintf(msg, len, "out of memory");
        return -1;
    }
    const char *q = opt(src, "quote"), *d = opt(src, "delimiter");
    scan s = {q[0] ? q[0] : '"', d[0] ? d[0] : ',', ST_FIELD, 0, 0, 1, 0, 1, 0};
    int header = opt_true(src, "header");
    cuts[0] = (cut){0, 1, 0};
    uint64_t base = 0; /* incremental: a file that grew is read from where it ended */
    if (inc && (base = mk_shard_inc_start(inc, 0, &cuts[0].line, &cuts[0].records)) > 0) {
        cuts[0].offset = base;
        s.line = cuts[0].line;
        s.records = cuts[0].records + (header ? 1 : 0);
        if (lseek(fd, (off_t)base, SEEK_SET) < 0)
            base = *size + 1; /* reported below */
    }
    int next = 1, rc = 0;
    uint64_t off = base;
    ssize_t got = 0;
    while (base <= *size && (got = read(fd, buf, SCAN_BLOCK)) > 0) {
        mk_shard_inc_hash(inc, buf, (size_t)got);
        if (off == 0 && got >= 2 && ((buf[0] == 0xff && buf[1] == 0xfe) ||
                                     (buf[0] == 0xfe && buf[1] == 0xff))) {
            snprintf(msg, len, "%s is UTF-16 (byte-order mark): byte ranges of UTF-16 are not "
                     "split; convert it to UTF-8 or give several files", path);
            rc = -1;
            break;
        }
        for (ssize_t i = 0; i < got; i++, off++) {
            ssize_t j = plain_run(&s, buf, i, got);
            if (j > i) { /* plain bytes, and delimiters outside quotes */
                off += (uint64_t)(j - i - 1);
                i = j - 1;
                continue;
            }
            if (!scan_byte(&s, buf[i]) || next >= n)
                continue;
            uint64_t header_records = header ? 1 : 0;
            if (s.cut_records < header_records) /* no range starts inside the header */
                continue;
            while (next < n && off >= base + (uint64_t)next * (*size - base) / (uint64_t)n)
                cuts[next++] = (cut){off, s.cut_line, s.cut_records - header_records};
        }
    }
    if (got < 0 || base > *size) {
        snprintf(msg, len, "cannot read %s: %s", path, strerror(errno));
        rc = -1;
    }
    uint64_t header_records = header && s.records ? 1 : 0;
    for (; next < n; next++) /* nothing left for these shards: empty ranges at the end */
        cuts[next] = (cut){*size, s.line, s.records - header_records};
    *lines = s.line;
    *records = s.records;
    free(buf);
    close(fd);
    return rc;
}

/* ---- writing the plan ------------------------------------------------------ */

void mk_shard_put_file(mk_outfile *f, const mk_pipeline *p, const char *path)
{
    size_t n = strlen(p->dir);
    mk_json_put_str(f, strncmp(path, p->dir, n) == 0 && path[n] == '/' ? path + n + 1 : path);
}

static void plan_head(mk_outfile *f, const mk_pipeline *p, int n, const char *mode)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char id[40], stamp[32];
    snprintf(id, sizeof id, "%08llx%05lx%06lx", (unsigned long long)ts.tv_sec,
             (unsigned long)(ts.tv_nsec / 10000) & 0xfffff, (unsigned long)getpid() & 0xffffff);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    mk_outfile_puts(f, "{\n  \"mekong_shard_plan\": 1,\n  \"plan\": ");
    mk_json_put_str(f, id);
    mk_outfile_puts(f, ",\n  \"pipeline\": ");
    mk_json_put_str(f, p->name);
    mk_outfile_puts(f, ",\n  \"pipeline_file\": ");
    mk_json_put_str(f, p->path);
    mk_outfile_puts(f, ",\n  \"created\": ");
    mk_json_put_str(f, stamp);
    mk_outfile_puts(f, ",\n  \"shards\": ");
    mk_json_put_u64(f, (uint64_t)n);
    mk_outfile_puts(f, ",\n  \"source\": ");
    mk_json_put_str(f, p->sources[0].name);
    mk_outfile_puts(f, ",\n  \"mode\": ");
    mk_json_put_str(f, mode);
}

/* Several files: piece k (of n) gets the files whose middle byte falls in
 * its k-th of the total (contiguous, in glob order).  The parts are the
 * plan's total shards; piece k is shard first + k's, the others are empty
 * (several sources: plan_sources). */
static void plan_files(mk_outfile *f, const mk_pipeline *p, const glob_t *all, int n,
                       mk_shard_inc *inc, int first_shard, int nshards)
{
    glob_t read = *all; /* incremental: the files one run reads now */
    if (inc)
        read.gl_pathv = (char **)mk_shard_inc_paths(inc, &read.gl_pathc);
    const glob_t *g = &read;
    uint64_t total = 0, *sizes = calloc(g->gl_pathc + 1, sizeof(uint64_t)), line, rec;
    for (size_t i = 0; sizes && i < g->gl_pathc; i++) {
        struct stat st;
        sizes[i] = stat(g->gl_pathv[i], &st) == 0 ? (uint64_t)st.st_size : 0;
        uint64_t from = inc ? mk_shard_inc_start(inc, i, &line, &rec) : 0;
        sizes[i] -= from < sizes[i] ? from : sizes[i]; /* the bytes to read */
        total += sizes[i];
    }
    mk_outfile_puts(f, ",\n  \"files\": ");
    mk_json_put_u64(f, all->gl_pathc);
    if (inc)
        mk_shard_inc_put(f, p, inc);
    mk_outfile_puts(f, ",\n  \"parts\": [");
    size_t i = 0;
    uint64_t before = 0;
    for (int shard = 0; shard < nshards; shard++) {
        int k = shard - first_shard, piece = k >= 0 && k < n;
        mk_outfile_puts(f, shard ? ",\n    {\"shard\": " : "\n    {\"shard\": ");
        mk_json_put_u64(f, (uint64_t)shard);
        mk_outfile_puts(f, ", \"files\": [");
        int first = 1;
        size_t first_file = i;
        while (piece && i < g->gl_pathc) {
            uint64_t mid = before + (sizes ? sizes[i] : 0) / 2;
            uint64_t owner = total ? mid * (uint64_t)n / total : (uint64_t)(i * (size_t)n / g->gl_pathc);
            if (owner > (uint64_t)k && k < n - 1)
                break;
            if (!first)
                mk_outfile_puts(f, ", ");
            mk_shard_put_file(f, p, g->gl_pathv[i]);
            first = 0;
            before += sizes ? sizes[i] : 0;
            i++;
        }
        mk_outfile_puts(f, "]");
        if (inc)
            mk_shard_inc_put_resume(f, inc, first_file, i);
        mk_outfile_puts(f, "}");
    }
    mk_outfile_puts(f, "\n  ]");
    free(sizes);
}

/* One file by byte ranges: piece k (of n) is shard first + k's range, the
 * plan's other shards get an empty range at the end of the file. */
static void plan_ranges(mk_outfile *f, const mk_pipeline *p, const char *path, const cut *cuts,
                        int n, uint64_t size, uint64_t lines, uint64_t records, mk_shard_inc *inc,
                        int first_shard, int nshards)
{
    mk_outfile_puts(f, ",\n  \"file\": ");
    mk_shard_put_file(f, p, path);
    mk_outfile_puts(f, ",\n  \"size\": ");
    mk_json_put_u64(f, size);
    mk_outfile_puts(f, ",\n  \"lines\": ");
    mk_json_put_u64(f, lines);
    mk_outfile_puts(f, ",\n  \"records\": ");
    mk_json_put_u64(f, records);
    if (inc) { /* the shard whose range ends the file remembers it: the last that reads bytes */
        int mark = 0;
        for (int k = 0; k < n; k++)
            if (cuts[k].offset < (k + 1 < n ? cuts[k + 1].offset : size))
                mark = k;
        mk_shard_inc_put_ranges(f, inc, mark);
        mk_shard_inc_put(f, p, inc);
    }
    mk_outfile_puts(f, ",\n  \"parts\": [");
    for (int shard = 0; shard < nshards; shard++) {
        int k = shard - first_shard, piece = k >= 0 && k < n;
        mk_outfile_puts(f, shard ? ",\n    {\"shard\": " : "\n    {\"shard\": ");
        mk_json_put_u64(f, (uint64_t)shard);
        mk_outfile_puts(f, ", \"start\": ");
        mk_json_put_u64(f, piece ? cuts[k].offset : size);
        mk_outfile_puts(f, ", \"end\": ");
        mk_json_put_u64(f, piece && k + 1 < n ? cuts[k + 1].offset : size);
        mk_outfile_puts(f, ", \"line\": ");
        mk_json_put_u64(f, piece ? cuts[k].line : lines);
        mk_outfile_puts(f, ", \"record\": ");
        mk_json_put_u64(f, piece ? cuts[k].records : records);
        mk_outfile_puts(f, "}");
    }
    mk_outfile_puts(f, "\n  ]");
}

static int refuse_encoding(const mk_step *src, char *msg, size_t len)
{
    const char *enc = opt(src, "encoding");
    if (strncasecmp(enc, "utf-16", 6) == 0 || strncasecmp(enc, "utf16", 5) == 0) {
        snprintf(msg, len, "source %s is UTF-16 (encoding: %s): byte ranges of UTF-16 are not "
                 "split; convert it to UTF-8, or give several files", src->name, enc);
        return 1;
    }
    return 0;
}

/* The shard that byte x of the sources' concatenation (total bytes) falls in. */
static int shard_of(uint64_t x, uint64_t total, int n)
{
    long double k = total ? (long double)x * n / (long double)total : 0;
    return k >= n ? n - 1 : (int)k;
}

/* One of several sources: split into n pieces for shards first.. (as the
 * one source of a pipeline is: by files, or one file by byte ranges). */
static int plan_piece(mk_outfile *f, const mk_pipeline *p, const mk_step *src, const glob_t *g,
                      int n, int first, int nshards, char *msg, size_t len)
{
    if (g->gl_pathc != 1 || by_files_only(src)) {
        mk_outfile_puts(f, ", \"mode\": \"files\"");
        plan_files(f, p, g, n, NULL, first, nshards);
        return 0;
    }
    cut *cuts = calloc((size_t)n, sizeof(cut));
    uint64_t size = 0, lines = 0, records = 0;
    if (!cuts || refuse_encoding(src, msg, len) ||
        scan_file(g->gl_pathv[0], src, n, cuts, &size, &lines, &records, NULL, msg, len)) {
        if (!cuts)
            snprintf(msg, len, "out of memory");
        free(cuts);
        return -1;
    }
    mk_outfile_puts(f, ", \"mode\": \"ranges\"");
    plan_ranges(f, p, g->gl_pathv[0], cuts, n, size, lines, records, NULL, first, nshards);
    free(cuts);
    return 0;
}

/* Several sources, which one run reads one after another: the shards take
 * contiguous stretches of about equal bytes of their concatenation.  Each
 * source goes to the shards its bytes fall in (a shard may end one source
 * and start the next), split among them as one source is; the plan's
 * "sources" list has each source's own plan, with a part for every shard
 * (empty where the source has no bytes in it). */
static int plan_sources(mk_outfile *f, const mk_pipeline *p, int n, const char *dir, char *msg,
                        size_t len)
{
    size_t ns = p->nsources;
    glob_t *g = calloc(ns, sizeof(glob_t));
    uint64_t *bytes = calloc(ns, sizeof(uint64_t)), total = 0, before = 0;
    int rc = g && bytes ? 0 : -1;
    if (rc)
        snprintf(msg, len, "out of memory");
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        const mk_step *src = &p->sources[i];
        if (glob(opt(src, "path"), GLOB_ERR, NULL, &g[i]) != 0) {
            snprintf(msg, len, "source %s: no file matches %s", src->name, opt(src, "path"));
            rc = -1;
        }
        for (size_t j = 0; rc == 0 && j < g[i].gl_pathc; j++) {
            struct stat st;
            bytes[i] += stat(g[i].gl_pathv[j], &st) == 0 ? (uint64_t)st.st_size : 0;
        }
        total += bytes[i];
    }
    if (rc == 0) {
        plan_head(f, p, n, "sources");
        mk_shard_stages_json(f, p, n, dir);
        mk_outfile_puts(f, ",\n  \"sources\": [");
    }
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        int first = shard_of(before, total, n);
        int last = bytes[i] ? shard_of(before + bytes[i] - 1, total, n) : first;
        mk_outfile_puts(f, i ? ",\n   {\"source\": " : "\n   {\"source\": ");
        mk_json_put_str(f, p->sources[i].name);
        rc = plan_piece(f, p, &p->sources[i], &g[i], last - first + 1, first, n, msg, len);
        mk_outfile_puts(f, "}");
        before += bytes[i];
    }
    if (rc == 0)
        mk_outfile_puts(f, "\n  ]\n}\n");
    for (size_t i = 0; g && i < ns; i++)
        globfree(&g[i]);
    free(g);
    free(bytes);
    return rc;
}

int mk_shard_plan(const mk_pipeline *p, int n, const char *dir, int full_refresh)
{
    char msg[2048];
    if (!mk_shard_supported(p, msg, sizeof msg)) {
        mk_log(MK_LOG_ERROR, "%s: cannot plan shards: %s", p->path, msg);
        return MK_EXIT_USAGE;
    }
    const mk_step *src = &p->sources[0];
    if (strcmp(src->plugin_name, "postgres") == 0) /* key ranges (shard_pg.c) */
        return mk_shard_pg_plan((mk_pipeline *)p, n, dir, full_refresh);
    if (full_refresh && mk_shard_incremental(src)) {
        mk_log(MK_LOG_ERROR, "%s: plan --full-refresh is for a postgres source's mark; for csv "
               "source %s (incremental: true) clear its state ('mekong state --reset'), then "
               "plan", p->path, src->name);
        return MK_EXIT_USAGE;
    }
    glob_t g;
    if (glob(opt(src, "path"), GLOB_ERR, NULL, &g) != 0) {
        mk_log(MK_LOG_ERROR, "%s: source %s: no file matches %s", p->path, src->name,
               opt(src, "path"));
        return MK_EXIT_FAILED;
    }
    mk_shard_inc *inc = NULL; /* incremental: what one run would read now */
    size_t nread = g.gl_pathc;
    char *const *read = g.gl_pathv;
    if (mk_shard_incremental(src) && !(inc = mk_shard_inc_choose(p, &g, msg, sizeof msg))) {
        mk_log(MK_LOG_ERROR, "%s: cannot plan shards: source %s: %s", p->path, src->name, msg);
        globfree(&g);
        return MK_EXIT_FAILED;
    }
    if (inc)
        read = mk_shard_inc_paths(inc, &nread);
    char *plan = mk_shard_plan_path(dir);
    mk_outfile *f = plan ? mk_outfile_open(plan, msg, sizeof msg) : NULL;
    int rc = f ? MK_EXIT_OK : MK_EXIT_FAILED;
    if (!f)
        mk_log(MK_LOG_ERROR, "cannot write the shard plan: %s", plan ? msg : "out of memory");
    if (f && p->nsources > 1) {
        if (plan_sources(f, p, n, dir, msg, sizeof msg) != 0) {
            mk_log(MK_LOG_ERROR, "%s: cannot plan shards: %s", p->path, msg);
            rc = MK_EXIT_USAGE;
        }
    } else if (f && (nread != 1 || by_files_only(src))) { /* files, none to read, or xml */
        plan_head(f, p, n, "files");
        mk_shard_stages_json(f, p, n, dir); /* the commands to run, in order */
        plan_files(f, p, &g, n, inc, 0, n);
        mk_outfile_puts(f, "\n}\n");
    } else if (f) {
        cut *cuts = calloc((size_t)n, sizeof(cut));
        uint64_t size = 0, lines = 0, records = 0;
        if (!cuts || refuse_encoding(src, msg, sizeof msg) ||
            scan_file(read[0], src, n, cuts, &size, &lines, &records, inc, msg, sizeof msg)) {
            mk_log(MK_LOG_ERROR, "%s: cannot plan shards: %s", p->path, cuts ? msg : "no memory");
            rc = MK_EXIT_USAGE;
        } else {
            plan_head(f, p, n, "ranges");
            mk_shard_stages_json(f, p, n, dir);
            plan_ranges(f, p, read[0], cuts, n, size, lines, records, inc, 0, n);
            mk_outfile_puts(f, "\n}\n");
        }
        free(cuts);
    }
    if (f && rc == MK_EXIT_OK && mk_outfile_commit(f, msg, sizeof msg) != 0) {
        mk_log(MK_LOG_ERROR, "cannot write the shard plan: %s", msg);
        rc = MK_EXIT_FAILED;
    } else if (f && rc != MK_EXIT_OK) {
        mk_outfile_abort(f);
    } else if (f) {
        mk_log(MK_LOG_INFO, "%s: plan for %d shard(s) written to %s", p->name, n, plan);
        mk_shard_stages_log(p, n, dir);
    }
    free(plan);
    mk_shard_inc_free(inc);
    globfree(&g);
    return rc;
}

void mk_shard_plan_head(struct mk_outfile *f, const mk_pipeline *p, int n, const char *mode)
{
    plan_head(f, p, n, mode);
}
