/*
 * dedupe_shard.c -- the dedupe step in the stages of dedupe across shards
 * (dedupe_stage.h; the files: dedupe_shard.h; docs/SCALE.md).
 *
 * Trade-off: the keys stage streams -- a 32-byte record a row into one of
 * N buffered files, no key kept -- so a shard's memory does not grow with
 * its input; the price is N open files of 256 KiB buffers.  Afterwards a
 * shard reads its duplicates from N sorted lists (one per bucket) through
 * a heap keyed on the row number, 64 KiB of buffer a list: it holds no
 * key at all, only the next duplicate of each bucket.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe_shard.h"
#include "dedupe_stage.h"
#include "mekong_kit.h"

#define DUPS_BUFFER (64u * 1024u)

/* ---- the keys stage ---------------------------------------------------------- */

struct ds_keys {
    const mk_host *h;
    mk_context *ctx;
    char *dir;
    uint32_t shard, n;
    mkk_file **files; /* n buckets */
    uint64_t *counts;
    mkk_file *origins;
};

static char *file_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

ds_keys *ds_keys_open(const mk_host *h, mk_context *ctx, const char *dir, uint32_t shard,
                      uint32_t buckets)
{
    ds_keys *k = calloc(1, sizeof(*k));
    if (k) {
        k->h = h, k->ctx = ctx, k->shard = shard, k->n = buckets;
        k->dir = strdup(dir);
        k->files = calloc(buckets, sizeof(*k->files));
        k->counts = calloc(buckets, sizeof(*k->counts));
    }
    if (!k || !k->dir || !k->files || !k->counts) {
        h->error(ctx, "out of memory opening the %" PRIu32 " key buckets", buckets);
        ds_keys_close(k);
        return NULL;
    }
    for (uint32_t b = 0; b < buckets; b++) {
        char name[64];
        snprintf(name, sizeof name, "bucket-%" PRIu32 ".keys", b);
        char *path = file_in(dir, name);
        k->files[b] = path ? mkk_file_open(h, ctx, path) : NULL;
        free(path);
        unsigned char head[DS_KEYS_HEADER];
        ds_keys_header(head, shard, b, buckets);
        if (!k->files[b] || mkk_file_write(k->files[b], head, sizeof head) != 0) {
            if (k->files[b])
                mkk_file_check(k->files[b]);
            ds_keys_close(k);
            return NULL;
        }
    }
    return k;
}

int ds_keys_add(ds_keys *k, const uint64_t hash[2], uint64_t seq, uint64_t payload)
{
    uint32_t b = ds_bucket(hash, k->n);
    unsigned char rec[DS_KEY_RECORD];
    ds_put64(rec, hash[0]);
    ds_put64(rec + 8, hash[1]);
    ds_put64(rec + 16, seq);
    ds_put64(rec + 24, payload);
    k->counts[b]++;
    return mkk_file_write(k->files[b], rec, sizeof rec) == 0 ? MK_OK : mkk_file_check(k->files[b]);
}

static void put_text(mkk_file *f, const char *s)
{
    unsigned char len[4];
    ds_put32(len, s ? (uint32_t)strlen(s) : DS_NO_TEXT);
    mkk_file_write(f, len, 4);
    if (s)
        mkk_file_write(f, s, strlen(s));
}

static int write_origins(ds_keys *k, uint64_t rows, const ds_origin *origins, size_t n)
{
    char *path = file_in(k->dir, "origins.keys");
    k->origins = path ? mkk_file_open(k->h, k->ctx, path) : NULL;
    free(path);
    if (!k->origins)
        return MK_ERROR;
    unsigned char head[32];
    memcpy(head, DS_ORIGINS_MAGIC, DS_MAGIC_LEN);
    ds_put32(head + 8, k->shard);
    ds_put32(head + 12, k->n);
    ds_put64(head + 16, rows);
    ds_put64(head + 24, n);
    mkk_file_write(k->origins, head, sizeof head);
    for (size_t i = 0; i < n; i++) {
        put_text(k->origins, origins[i].source);
        put_text(k->origins, origins[i].file);
    }
    mkk_file_write(k->origins, DS_ORIGINS_END, DS_MAGIC_LEN);
    return mkk_file_check(k->origins);
}

int ds_keys_finish(ds_keys *k, uint64_t rows, const ds_origin *origins, size_t n)
{
    for (uint32_t b = 0; b < k->n; b++) {
        unsigned char end[16];
        memcpy(end, DS_KEYS_END, DS_MAGIC_LEN);
        ds_put64(end + 8, k->counts[b]);
        mkk_file_write(k->files[b], end, sizeof end); /* a failed write is remembered */
        if (mkk_file_check(k->files[b]) != MK_OK)
            return MK_ERROR;
    }
    if (write_origins(k, rows, origins, n) != MK_OK)
        return MK_ERROR;
    /* into the run's publish set: they appear with the stage's report, or not at all */
    for (uint32_t b = 0; b < k->n; b++) {
        mkk_file *f = k->files[b];
        k->files[b] = NULL;
        if (mkk_file_close(f, 1) != MK_OK)
            return MK_ERROR;
    }
    mkk_file *f = k->origins;
    k->origins = NULL;
    return mkk_file_close(f, 1);
}

void ds_keys_close(ds_keys *k)
{
    if (!k)
        return;
    for (uint32_t b = 0; k->files && b < k->n; b++)
        mkk_file_close(k->files[b], 0);
    mkk_file_close(k->origins, 0);
    free(k->files);
    free(k->counts);
    free(k->dir);
    free(k);
}

/* ---- a shard's duplicates ----------------------------------------------------- */

typedef struct dup_list {
    FILE *f;
    char *path;
    uint64_t left;         /* records not read yet */
    uint64_t seq, payload; /* the record at hand */
    int has;               /* there is one */
    ds_origin *origins;    /* this file's table */
    size_t norigins;
} dup_list;

struct ds_dups {
    const mk_host *h;
    mk_context *ctx;
    dup_list *lists;
    uint32_t n;
    uint32_t *heap; /* lists with a record at hand, the smallest seq first */
    size_t nheap;
    uint64_t rows;
    size_t bytes;
};

static int read_exact(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -1;
}

static char *read_text(FILE *f)
{
    unsigned char len[4];
    if (read_exact(f, len, 4) != 0)
        return NULL;
    uint32_t n = ds_get32(len);
    if (n == DS_NO_TEXT)
        return calloc(1, 1); /* "" marks no file; a source always has a name */
    char *s = n < (1u << 20) ? malloc((size_t)n + 1) : NULL;
    if (s && read_exact(f, s, n) != 0) {
        free(s);
        return NULL;
    }
    if (s)
        s[n] = '\0';
    return s;
}

/* The origins table at the file position into l. */
static int read_origins(dup_list *l)
{
    unsigned char num[8];
    if (read_exact(l->f, num, 8) != 0 || ds_get64(num) > DS_ORIGIN_UNKNOWN)
        return -1;
    l->norigins = (size_t)ds_get64(num);
    l->origins = calloc(l->norigins ? l->norigins : 1, sizeof(ds_origin));
    for (size_t i = 0; l->origins && i < l->norigins; i++) {
        char *source = read_text(l->f), *file = source ? read_text(l->f) : NULL;
        l->origins[i] = (ds_origin){source, file};
        if (!file)
            return -1;
        if (!file[0]) {
            free(file);
            l->origins[i].file = NULL;
        }
    }
    return l->origins ? 0 : -1;
}

/* The next record of l into l->seq and l->payload; 0, 1 at the end, -1. */
static int list_advance(dup_list *l)
{
    uint64_t before = l->seq;
    int first = !l->has;
    l->has = 0;
    if (l->left == 0)
        return 1;
    unsigned char rec[DS_DUP_RECORD];
    if (read_exact(l->f, rec, sizeof rec) != 0)
        return -1;
    l->seq = ds_get64(rec);
    l->payload = ds_get64(rec + 8);
    l->left--;
    l->has = 1;
    /* a list is sorted; a schema step lists a row once per key space it repeats */
    return !first && l->seq < before ? -1 : 0;
}

/* Open bucket b's list for shard s: header, footer, then its section. */
static int list_open(ds_dups *d, dup_list *l, const char *dir, uint32_t b, uint32_t s)
{
    char name[64];
    snprintf(name, sizeof name, "bucket-%" PRIu32 "/duplicates", b);
    l->path = file_in(dir, name);
    l->f = l->path ? fopen(l->path, "rb") : NULL;
    if (!l->f) {
        d->h->error(d->ctx,
                    "bucket %" PRIu32 " is not decided (%s: %s): run the decide stage "
                    "of every bucket first (docs/SCALE.md)",
                    b, l->path ? l->path : name, l->path ? strerror(errno) : "out of memory");
        return -1;
    }
    setvbuf(l->f, NULL, _IOFBF, DUPS_BUFFER);
    unsigned char head[16], tail[16], entry[24];
    int ok = read_exact(l->f, head, 16) == 0 && memcmp(head, DS_DUPS_MAGIC, DS_MAGIC_LEN) == 0 &&
             ds_get32(head + 8) == b && ds_get32(head + 12) == d->n &&
             fseek(l->f, -16, SEEK_END) == 0 && read_exact(l->f, tail, 16) == 0 &&
             memcmp(tail + 8, DS_DUPS_END, DS_MAGIC_LEN) == 0 &&
             fseeko(l->f, (off_t)(ds_get64(tail) + (uint64_t)s * 24), SEEK_SET) == 0 &&
             read_exact(l->f, entry, 24) == 0 &&
             fseeko(l->f, (off_t)(ds_get64(tail) + (uint64_t)d->n * 24), SEEK_SET) == 0 &&
             read_origins(l) == 0;
    uint64_t rows = ok ? ds_get64(entry + 16) : 0;
    if (ok && b > 0 && rows != d->rows)
        ok = 0;
    d->rows = rows;
    l->left = ok ? ds_get64(entry + 8) : 0;
    if (!ok || fseeko(l->f, (off_t)ds_get64(entry), SEEK_SET) != 0 || list_advance(l) < 0) {
        d->h->error(d->ctx,
                    "%s is not a duplicates file of this plan's %" PRIu32 " buckets, or "
                    "is cut short: run the decide stage of bucket %" PRIu32 " again",
                    l->path, d->n, b);
        return -1;
    }
    return 0;
}

static int heap_less(const ds_dups *d, size_t i, size_t j)
{
    return d->lists[d->heap[i]].seq < d->lists[d->heap[j]].seq;
}

static void heap_swap(ds_dups *d, size_t i, size_t j)
{
    uint32_t t = d->heap[i];
    d->heap[i] = d->heap[j];
    d->heap[j] = t;
}

static void heap_down(ds_dups *d, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < d->nheap && heap_less(d, l, m))
            m = l;
        if (r < d->nheap && heap_less(d, r, m))
            m = r;
        if (m == i)
            return;
        heap_swap(d, i, m);
        i = m;
    }
}

static void heap_up(ds_dups *d, size_t i)
{
    while (i > 0 && heap_less(d, i, (i - 1) / 2)) {
        heap_swap(d, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

ds_dups *ds_dups_open(const mk_host *h, mk_context *ctx, const char *dir, uint32_t shard,
                      uint32_t buckets)
{
    ds_dups *d = calloc(1, sizeof(*d));
    if (d) {
        d->h = h, d->ctx = ctx, d->n = buckets;
        d->lists = calloc(buckets, sizeof(*d->lists));
        d->heap = calloc(buckets, sizeof(*d->heap));
    }
    if (!d || !d->lists || !d->heap) {
        h->error(ctx, "out of memory opening the %" PRIu32 " duplicate lists", buckets);
        ds_dups_close(d);
        return NULL;
    }
    for (uint32_t b = 0; b < buckets; b++) {
        dup_list *l = &d->lists[b];
        if (list_open(d, l, dir, b, shard) != 0) {
            ds_dups_close(d);
            return NULL;
        }
        d->bytes += DUPS_BUFFER + sizeof(*l) + l->norigins * sizeof(ds_origin);
        if (l->has) {
            d->heap[d->nheap++] = b;
            heap_up(d, d->nheap - 1);
        }
    }
    return d;
}

uint64_t ds_dups_next(const ds_dups *d)
{
    return d->nheap ? d->lists[d->heap[0]].seq : UINT64_MAX;
}

int ds_dups_take(ds_dups *d, ds_origin *first, uint64_t *payload)
{
    if (!d->nheap)
        return MK_ERROR;
    dup_list *l = &d->lists[d->heap[0]];
    size_t o = (size_t)(l->payload >> DS_ORIGIN_SHIFT);
    *first = o < l->norigins ? l->origins[o] : (ds_origin){NULL, NULL};
    *payload = l->payload;
    /* the strings stay: every list keeps its table until the end */
    int rc = list_advance(l);
    if (rc < 0) {
        d->h->error(d->ctx, "%s is cut short or out of order: run the decide stage again", l->path);
        return MK_ERROR;
    }
    if (rc == 1)
        d->heap[0] = d->heap[--d->nheap];
    heap_down(d, 0);
    return MK_OK;
}

uint64_t ds_dups_rows(const ds_dups *d)
{
    return d->rows;
}

size_t ds_dups_bytes(const ds_dups *d)
{
    return sizeof(*d) + d->bytes + d->n * sizeof(uint32_t);
}

void ds_dups_close(ds_dups *d)
{
    if (!d)
        return;
    for (uint32_t b = 0; d->lists && b < d->n; b++) {
        dup_list *l = &d->lists[b];
        if (l->f)
            fclose(l->f);
        for (size_t i = 0; l->origins && i < l->norigins; i++) {
            free((char *)l->origins[i].source);
            free((char *)l->origins[i].file);
        }
        free(l->origins);
        free(l->path);
    }
    free(d->lists);
    free(d->heap);
    free(d);
}
