/*
 * test_vntext.c -- unit tests of engine/vntext: decoders, NFC, UTF-16,
 * detection, case restoration, and a bounded fuzz run.
 *
 * Two kinds of expected values are used so the tests do not just repeat the
 * code: the Vietnamese letters are built here from base letter + combining
 * marks through utf8proc (not from vntext's alphabet table), and glibc iconv
 * encodes for the encodings it knows.  Where the shared reference tables are
 * present ($MEKONG_SHARED or ../shared), every byte of every table is checked
 * and TCVN3, VNI and VPS text is encoded from them; without them those tests
 * print "# skip" and count neither as passed nor failed.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "../../engine/vntext/vntext.h"
#include "unit.h"

#ifndef MK_TOP_SRCDIR
#define MK_TOP_SRCDIR "."
#endif

/* ---- Helpers ---------------------------------------------------------- */

static char shared_dir[1024];
static int have_shared;

static void find_shared(void)
{
    const char *env = getenv("MEKONG_SHARED");
    if (env && *env)
        snprintf(shared_dir, sizeof shared_dir, "%s", env);
    else
        snprintf(shared_dir, sizeof shared_dir, "%s/../shared", MK_TOP_SRCDIR);
    char probe[1200];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/reference/vn/encodings", shared_dir);
    have_shared = stat(probe, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Run a test that needs ../shared, or say it was skipped (no ok line). */
#define RUN_SHARED(name)                                                                      \
    do {                                                                                      \
        if (have_shared)                                                                      \
            RUN(name);                                                                        \
        else                                                                                  \
            printf("# skip: ../shared/reference not found (%s)\n", #name);                    \
    } while (0)

static size_t put_utf8(char *d, uint32_t cp)
{
    return (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)d);
}

static uint32_t get_utf8(const char *s, size_t len, size_t *adv)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &cp);
    *adv = n > 0 ? (size_t)n : 1;
    return n > 0 ? (uint32_t)cp : 0xFFFFFFFFu;
}

/* Decode a whole string; returns rc, copies output into out (NUL-terminated). */
static int decode(const char *enc, int mode, const char *src, size_t len, vn_buf *out,
                  vn_error *e)
{
    char err[512];
    vn_decoder *d = vn_decoder_new(enc, mode, err, sizeof err);
    if (!d) {
        printf("# decoder %s: %s\n", enc, err);
        return -100;
    }
    vn_buf scratch;
    vn_buf_init(&scratch);
    const char *o;
    size_t olen;
    int rc = vn_decode_field(d, src, len, &o, &olen, &scratch, e);
    out->len = 0;
    if (rc == VN_OK)
        vn_buf_append(out, o, olen);
    vn_buf_append(out, "", 0);
    if (out->data)
        out->data[out->len] = '\0';
    vn_buf_free(&scratch);
    vn_decoder_free(d);
    return rc;
}

/* ---- The Vietnamese alphabet, built from base letters and combining marks ---- */

static const uint32_t tone_marks[6] = {0, 0x0300, 0x0309, 0x0303, 0x0301, 0x0323};

/* One letter: base ASCII vowel, modifier (0, U+0306 breve, U+0302 circumflex, U+031B horn), tone. */
static uint32_t make_letter(char base, uint32_t modifier, int tone, int upper)
{
    char nfd[16], *p = nfd;
    p += put_utf8(p, (uint32_t)(upper ? base - 0x20 : base));
    if (modifier)
        p += put_utf8(p, modifier);
    if (tone)
        p += put_utf8(p, tone_marks[tone]);
    *p = 0;
    utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)nfd);
    size_t adv;
    uint32_t cp = get_utf8((const char *)nfc, strlen((char *)nfc), &adv);
    if (nfc[adv] != 0)
        cp = 0; /* did not compose to one letter */
    free(nfc);
    return cp;
}

static const struct {
    char base;
    uint32_t modifier;
} vowels[12] = {{'a', 0},      {'a', 0x0306}, {'a', 0x0302}, {'e', 0},      {'e', 0x0302},
                {'i', 0},      {'o', 0},      {'o', 0x0302}, {'o', 0x031B}, {'u', 0},
                {'u', 0x031B}, {'y', 0}};

/* All Vietnamese letters, upper and lower, as "x X y Y ..." plus both tone placements. */
static size_t build_alphabet_text(vn_buf *text, int *non_ascii_letters)
{
    int count = 0;
    text->len = 0;
    for (int v = 0; v < 12; v++)
        for (int t = 0; t < 6; t++)
            for (int u = 0; u < 2; u++) {
                char tmp[8];
                uint32_t cp = make_letter(vowels[v].base, vowels[v].modifier, t, u);
                if (!cp)
                    continue;
                count += cp >= 0x80;
                vn_buf_append(text, tmp, put_utf8(tmp, cp));
                vn_buf_append(text, " ", 1);
            }
    vn_buf_append(text, "\xC4\x91 \xC4\x90 ", 6); /* đ Đ */
    count += 2;
    /* Old and new tone placement, both cases: hòa hoà thủy thuỷ khỏe khoẻ. */
    const char *both = "h\xC3\xB2" "a ho\xC3\xA0 th\xE1\xBB\xA7y thu\xE1\xBB\xB7 kh\xE1\xBB\x8F" "e "
                       "kho\xE1\xBA\xBB H\xC3\x92" "A HO\xC3\x80 TH\xE1\xBB\xA6Y THU\xE1\xBB\xB6 "
                       "Vi\xE1\xBB\x87t Nam \xC4\x90\xE1\xBB\x93ng Th\xC3\xA1p";
    vn_buf_append(text, both, strlen(both));
    text->data[text->len] = 0;
    if (non_ascii_letters)
        *non_ascii_letters = count;
    return text->len;
}

/* TCVN3 has no toned capitals: expected text has them in lower case. */
static void lower_toned_capitals(const char *s, size_t len, vn_buf *out)
{
    out->len = 0;
    for (size_t i = 0, adv; i < len; i += adv) {
        uint32_t cp = get_utf8(s + i, len - i, &adv);
        utf8proc_int32_t dec[4];
        int bc = 0;
        utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, dec, 4,
                                                     UTF8PROC_DECOMPOSE, &bc);
        int toned = 0;
        for (utf8proc_ssize_t k = 1; k < n; k++)
            for (int t = 1; t < 6; t++)
                toned |= (uint32_t)dec[k] == tone_marks[t];
        if (toned)
            cp = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        char tmp[4];
        vn_buf_append(out, tmp, put_utf8(tmp, cp));
    }
    out->data[out->len] = 0;
}

/* ---- Encoders for the tests ------------------------------------------- */

static int iconv_encode(const char *enc, const char *utf8, size_t len, vn_buf *out)
{
    iconv_t cd = iconv_open(enc, "UTF-8");
    if (cd == (iconv_t)-1)
        return -1;
    vn_buf_reserve(out, len * 4 + 16);
    char *in = (char *)utf8, *op = out->data;
    size_t il = len, ol = out->cap;
    size_t r = iconv(cd, &in, &il, &op, &ol);
    iconv(cd, NULL, NULL, &op, &ol);
    iconv_close(cd);
    out->len = (size_t)(op - out->data);
    return r == (size_t)-1 ? -1 : 0;
}

/* An encoder as a map code point -> bytes (at most 2). */
typedef struct enc_map {
    uint32_t cp[1024];
    unsigned char bytes[1024][2];
    unsigned char n[1024];
    size_t count;
} enc_map;

static const unsigned char *map_find(const enc_map *m, uint32_t cp, size_t *n)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->cp[i] == cp) {
            *n = m->n[i];
            return m->bytes[i];
        }
    return NULL;
}

static void map_add(enc_map *m, uint32_t cp, const unsigned char *b, size_t n, int replace)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->cp[i] == cp) {
            if (replace) {
                memcpy(m->bytes[i], b, n);
                m->n[i] = (unsigned char)n;
            }
            return;
        }
    if (m->count < 1024) {
        m->cp[m->count] = cp;
        memcpy(m->bytes[m->count], b, n);
        m->n[m->count++] = (unsigned char)n;
    }
}

/* Encode UTF-8 with a map; ASCII maps to itself unless the map says otherwise. -1 on a miss. */
static int map_encode(const enc_map *m, const char *s, size_t len, vn_buf *out, int lower_fallback)
{
    out->len = 0;
    for (size_t i = 0, adv; i < len; i += adv) {
        uint32_t cp = get_utf8(s + i, len - i, &adv);
        size_t n;
        const unsigned char *b = map_find(m, cp, &n);
        if (!b && lower_fallback)
            b = map_find(m, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), &n);
        if (!b && cp < 0x80) {
            char c = (char)cp;
            vn_buf_append(out, &c, 1);
            continue;
        }
        if (!b) {
            printf("# no encoding for U+%04X\n", cp);
            return -1;
        }
        vn_buf_append(out, (const char *)b, n);
    }
    return 0;
}

/* A reference .tsv: rows "HEX<TAB>U+XXXX". */
typedef struct tsv_row {
    unsigned char bytes[2];
    size_t n;
    uint32_t cp;
} tsv_row;

static size_t load_tsv(const char *file, tsv_row *rows, size_t max)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/reference/vn/encodings/%s", shared_dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("# cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    char line[256];
    size_t n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        if (line[0] == '#')
            continue;
        char hex[16];
        unsigned cp;
        if (sscanf(line, "%15s U+%x", hex, &cp) != 2)
            continue;
        size_t hl = strlen(hex);
        rows[n].n = hl / 2;
        for (size_t k = 0; k < rows[n].n && k < 2; k++) {
            unsigned b;
            sscanf(hex + 2 * k, "%2x", &b);
            rows[n].bytes[k] = (unsigned char)b;
        }
        rows[n].cp = cp;
        n++;
    }
    fclose(f);
    return n;
}

static void map_from_tsv(enc_map *m, const char *file)
{
    static tsv_row rows[1024];
    memset(m, 0, sizeof *m);
    size_t n = load_tsv(file, rows, 1024);
    /* Pairs first so that VNI letters prefer their base + mark spelling. */
    for (size_t i = 0; i < n; i++)
        if (rows[i].n == 2)
            map_add(m, rows[i].cp, rows[i].bytes, 2, 0);
    for (size_t i = 0; i < n; i++)
        if (rows[i].n == 1)
            map_add(m, rows[i].cp, rows[i].bytes, 1, 0);
}

/* An encoder made by decoding every byte and pair with vntext (for detection data only). */
static void map_from_decoder(enc_map *m, const char *enc)
{
    memset(m, 0, sizeof *m);
    vn_decoder *d = vn_decoder_new(enc, VN_REJECT, NULL, 0);
    vn_buf scratch;
    vn_buf_init(&scratch);
    const char *o;
    size_t ol, adv;
    vn_error e;
    if (!strcmp(enc, "vni")) {
        for (int b0 = 0x41; b0 < 0x100; b0++)
            for (int b1 = 0xC0; b1 < 0x100; b1++) {
                unsigned char pair[2] = {(unsigned char)b0, (unsigned char)b1};
                if (vn_decode_field(d, (char *)pair, 2, &o, &ol, &scratch, &e) == VN_OK &&
                    get_utf8(o, ol, &adv) && adv == ol)
                    map_add(m, get_utf8(o, ol, &adv), pair, 2, 0);
            }
    }
    for (int b = 0x80; b < 0x100; b++) {
        unsigned char c = (unsigned char)b;
        if (vn_decode_field(d, (char *)&c, 1, &o, &ol, &scratch, &e) == VN_OK)
            map_add(m, get_utf8(o, ol, &adv), &c, 1, 0);
    }
    vn_buf_free(&scratch);
    vn_decoder_free(d);
}

/* ---- Basics ----------------------------------------------------------- */

TEST(test_alphabet_has_134_letters)
{
    vn_buf t;
    vn_buf_init(&t);
    int n = 0;
    build_alphabet_text(&t, &n);
    /* 12 vowels x 6 tone states x 2 cases = 144, of which a e i o u y A E I O U Y are ASCII:
     * 132 non-ASCII vowels + đ Đ = 134. */
    CHECK_INT_EQ(n, 134);
    vn_buf_free(&t);
}

TEST(test_names_and_unknown_encoding)
{
    char err[512];
    const char *ok[] = {"utf-8", "UTF8", "utf-16", "cp1258", "Windows-1258", "viscii", "TCVN3",
                        "abc", "vni", "VNI-Windows", "vps", "tcvn5712-1", "VN1", "latin1",
                        "iso-8859-1", "cp1252", "windows-1252", "", NULL};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        vn_decoder *d = vn_decoder_new(ok[i], VN_REJECT, err, sizeof err);
        CHECK(d != NULL);
        vn_decoder_free(d);
    }
    CHECK_STR_EQ(vn_encoding_canonical("ABC"), "tcvn3");
    CHECK_STR_EQ(vn_encoding_canonical("windows-1258"), "cp1258");
    CHECK(vn_encoding_is_stream("utf-16"));
    CHECK(!vn_encoding_is_stream("utf-8"));
    vn_decoder *d = vn_decoder_new("koi8-r", VN_REJECT, err, sizeof err);
    CHECK(d == NULL);
    CHECK(strstr(err, "koi8-r") != NULL);
    CHECK(strstr(err, "tcvn3") != NULL && strstr(err, "vni") != NULL && strstr(err, "viscii"));
}

TEST(test_empty_field_every_encoding)
{
    const char *encs[] = {"utf-8", "cp1258", "viscii", "tcvn3", "vni", "vps", "vn1", "latin1",
                          "cp1252", "utf-16"};
    vn_buf scratch;
    vn_buf_init(&scratch);
    for (size_t i = 0; i < sizeof encs / sizeof encs[0]; i++) {
        vn_decoder *d = vn_decoder_new(encs[i], VN_REJECT, NULL, 0);
        const char *o = NULL;
        size_t ol = 99;
        vn_error e;
        CHECK_INT_EQ(vn_decode_field(d, "", 0, &o, &ol, &scratch, &e), VN_OK);
        CHECK_INT_EQ(ol, 0);
        vn_decoder_free(d);
    }
    CHECK(scratch.data == NULL); /* nothing was allocated */
    vn_buf_free(&scratch);
}

/* The quick check steps over ASCII eight bytes at a time: what it finds must
 * not depend on where a letter falls in the word. */
TEST(test_quick_check_at_every_alignment)
{
    vn_buf scratch;
    vn_buf_init(&scratch);
    vn_decoder *u = vn_decoder_new("utf-8", VN_REJECT, NULL, 0);
    char in[96];
    const char *o;
    size_t ol;
    vn_error e;
    for (size_t k = 0; k < 17; k++) {
        memset(in, 'a', k);
        /* NFC letters: certainly NFC, passed through as they are */
        size_t n = k + (size_t)sprintf(in + k, "Nguy\xE1\xBB\x85n Th\xE1\xBB\x8B %s", "xyzxyzxyz" + k % 9);
        CHECK(vn_is_nfc_quick(in, n));
        CHECK_INT_EQ(vn_decode_field(u, in, n, &o, &ol, &scratch, &e), VN_OK);
        CHECK(o == in);
        /* a combining tone mark after k letters is found and composed */
        n = k + (size_t)sprintf(in + k, "e\xCC\x81%s", "xyzxyzxyz" + k % 9);
        CHECK(!vn_is_nfc_quick(in, n));
        CHECK_INT_EQ(vn_decode_field(u, in, n, &o, &ol, &scratch, &e), VN_OK);
        CHECK(ol == n - 1 && memcmp(o + k, "\xC3\xA9", 2) == 0);
        /* a bad byte after k letters is reported at its offset */
        n = k + (size_t)sprintf(in + k, "\xE1\xBB\x85\xFF%s", "xyzxyzxyz" + k % 9);
        CHECK_INT_EQ(vn_decode_field(u, in, n, &o, &ol, &scratch, &e), VN_EINVALID);
        CHECK_INT_EQ(vn_utf8_validate(in, n), k + 3);
    }
    vn_decoder_free(u);
    vn_buf_free(&scratch);
}

TEST(test_zero_copy_fast_paths)
{
    vn_buf scratch;
    vn_buf_init(&scratch);
    const char *ascii = "Ha Noi, 2024";
    const char *nfc = "H\xC3\xA0 N\xE1\xBB\x99i";
    const char *o;
    size_t ol;
    vn_error e;
    vn_decoder *u = vn_decoder_new("utf-8", VN_REJECT, NULL, 0);
    CHECK_INT_EQ(vn_decode_field(u, nfc, strlen(nfc), &o, &ol, &scratch, &e), VN_OK);
    CHECK(o == nfc);
    const char *encs[] = {"cp1258", "tcvn3", "vni", "viscii", "vps", "vn1"};
    for (size_t i = 0; i < 6; i++) {
        vn_decoder *d = vn_decoder_new(encs[i], VN_REJECT, NULL, 0);
        CHECK_INT_EQ(vn_decode_field(d, ascii, strlen(ascii), &o, &ol, &scratch, &e), VN_OK);
        CHECK(o == ascii);
        vn_decoder_free(d);
    }
    /* VISCII puts letters on some C0 bytes: 0x02 is not passed through. */
    vn_decoder *v = vn_decoder_new("viscii", VN_REJECT, NULL, 0);
    CHECK_INT_EQ(vn_decode_field(v, "\x02", 1, &o, &ol, &scratch, &e), VN_OK);
    CHECK_MEM_EQ(o, ol, "\xE1\xBA\xB2", 3); /* U+1EB2 */
    vn_decoder_free(v);
    vn_decoder_free(u);
    vn_buf_free(&scratch);
}

/* ---- Decoders against the shared reference tables --------------------- */

static int decodes_to(vn_decoder *d, const unsigned char *bytes, size_t n, uint32_t cp,
                      vn_buf *scratch)
{
    const char *o;
    size_t ol, adv;
    vn_error e;
    if (vn_decode_field(d, (const char *)bytes, n, &o, &ol, scratch, &e) != VN_OK)
        return 0;
    return get_utf8(o, ol, &adv) == cp && adv == ol;
}

static void check_table(const char *enc, const char *file, const char *undefined, int rest)
{
    static tsv_row rows[1024];
    size_t n = load_tsv(file, rows, 1024);
    CHECK(n > 20);
    vn_decoder *d = vn_decoder_new(enc, VN_REJECT, NULL, 0);
    vn_buf scratch;
    vn_buf_init(&scratch);
    unsigned char listed[256] = {0};
    for (size_t i = 0; i < n; i++) {
        if (rows[i].n == 1)
            listed[rows[i].bytes[0]] = 1;
        if (!decodes_to(d, rows[i].bytes, rows[i].n, rows[i].cp, &scratch)) {
            printf("# %s: %02X%s does not decode to U+%04X\n", enc, rows[i].bytes[0],
                   rows[i].n == 2 ? "+pair" : "", rows[i].cp);
            unit_current_failed = 1;
        }
    }
    /* Bytes not listed: undefined, identity, or Windows-1252 (checked through glibc). */
    iconv_t cd = iconv_open("UTF-8", "CP1252");
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        const char *o;
        size_t ol;
        vn_error e;
        if (listed[b])
            continue;
        int is_undef = strchr(undefined, 0) && b >= 0x80 && memchr(undefined, b, strlen(undefined));
        if (rest == 'u' && b >= 0x80)
            is_undef = 1;
        int rc = vn_decode_field(d, (char *)&c, 1, &o, &ol, &scratch, &e);
        if (is_undef) {
            if (rc != VN_EINVALID) {
                printf("# %s: byte %02X should be undefined\n", enc, b);
                unit_current_failed = 1;
            }
            continue;
        }
        uint32_t want = (uint32_t)b;
        if (rest == 'w' && b >= 0x80) {
            char in[1] = {(char)c}, out[8], *ip = in, *op = out;
            size_t il = 1, olen = 8;
            iconv(cd, NULL, NULL, NULL, NULL);
            if (iconv(cd, &ip, &il, &op, &olen) == (size_t)-1) {
                if (rc != VN_EINVALID) {
                    printf("# %s: byte %02X should be undefined (as in Windows-1252)\n", enc, b);
                    unit_current_failed = 1;
                }
                continue;
            }
            size_t adv;
            want = get_utf8(out, (size_t)(op - out), &adv);
        }
        if (!decodes_to(d, &c, 1, want, &scratch)) {
            printf("# %s: unlisted byte %02X does not decode to U+%04X\n", enc, b, want);
            unit_current_failed = 1;
        }
    }
    iconv_close(cd);
    vn_buf_free(&scratch);
    vn_decoder_free(d);
}

TEST(test_table_cp1258)
{
    check_table("cp1258", "cp1258.tsv", "\x81\x8A\x8D\x8E\x8F\x90\x9A\x9D\x9E", 'i');
}
TEST(test_table_tcvn3)
{
    check_table("tcvn3", "tcvn3.tsv", "", 'u');
}
TEST(test_table_tcvn3_encode)
{
    /* Every letter of the encode table decodes back, capitals with tones as lower case. */
    static tsv_row rows[1024];
    size_t n = load_tsv("tcvn3_encode.tsv", rows, 1024);
    CHECK(n > 100);
    vn_decoder *d = vn_decoder_new("tcvn3", VN_REJECT, NULL, 0);
    vn_buf scratch;
    vn_buf_init(&scratch);
    for (size_t i = 0; i < n; i++) {
        uint32_t lower = (uint32_t)utf8proc_tolower((utf8proc_int32_t)rows[i].cp);
        if (!decodes_to(d, rows[i].bytes, 1, rows[i].cp, &scratch) &&
            !decodes_to(d, rows[i].bytes, 1, lower, &scratch)) {
            printf("# tcvn3: %02X does not decode to U+%04X or its lower case\n", rows[i].bytes[0],
                   rows[i].cp);
            unit_current_failed = 1;
        }
    }
    vn_buf_free(&scratch);
    vn_decoder_free(d);
}
TEST(test_table_vn1)
{
    check_table("tcvn5712-1", "tcvn5712_1_vn1.tsv", "", 'i');
}
TEST(test_table_viscii)
{
    check_table("viscii", "viscii.tsv", "", 'i');
}
TEST(test_table_vni)
{
    check_table("vni", "vni_windows.tsv", "", 'w');
}
TEST(test_table_vps)
{
    check_table("vps", "vps.tsv", "\x91\x92\xA0\xDF\xE7\xEE\xF6\xFC", 'i');
}

/* ---- Round trips over the whole alphabet ------------------------------ */

static void round_trip(const char *enc, const vn_buf *encoded, const char *expect, size_t expect_len)
{
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    int rc = decode(enc, VN_REJECT, encoded->data, encoded->len, &out, &e);
    if (rc != VN_OK)
        printf("# %s: %s\n", enc, e.message);
    CHECK_INT_EQ(rc, VN_OK);
    CHECK_MEM_EQ(out.data, out.len, expect, expect_len);
    if (out.len != expect_len || memcmp(out.data, expect, expect_len) != 0)
        printf("# %s decoded: %.*s\n#      expected: %.*s\n", enc, (int)out.len, out.data,
               (int)expect_len, expect);
    vn_buf_free(&out);
}

static void round_trip_iconv(const char *enc, const char *glibc_name)
{
    vn_buf text, encoded;
    vn_buf_init(&text);
    vn_buf_init(&encoded);
    build_alphabet_text(&text, NULL);
    CHECK_INT_EQ(iconv_encode(glibc_name, text.data, text.len, &encoded), 0);
    round_trip(enc, &encoded, text.data, text.len);
    vn_buf_free(&text);
    vn_buf_free(&encoded);
}

TEST(test_roundtrip_cp1258)
{
    round_trip_iconv("cp1258", "CP1258");
}
TEST(test_roundtrip_viscii)
{
    round_trip_iconv("viscii", "VISCII");
}
TEST(test_roundtrip_vn1)
{
    round_trip_iconv("tcvn5712-1", "TCVN5712-1");
}

TEST(test_roundtrip_latin1_cp1252)
{
    const char *text = "Caf\xC3\xA9 \xC3\xA0 la cr\xC3\xA8me \xE2\x80\x9C\xE2\x82\xAC\xE2\x80\x9D";
    vn_buf enc, out;
    vn_buf_init(&enc);
    vn_buf_init(&out);
    vn_error e;
    CHECK_INT_EQ(iconv_encode("CP1252", text, strlen(text), &enc), 0);
    CHECK_INT_EQ(decode("cp1252", VN_REJECT, enc.data, enc.len, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, text);
    CHECK_INT_EQ(decode("latin1", VN_REJECT, "\xE9\xFF", 2, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "\xC3\xA9\xC3\xBF");
    vn_buf_free(&enc);
    vn_buf_free(&out);
}

static void round_trip_tsv(const char *enc, const char *file, int tcvn3)
{
    enc_map *m = calloc(1, sizeof *m);
    vn_buf text, encoded, expect;
    vn_buf_init(&text);
    vn_buf_init(&encoded);
    vn_buf_init(&expect);
    map_from_tsv(m, file);
    build_alphabet_text(&text, NULL);
    CHECK_INT_EQ(map_encode(m, text.data, text.len, &encoded, 0), 0);
    if (tcvn3)
        lower_toned_capitals(text.data, text.len, &expect);
    else
        vn_buf_append(&expect, text.data, text.len);
    round_trip(enc, &encoded, expect.data, expect.len);
    vn_buf_free(&text);
    vn_buf_free(&encoded);
    vn_buf_free(&expect);
    free(m);
}

TEST(test_roundtrip_tcvn3)
{
    round_trip_tsv("tcvn3", "tcvn3_encode.tsv", 1);
}
TEST(test_roundtrip_vni)
{
    round_trip_tsv("vni", "vni_windows.tsv", 0);
}
TEST(test_roundtrip_vps)
{
    /* VPS: letters not in the table keep their Latin-1 byte. */
    enc_map *m = calloc(1, sizeof *m);
    vn_buf text, encoded;
    vn_buf_init(&text);
    vn_buf_init(&encoded);
    map_from_tsv(m, "vps.tsv");
    for (uint32_t cp = 0xC0; cp < 0x100; cp++) {
        size_t n;
        unsigned char b = (unsigned char)cp;
        int byte_taken = 0;
        for (size_t i = 0; i < m->count; i++)
            byte_taken |= m->n[i] == 1 && m->bytes[i][0] == b;
        if (!map_find(m, cp, &n) && !byte_taken)
            map_add(m, cp, &b, 1, 0);
    }
    build_alphabet_text(&text, NULL);
    CHECK_INT_EQ(map_encode(m, text.data, text.len, &encoded, 0), 0);
    round_trip("vps", &encoded, text.data, text.len);
    vn_buf_free(&text);
    vn_buf_free(&encoded);
    free(m);
}

TEST(test_tcvn3_known_bytes)
{
    /* Without the shared tables: a few words typed in ABC fonts. */
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    CHECK_INT_EQ(decode("tcvn3", VN_REJECT, "H\xB5 N\xE9i", 6, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "H\xC3\xA0 N\xE1\xBB\x99i"); /* Hà Nội */
    CHECK_INT_EQ(decode("tcvn3", VN_REJECT, "\xA7\xE5ng Th\xB8p", 9, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "\xC4\x90\xE1\xBB\x93ng Th\xC3\xA1p"); /* Đồng Tháp */
    CHECK_INT_EQ(decode("vni", VN_REJECT, "Vie\xE4t Nam", 9, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "Vi\xE1\xBB\x87t Nam"); /* Việt Nam */
    CHECK_INT_EQ(decode("vni", VN_REJECT, "ng\xF6\xF4\xF8i", 6, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "ng\xC6\xB0\xE1\xBB\x9Di"); /* người */
    CHECK_INT_EQ(decode("vni", VN_REJECT, "HOA\xD8 \xD1O\xC2NG", 10, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "HO\xC3\x80 \xC4\x90\xC3\x94NG"); /* HOÀ ĐÔNG */
    vn_buf_free(&out);
}

/* ---- NFC, bad bytes, sizes -------------------------------------------- */

TEST(test_nfd_input_becomes_nfc)
{
    /* "Nguyễn Thị Hoà" as macOS writes it: base letters + combining marks. */
    const char *nfd = "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hoa\xCC\x80";
    const char *nfc = "Nguy\xE1\xBB\x85n Th\xE1\xBB\x8B Ho\xC3\xA0";
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    CHECK(!vn_is_nfc_quick(nfd, strlen(nfd)));
    CHECK(vn_is_nfc_quick(nfc, strlen(nfc)));
    CHECK_INT_EQ(decode("utf-8", VN_REJECT, nfd, strlen(nfd), &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, nfc);
    vn_buf scratch;
    vn_buf_init(&scratch);
    const char *o;
    size_t ol;
    CHECK_INT_EQ(vn_nfc(nfd, strlen(nfd), &o, &ol, &scratch), VN_OK);
    CHECK_MEM_EQ(o, ol, nfc, strlen(nfc));
    CHECK_INT_EQ(vn_nfc(nfc, strlen(nfc), &o, &ol, &scratch), VN_OK);
    CHECK(o == nfc);
    /* Windows-1258 tone after a consonant cannot compose; still NFC and not lost. */
    CHECK_INT_EQ(decode("cp1258", VN_REJECT, "q\xEC" "a\xEC", 4, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "q\xCC\x81\xC3\xA1");
    vn_buf_free(&scratch);
    vn_buf_free(&out);
}

TEST(test_quick_check_never_wrong_bmp)
{
    /* Every BMP code point the quick check calls NFC must be its own NFC. */
    int wrong = 0, yes = 0;
    for (uint32_t cp = 0x80; cp < 0x10000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char s[8];
        size_t n = put_utf8(s, cp);
        s[n] = 0;
        if (!vn_is_nfc_quick(s, n))
            continue;
        yes++;
        utf8proc_uint8_t *nfc = utf8proc_NFC((utf8proc_uint8_t *)s);
        if (strcmp((char *)nfc, s) != 0 && wrong++ < 5)
            printf("# U+%04X passes the quick check but is not NFC\n", cp);
        free(nfc);
    }
    CHECK_INT_EQ(wrong, 0);
    CHECK(yes > 50000);
    /* Pairs: a vowel followed by each tone mark must not pass. */
    CHECK(!vn_is_nfc_quick("a\xCC\x81", 3));
    CHECK(!vn_is_nfc_quick("\xE1\x84\x80\xE1\x85\xA1", 6)); /* Hangul L + V */
}

TEST(test_invalid_utf8_reject_offset)
{
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    const char *s = "Nguy\xE1\xBB\x85n V\xC3n";
    CHECK_INT_EQ(decode("utf-8", VN_REJECT, s, strlen(s), &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 10);
    CHECK(strstr(e.message, "UTF-8") && strstr(e.message, "0xC3") && strstr(e.message, "10"));
    /* Overlong, surrogate, above U+10FFFF, lone continuation. */
    const char *bad[] = {"a\xC0\xAF", "a\xED\xA0\x80", "a\xF4\x90\x80\x80", "a\x80", "a\xFF"};
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT_EQ(decode("utf-8", VN_REJECT, bad[i], strlen(bad[i]), &out, &e), VN_EINVALID);
        CHECK_INT_EQ(e.offset, 1);
    }
    vn_buf_free(&out);
}

TEST(test_invalid_replace_count)
{
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    /* FF; C0 80 (two bad bytes); E1 BB then 'x' (one maximal subpart). */
    const char *s = "a\xFF" "b\xC0\x80" "c\xE1\xBBx";
    CHECK_INT_EQ(decode("utf-8", VN_REPLACE, s, strlen(s), &out, &e), VN_OK);
    CHECK_INT_EQ(e.replacements, 4);
    CHECK_STR_EQ(out.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBDx");
    /* Undefined legacy bytes: TCVN3 0xBA, Windows-1258 0x81, VPS 0xA0. */
    CHECK_INT_EQ(decode("tcvn3", VN_REJECT, "ab\xBA", 3, &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 2);
    CHECK(strstr(e.message, "0xBA") && strstr(e.message, "TCVN3"));
    CHECK_INT_EQ(decode("tcvn3", VN_REPLACE, "\xBA" "a\xBA", 3, &out, &e), VN_OK);
    CHECK_INT_EQ(e.replacements, 2);
    CHECK_INT_EQ(decode("cp1258", VN_REJECT, "xa\xEC\x81", 4, &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 3);
    CHECK(strstr(e.message, "Windows-1258") != NULL);
    CHECK_INT_EQ(decode("cp1258", VN_REPLACE, "xa\xEC\x81y", 5, &out, &e), VN_OK);
    CHECK_INT_EQ(e.replacements, 1);
    CHECK_STR_EQ(out.data, "x\xC3\xA1\xEF\xBF\xBDy");
    CHECK_INT_EQ(decode("vps", VN_REJECT, "a\xA0", 2, &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 1);
    CHECK_INT_EQ(decode("vni", VN_REJECT, "a\x81", 2, &out, &e), VN_EINVALID);
    /* The decoder keeps a running count. */
    vn_decoder *d = vn_decoder_new("utf-8", VN_REPLACE, NULL, 0);
    vn_buf scratch;
    vn_buf_init(&scratch);
    const char *o;
    size_t ol;
    for (int i = 0; i < 3; i++)
        vn_decode_field(d, "\xFF\xFE", 2, &o, &ol, &scratch, &e);
    CHECK_INT_EQ(vn_decoder_replacements(d), 6);
    vn_decoder_free(d);
    vn_buf_free(&scratch);
    vn_buf_free(&out);
}

TEST(test_truncated_sequence_end_and_middle)
{
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    /* At the end of a field: "Việ" cut inside ệ. */
    CHECK_INT_EQ(decode("utf-8", VN_REJECT, "Vi\xE1\xBB", 4, &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 2);
    CHECK(strstr(e.message, "truncated") != NULL);
    CHECK_INT_EQ(decode("utf-8", VN_REPLACE, "Vi\xE1\xBB", 4, &out, &e), VN_OK);
    CHECK_INT_EQ(e.replacements, 1);
    CHECK_STR_EQ(out.data, "Vi\xEF\xBF\xBD");
    /* In the middle of a (quoted) field: the sequence is cut by the next character. */
    CHECK_INT_EQ(decode("utf-8", VN_REJECT, "\"Vi\xE1\xBBt\"", 7, &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 3);
    CHECK_INT_EQ(decode("utf-8", VN_REPLACE, "\"Vi\xE1\xBBt\"", 7, &out, &e), VN_OK);
    CHECK_INT_EQ(e.replacements, 1);
    CHECK_STR_EQ(out.data, "\"Vi\xEF\xBF\xBDt\"");
    /* VNI: a base letter at the end of a field with its mark missing is just the letter. */
    CHECK_INT_EQ(decode("vni", VN_REJECT, "Vie", 3, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "Vie");
    vn_buf_free(&out);
}

static void fill_text(vn_buf *b, size_t size, const char *unit)
{
    size_t ul = strlen(unit);
    vn_buf_reserve(b, size + ul + 1);
    b->len = 0;
    while (b->len + ul <= size)
        vn_buf_append(b, unit, ul);
}

TEST(test_very_long_field_10mb)
{
    vn_buf src, scratch;
    vn_buf_init(&src);
    vn_buf_init(&scratch);
    const char *o;
    size_t ol;
    vn_error e;
    /* NFD UTF-8: every syllable needs normalizing. */
    fill_text(&src, 10u << 20, "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hoa\xCC\x80, ");
    vn_decoder *u = vn_decoder_new("utf-8", VN_REJECT, NULL, 0);
    CHECK_INT_EQ(vn_decode_field(u, src.data, src.len, &o, &ol, &scratch, &e), VN_OK);
    size_t units = src.len / strlen("Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hoa\xCC\x80, ");
    CHECK_INT_EQ(ol, units * strlen("Nguy\xE1\xBB\x85n Th\xE1\xBB\x8B Ho\xC3\xA0, "));
    CHECK(vn_is_nfc_quick(o, ol));
    /* TCVN3 */
    fill_text(&src, 10u << 20, "H\xB5 N\xE9i ");
    vn_decoder *t = vn_decoder_new("tcvn3", VN_REJECT, NULL, 0);
    CHECK_INT_EQ(vn_decode_field(t, src.data, src.len, &o, &ol, &scratch, &e), VN_OK);
    CHECK_INT_EQ(ol, src.len / 7 * strlen("H\xC3\xA0 N\xE1\xBB\x99i "));
    CHECK_INT_EQ(vn_utf8_validate(o, ol), ol);
    /* Windows-1258 through iconv (buffer growth while converting). */
    fill_text(&src, 10u << 20, "Vi\xEA\xF2t ");
    vn_decoder *c = vn_decoder_new("cp1258", VN_REJECT, NULL, 0);
    CHECK_INT_EQ(vn_decode_field(c, src.data, src.len, &o, &ol, &scratch, &e), VN_OK);
    CHECK_INT_EQ(ol, src.len / 6 * strlen("Vi\xE1\xBB\x87t "));
    vn_decoder_free(u);
    vn_decoder_free(t);
    vn_decoder_free(c);
    vn_buf_free(&src);
    vn_buf_free(&scratch);
}

/* ---- UTF-16 streams --------------------------------------------------- */

static int utf16_convert(const char *enc, const unsigned char *in, size_t len, size_t chunk,
                         int mode, vn_buf *out, vn_error *e)
{
    vn_utf16_stream s;
    out->len = 0;
    if (vn_utf16_init(&s, enc, mode) != VN_OK)
        return VN_EUSAGE;
    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;
        int rc = vn_utf16_feed(&s, (const char *)in + i, n, out, e);
        if (rc != VN_OK)
            return rc;
    }
    int rc = vn_utf16_finish(&s, out, e);
    vn_buf_append(out, "", 0);
    out->data[out->len] = 0;
    return rc;
}

TEST(test_utf16_stream_chunks)
{
    /* "Việt,😀\n" with a BOM, little- and big-endian, split at every chunk size. */
    const char *want = "Vi\xE1\xBB\x87t,\xF0\x9F\x98\x80\n";
    const unsigned char le[] = {0xFF, 0xFE, 'V', 0, 'i', 0, 0xC7, 0x1E, 't', 0, ',', 0,
                                0x3D, 0xD8, 0x00, 0xDE, '\n', 0};
    unsigned char be[sizeof le];
    for (size_t i = 0; i < sizeof le; i += 2) {
        be[i] = le[i + 1];
        be[i + 1] = le[i];
    }
    vn_buf out;
    vn_buf_init(&out);
    vn_error e;
    for (size_t chunk = 1; chunk <= sizeof le; chunk++) {
        CHECK_INT_EQ(utf16_convert("utf-16", le, sizeof le, chunk, VN_REJECT, &out, &e), VN_OK);
        CHECK_STR_EQ(out.data, want);
        CHECK_INT_EQ(utf16_convert("utf-16", be, sizeof be, chunk, VN_REJECT, &out, &e), VN_OK);
        CHECK_STR_EQ(out.data, want);
    }
    CHECK_INT_EQ(utf16_convert("utf-16le", le + 2, sizeof le - 2, 3, VN_REJECT, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, want);
    /* No BOM with "utf-16": refused with advice. */
    CHECK_INT_EQ(utf16_convert("utf-16", le + 2, sizeof le - 2, 4, VN_REJECT, &out, &e),
                 VN_EINVALID);
    CHECK(strstr(e.message, "utf-16le") != NULL);
    /* Lone surrogate and odd length. */
    const unsigned char lone[] = {0xFF, 0xFE, 'a', 0, 0x3D, 0xD8, 'b', 0, 'c'};
    CHECK_INT_EQ(utf16_convert("utf-16", lone, sizeof lone, 5, VN_REJECT, &out, &e), VN_EINVALID);
    CHECK_INT_EQ(e.offset, 4);
    CHECK_INT_EQ(utf16_convert("utf-16", lone, sizeof lone, 5, VN_REPLACE, &out, &e), VN_OK);
    CHECK_STR_EQ(out.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    const char *name;
    CHECK_INT_EQ(vn_bom_sniff((const char *)le, sizeof le, &name), 2);
    CHECK_STR_EQ(name, "utf-16le");
    CHECK_INT_EQ(vn_bom_sniff("\xEF\xBB\xBFx", 4, &name), 3);
    CHECK_STR_EQ(name, "utf-8");
    CHECK_INT_EQ(vn_bom_sniff("x", 1, &name), 0);
    vn_buf_free(&out);
}

/* ---- Detection -------------------------------------------------------- */

static const char *const vocabulary[] = {
    "người", "dân", "tỉnh", "huyện", "xã", "phường", "thành", "phố", "hồ", "sơ", "đăng", "ký",
    "hộ", "khẩu", "ngày", "tháng", "năm", "sinh", "quê", "quán", "địa", "chỉ", "thường", "trú",
    "cơ", "quan", "cấp", "giấy", "chứng", "nhận", "quyền", "sử", "dụng", "đất", "Việt", "Nam",
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "văn", "thị", "hữu", "đức", "minh", "thủy", "hoà", "hòa", "khoẻ", "khỏe",
    "nghiệp", "giáo", "dục", "y", "tế", "bệnh", "viện", "trường", "học", "sở", "ban", "nhân",
    "ủy", "hội", "đồng", "quốc", "gia", "nước", "biển", "sông", "núi", "rừng", "lúa", "gạo",
    "cà", "phê", "chè", "điện", "thoại", "số", "nhà", "đường", "ấp", "thôn", "bản", "làng",
    "Hà", "Nội", "Đà", "Nẵng", "Cần", "Thơ", "Huế", "Quảng", "Ninh", "Bình", "Định", "Thuận",
    "khuyến", "nông", "thuế", "kế", "toán", "doanh", "nghiệp", "mã", "số", "được", "những",
    "của", "và", "các", "cho", "với", "trong", "này", "đã", "sẽ", "không", "có", "là", "một"};
#define VOCAB (sizeof vocabulary / sizeof vocabulary[0])

static uint64_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Lines of plausible Vietnamese, deterministic. */
static void generate_text(vn_buf *out, int lines, uint64_t seed)
{
    rng_state = seed;
    out->len = 0;
    for (int l = 0; l < lines; l++) {
        int words = 4 + (int)(rng() % 9);
        char num[32];
        int nl = snprintf(num, sizeof num, "%d,", l + 1);
        vn_buf_append(out, num, (size_t)nl);
        for (int w = 0; w < words; w++) {
            const char *word = vocabulary[rng() % VOCAB];
            if (w)
                vn_buf_append(out, rng() % 7 == 0 ? ", " : " ", rng() % 7 == 0 ? 2 : 1);
            vn_buf_append(out, word, strlen(word));
        }
        vn_buf_append(out, ".\n", 2);
    }
    vn_buf_append(out, "", 0);
    out->data[out->len] = 0;
}

static int encode_as(const char *enc, const char *text, size_t len, vn_buf *out)
{
    if (!strcmp(enc, "utf-8")) {
        out->len = 0;
        return vn_buf_append(out, text, len);
    }
    if (!strcmp(enc, "cp1258"))
        return iconv_encode("CP1258", text, len, out);
    if (!strcmp(enc, "viscii"))
        return iconv_encode("VISCII", text, len, out);
    enc_map *m = calloc(1, sizeof *m);
    map_from_decoder(m, enc);
    int rc = map_encode(m, text, len, out, 1);
    free(m);
    return rc;
}

TEST(test_detect_each_encoding)
{
    const char *encs[] = {"utf-8", "cp1258", "tcvn3", "vni", "viscii"};
    vn_buf text, encoded;
    vn_buf_init(&text);
    vn_buf_init(&encoded);
    for (int seed = 1; seed <= 3; seed++) {
        generate_text(&text, 300, (uint64_t)seed);
        for (size_t i = 0; i < 5; i++) {
            CHECK_INT_EQ(encode_as(encs[i], text.data, text.len, &encoded), 0);
            vn_detection r;
            int rc = vn_detect(encoded.data, encoded.len, &r);
            if (rc != VN_OK || strcmp(r.encoding, encs[i]) != 0)
                printf("# %s (seed %d): %s\n", encs[i], seed, r.message);
            CHECK_INT_EQ(rc, VN_OK);
            CHECK_STR_EQ(r.encoding, encs[i]);
            CHECK(r.confidence > 0.8);
            CHECK(r.runner_up != NULL && r.runner_up_score < r.score);
        }
    }
    /* NFD UTF-8 (macOS) is UTF-8 too. */
    const char *nfd_line = "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hoa\xCC\x80 ngu\xCC\x9Bo\xCC\x9B\xCC\x80i "
                           "Vie\xCC\xA3\xCC\x82t Nam\n";
    fill_text(&encoded, 4000, nfd_line);
    vn_detection r;
    CHECK_INT_EQ(vn_detect(encoded.data, encoded.len, &r), VN_OK);
    CHECK_STR_EQ(r.encoding, "utf-8");
    /* A sample cut inside a UTF-8 sequence is still UTF-8. */
    generate_text(&text, 200, 9);
    size_t cut = text.len;
    while (cut > 0 && ((unsigned char)text.data[cut - 1] < 0xC0))
        cut--;
    CHECK_INT_EQ(vn_detect(text.data, cut, &r), VN_OK);
    CHECK_STR_EQ(r.encoding, "utf-8");
    vn_buf_free(&text);
    vn_buf_free(&encoded);
}

TEST(test_detect_refuses_thin_evidence)
{
    vn_detection r;
    CHECK_INT_EQ(vn_detect("\xE1\xBB\x87", 3, &r), VN_EINVALID);
    CHECK_STR_EQ(r.encoding, "undecided");
    CHECK(strstr(r.message, "utf-8") && strstr(r.message, "tcvn3") && strstr(r.message, "vni"));
    CHECK_INT_EQ(vn_detect("caf\xE9", 4, &r), VN_EINVALID);
    CHECK_STR_EQ(r.encoding, "undecided");
    CHECK_INT_EQ(vn_detect("id,name\n1,Ha Noi\n", 17, &r), VN_OK);
    CHECK_STR_EQ(r.encoding, "ascii");
    CHECK_INT_EQ(vn_detect("", 0, &r), VN_OK);
    CHECK_STR_EQ(r.encoding, "ascii");
}

static char data_path[1024];
static const char *data_file(const char *name)
{
    snprintf(data_path, sizeof data_path, "%s/tests/data/encodings/%s", MK_TOP_SRCDIR, name);
    return data_path;
}

static int read_file(const char *path, vn_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("# cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t n;
    out->len = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        vn_buf_append(out, buf, n);
    fclose(f);
    vn_buf_append(out, "", 0);
    out->data[out->len] = 0;
    return 0;
}

TEST(test_mixed_rows_tcvn3_utf8)
{
    /* tests/data/encodings/mixed_tcvn3_utf8.csv: rows marked U (UTF-8), T (TCVN3), A (ASCII). */
    vn_buf file, scratch, out;
    vn_buf_init(&file);
    vn_buf_init(&scratch);
    vn_buf_init(&out);
    CHECK_INT_EQ(read_file(data_file("mixed_tcvn3_utf8.csv"), &file), 0);
    vn_decoder *legacy = vn_decoder_new("tcvn3", VN_REJECT, NULL, 0);
    vn_decoder *utf8 = vn_decoder_new("utf-8", VN_REJECT, NULL, 0);
    int rows = 0;
    char *line = file.data, *end = file.data + file.len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (len > 2 && line[1] == ',') {
            int kind = vn_detect_row(legacy, line + 2, len - 2, &scratch);
            int want = line[0] == 'U' ? VN_ROW_UTF8 : line[0] == 'T' ? VN_ROW_LEGACY : VN_ROW_ASCII;
            if (kind != want)
                printf("# row %d (%c): detected %d\n", rows + 1, line[0], kind);
            CHECK_INT_EQ(kind, want);
            /* Decoded either way, every row reads as valid Vietnamese. */
            const char *o;
            size_t ol;
            vn_error e;
            CHECK_INT_EQ(vn_decode_field(kind == VN_ROW_LEGACY ? legacy : utf8, line + 2, len - 2,
                                         &o, &ol, &scratch, &e),
                         VN_OK);
            CHECK(kind == VN_ROW_ASCII || vn_plausibility(o, ol) > 0.99);
            rows++;
        }
        line += len + 1;
    }
    CHECK(rows >= 8);
    vn_decoder_free(legacy);
    vn_decoder_free(utf8);
    vn_buf_free(&file);
    vn_buf_free(&scratch);
    vn_buf_free(&out);
}

/* ---- Case restoration ------------------------------------------------- */

TEST(test_restore_case)
{
    vn_buf out;
    vn_buf_init(&out);
    const char *s;
    /* Names: "nguyễn văn ánh" / "NGUYễN VĂN ánh" -> "Nguyễn Văn Ánh". */
    s = "nguy\xE1\xBB\x85n v\xC4\x83n \xC3\xA1nh";
    CHECK_INT_EQ(vn_restore_case(s, strlen(s), VN_CASE_NAME, &out), VN_OK);
    CHECK_STR_EQ(out.data, "Nguy\xE1\xBB\x85n V\xC4\x83n \xC3\x81nh");
    s = "NGUY\xE1\xBB\x85N V\xC4\x82N \xC3\xA1nh";
    CHECK_INT_EQ(vn_restore_case(s, strlen(s), VN_CASE_NAME, &out), VN_OK);
    CHECK_STR_EQ(out.data, "Nguy\xE1\xBB\x85n V\xC4\x83n \xC3\x81nh");
    /* ơ -> Ơ, đ -> Đ, ắ -> Ắ; apostrophes stay inside: Cư M'gar; hyphens split. */
    s = "\xC6\xA1n \xE1\xBA\xAFt \xC4\x91\xE1\xBA\xAFk c\xC6\xB0 m'gar b\xC3\xA0 r\xE1\xBB\x8B" "a-v\xC5\xA9ng t\xC3\xA0u";
    CHECK_INT_EQ(vn_restore_case(s, strlen(s), VN_CASE_NAME, &out), VN_OK);
    CHECK_STR_EQ(out.data, "\xC6\xA0n \xE1\xBA\xAEt \xC4\x90\xE1\xBA\xAFk C\xC6\xB0 M'gar B\xC3\xA0 R\xE1\xBB\x8B"
                           "a-V\xC5\xA9ng T\xC3\xA0u");
    /* Headings: "CộNG HOà Xã HộI CHủ NGHĩA VIệT NAM" -> all capitals; "ở" between capitals too. */
    s = "C\xE1\xBB\x99NG HO\xC3\xA0 X\xC3\xA3 H\xE1\xBB\x99I CH\xE1\xBB\xA7 NGH\xC4\xA9" "A VI\xE1\xBB\x87T NAM";
    CHECK_INT_EQ(vn_restore_case(s, strlen(s), VN_CASE_HEADING, &out), VN_OK);
    CHECK_STR_EQ(out.data, "C\xE1\xBB\x98NG HO\xC3\x80 X\xC3\x83 H\xE1\xBB\x98I CH\xE1\xBB\xA6 NGH\xC4\xA8"
                           "A VI\xE1\xBB\x86T NAM");
    s = "\xC4\x90I \xE1\xBB\x9F \xC4\x90\xC3\x82U"; /* ĐI ở ĐÂU */
    CHECK_INT_EQ(vn_restore_case(s, strlen(s), VN_CASE_HEADING, &out), VN_OK);
    CHECK_STR_EQ(out.data, "\xC4\x90I \xE1\xBB\x9E \xC4\x90\xC3\x82U");
    /* Mixed-case text is left alone. */
    s = "T\xE1\xBB\x89nh \xE1\xBB\x9F H\xC3\xA0 N\xE1\xBB\x99i";
    CHECK_INT_EQ(vn_restore_case(s, strlen(s), VN_CASE_HEADING, &out), VN_OK);
    CHECK_STR_EQ(out.data, s);
    CHECK_INT_EQ(vn_restore_case("", 0, VN_CASE_HEADING, &out), VN_OK);
    CHECK_STR_EQ(out.data, "");
    CHECK_INT_EQ(vn_restore_case("\xFF", 1, VN_CASE_NAME, &out), VN_EINVALID);
    vn_buf_free(&out);
}

/* ---- Fuzz ------------------------------------------------------------- */

TEST(test_fuzz_random_bytes)
{
    const char *encs[] = {"utf-8", "cp1258", "viscii", "tcvn3", "vni", "vps", "vn1", "latin1",
                          "cp1252"};
    vn_decoder *rej[9], *rep[9];
    for (int i = 0; i < 9; i++) {
        rej[i] = vn_decoder_new(encs[i], VN_REJECT, NULL, 0);
        rep[i] = vn_decoder_new(encs[i], VN_REPLACE, NULL, 0);
    }
    vn_buf scratch, cased;
    vn_buf_init(&scratch);
    vn_buf_init(&cased);
    unsigned char in[600];
    rng_state = 12345;
    int bad_output = 0, replace_failed = 0, not_nfc = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = rng() % sizeof in;
        int flavour = (int)(rng() % 3); /* random, high bytes only, UTF-8-ish */
        for (size_t k = 0; k < len; k++) {
            uint32_t r = rng();
            in[k] = flavour == 0   ? (unsigned char)r
                    : flavour == 1 ? (unsigned char)(0x80 | r)
                                   : (unsigned char)((r & 3) ? 0x80 | (r >> 8 & 0x3F)
                                                             : 0xC0 | (r >> 8 & 0x3F));
        }
        for (int i = 0; i < 9; i++) {
            const char *o;
            size_t ol;
            vn_error e;
            int rc = vn_decode_field(rej[i], (char *)in, len, &o, &ol, &scratch, &e);
            if (rc == VN_OK && vn_utf8_validate(o, ol) != ol)
                bad_output++;
            if (rc == VN_EINVALID && (e.offset >= len || !e.message[0]))
                bad_output++;
            rc = vn_decode_field(rep[i], (char *)in, len, &o, &ol, &scratch, &e);
            if (rc != VN_OK)
                replace_failed++;
            else if (vn_utf8_validate(o, ol) != ol)
                bad_output++;
            else {
                if (iter % 10 == 0) {
                    char *z = malloc(ol + 1);
                    memcpy(z, o, ol);
                    z[ol] = 0;
                    utf8proc_uint8_t *nfc = utf8proc_NFC((utf8proc_uint8_t *)z);
                    if (nfc && memchr(z, 0, ol) == NULL && strcmp((char *)nfc, z) != 0)
                        not_nfc++;
                    free(nfc);
                    free(z);
                }
                if (vn_restore_case(o, ol, iter & 1 ? VN_CASE_NAME : VN_CASE_HEADING, &cased) !=
                        VN_OK ||
                    vn_utf8_validate(cased.data, cased.len) != cased.len)
                    bad_output++;
            }
            if (i == 3)
                vn_detect_row(rep[i], (char *)in, len, &scratch);
        }
        vn_detection r;
        vn_detect((char *)in, len, &r);
        if (!r.encoding || !r.message[0])
            bad_output++;
        vn_utf16_stream s;
        vn_utf16_init(&s, iter & 1 ? "utf-16le" : "utf-16", VN_REPLACE);
        vn_error e;
        scratch.len = 0;
        if (vn_utf16_feed(&s, (char *)in, len, &scratch, &e) == VN_OK &&
            vn_utf16_finish(&s, &scratch, &e) == VN_OK &&
            vn_utf8_validate(scratch.data, scratch.len) != scratch.len)
            bad_output++;
    }
    CHECK_INT_EQ(bad_output, 0);
    CHECK_INT_EQ(replace_failed, 0);
    CHECK_INT_EQ(not_nfc, 0);
    for (int i = 0; i < 9; i++) {
        vn_decoder_free(rej[i]);
        vn_decoder_free(rep[i]);
    }
    vn_buf_free(&scratch);
    vn_buf_free(&cased);
}

/* ---- tone placement and matching keys (vn_tone.c) ---- */

static const char *styled(const char *s, int style, vn_buf *out)
{
    int changed = -1;
    if (vn_tone_style(s, strlen(s), style, out, &changed) != VN_OK)
        return "(error)";
    if (!changed)
        return s;
    vn_buf_append(out, "", 1); /* NUL for the comparison */
    return out->data;
}

TEST(test_tone_style_both_ways)
{
    vn_buf b;
    vn_buf_init(&b);
    CHECK_STR_EQ(styled("Thanh Hoá, thuỷ, KHOẺ, uỷ", VN_TONE_OLD, &b), "Thanh Hóa, thủy, KHỎE, ủy");
    CHECK_STR_EQ(styled("Khánh Hòa, ThỦy, Ngụy", VN_TONE_NEW, &b), "Khánh Hoà, ThUỷ, Nguỵ");
    const char *alone = "quý gió giỏi hoàng ngoài";
    CHECK(styled(alone, VN_TONE_OLD, &b) == alone); /* nothing moved: the input itself */
    CHECK(styled(alone, VN_TONE_NEW, &b) == alone);
    int changed = 0;
    CHECK_INT_EQ(vn_tone_style("ho\xc3", 3, VN_TONE_OLD, &b, &changed), VN_EINVALID);
    vn_buf_free(&b);
}

static const char *key_of(const char *s, int steps, int pad, vn_buf *tmp, vn_buf *out)
{
    out->len = 0;
    if (vn_match_key(s, strlen(s), steps, pad, tmp, out) != VN_OK)
        return "(error)";
    vn_buf_append(out, "", 1);
    return out->data;
}

TEST(test_match_key_steps)
{
    vn_buf tmp, a, b;
    vn_buf_init(&tmp);
    vn_buf_init(&a);
    vn_buf_init(&b);
    int tl = VN_KEY_TRIM | VN_KEY_LOWER | VN_KEY_TONE;
    CHECK_STR_EQ(key_of(" Khánh Hoà ", tl, 0, &tmp, &a), key_of("KHÁNH HÒA", tl, 0, &tmp, &b));
    CHECK(strcmp(key_of("Hòa", tl, 0, &tmp, &a), key_of("Hóa", tl, 0, &tmp, &b)) != 0);
    CHECK_STR_EQ(key_of("Xa\xcc\x83", VN_KEY_NFC, 0, &tmp, &a), "X\xc3\xa3"); /* NFD -> NFC */
    CHECK_STR_EQ(key_of("Đà Nẵng", VN_KEY_FOLD, 0, &tmp, &a), "da nang");
    CHECK_STR_EQ(key_of("4", 0, 5, &tmp, &a), "00004");
    CHECK_STR_EQ(key_of("12345", 0, 5, &tmp, &a), "12345");
    CHECK_STR_EQ(key_of("P4", 0, 5, &tmp, &a), "P4");
    a.len = 0;
    CHECK_INT_EQ(vn_match_key("\xff", 1, VN_KEY_NFC, 0, &tmp, &a), VN_EINVALID);
    CHECK_INT_EQ(vn_match_key("\xff", 1, 0, 3, &tmp, &a), VN_OK); /* bytes, no text step */
    vn_buf_free(&tmp);
    vn_buf_free(&a);
    vn_buf_free(&b);
}

int main(void)
{
    find_shared();
    RUN(test_alphabet_has_134_letters);
    RUN(test_tone_style_both_ways);
    RUN(test_match_key_steps);
    RUN(test_names_and_unknown_encoding);
    RUN(test_empty_field_every_encoding);
    RUN(test_zero_copy_fast_paths);
    RUN(test_quick_check_at_every_alignment);
    RUN_SHARED(test_table_cp1258);
    RUN_SHARED(test_table_tcvn3);
    RUN_SHARED(test_table_tcvn3_encode);
    RUN_SHARED(test_table_vn1);
    RUN_SHARED(test_table_viscii);
    RUN_SHARED(test_table_vni);
    RUN_SHARED(test_table_vps);
    RUN(test_roundtrip_cp1258);
    RUN(test_roundtrip_viscii);
    RUN(test_roundtrip_vn1);
    RUN(test_roundtrip_latin1_cp1252);
    RUN_SHARED(test_roundtrip_tcvn3);
    RUN_SHARED(test_roundtrip_vni);
    RUN_SHARED(test_roundtrip_vps);
    RUN(test_tcvn3_known_bytes);
    RUN(test_nfd_input_becomes_nfc);
    RUN(test_quick_check_never_wrong_bmp);
    RUN(test_invalid_utf8_reject_offset);
    RUN(test_invalid_replace_count);
    RUN(test_truncated_sequence_end_and_middle);
    RUN(test_very_long_field_10mb);
    RUN(test_utf16_stream_chunks);
    RUN(test_detect_each_encoding);
    RUN(test_detect_refuses_thin_evidence);
    RUN(test_mixed_rows_tcvn3_utf8);
    RUN(test_restore_case);
    RUN(test_fuzz_random_bytes);
    UNIT_EXIT();
}
