/*
 * csv_state.c -- incremental: true.  The source remembers, in the
 * pipeline's state (mk_host.state_get/state_set), every file it read to
 * the end: its path (relative to the pipeline's folder when inside it),
 * size, modification time and SHA-256 of its bytes.  The next run reads
 * only new or changed files:
 *
 *   - same size and mtime as saved: unchanged, not opened;
 *   - larger, and its first `size` bytes have the saved SHA-256, and it
 *     ended with a line end outside any quote: rows were appended; it is
 *     read from where it ended (line and record numbers go on);
 *   - size or mtime differ otherwise: the file is hashed; the same SHA-256
 *     means it was only touched (its new mtime is saved), another means it
 *     changed and is read again whole (with a warning: rows it had before
 *     come again);
 *   - files no longer matched by path are forgotten.
 *
 * The state is staged only when every file was read to its end, and the
 * engine saves it only with the outputs the run published.  The state:
 *
 *   {"files": [{"path": "data/2025-01.csv", "size": 1234,
 *               "mtime": "2025-01-31T23:10:05.123456789Z", "sha256": "...",
 *               "lines": 41, "records": 39, "appendable": true}]}
 *
 * SHA-256 is written here from FIPS 180-4 (no crypto library needed).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv_state.h"
#include "mekong_kit.h"

/* ---- SHA-256 ------------------------------------------------------------ */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(csv_sha256 *s, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

void csv_sha256_init(csv_sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->bytes = 0;
    s->n = 0;
}

void csv_sha256_update(csv_sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->bytes += len;
    if (s->n) {
        size_t take = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, take);
        s->n += take;
        p += take;
        len -= take;
        if (s->n < 64)
            return;
        sha_block(s, s->buf);
        s->n = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        sha_block(s, p);
    memcpy(s->buf, p, len);
    s->n = len;
}

void csv_sha256_hex(csv_sha256 *s, char out[65])
{
    uint64_t bits = s->bytes * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (s->n < 56 ? 56 - s->n : 120 - s->n);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    csv_sha256_update(s, pad, padlen);
    csv_sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08" PRIx32, s->h[i]);
}

void csv_sha256_save(const csv_sha256 *s, char out[CSV_SHA256_TEXT])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08" PRIx32, s->h[i]);
    out[64] = ':';
    for (size_t i = 0; i < s->n; i++)
        snprintf(out + 65 + 2 * i, 3, "%02x", s->buf[i]);
    out[65 + 2 * s->n] = '\0';
}

int csv_sha256_load(csv_sha256 *s, uint64_t bytes, const char *text)
{
    size_t len = strlen(text);
    if (len < 65 || text[64] != ':' || (len - 65) % 2 || (len - 65) / 2 != bytes % 64 ||
        strspn(text, "0123456789abcdef:") != len)
        return -1;
    for (int i = 0; i < 8; i++) {
        char word[9];
        memcpy(word, text + 8 * i, 8);
        word[8] = '\0';
        s->h[i] = (uint32_t)strtoul(word, NULL, 16);
    }
    s->bytes = bytes;
    s->n = (len - 65) / 2;
    for (size_t i = 0; i < s->n; i++) {
        char byte[3] = {text[65 + 2 * i], text[66 + 2 * i], '\0'};
        s->buf[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
    return 0;
}

/* ---- marks ---------------------------------------------------------------- */

void csv_mtime_text(const struct stat *st, char out[40])
{
    struct tm tm;
    time_t t = st->st_mtim.tv_sec;
    gmtime_r(&t, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%09ldZ", day, (long)st->st_mtim.tv_nsec);
}

char *csv_state_key(const char *pipeline_dir, const char *file)
{
    char *dir = realpath(pipeline_dir, NULL), *real = realpath(file, NULL);
    char *key = NULL;
    if (dir && real) {
        size_t n = strlen(dir);
        if (strncmp(real, dir, n) == 0 && real[n] == '/')
            key = strdup(real + n + 1);
        else
            key = strdup(real);
    }
    free(dir);
    free(real);
    return key ? key : strdup(file);
}

static int add_mark(csv_increment *inc, const csv_file_mark *from)
{
    if (inc->ndone == inc->cap) {
        size_t cap = inc->cap ? inc->cap * 2 : 16;
        csv_file_mark *grown = realloc(inc->done, cap * sizeof(*grown));
        if (!grown)
            return -1;
        inc->done = grown;
        inc->cap = cap;
    }
    csv_file_mark *m = &inc->done[inc->ndone];
    *m = *from;
    if (!(m->path = strdup(from->path)))
        return -1;
    inc->ndone++;
    return 0;
}

int csv_inc_loaded(csv_increment *inc, const csv_file_mark *m)
{
    return add_mark(inc, m);
}

/* ---- reading the saved state ------------------------------------------------ */

static int parse_mark(const char *p, const char *end, csv_file_mark *m)
{
    const char *k, *v, *ve;
    int rc, got = 0;
    memset(m, 0, sizeof(*m));
    while ((rc = mkk_json_member(&p, end, &k, &v, &ve)) == 1) {
        if (mkk_json_equals(k, end, "path") && *v == '"') {
            free(m->path);
            m->path = mkk_json_decode(v, ve);
            got |= m->path ? 1 : 0;
        } else if (mkk_json_equals(k, end, "size")) {
            m->size = strtoull(v, NULL, 10);
            got |= 2;
        } else if (mkk_json_equals(k, end, "mtime") && *v == '"' && ve - v < 42) {
            snprintf(m->mtime, sizeof m->mtime, "%.*s", (int)(ve - v - 2), v + 1);
            got |= 4;
        } else if (mkk_json_equals(k, end, "sha256") && *v == '"' && ve - v == 66) {
            snprintf(m->sha256, sizeof m->sha256, "%.*s", 64, v + 1);
            got |= 8;
        } else if (mkk_json_equals(k, end, "lines")) {
            m->lines = strtoull(v, NULL, 10);
        } else if (mkk_json_equals(k, end, "records")) {
            m->records = strtoull(v, NULL, 10);
        } else if (mkk_json_equals(k, end, "appendable")) {
            m->appendable = ve - v == 4 && memcmp(v, "true", 4) == 0;
        }
    }
    if (rc < 0 || got != 15) {
        free(m->path);
        m->path = NULL;
        return -1;
    }
    return 0;
}

int csv_inc_load(csv_increment *inc, const char *saved, char *err, size_t errlen)
{
    memset(inc, 0, sizeof(*inc));
    if (!saved)
        return 0;
    const char *end = saved + strlen(saved), *p = saved, *k, *v, *ve;
    int rc;
    while ((rc = mkk_json_member(&p, end, &k, &v, &ve)) == 1) {
        if (!mkk_json_equals(k, end, "files") || *v != '[')
            continue;
        const char *q = v, *item, *item_end;
        int ri;
        while ((ri = mkk_json_item(&q, ve, &item, &item_end)) == 1) {
            csv_file_mark m;
            if (*item != '{' || parse_mark(item, item_end, &m) != 0)
                goto bad;
            csv_file_mark *grown = realloc(inc->saved, (inc->nsaved + 1) * sizeof(*grown));
            if (!grown) {
                free(m.path);
                snprintf(err, errlen, "out of memory reading the saved state");
                return -1;
            }
            inc->saved = grown;
            inc->saved[inc->nsaved++] = m;
        }
        if (ri < 0)
            goto bad;
    }
    if (rc >= 0)
        return 0;
bad:
    snprintf(err, errlen,
             "the saved state of this source is not what incremental: true writes "
             "(see 'mekong state'; 'mekong state --reset' clears it)");
    return -1;
}

/* ---- deciding what to read ----------------------------------------------------- */

/* SHA-256 of the first limit bytes of path (UINT64_MAX: all) into s. */
static int hash_file(const char *path, uint64_t limit, csv_sha256 *s)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    csv_sha256_init(s);
    char buf[65536];
    ssize_t n = 0;
    while (s->bytes < limit) {
        uint64_t left = limit - s->bytes;
        n = read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        csv_sha256_update(s, buf, (size_t)n);
    }
    close(fd);
    return n < 0 ? -1 : 0;
}

int csv_inc_decide(csv_increment *inc, const char *key, const char *file, int *read_it,
                   csv_resume *resume, char *why, size_t whylen)
{
    *read_it = 1;
    memset(resume, 0, sizeof(*resume));
    why[0] = '\0';
    const csv_file_mark *m = NULL;
    for (size_t i = 0; i < inc->nsaved && !m; i++)
        if (strcmp(inc->saved[i].path, key) == 0)
            m = &inc->saved[i];
    struct stat st;
    if (!m || stat(file, &st) != 0)
        return 0; /* new (or unreadable: reading it says why) */
    csv_file_mark now = *m;
    csv_mtime_text(&st, now.mtime);
    if ((uint64_t)st.st_size == m->size && strcmp(now.mtime, m->mtime) == 0) {
        *read_it = 0;
        return add_mark(inc, m);
    }
    csv_sha256 s;
    char sha[65];
    if (m->appendable && (uint64_t)st.st_size > m->size && hash_file(file, m->size, &s) == 0 &&
        s.bytes == m->size) {
        csv_sha256 copy = s;
        csv_sha256_hex(&copy, sha);
        if (strcmp(sha, m->sha256) == 0) { /* rows were appended: read from the end */
            resume->offset = m->size;
            resume->line = m->lines;
            resume->record = m->records;
            resume->sha = s;
            return 0;
        }
    }
    if (hash_file(file, UINT64_MAX, &s) != 0)
        return 0;
    now.size = s.bytes;
    csv_sha256_hex(&s, sha);
    if (strcmp(sha, m->sha256) == 0) {
        *read_it = 0; /* touched, not changed */
        return add_mark(inc, &now);
    }
    snprintf(why, whylen,
             "%s changed since it was loaded (%" PRIu64 " bytes, now %" PRIu64
             "; other content): read again whole, so rows it had then come again",
             file, m->size, now.size);
    return 0;
}

/* ---- the new state ----------------------------------------------------------- */

typedef struct text {
    char *p;
    size_t len, cap;
    int bad;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->bad)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->p, cap);
        if (!grown) {
            t->bad = 1;
            return;
        }
        t->p = grown;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void put_string(text *t, const char *s)
{
    put(t, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(t, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(t, esc, 6);
        } else {
            put(t, s, 1);
        }
    }
    put(t, "\"", 1);
}

char *csv_inc_json(const csv_increment *inc)
{
    text t = {0};
    put(&t, "{\"files\": [", 11);
    for (size_t i = 0; i < inc->ndone; i++) {
        const csv_file_mark *m = &inc->done[i];
        char num[32];
        put(&t, i ? ", {\"path\": " : "{\"path\": ", i ? 11 : 9);
        put_string(&t, m->path);
        snprintf(num, sizeof num, ", \"size\": %" PRIu64, m->size);
        put(&t, num, strlen(num));
        put(&t, ", \"mtime\": ", 11);
        put_string(&t, m->mtime);
        put(&t, ", \"sha256\": ", 12);
        put_string(&t, m->sha256);
        snprintf(num, sizeof num, ", \"lines\": %" PRIu64, m->lines);
        put(&t, num, strlen(num));
        snprintf(num, sizeof num, ", \"records\": %" PRIu64, m->records);
        put(&t, num, strlen(num));
        const char *tail = m->appendable ? ", \"appendable\": true}" : ", \"appendable\": false}";
        put(&t, tail, strlen(tail));
    }
    put(&t, "]}", 2);
    if (t.bad) {
        free(t.p);
        return NULL;
    }
    return t.p;
}

void csv_inc_free(csv_increment *inc)
{
    for (size_t i = 0; i < inc->nsaved; i++)
        free(inc->saved[i].path);
    for (size_t i = 0; i < inc->ndone; i++)
        free(inc->done[i].path);
    free(inc->saved);
    free(inc->done);
    memset(inc, 0, sizeof(*inc));
}
