/*
 * sch_sets.c -- lookup sets for the schema plugin (see schema_plugin.h) and
 * the CSV files that fill them (libcsv, as the csv plugin reads them:
 * RFC 4180, a header line naming the columns).
 */
#include "config.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "schema_plugin.h"

/* The kit's key set, asked with mkk_keyset_find (read only: the worker
 * threads share a filled set); made on the first add. */
int sch_hset_add(sch_hset *s, const uint64_t h[2])
{
    if (!s->ks && !(s->ks = mkk_keyset_new()))
        return -1;
    return mkk_keyset_insert(s->ks, h, 0, NULL) < 0 ? -1 : 0;
}

int sch_hset_has(const sch_hset *s, const uint64_t h[2])
{
    return s->ks && mkk_keyset_find(s->ks, h, NULL);
}

int sch_hset_has_text(const sch_hset *s, const char *p, size_t n)
{
    mk_value v = {p, n};
    uint64_t h[2];
    mkk_key_hash(&v, 1, h);
    return sch_hset_has(s, h);
}

void sch_hset_free(sch_hset *s)
{
    mkk_keyset_free(s->ks);
    s->ks = NULL;
}

/* ---- CSV files ---------------------------------------------------------- */

enum { MAX_COLS = 256 };

/* One file being read: the header first, then records. */
typedef struct reader {
    char *cells[MAX_COLS];
    size_t lens[MAX_COLS];
    size_t ncells;
    int header_done, failed;
    size_t record;
    /* header: wanted names -> their columns */
    const char *const *want;
    size_t nwant;
    long col[32];
    /* per record */
    int (*on_record)(struct reader *r);
    sch_hset *set;
    const ts_schema *ts;
    const ts_fkey *fk;
    char *err;
    size_t errlen;
    const char *path;
} reader;

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->ncells >= MAX_COLS) {
        r->ncells++;
        return;
    }
    char *c = malloc(len + 1);
    if (!c) {
        r->failed = 1;
        return;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    r->cells[r->ncells] = c;
    r->lens[r->ncells++] = len;
}

static void clear(reader *r)
{
    for (size_t i = 0; i < r->ncells && i < MAX_COLS; i++)
        free(r->cells[i]);
    r->ncells = 0;
}

static void on_header(reader *r)
{
    for (size_t w = 0; w < r->nwant; w++) {
        r->col[w] = -1;
        for (size_t c = 0; c < r->ncells && c < MAX_COLS; c++)
            if (strcmp(r->cells[c], r->want[w]) == 0)
                r->col[w] = (long)c;
        if (r->col[w] < 0 && !r->failed) {
            snprintf(r->err, r->errlen, "%s: has no column '%s' in its header line", r->path,
                     r->want[w]);
            r->failed = 2;
        }
    }
}

static void on_end(int c, void *data)
{
    (void)c;
    reader *r = data;
    if (r->failed) {
        clear(r);
        return;
    }
    if (!r->header_done) {
        on_header(r);
        r->header_done = 1;
    } else {
        r->record++;
        if (r->on_record(r) != 0 && !r->failed)
            r->failed = 1;
    }
    clear(r);
}

static int read_file(reader *r)
{
    FILE *fp = fopen(r->path, "rb");
    if (!fp) {
        snprintf(r->err, r->errlen, "%s: cannot open: %s", r->path, strerror(errno));
        return -1;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT_FINI) != 0) {
        fclose(fp);
        snprintf(r->err, r->errlen, "out of memory");
        return -1;
    }
    char buf[65536];
    size_t n;
    int bad = 0;
    while (!r->failed && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        if (csv_parse(&p, buf, n, on_field, on_end, r) != n)
            bad = 1;
    if (!bad && !r->failed && csv_fini(&p, on_field, on_end, r) != 0)
        bad = 1;
    int ioerr = ferror(fp);
    fclose(fp);
    csv_free(&p);
    clear(r);
    if (r->failed == 2)
        return -1;
    if (bad || ioerr || r->failed) {
        snprintf(r->err, r->errlen, "%s: %s near record %zu", r->path,
                 ioerr ? "read error" : r->failed ? "out of memory or a value that is not of "
                                                    "the local field's type"
                                                  : csv_strerror(csv_error(&p)),
                 r->record + 1);
        return -1;
    }
    return 0;
}

static int add_code(reader *r)
{
    if ((size_t)r->col[0] >= r->ncells)
        return 0;
    mk_value v = {r->cells[r->col[0]], r->lens[r->col[0]]};
    uint64_t h[2];
    mkk_key_hash(&v, 1, h);
    return sch_hset_add(r->set, h);
}

int sch_codes_load(sch_hset *s, const char *path, const char *column, char *err, size_t errlen)
{
    reader r = {0};
    const char *want[1] = {column};
    r.want = want;
    r.nwant = 1;
    r.on_record = add_code;
    r.set = s;
    r.err = err;
    r.errlen = errlen;
    r.path = path;
    return read_file(&r);
}

/* A reference record: each cell read as the local field's type. */
static int add_reference(reader *r)
{
    mk_value cells[32];
    char scratch[32][TS_SCRATCH];
    for (size_t k = 0; k < r->nwant; k++) {
        const ts_field *f = &r->ts->fields[r->fk->local.fields[k]];
        if ((size_t)r->col[k] >= r->ncells)
            return 0;
        const char *v = r->cells[r->col[k]];
        size_t n = r->lens[r->col[k]];
        ts_cell c;
        if (!ts_parse(f, v, n, scratch[k], &c))
            return 0; /* a reference value no local value can equal */
        cells[k].ptr = c.canon;
        cells[k].len = c.canon_len;
    }
    uint64_t h[2];
    mkk_key_hash(cells, r->nwant, h);
    return sch_hset_add(r->set, h);
}

int sch_lookup_load(sch_hset *s, const ts_schema *ts, const ts_fkey *fk, const char *path,
                    char *err, size_t errlen)
{
    reader r = {0};
    if (fk->ref_fields.n > 32) {
        snprintf(err, errlen, "a foreign key of more than 32 fields");
        return -1;
    }
    r.want = (const char *const *)fk->ref_fields.v;
    r.nwant = fk->ref_fields.n;
    r.on_record = add_reference;
    r.set = s;
    r.ts = ts;
    r.fk = fk;
    r.err = err;
    r.errlen = errlen;
    r.path = path;
    return read_file(&r);
}
