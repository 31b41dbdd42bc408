/*
 * admin_tables.c -- the administrative-unit tables, loaded once and shared.
 *
 * A tables folder holds (docs/ADMIN.md; data/vn/ ships them):
 *   provinces_2025.csv        code, full_name, division_type       34 provinces
 *   wards_2025.csv            code, full_name, division_type, province_code
 *   ward_old_to_new_2025.csv  the conversion table: old province/district/
 *                             ward codes and names -> new province and ward
 *   units_pre2025.csv         (optional) the 2025-01-04 list: other spellings
 *                             of old names, and old codes the table lacks
 *
 * Every file is read whole into one block and parsed in place (fields are
 * unquoted and NUL-terminated where they lie), so names in the tables are
 * pointers into those blocks and live as long as the tables.  The index is
 * one open-addressing hash of (kind, parent, name key) -> chains of entries.
 * Loaded tables are kept per folder with a reference count: several admin
 * steps of a run load them once.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "vntext.h"

#define CODE_SLOTS 100000u /* codes have at most 5 digits */

/* ---- blocks of memory the tables own ------------------------------------ */

static void *keep_block(adm_tables *t, size_t n)
{
    char **b = realloc(t->blocks, (t->nblocks + 1) * sizeof(char *));
    if (!b)
        return NULL;
    t->blocks = b;
    if (!(b[t->nblocks] = malloc(n ? n : 1)))
        return NULL;
    return b[t->nblocks++];
}

/* Key bytes, kept in blocks of 64 KiB. */
typedef struct key_store {
    char *block;
    size_t used, cap;
} key_store;

static const char *store_key(adm_tables *t, key_store *ks, const char *s, size_t n)
{
    if (ks->cap - ks->used < n + 1) {
        if (!(ks->block = keep_block(t, 65536)))
            return NULL;
        ks->used = 0;
        ks->cap = 65536;
    }
    char *p = ks->block + ks->used;
    memcpy(p, s, n);
    p[n] = '\0';
    ks->used += n + 1;
    return p;
}

/* ---- CSV files, parsed in place ----------------------------------------- */

typedef struct csv_file {
    const char *name; /* file name in the folder, for messages */
    char *p, *end;
    size_t line;
    char *field[16];
    size_t nfields;
    int col[8]; /* wanted columns in header order of the wanted list */
} csv_file;

static char *slurp(adm_tables *t, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = keep_block(t, (size_t)n + 1))) {
            *len = fread(buf, 1, (size_t)n, f);
            buf[*len] = '\0';
        }
    }
    int e = errno;
    fclose(f);
    errno = e;
    return buf;
}

/* Next record into f->field; 0 at the end of the file. */
static int csv_next(csv_file *f)
{
    if (f->p >= f->end)
        return 0;
    f->nfields = 0;
    f->line++;
    for (;;) {
        char *out = f->p, *start = f->p;
        if (*f->p == '"') {
            f->p++;
            for (; f->p < f->end; f->p++) {
                if (*f->p == '"') {
                    if (f->p + 1 < f->end && f->p[1] == '"')
                        f->p++;
                    else {
                        f->p++;
                        break;
                    }
                } else if (*f->p == '\n')
                    f->line++;
                *out++ = *f->p;
            }
        } else {
            while (f->p < f->end && *f->p != ',' && *f->p != '\n' && *f->p != '\r')
                f->p++;
            out = f->p;
        }
        char sep = f->p < f->end ? *f->p : '\n';
        if (f->nfields < 16)
            f->field[f->nfields++] = start;
        *out = '\0';
        f->p++;
        if (sep == '\r' && f->p < f->end && *f->p == '\n')
            f->p++;
        if (sep != ',')
            return 1;
    }
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Open folder/name and find the wanted columns (NULL-terminated list). */
static int csv_open(adm_tables *t, csv_file *f, const char *name, const char *const *want,
                    int optional, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", t->folder, name);
    size_t len = 0;
    memset(f, 0, sizeof *f);
    f->name = name;
    if (!(f->p = slurp(t, path, &len))) {
        if (optional && errno == ENOENT)
            return 1;
        return fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
    }
    f->end = f->p + len;
    size_t valid = vn_utf8_validate(f->p, len); /* names are written to outputs as they are */
    if (valid != len) {
        size_t line = 1;
        for (size_t i = 0; i < valid; i++)
            line += f->p[i] == '\n';
        return fail(err, errlen, "%s:%zu: byte 0x%02X is not UTF-8 (the tables must be UTF-8)",
                    path, line, (unsigned char)f->p[valid]);
    }
    if (len >= 3 && memcmp(f->p, "\xEF\xBB\xBF", 3) == 0)
        f->p += 3;
    if (!csv_next(f))
        return fail(err, errlen, "%s is empty: it needs a header line", path);
    for (size_t w = 0; want[w]; w++) {
        f->col[w] = -1;
        for (size_t i = 0; i < f->nfields; i++)
            if (strcmp(f->field[i], want[w]) == 0)
                f->col[w] = (int)i;
        if (f->col[w] < 0)
            return fail(err, errlen, "%s has no column %s (its header line must name it)", path,
                        want[w]);
    }
    return 0;
}

static const char *col(const csv_file *f, int w)
{
    return (size_t)f->col[w] < f->nfields ? f->field[f->col[w]] : "";
}

/* A code of 1 to 5 digits as a number, or -1. */
static long code_number(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
        return -1;
    return strtol(s, NULL, 10);
}

/* ---- units and entries ---------------------------------------------------- */

static adm_unit *grow_units(adm_unit **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        adm_unit *p = realloc(*v, c * sizeof **v);
        if (!p)
            return NULL;
        *v = p;
        *cap = c;
    }
    adm_unit *u = &(*v)[(*n)++];
    memset(u, 0, sizeof *u);
    return u;
}

/* The key eight bytes at a time, each word mixed by a multiply and a
 * shift, the scope first; then a 64-bit finalizer.  (FNV-1a byte by byte
 * was slower, and its low bits hardly depended on the scope: "1" is a ward
 * of every district, and all of them probed the same slots.) */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t hash_of(uint32_t scope, const char *key, size_t len)
{
    uint64_t h = mix(0x9e3779b97f4a7c15ull ^ scope ^ ((uint64_t)len << 32));
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t j = 0; i + j < len; j++)
        w |= (uint64_t)(unsigned char)key[i + j] << (8 * j);
    h = (h ^ w) * 0x100000001b3ull;
    return mix(h);
}

static int add_key_entry(adm_tables *t, key_store *ks, int kind, uint32_t parent, uint32_t unit,
                         const adm_key *kp);

static int add_entry(adm_tables *t, key_store *ks, int kind, uint32_t parent, uint32_t unit,
                     const char *name)
{
    adm_key k;
    adm_key_make(name, strlen(name), 1, &k);
    if (kind == ADM_OLD_PROVINCE || kind == ADM_NEW_PROVINCE) {
        adm_key f;
        adm_key_fold(&k, &f);
        int folded = kind == ADM_OLD_PROVINCE ? ADM_OLD_PROVINCE_FOLDED : ADM_NEW_PROVINCE_FOLDED;
        if (add_key_entry(t, ks, folded, parent, unit, &f))
            return -1;
    }
    return add_key_entry(t, ks, kind, parent, unit, &k);
}

static int add_key_entry(adm_tables *t, key_store *ks, int kind, uint32_t parent, uint32_t unit,
                         const adm_key *kp)
{
    adm_key k = *kp;
    if (!k.len)
        return 0;
    if (t->n_entries == t->cap_entries) {
        size_t c = t->cap_entries ? t->cap_entries * 2 : 4096;
        adm_entry *e = realloc(t->entries, c * sizeof *e);
        if (!e)
            return -1;
        t->entries = e;
        t->cap_entries = c;
    }
    adm_entry *e = &t->entries[t->n_entries];
    if (!(e->key = store_key(t, ks, k.text, k.len)))
        return -1;
    e->scope = (uint32_t)kind << 24 | (parent + 1);
    e->unit = unit;
    e->keylen = (uint32_t)k.len;
    e->hash = (uint32_t)(hash_of(e->scope, k.text, k.len) >> 32);
    e->type = (uint8_t)k.type;
    e->next = 0;
    t->n_entries++;
    return 0;
}

/* memcmp == 0 without a call: keys are a few bytes long */
static int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

uint32_t adm_find(const adm_tables *t, int kind, uint32_t parent, const char *key, size_t len)
{
    uint32_t scope = (uint32_t)kind << 24 | (parent + 1);
    size_t mask = t->nslots - 1;
    uint64_t h = hash_of(scope, key, len);
    uint64_t tag = h >> 32 << 32;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t slot = t->slots[i];
        if (!slot)
            return 0;
        if ((slot & 0xFFFFFFFF00000000ull) != tag)
            continue; /* told apart without touching the entry */
        uint32_t s = (uint32_t)slot;
        const adm_entry *e = &t->entries[s - 1];
        if (e->scope == scope && e->keylen == len && same_bytes(e->key, key, len))
            return s;
    }
}

/* Chains: the first entry of a (scope, key) sits in a slot, the others hang
 * from it; an entry equal to one in the chain (same unit) is left out. */
static int build_index(adm_tables *t)
{
    /* the entries do not move from here on: short keys inside, lines aligned */
    void *lines = NULL;
    if (posix_memalign(&lines, 64, (t->n_entries + 1) * sizeof *t->entries) != 0)
        return -1;
    memcpy(lines, t->entries, t->n_entries * sizeof *t->entries);
    free(t->entries);
    t->entries = lines;
    t->cap_entries = t->n_entries;
    for (size_t n = 0; n < t->n_entries; n++) {
        adm_entry *e = &t->entries[n];
        if (e->keylen < sizeof e->short_key) {
            memcpy(e->short_key, e->key, e->keylen + 1);
            e->key = e->short_key;
        }
    }
    t->nslots = 1024;
    while (t->nslots < t->n_entries * 2)
        t->nslots *= 2;
    if (!(t->slots = calloc(t->nslots, sizeof *t->slots)))
        return -1;
    for (size_t n = 0; n < t->n_entries; n++) {
        adm_entry *e = &t->entries[n];
        int kind = (int)(e->scope >> 24);
        e->listed = kind == ADM_OLD_WARD || kind == ADM_OLD_WARD_IN_PROVINCE
                        ? t->old_ward[e->unit].in_table
                        : 1;
        uint32_t first =
            adm_find(t, (int)(e->scope >> 24), (e->scope & 0xFFFFFF) - 1, e->key, e->keylen);
        if (!first) {
            size_t mask = t->nslots - 1;
            size_t i = hash_of(e->scope, e->key, e->keylen) & mask;
            while (t->slots[i])
                i = (i + 1) & mask;
            t->slots[i] = (uint64_t)e->hash << 32 | ((uint32_t)n + 1);
            continue;
        }
        uint32_t *link = &first;
        int dup = 0;
        for (uint32_t c = first; c; c = t->entries[c - 1].next) {
            if (t->entries[c - 1].unit == e->unit)
                dup = 1;
            link = &t->entries[c - 1].next;
        }
        if (!dup)
            *link = (uint32_t)n + 1;
    }
    return 0;
}

/* ---- loading ---------------------------------------------------------------- */

typedef struct loader {
    adm_tables *t;
    key_store keys;
    size_t cap_old_prov, cap_new_prov, cap_old_dist, cap_old_ward, cap_new_ward;
    uint32_t new_prov_by_code[100], old_prov_by_code[100], old_dist_by_code[1000];
    uint64_t *pairs; /* old ward << 32 | new ward */
    size_t npairs, cap_pairs;
    char *err;
    size_t errlen;
    char shown[64]; /* a value for a message */
} loader;

static int bad_code(loader *L, const csv_file *f, const char *what, const char *value, long max)
{
    char shown[64];
    adm_shown(value, strlen(value), shown, sizeof shown);
    return fail(L->err, L->errlen, "%s/%s:%zu: %s is '%s', not a code of 1 to %s digits",
                L->t->folder, f->name, f->line, what, shown,
                max == 100    ? "2"
                : max == 1000 ? "3"
                              : "5");
}

static int load_provinces(loader *L)
{
    static const char *const want[] = {"code", "full_name", "division_type", NULL};
    adm_tables *t = L->t;
    csv_file f;
    if (csv_open(t, &f, "provinces_2025.csv", want, 0, L->err, L->errlen))
        return -1;
    while (csv_next(&f)) {
        long c = code_number(col(&f, 0));
        if (c < 0 || c >= 100)
            return bad_code(L, &f, "code", col(&f, 0), 100);
        adm_unit *u = grow_units(&t->new_prov, &t->n_new_prov, &L->cap_new_prov);
        if (!u)
            return fail(L->err, L->errlen, "out of memory");
        u->code = col(&f, 0);
        u->name = col(&f, 1);
        u->type = (uint8_t)adm_type_of(col(&f, 2));
        L->new_prov_by_code[c] = (uint32_t)t->n_new_prov;
    }
    return 0;
}

static int load_new_wards(loader *L)
{
    static const char *const want[] = {"code", "full_name", "division_type", "province_code", NULL};
    adm_tables *t = L->t;
    csv_file f;
    if (csv_open(t, &f, "wards_2025.csv", want, 0, L->err, L->errlen))
        return -1;
    while (csv_next(&f)) {
        long c = code_number(col(&f, 0)), p = code_number(col(&f, 3));
        if (c < 0)
            return bad_code(L, &f, "code", col(&f, 0), CODE_SLOTS);
        if (p < 0 || p >= 100 || !L->new_prov_by_code[p])
            return fail(L->err, L->errlen,
                        "%s/%s:%zu: province_code '%s' is not in provinces_2025.csv", t->folder,
                        f.name, f.line, adm_shown(col(&f, 3), strlen(col(&f, 3)), L->shown, 64));
        adm_unit *u = grow_units(&t->new_ward, &t->n_new_ward, &L->cap_new_ward);
        if (!u)
            return fail(L->err, L->errlen, "out of memory");
        u->code = col(&f, 0);
        u->name = col(&f, 1);
        u->type = (uint8_t)adm_type_of(col(&f, 2));
        u->parent = L->new_prov_by_code[p] - 1;
        t->new_by_code[c] = (uint32_t)t->n_new_ward;
    }
    return 0;
}

/* The old province, district and ward of a conversion row, made on first sight. */
static long old_units(loader *L, const csv_file *f, uint32_t new_prov, uint32_t *ward)
{
    adm_tables *t = L->t;
    long p = code_number(col(f, 0)), d = code_number(col(f, 2)), w = code_number(col(f, 4));
    if (p < 0 || p >= 100)
        return bad_code(L, f, "old_province_code", col(f, 0), 100);
    if (d < 0 || d >= 1000)
        return bad_code(L, f, "old_district_code", col(f, 2), 1000);
    if (w < 0 && *col(f, 4))
        return bad_code(L, f, "old_ward_code", col(f, 4), CODE_SLOTS);
    if (!L->old_prov_by_code[p]) {
        adm_unit *u = grow_units(&t->old_prov, &t->n_old_prov, &L->cap_old_prov);
        if (!u)
            return fail(L->err, L->errlen, "out of memory");
        u->code = col(f, 0);
        u->name = col(f, 1);
        u->first = new_prov;
        L->old_prov_by_code[p] = (uint32_t)t->n_old_prov;
        t->old_prov_by_code[p] = (uint32_t)t->n_old_prov;
    }
    if (!L->old_dist_by_code[d]) {
        adm_unit *u = grow_units(&t->old_dist, &t->n_old_dist, &L->cap_old_dist);
        if (!u)
            return fail(L->err, L->errlen, "out of memory");
        u->code = col(f, 2);
        u->name = col(f, 3);
        u->parent = L->old_prov_by_code[p] - 1;
        L->old_dist_by_code[d] = (uint32_t)t->n_old_dist;
    }
    uint32_t dist = L->old_dist_by_code[d] - 1;
    if (!*col(f, 5) && !*col(f, 4)) {
        *ward = UINT32_MAX; /* the whole district became one unit */
        return 0;
    }
    if (w >= 0 && t->old_by_code[w]) {
        *ward = t->old_by_code[w] - 1;
        return 0;
    }
    adm_unit *u = grow_units(&t->old_ward, &t->n_old_ward, &L->cap_old_ward);
    if (!u)
        return fail(L->err, L->errlen, "out of memory");
    u->code = col(f, 4);
    u->name = col(f, 5);
    u->parent = dist;
    u->in_table = 1;
    *ward = (uint32_t)t->n_old_ward - 1;
    if (w >= 0)
        t->old_by_code[w] = (uint32_t)t->n_old_ward;
    return 0;
}

static int add_pair(loader *L, uint32_t old_ward, uint32_t new_ward)
{
    if (L->npairs == L->cap_pairs) {
        size_t c = L->cap_pairs ? L->cap_pairs * 2 : 16384;
        uint64_t *p = realloc(L->pairs, c * sizeof *p);
        if (!p)
            return fail(L->err, L->errlen, "out of memory");
        L->pairs = p;
        L->cap_pairs = c;
    }
    L->pairs[L->npairs++] = (uint64_t)old_ward << 32 | new_ward;
    return 0;
}

static int load_conversion(loader *L)
{
    static const char *const want[] = {
        "old_province_code", "old_province_name", "old_district_code", "old_district_name",
        "old_ward_code",     "old_ward_name",     "new_ward_code",     NULL};
    adm_tables *t = L->t;
    csv_file f;
    if (csv_open(t, &f, "ward_old_to_new_2025.csv", want, 0, L->err, L->errlen))
        return -1;
    while (csv_next(&f)) {
        long nw = code_number(col(&f, 6));
        if (nw < 0 || !t->new_by_code[nw])
            return fail(L->err, L->errlen, "%s/%s:%zu: new_ward_code '%s' is not in wards_2025.csv",
                        t->folder, f.name, f.line,
                        adm_shown(col(&f, 6), strlen(col(&f, 6)), L->shown, 64));
        uint32_t new_ward = t->new_by_code[nw] - 1, ward = 0;
        if (old_units(L, &f, t->new_ward[new_ward].parent, &ward))
            return -1;
        if (ward == UINT32_MAX) {
            if (add_pair(L, UINT32_MAX - 1 - L->old_dist_by_code[code_number(col(&f, 2))],
                         new_ward))
                return -1;
        } else if (add_pair(L, ward, new_ward))
            return -1;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Old wards' new wards, contiguous per old ward; whole districts apart. */
static int build_targets(loader *L)
{
    adm_tables *t = L->t;
    qsort(L->pairs, L->npairs, sizeof *L->pairs, cmp_u64);
    if (!(t->targets = calloc(L->npairs + 1, sizeof *t->targets)) ||
        !(t->dist_target = calloc(t->n_old_dist + 1, sizeof *t->dist_target)))
        return fail(L->err, L->errlen, "out of memory");
    for (size_t i = 0; i < L->npairs; i++) {
        uint32_t old = (uint32_t)(L->pairs[i] >> 32), nw = (uint32_t)L->pairs[i];
        if (i && L->pairs[i] == L->pairs[i - 1])
            continue;
        if (old >= UINT32_MAX - 1 - 1000) {
            t->dist_target[UINT32_MAX - 1 - old - 1] = nw + 1;
            continue;
        }
        adm_unit *u = &t->old_ward[old];
        if (!u->n)
            u->first = (uint32_t)t->n_targets;
        u->n++;
        t->targets[t->n_targets++] = nw;
    }
    return 0;
}

/* Other spellings from the 2025-01-04 list, and its wards the conversion
 * table lacks (merged earlier in 2025: known, but with no 2025 ward). */
static int load_pre2025(loader *L)
{
    static const char *const want[] = {"district_code", "district_name", "ward_code", "ward_name",
                                       NULL};
    adm_tables *t = L->t;
    csv_file f;
    int rc = csv_open(t, &f, "units_pre2025.csv", want, 1, L->err, L->errlen);
    if (rc)
        return rc < 0 ? -1 : 0;
    while (csv_next(&f)) {
        long d = code_number(col(&f, 0)), w = code_number(col(&f, 2));
        if (d < 0 || d >= 1000 || !L->old_dist_by_code[d] || w < 0)
            continue; /* a district-only row, or a district the table does not know */
        uint32_t dist = L->old_dist_by_code[d] - 1;
        if (add_entry(t, &L->keys, ADM_OLD_DISTRICT, t->old_dist[dist].parent, dist, col(&f, 1)))
            return fail(L->err, L->errlen, "out of memory");
        uint32_t ward;
        if (t->old_by_code[w]) {
            ward = t->old_by_code[w] - 1;
        } else {
            adm_unit *u = grow_units(&t->old_ward, &t->n_old_ward, &L->cap_old_ward);
            if (!u)
                return fail(L->err, L->errlen, "out of memory");
            u->code = col(&f, 2);
            u->name = col(&f, 3);
            u->parent = dist;
            ward = (uint32_t)t->n_old_ward - 1;
            t->old_by_code[w] = ward + 1;
        }
        const adm_unit *u = &t->old_ward[ward];
        if (add_entry(t, &L->keys, ADM_OLD_WARD, u->parent, ward, col(&f, 3)) ||
            add_entry(t, &L->keys, ADM_OLD_WARD_IN_PROVINCE, t->old_dist[u->parent].parent, ward,
                      col(&f, 3)))
            return fail(L->err, L->errlen, "out of memory");
    }
    return 0;
}

/* Names of every unit, and the usual short names of two cities. */
static int add_names(loader *L)
{
    adm_tables *t = L->t;
    key_store *ks = &L->keys;
    for (size_t i = 0; i < t->n_new_prov; i++)
        if (add_entry(t, ks, ADM_NEW_PROVINCE, 0, (uint32_t)i, t->new_prov[i].name))
            return -1;
    for (size_t i = 0; i < t->n_old_prov; i++)
        if (add_entry(t, ks, ADM_OLD_PROVINCE, 0, (uint32_t)i, t->old_prov[i].name))
            return -1;
    for (size_t i = 0; i < t->n_old_dist; i++)
        if (add_entry(t, ks, ADM_OLD_DISTRICT, t->old_dist[i].parent, (uint32_t)i,
                      t->old_dist[i].name))
            return -1;
    for (size_t i = 0; i < t->n_new_ward; i++)
        if (add_entry(t, ks, ADM_NEW_WARD, t->new_ward[i].parent, (uint32_t)i, t->new_ward[i].name))
            return -1;
    for (size_t i = 0; i < t->n_old_ward; i++) {
        const adm_unit *u = &t->old_ward[i];
        if (add_entry(t, ks, ADM_OLD_WARD, u->parent, (uint32_t)i, u->name) ||
            add_entry(t, ks, ADM_OLD_WARD_IN_PROVINCE, t->old_dist[u->parent].parent, (uint32_t)i,
                      u->name))
            return -1;
    }
    static const struct {
        const char *alias, *code;
    } aliases[] = {
        {"HCM", "79"},  {"TPHCM", "79"},          {"Sài Gòn", "79"},         {"HN", "01"},
        {"TPHN", "01"}, {"Thừa Thiên Huế", "46"}, {"Thừa Thiên - Huế", "46"}};
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++) {
        for (size_t i = 0; i < t->n_new_prov; i++)
            if (strcmp(t->new_prov[i].code, aliases[a].code) == 0 &&
                add_entry(t, ks, ADM_NEW_PROVINCE, 0, (uint32_t)i, aliases[a].alias))
                return -1;
        for (size_t i = 0; i < t->n_old_prov; i++)
            if (strcmp(t->old_prov[i].code, aliases[a].code) == 0 &&
                add_entry(t, ks, ADM_OLD_PROVINCE, 0, (uint32_t)i, aliases[a].alias))
                return -1;
    }
    return 0;
}

static void old_types(adm_tables *t)
{
    adm_unit *sets[] = {t->old_prov, t->old_dist, t->old_ward};
    size_t counts[] = {t->n_old_prov, t->n_old_dist, t->n_old_ward};
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < counts[s]; i++) {
            adm_key k;
            adm_key_make(sets[s][i].name, strlen(sets[s][i].name), 1, &k);
            sets[s][i].type = (uint8_t)k.type;
        }
    }
}

/* Lengths of codes and names (output cells), old provinces per new one. */
static int finish_units(adm_tables *t)
{
    adm_unit *sets[] = {t->old_prov, t->new_prov, t->old_dist, t->old_ward, t->new_ward};
    size_t counts[] = {t->n_old_prov, t->n_new_prov, t->n_old_dist, t->n_old_ward, t->n_new_ward};
    for (int s = 0; s < 5; s++) {
        for (size_t i = 0; i < counts[s]; i++) {
            sets[s][i].code_len = (uint16_t)strlen(sets[s][i].code);
            sets[s][i].name_len = (uint16_t)strlen(sets[s][i].name);
        }
    }
    if (!(t->merged = calloc(t->n_new_prov + 1, sizeof *t->merged)) ||
        !(t->nmerged = calloc(t->n_new_prov + 1, 1)))
        return -1;
    for (size_t i = 0; i < t->n_old_prov; i++) {
        uint32_t n = t->old_prov[i].first;
        if (t->nmerged[n] < 8)
            t->merged[n][t->nmerged[n]++] = (uint32_t)i;
    }
    return 0;
}

static void tables_free(adm_tables *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nblocks; i++)
        free(t->blocks[i]);
    free(t->blocks);
    free(t->old_prov);
    free(t->new_prov);
    free(t->old_dist);
    free(t->old_ward);
    free(t->new_ward);
    free(t->targets);
    free(t->dist_target);
    free(t->merged);
    free(t->nmerged);
    free(t->entries);
    free(t->slots);
    free(t->old_by_code);
    free(t->new_by_code);
    free(t->folder);
    free(t);
}

static adm_tables *tables_load(const char *folder, char *err, size_t errlen)
{
    adm_tables *t = calloc(1, sizeof *t);
    loader L;
    memset(&L, 0, sizeof L);
    L.t = t;
    L.err = err;
    L.errlen = errlen;
    if (!t || !(t->folder = strdup(folder)) ||
        !(t->old_by_code = calloc(CODE_SLOTS, sizeof(uint32_t))) ||
        !(t->new_by_code = calloc(CODE_SLOTS, sizeof(uint32_t)))) {
        fail(err, errlen, "out of memory");
        goto failed;
    }
    if (load_provinces(&L) || load_new_wards(&L) || load_conversion(&L) || build_targets(&L))
        goto failed;
    if (add_names(&L) || load_pre2025(&L) || build_index(t)) {
        if (!*err)
            fail(err, errlen, "out of memory");
        goto failed;
    }
    old_types(t);
    if (finish_units(t)) {
        fail(err, errlen, "out of memory");
        goto failed;
    }
    free(L.pairs);
    return t;
failed:
    free(L.pairs);
    tables_free(t);
    return NULL;
}

/* ---- shared per folder ------------------------------------------------------ */

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static adm_tables *cache[8];

adm_tables *adm_tables_get(const char *folder, char *err, size_t errlen)
{
    adm_tables *t = NULL;
    err[0] = '\0';
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < 8 && !t; i++)
        if (cache[i] && strcmp(cache[i]->folder, folder) == 0)
            t = cache[i];
    if (!t && (t = tables_load(folder, err, errlen))) {
        size_t i = 0;
        while (i < 8 && cache[i])
            i++;
        if (i < 8)
            cache[i] = t;
    }
    if (t)
        t->refs++;
    pthread_mutex_unlock(&cache_mu);
    return t;
}

void adm_tables_release(adm_tables *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&cache_mu);
    if (--t->refs == 0) {
        for (size_t i = 0; i < 8; i++)
            if (cache[i] == t)
                cache[i] = NULL;
        tables_free(t);
    }
    pthread_mutex_unlock(&cache_mu);
}
