/*
 * test_kit.c -- unit tests of the plugin kit (engine/kit, libmekongkit),
 * linked against the shared library as plugins are.
 *
 * Trade-off: the host is a fake of a few calls (error, opt_string,
 * opt_choice, column_find, row_reject), sized either as today's table or
 * as the first release's, so the fallbacks for old hosts run too; the
 * real host is covered by the cases that run the converted plugins.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mekong_kit.h"
#include "unit.h"

static char last_error[512];
static int host_calls; /* calls of the 1.1 members */
static const char *option_value = "replace";
static char rejected[512];

static void fake_error(mk_context *ctx, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

static const char *fake_opt_string(mk_context *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return option_value;
}

static int fake_opt_choice(mk_context *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    host_calls++;
    return strcmp(option_value, "replace") == 0 ? 1 : 0;
}

static long fake_column_find(const mk_schema *s, const char *name)
{
    host_calls++;
    for (size_t c = 0; c < s->ncols; c++)
        if (strcmp(s->names[c], name) == 0)
            return (long)c;
    return -1;
}

static int fake_row_reject(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                           const char *reason)
{
    (void)ctx;
    (void)in;
    snprintf(rejected, sizeof rejected, "%zu %s: %s", row, rule, reason);
    return MK_OK;
}

static mk_schema interned_schema;
static mk_type interned_types[8];
static int typed_calls;

static const mk_schema *fake_intern(mk_context *ctx, const char *const *names, size_t n)
{
    (void)ctx;
    interned_schema = (mk_schema){n, names, NULL};
    return &interned_schema;
}

static const mk_schema *fake_intern_typed(mk_context *ctx, const char *const *names,
                                          const mk_type *types, size_t n)
{
    (void)ctx;
    typed_calls++;
    memcpy(interned_types, types, n * sizeof(mk_type));
    interned_schema = (mk_schema){n, names, interned_types};
    return &interned_schema;
}

/* A host of today's size (newer) or of the first release's. */
static mk_host fake_host(int newer)
{
    mk_host h;
    memset(&h, 0, sizeof h);
    h.size = newer ? (uint32_t)sizeof h : (uint32_t)MK_HOST_FIRST_SIZE;
    h.error = fake_error;
    h.opt_string = fake_opt_string;
    h.row_reject = fake_row_reject;
    h.opt_choice = fake_opt_choice; /* beyond size when !newer: must not be called */
    h.column_find = fake_column_find;
    h.schema_intern = fake_intern;
    h.schema_intern_typed = fake_intern_typed;
    return h;
}

TEST(schema_derive_keeps_types)
{
    static const char *const in_names[] = {"id", "born", "note"};
    static const mk_type in_types[] = {MK_TYPE_INTEGER, MK_TYPE_DATE, MK_TYPE_TEXT};
    mk_schema in = {3, in_names, in_types};
    const char *out_names[] = {"born", "row", "id"};
    long source[] = {1, -1, 0};
    mk_type made[] = {MK_TYPE_TEXT, MK_TYPE_INTEGER, MK_TYPE_TEXT};
    mk_host h = fake_host(1);
    const mk_schema *s = mkk_schema_derive(&h, NULL, &in, out_names, source, made, 3);
    CHECK(s && s->types);
    CHECK(s->types[0] == MK_TYPE_DATE && s->types[1] == MK_TYPE_INTEGER &&
          s->types[2] == MK_TYPE_INTEGER);
    mk_schema plain = {3, in_names, NULL}; /* all text in, nothing typed made: untyped */
    typed_calls = 0;
    s = mkk_schema_derive(&h, NULL, &plain, out_names, source, NULL, 3);
    CHECK(s && !s->types && typed_calls == 0);
    mk_host old = fake_host(0); /* an old host: no types, and no call beyond its table */
    s = mkk_schema_derive(&old, NULL, &in, out_names, source, made, 3);
    CHECK(s && !s->types && typed_calls == 0);
}

static int freed;
static void count_free(void *p)
{
    freed++;
    free(p);
}

TEST(plans_get_put_free)
{
    const char *a[] = {"x"}, *b[] = {"y"};
    mk_schema s1 = {1, a, NULL}, s2 = {1, b, NULL};
    mkk_plans *ps = mkk_plans_new(count_free);
    CHECK(ps != NULL);
    CHECK(mkk_plans_get(ps, &s1) == NULL);
    int *p1 = malloc(sizeof *p1), *p2 = malloc(sizeof *p2), *p3 = malloc(sizeof *p3);
    CHECK_INT_EQ(mkk_plans_put(ps, &s1, p1), MK_OK);
    CHECK_INT_EQ(mkk_plans_put(ps, &s2, p2), MK_OK);
    CHECK(mkk_plans_get(ps, &s1) == p1);
    CHECK(mkk_plans_get(ps, &s1) == p1); /* the last hit */
    CHECK(mkk_plans_get(ps, &s2) == p2);
    CHECK_INT_EQ(mkk_plans_put(ps, &s1, p3), MK_OK); /* replaces p1 */
    CHECK_INT_EQ(freed, 1);
    CHECK(mkk_plans_get(ps, &s1) == p3);
    mkk_plans_free(ps);
    CHECK_INT_EQ(freed, 3);
    mkk_plans_free(NULL);
}

static void colmap_on(int newer)
{
    mk_host h = fake_host(newer);
    const char *want[] = {"c", "a", "zz"};
    const char *n1[] = {"a", "b", "c"}, *n2[] = {"c", "a"};
    mk_schema s1 = {3, n1, NULL}, s2 = {2, n2, NULL};
    host_calls = 0;
    mkk_colmap *m = mkk_colmap_new(&h, want, 3);
    CHECK(m != NULL);
    CHECK_INT_EQ(mkk_colmap_size(m), 3);
    const long *i1 = mkk_colmap_get(m, &s1);
    CHECK(i1 && i1[0] == 2 && i1[1] == 0 && i1[2] == -1);
    CHECK_INT_EQ(mkk_colmap_unwanted(m, &s1), 1); /* b */
    const long *i2 = mkk_colmap_get(m, &s2);
    CHECK(i2 && i2[0] == 0 && i2[1] == 1 && i2[2] == -1);
    CHECK_INT_EQ(mkk_colmap_unwanted(m, &s2), -1);
    CHECK(mkk_colmap_get(m, &s1) == i1); /* cached */
    CHECK_INT_EQ(host_calls, newer ? 6 : 0);
    CHECK_INT_EQ(mkk_column_find(&h, &s1, "b"), 1);
    CHECK_INT_EQ(mkk_column_find(&h, &s1, "q"), -1);
    mkk_colmap_free(m);
}

TEST(colmap_new_host)
{
    colmap_on(1);
}
TEST(colmap_first_release_host)
{
    colmap_on(0);
}

TEST(opt_choice_both_hosts)
{
    for (int newer = 0; newer < 2; newer++) {
        mk_host h = fake_host(newer);
        host_calls = 0;
        option_value = "replace";
        CHECK_INT_EQ(mkk_opt_choice(&h, NULL, "invalid_utf8", "reject|replace"), 1);
        option_value = "reject";
        CHECK_INT_EQ(mkk_opt_choice(&h, NULL, "invalid_utf8", "reject|replace"), 0);
        CHECK_INT_EQ(host_calls, newer ? 2 : 0);
    }
    mk_host old = fake_host(0);
    option_value = "rej";
    CHECK_INT_EQ(mkk_opt_choice(&old, NULL, "x", "reject|replace"), -1);
    option_value = "c";
    CHECK_INT_EQ(mkk_opt_choice(&old, NULL, "x", "a|bb|c"), 2);
    option_value = NULL;
    CHECK_INT_EQ(mkk_opt_choice(&old, NULL, "x", "a|b"), -1);
    option_value = "replace";
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

TEST(file_commit_and_abort)
{
    mk_host h = fake_host(1);
    char dir[] = "/tmp/mekong-kit-XXXXXX", path[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/sub/out.csv", dir);
    mkk_file *f = mkk_file_open(&h, NULL, path);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_STR_EQ(mkk_file_path(f), path);
    mkk_csv_style st = {',', '"', 1};
    mkk_csv_field(f, &st, "a,b", 3);
    mkk_file_putc(f, ',');
    mkk_csv_field(f, &st, "=1+1", 4);
    mkk_file_putc(f, ',');
    size_t replaced = 0;
    mkk_csv_field_repaired(f, &st, "x\xff", 2, &replaced);
    mkk_file_puts(f, "\n");
    mkk_json_string(f, "q\"\x01", 3, MKK_JSON_CHECK, NULL);
    CHECK_INT_EQ(mkk_json_string(f, "\xc3", 1, MKK_JSON_CHECK, NULL), -2);
    mkk_file_putc(f, '\n');
    CHECK_INT_EQ(replaced, 1);
    CHECK(access(path, F_OK) != 0); /* not there before the commit */
    CHECK_INT_EQ(mkk_file_check(f), MK_OK);
    CHECK_INT_EQ(mkk_file_error(f), 0);
    CHECK_INT_EQ(mkk_file_close(f, 1), MK_OK);
    CHECK_STR_EQ(slurp(path), "\"a,b\",\"'=1+1\",x\xef\xbf\xbd\n\"q\\\"\\u0001\"\n");

    f = mkk_file_open(&h, NULL, path);
    mkk_file_puts(f, "thrown away");
    CHECK_INT_EQ(mkk_file_close(f, 0), MK_OK);
    CHECK_STR_EQ(slurp(path), "\"a,b\",\"'=1+1\",x\xef\xbf\xbd\n\"q\\\"\\u0001\"\n");
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);

    last_error[0] = '\0';
    CHECK(mkk_file_open(&h, NULL, "/") == NULL); /* a directory */
    CHECK(strstr(last_error, "/") != NULL);
}

TEST(file_big_writes)
{
    mk_host h = fake_host(1);
    char path[] = "/tmp/mekong-kit-big-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    mkk_file *f = mkk_file_open(&h, NULL, path);
    size_t big = 300 * 1024;
    char *block = malloc(big);
    memset(block, 'x', big);
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ(mkk_file_write(f, "ab", 2), 0);
        CHECK_INT_EQ(mkk_file_write(f, block, big), 0); /* more than the buffer */
    }
    for (int i = 0; i < 300000; i++)
        CHECK_INT_EQ(mkk_file_putc(f, 'y'), 0);
    CHECK_INT_EQ(mkk_file_close(f, 1), MK_OK);
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    CHECK_INT_EQ(ftell(fp), (long)(3 * (big + 2) + 300000));
    fseek(fp, (long)(big + 2), SEEK_SET);
    char two[3] = {0};
    CHECK_INT_EQ(fread(two, 1, 2, fp), 2);
    CHECK_STR_EQ(two, "ab");
    fclose(fp);
    free(block);
    unlink(path);
}

TEST(utf8_helpers)
{
    mk_value cells[3] = {{"ok", 2}, {NULL, 0}, {"ab\xe1\xbb", 4}};
    size_t off = 99;
    CHECK_INT_EQ(mkk_utf8_check_cells(cells, 3, &off), 2);
    CHECK_INT_EQ(off, 2);
    CHECK_INT_EQ(mkk_utf8_check_cells(cells, 2, &off), -1);
    CHECK_INT_EQ(mkk_utf8_valid_prefix("Vi\xe1\xbb\x87t\xff", 7), 6);
    char out[32];
    size_t replaced = 0;
    size_t n = mkk_utf8_repair("a\xe1\xbb\x62\xff", 5, out, &replaced);
    CHECK_MEM_EQ(out, n, "a\xef\xbf\xbd\x62\xef\xbf\xbd", 8);
    CHECK_INT_EQ(replaced, 2);

    mk_host h = fake_host(0);
    const char *names[] = {"ten", "ghi_chu"};
    mk_schema s = {2, names, NULL};
    mk_value v[4] = {{"An", 2}, {"", 0}, {"B", 1}, {"x\x80", 2}};
    mk_batch b;
    memset(&b, 0, sizeof b);
    b.schema = &s;
    b.nrows = 2;
    b.values = v;
    CHECK_INT_EQ(mkk_utf8_reject_row(&h, NULL, &b, 0, "t.utf8"), 0);
    CHECK_INT_EQ(mkk_utf8_reject_row(&h, NULL, &b, 1, "t.utf8"), 1);
    CHECK_STR_EQ(rejected, "1 t.utf8: column ghi_chu is not valid UTF-8 (byte 2)");
}

/* ---- key sets ---- */

static void hash_of(const char *a, const char *b, uint64_t h[2])
{
    mk_value cells[2] = {{a, a ? strlen(a) : 0}, {b, b ? strlen(b) : 0}};
    mkk_key_hash(cells, 2, h);
}

static int same_hash(const uint64_t a[2], const uint64_t b[2])
{
    return a[0] == b[0] && a[1] == b[1];
}

TEST(key_hash_boundaries)
{
    uint64_t x[2], y[2];
    hash_of("ab", "c", x);
    hash_of("a", "bc", y);
    CHECK(!same_hash(x, y));
    hash_of(NULL, "a", x);
    hash_of("", "a", y);
    CHECK(!same_hash(x, y)); /* NULL is not "" */
    hash_of("a", NULL, x);
    hash_of(NULL, "a", y);
    CHECK(!same_hash(x, y)); /* order of cells */
    hash_of("0123456789abcdef", "", x); /* one full block */
    hash_of("0123456789abcdef\0", "", y);
    mk_value z[2] = {{"0123456789abcdef\0", 17}, {"", 0}};
    mkk_key_hash(z, 2, y);
    CHECK(!same_hash(x, y)); /* a trailing NUL byte is a byte */
    mk_value one = {"ab", 2};
    mkk_key_hash(&one, 1, x);
    hash_of("ab", NULL, y);
    CHECK(!same_hash(x, y)); /* (ab) and (ab, NULL) */
    hash_of("079301001234", "Nữ", x);
    hash_of("079301001234", "Nữ", y);
    CHECK(same_hash(x, y));
}

/* Flipping any one input bit flips about half of the 128 output bits. */
TEST(key_hash_avalanche)
{
    char key[24] = "001234567890-Nguyen-An";
    mk_value v = {key, 22};
    uint64_t base[2], h[2];
    mkk_key_hash(&v, 1, base);
    int worst = 128, best = 0;
    for (int bit = 0; bit < 22 * 8; bit++) {
        key[bit / 8] ^= (char)(1 << (bit % 8));
        mkk_key_hash(&v, 1, h);
        key[bit / 8] ^= (char)(1 << (bit % 8));
        int flipped = __builtin_popcountll(h[0] ^ base[0]) + __builtin_popcountll(h[1] ^ base[1]);
        worst = flipped < worst ? flipped : worst;
        best = flipped > best ? flipped : best;
    }
    CHECK(worst >= 40);
    CHECK(best <= 88);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* 2 million sequential IDs (the worst case for a weak hash): no two share
 * either 64-bit half (odds of one by chance: 1e-7). */
TEST(key_hash_halves_distinct)
{
    size_t n = 2000000;
    uint64_t *lo = malloc(n * sizeof(*lo)), *hi = malloc(n * sizeof(*hi));
    char id[16];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(id, sizeof id, "%012zu", 79301000000 + i);
        mk_value v = {id, (size_t)len};
        uint64_t h[2];
        mkk_key_hash(&v, 1, h);
        lo[i] = h[0];
        hi[i] = h[1];
    }
    qsort(lo, n, sizeof(*lo), cmp_u64);
    qsort(hi, n, sizeof(*hi), cmp_u64);
    size_t same = 0;
    for (size_t i = 1; i < n; i++)
        same += (lo[i] == lo[i - 1]) + (hi[i] == hi[i - 1]);
    CHECK_INT_EQ(same, 0);
    free(lo);
    free(hi);
}

TEST(keyset_insert_and_payload)
{
    mkk_keyset *ks = mkk_keyset_new();
    CHECK_INT_EQ(mkk_keyset_count(ks), 0);
    size_t n = 300000;
    char id[16];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(id, sizeof id, "%zu", i);
        mk_value v = {id, (size_t)len};
        uint64_t h[2], first = 99;
        mkk_key_hash(&v, 1, h);
        CHECK_INT_EQ(mkk_keyset_insert(ks, h, i * 7, &first), 0);
        CHECK_INT_EQ(first, 99); /* untouched for a new key */
    }
    CHECK_INT_EQ(mkk_keyset_count(ks), n);
    for (size_t i = 0; i < n; i += 997) {
        int len = snprintf(id, sizeof id, "%zu", i);
        mk_value v = {id, (size_t)len};
        uint64_t h[2], first = 0;
        mkk_key_hash(&v, 1, h);
        CHECK_INT_EQ(mkk_keyset_insert(ks, h, 1, &first), 1);
        CHECK_INT_EQ(first, i * 7); /* the first payload, kept over growth */
    }
    CHECK_INT_EQ(mkk_keyset_count(ks), n);
    /* 2^19 slots of 24 bytes: 300,000 keys need more than 2^18 * 3/4 */
    CHECK(mkk_keyset_bytes(ks) >= 524288 * 24 && mkk_keyset_bytes(ks) < 524288 * 24 + 256);
    CHECK(mkk_keyset_bytes(ks) / n <= 64);
    mkk_keyset_free(ks);
    mkk_keyset_free(NULL);
}

/* replace: a key already there takes the new payload and says the old one
 * (dedupe keep: last keeps the latest row's number so). */
TEST(keyset_replace_payload)
{
    mkk_keyset *ks = mkk_keyset_new();
    size_t n = 5000;
    char id[16];
    for (size_t round = 0; round < 3; round++) {
        for (size_t i = 0; i < n; i++) {
            int len = snprintf(id, sizeof id, "k%zu", i);
            mk_value v = {id, (size_t)len};
            uint64_t h[2], old = 12345;
            mkk_key_hash(&v, 1, h);
            CHECK_INT_EQ(mkk_keyset_replace(ks, h, round * n + i, &old), round ? 1 : 0);
            CHECK_INT_EQ(old, round ? (round - 1) * n + i : 12345);
        }
    }
    CHECK_INT_EQ(mkk_keyset_count(ks), n);
    mk_value v = {"k7", 2};
    uint64_t h[2], first = 0;
    mkk_key_hash(&v, 1, h);
    CHECK_INT_EQ(mkk_keyset_insert(ks, h, 1, &first), 1); /* insert keeps what replace set */
    CHECK_INT_EQ(first, 2 * n + 7);
    CHECK_INT_EQ(mkk_keyset_insert(ks, h, 1, &first), 1);
    CHECK_INT_EQ(first, 2 * n + 7);
    mkk_keyset_free(ks);
}

/* The empty-slot marker (0, 0) is a key too, stored as (0, 1). */
TEST(keyset_zero_hash)
{
    mkk_keyset *ks = mkk_keyset_new();
    uint64_t zero[2] = {0, 0}, other[2] = {0, 2}, first = 0;
    CHECK_INT_EQ(mkk_keyset_insert(ks, zero, 5, &first), 0);
    CHECK_INT_EQ(mkk_keyset_insert(ks, zero, 6, &first), 1);
    CHECK_INT_EQ(first, 5);
    CHECK_INT_EQ(mkk_keyset_insert(ks, other, 7, NULL), 0);
    CHECK_INT_EQ(mkk_keyset_count(ks), 2);
    mkk_keyset_free(ks);
}

/* find answers without adding, over growth, and for the zero hash. */
TEST(keyset_find)
{
    mkk_keyset *ks = mkk_keyset_new();
    uint64_t h[2] = {1, 2}, zero[2] = {0, 0}, p = 42;
    CHECK_INT_EQ(mkk_keyset_find(ks, h, &p), 0); /* an empty set */
    CHECK_INT_EQ(p, 42);
    char id[16];
    for (size_t i = 0; i < 5000; i += 2) { /* the even numbers, over several doublings */
        mk_value v = {id, (size_t)snprintf(id, sizeof id, "%zu", i)};
        mkk_key_hash(&v, 1, h);
        CHECK_INT_EQ(mkk_keyset_insert(ks, h, i + 1000, NULL), 0);
    }
    size_t found = 0, missing = 0;
    for (size_t i = 0; i < 5000; i++) {
        mk_value v = {id, (size_t)snprintf(id, sizeof id, "%zu", i)};
        mkk_key_hash(&v, 1, h);
        p = 0;
        if (mkk_keyset_find(ks, h, &p)) {
            found++;
            CHECK_INT_EQ(p, i + 1000);
            CHECK_INT_EQ(i % 2, 0);
        } else {
            missing++;
            CHECK_INT_EQ(i % 2, 1);
        }
    }
    CHECK_INT_EQ(found, 2500);
    CHECK_INT_EQ(missing, 2500);
    CHECK_INT_EQ(mkk_keyset_count(ks), 2500); /* asking added nothing */
    CHECK_INT_EQ(mkk_keyset_find(ks, zero, NULL), 0);
    CHECK_INT_EQ(mkk_keyset_insert(ks, zero, 9, NULL), 0);
    CHECK_INT_EQ(mkk_keyset_find(ks, zero, &p), 1);
    CHECK_INT_EQ(p, 9);
    mkk_keyset_free(ks);
}

/* Reading back a saved state, as the csv source's incremental does. */
TEST(json_reading_for_state)
{
    const char *st = "{\"files\": [{\"path\": \"d\\u1ed9/a \\\"b\\\".csv\", \"size\": 12},"
                     " {\"path\": \"x\"}], \"next\": 3}";
    const char *end = st + strlen(st), *p = st, *k, *v, *ve;
    CHECK(mkk_json_skip(st, end) == end);
    CHECK(mkk_json_skip(st, end - 1) == NULL); /* cut short */
    CHECK_INT_EQ(mkk_json_member(&p, end, &k, &v, &ve), 1);
    CHECK(mkk_json_equals(k, end, "files"));
    const char *q = v, *item, *item_end;
    CHECK_INT_EQ(mkk_json_item(&q, ve, &item, &item_end), 1);
    const char *r = item, *k2, *v2, *ve2;
    CHECK_INT_EQ(mkk_json_member(&r, item_end, &k2, &v2, &ve2), 1);
    char *path = mkk_json_decode(v2, ve2);
    CHECK_STR_EQ(path, "d\xe1\xbb\x99/a \"b\".csv");
    free(path);
    CHECK_INT_EQ(mkk_json_item(&q, ve, &item, &item_end), 1);
    CHECK_INT_EQ(mkk_json_item(&q, ve, &item, &item_end), 0);
    CHECK_INT_EQ(mkk_json_member(&p, end, &k, &v, &ve), 1);
    CHECK(mkk_json_equals(k, end, "next") && ve - v == 1 && *v == '3');
    CHECK_INT_EQ(mkk_json_member(&p, end, &k, &v, &ve), 0);
    const char *broken = "{\"a\" 1}";
    const char *b = broken;
    CHECK_INT_EQ(mkk_json_member(&b, broken + strlen(broken), &k, &v, &ve), -1);
}

/* Temporary names say whose they are, so a later run can remove them. */
TEST(temp_name_names_the_process)
{
    char *name = mkk_temp_name("out/pkg");
    char want[64];
    snprintf(want, sizeof want, "out/.pkg.tmp-%ld-", (long)getpid());
    CHECK(name && strncmp(name, want, strlen(want)) == 0);
    CHECK(name && strlen(name) > 6 && strcmp(name + strlen(name) - 6, "XXXXXX") == 0);
    free(name);
}

int main(void)
{
    RUN(plans_get_put_free);
    RUN(json_reading_for_state);
    RUN(temp_name_names_the_process);
    RUN(colmap_new_host);
    RUN(schema_derive_keeps_types);
    RUN(colmap_first_release_host);
    RUN(opt_choice_both_hosts);
    RUN(file_commit_and_abort);
    RUN(file_big_writes);
    RUN(utf8_helpers);
    RUN(key_hash_boundaries);
    RUN(key_hash_avalanche);
    RUN(key_hash_halves_distinct);
    RUN(keyset_insert_and_payload);
    RUN(keyset_replace_payload);
    RUN(keyset_zero_hash);
    RUN(keyset_find);
    return unit_failed_tests ? 1 : 0;
}
