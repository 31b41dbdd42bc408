/*
 * test_admin.c -- the admin plugin's keys and resolution, without the engine.
 *
 * Keys: every written form of one name gives one key (type words, case,
 * tone placement, zero padding, apostrophes) and different names stay
 * different (tones count).  Resolution: a few addresses per outcome, and a
 * random walk over 200,000 addresses made of table names, type words,
 * separators, digits and arbitrary bytes (invalid UTF-8 included), which
 * must never crash, overrun or leave a reason unterminated (run it under
 * ASan: the sanitizer build does).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../plugins/admin/admin.h"
#include "unit.h"

static adm_tables *tables;

static const char *key_of(const char *s, int *type)
{
    static adm_key k;
    adm_key_make(s, strlen(s), 1, &k);
    if (type)
        *type = k.type;
    return k.text;
}

static int same_key(const char *a, const char *b)
{
    char ka[ADM_KEY_MAX];
    snprintf(ka, sizeof ka, "%s", key_of(a, NULL));
    return strcmp(ka, key_of(b, NULL)) == 0;
}

TEST(key_forms_agree)
{
    const char *forms[] = {
        "Phường Thuận Hoà", "P. Thuận Hòa",
        "P.Thuận Hoà",      "P Thuận Hòa",
        "phường thuận hoà", "PHƯỜNG THUẬN HÒA",
        "Thuận Hòa",        "Phường Thuận Hoa\xcc\x80" /* a stray combining grave still counts */};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        CHECK(same_key(forms[0], forms[i]));
    CHECK(same_key("Phường 05", "P5"));
    CHECK(same_key("Phường 5", "P.05"));
    CHECK(same_key("Quận 3", "Q3"));
    CHECK(same_key("Cư M’gar", "Cư M'gar"));
    CHECK(same_key("thuỷ", "thủy"));
    CHECK(same_key("khoẻ", "khỏe"));
    CHECK(same_key("Huyện ý Yên", "Huyện Ý Yên"));
}

TEST(key_keeps_what_differs)
{
    CHECK(!same_key("Sa Pa", "Sa Pả")); /* two wards of Thị xã Sa Pa */
    CHECK(!same_key("Phường 1", "Phường 10"));
    CHECK(!same_key("Đông Hà", "Dong Ha")); /* diacritics count outside provinces */
}

TEST(key_type_words)
{
    int type;
    key_of("Thị trấn Lâm", &type);
    CHECK_INT_EQ(type, ADM_T_TT);
    key_of("TX. Sơn Tây", &type);
    CHECK_INT_EQ(type, ADM_T_TX);
    key_of("Tp.HCM", &type);
    CHECK_INT_EQ(type, ADM_T_TP);
    key_of("Đặc khu Côn Đảo", &type);
    CHECK_INT_EQ(type, ADM_T_DK);
    CHECK(strcmp(key_of("Hà Nội", &type), "ha2 nôi5") == 0);
    CHECK_INT_EQ(type, ADM_T_NONE); /* "H" is a type word only when apart */
    key_of("Phường", &type);
    CHECK_INT_EQ(type, ADM_T_NONE); /* a type word alone is kept as the name */
}

static int resolve(const char *address, const char *code, adm_result *r)
{
    adm_query q = {address, address ? strlen(address) : 0, code, code ? strlen(code) : 0, -1, -1,
                   0};
    adm_resolve(tables, &q, r);
    return r->status;
}

TEST(resolve_outcomes)
{
    adm_result r;
    CHECK_INT_EQ(resolve("Số 12, Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội", NULL, &r),
                 ADM_OK);
    CHECK(strcmp(tables->new_ward[r.new_ward].code, "00004") == 0);
    CHECK_INT_EQ(r.house_len, strlen("Số 12"));
    CHECK_INT_EQ(resolve("Phường Ngọc Hà, Quận Ba Đình, Hà Nội", NULL, &r), ADM_SPLIT);
    CHECK(strstr(r.reason, "was split into Phường Ba Đình, Phường Ngọc Hà") != NULL);
    CHECK_INT_EQ(resolve("Phường Ngọc Hà, Quận Ba Đình, Hà Nội", "8", &r), ADM_OK);
    CHECK_INT_EQ(resolve("Phường Bến Nghé, Quận 1, TP.HCM", "4", &r), ADM_MISMATCH);
    CHECK_INT_EQ(resolve("Xã Long Trị, Long Mỹ, Hậu Giang", NULL, &r), ADM_AMBIGUOUS);
    CHECK_INT_EQ(resolve("Phường 1, Quận 1, Atlantis", NULL, &r), ADM_UNKNOWN);
    CHECK_INT_EQ(resolve("", NULL, &r), ADM_UNKNOWN);
    CHECK_INT_EQ(resolve(NULL, "26740", &r), ADM_OK);
    CHECK_INT_EQ(resolve(NULL, "x1", &r), ADM_UNKNOWN);
}

/* Pieces of addresses, real and not. */
static const char *const pieces[] = {
    "Phường ",   "P.",       "Q.",          "Xã ",      "Huyện ",   "TP.",
    "T.",        "TT.",      "TX.",         "Tỉnh ",    ", ",       ",",
    ";",         " ",        "  ",          "0",        "05",       "12",
    "99999",     "Bến Nghé", "Quận 1",      "Hà Nội",   "Nam Định", "TPHCM",
    "Ngọc Hà",   "Ba Đình",  "\xcc\x80",    "\xcc\x81", "\xff",     "\xe1\xba",
    "\xc3",      "ư",        "đ",           "’",        "'",        "Thành phố Hồ Chí Minh",
    "Hậu Giang", "Long Mỹ",  "Số 1 Lê Lợi", "\n",       "-",        "(",
    ")",
};

TEST(resolve_never_breaks)
{
    static char buf[4096];
    adm_result r;
    unsigned seed = 12345;
    size_t bad = 0;
    for (int n = 0; n < 200000; n++) {
        size_t len = 0;
        int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int i = 0; i < parts; i++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            if (len + pl >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        if (n % 997 == 0) { /* now and then a very long one */
            while (len + 2 < sizeof buf - 1) {
                buf[len] = (char)('a' + len % 26);
                len++;
            }
        }
        adm_query q = {buf, len, n % 3 ? NULL : buf, n % 3 ? 0 : (len > 7 ? 7 : len),
                       -1,  -1,  n % 5 == 0};
        adm_resolve(tables, &q, &r);
        if (r.status < ADM_OK || r.status > ADM_MISMATCH || r.house_len > len ||
            memchr(r.reason, '\0', sizeof r.reason) == NULL || r.ncand > ADM_MAX_CAND ||
            (r.status == ADM_OK && !q.province_only && r.new_ward >= tables->n_new_ward))
            bad++;
    }
    CHECK_INT_EQ(bad, 0);
}

int main(void)
{
    char err[512];
    if (!(tables = adm_tables_get(MK_TOP_SRCDIR "/data/vn", err, sizeof err))) {
        printf("not ok - admin tables: %s\n", err);
        return 1;
    }
    RUN(key_forms_agree);
    RUN(key_keeps_what_differs);
    RUN(key_type_words);
    RUN(resolve_outcomes);
    RUN(resolve_never_breaks);
    adm_tables_release(tables);
    return unit_failed_tests ? 1 : 0;
}
