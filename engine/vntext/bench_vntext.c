/*
 * bench_vntext.c -- MB/s of field decoding: UTF-8 NFC check vs Windows-1258 vs TCVN3.
 *
 * Generates ~100 MB (or argv[1] MB) of Vietnamese CSV-like fields, encodes
 * the same text in each encoding, then times vn_decode_field over every
 * field with one reused scratch buffer -- the way a source calls it.  Also
 * times utf8proc_NFC on every field, the approach the quick check replaces.
 * Not a test: numbers for docs/PERFORMANCE.md.  MB/s are of input bytes.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "vntext.h"

static const char *const words[] = {
    "người", "dân", "tỉnh", "huyện", "xã", "phường", "thành", "phố", "hồ", "sơ", "đăng", "ký",
    "hộ", "khẩu", "ngày", "tháng", "năm", "sinh", "quê", "quán", "địa", "chỉ", "Nguyễn", "Trần",
    "Lê", "Phạm", "Hoàng", "văn", "thị", "Hà", "Nội", "Đà", "Nẵng", "số", "nhà", "đường", "12",
    "2024", "Thanh", "Hóa", "Khánh", "Hòa", "thuế", "mã", "doanh", "nghiệp", "ấp", "thôn"};
#define NWORDS (sizeof words / sizeof words[0])

typedef struct corpus {
    char *data;
    size_t len;
    size_t *field_end; /* fields separated at these offsets */
    size_t nfields;
} corpus;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_utf8(corpus *c, size_t target)
{
    c->data = malloc(target + 64);
    c->field_end = malloc(sizeof(size_t) * (target / 2 + 1));
    c->len = c->nfields = 0;
    unsigned rng = 1;
    while (c->len < target) {
        int nw = 1 + (int)(rng % 4);
        size_t before = c->len;
        for (int w = 0; w < nw && c->len < target; w++) {
            rng = rng * 1103515245u + 12345u;
            const char *word = words[(rng >> 8) % NWORDS];
            size_t wl = strlen(word);
            if (c->len + wl + 1 > target)
                break;
            if (w)
                c->data[c->len++] = ' ';
            memcpy(c->data + c->len, word, wl);
            c->len += wl;
        }
        if (c->len == before)
            break; /* the next word does not fit: done */
        c->field_end[c->nfields++] = c->len;
        rng = rng * 1103515245u + 12345u;
    }
}

/* Re-encode field by field with glibc (CP1258) or a reverse table (TCVN3). */
static void encode(const corpus *in, corpus *out, const char *enc)
{
    out->data = malloc(in->len * 2 + 64);
    out->field_end = malloc(sizeof(size_t) * in->nfields);
    out->nfields = in->nfields;
    out->len = 0;
    iconv_t cd = (iconv_t)-1;
    unsigned char rev[0x1F00 - 0x80];
    memset(rev, 0, sizeof rev);
    if (!strcmp(enc, "CP1258")) {
        cd = iconv_open("CP1258", "UTF-8");
    } else { /* TCVN3: invert the decoder */
        vn_decoder *d = vn_decoder_new("tcvn3", VN_REJECT, NULL, 0);
        vn_buf s;
        vn_buf_init(&s);
        for (int b = 0x80; b < 0x100; b++) {
            char c = (char)b;
            const char *o;
            size_t ol;
            vn_error e;
            if (vn_decode_field(d, &c, 1, &o, &ol, &s, &e) == VN_OK) {
                utf8proc_int32_t cp;
                utf8proc_iterate((const utf8proc_uint8_t *)o, (utf8proc_ssize_t)ol, &cp);
                if (cp >= 0x80 && cp < 0x1F00 && !rev[cp - 0x80])
                    rev[cp - 0x80] = (unsigned char)b;
            }
        }
        vn_buf_free(&s);
        vn_decoder_free(d);
    }
    size_t start = 0;
    for (size_t f = 0; f < in->nfields; f++) {
        size_t flen = in->field_end[f] - start;
        if (cd != (iconv_t)-1) {
            char *ip = in->data + start, *op = out->data + out->len;
            size_t il = flen, ol = in->len * 2 - out->len;
            iconv(cd, &ip, &il, &op, &ol);
            iconv(cd, NULL, NULL, &op, &ol);
            out->len = (size_t)(op - out->data);
        } else {
            for (size_t i = start; i < start + flen;) {
                utf8proc_int32_t cp;
                utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)in->data + i,
                                                      (utf8proc_ssize_t)(start + flen - i), &cp);
                if (n < 1)
                    n = 1;
                if (cp < 0x80)
                    out->data[out->len++] = (char)cp;
                else {
                    utf8proc_int32_t lower = utf8proc_tolower(cp);
                    out->data[out->len++] = (char)(rev[lower - 0x80] ? rev[lower - 0x80] : '?');
                }
                i += (size_t)n;
            }
        }
        out->field_end[f] = out->len;
        start = in->field_end[f];
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
}

static void run(const char *label, const corpus *c, const char *enc)
{
    vn_decoder *d = vn_decoder_new(enc, VN_REJECT, NULL, 0);
    vn_buf scratch;
    vn_buf_init(&scratch);
    size_t start = 0, out_total = 0, errors = 0;
    double t0 = now();
    for (size_t f = 0; f < c->nfields; f++) {
        const char *o;
        size_t ol;
        vn_error e;
        if (vn_decode_field(d, c->data + start, c->field_end[f] - start, &o, &ol, &scratch, &e))
            errors++;
        out_total += ol;
        start = c->field_end[f];
    }
    double t = now() - t0;
    printf("%-34s %8.1f MB in %6.3f s = %7.1f MB/s  (%zu fields, %zu errors)\n", label,
           c->len / 1e6, t, c->len / 1e6 / t, c->nfields, errors);
    vn_buf_free(&scratch);
    vn_decoder_free(d);
}

static void run_utf8proc_nfc(const corpus *c)
{
    size_t start = 0;
    double t0 = now();
    char *field = malloc(4096);
    for (size_t f = 0; f < c->nfields; f++) {
        size_t fl = c->field_end[f] - start;
        memcpy(field, c->data + start, fl);
        field[fl] = 0;
        free(utf8proc_NFC((const utf8proc_uint8_t *)field));
        start = c->field_end[f];
    }
    double t = now() - t0;
    free(field);
    printf("%-34s %8.1f MB in %6.3f s = %7.1f MB/s\n", "utf8proc_NFC on every field",
           c->len / 1e6, t, c->len / 1e6 / t);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 100;
    corpus u, cp, tc;
    make_utf8(&u, mb * 1000000);
    encode(&u, &cp, "CP1258");
    encode(&u, &tc, "TCVN3");
    printf("%zu fields, average %.1f bytes (UTF-8)\n", u.nfields, (double)u.len / u.nfields);
    vn_is_nfc_quick("\xC3\xA9", 2); /* build the quick-check table outside the timings */
    run("utf-8 (NFC quick check)", &u, "utf-8");
    run("cp1258 (glibc table + composing)", &cp, "cp1258");
    run("tcvn3 (table)", &tc, "tcvn3");
    run_utf8proc_nfc(&u);
    free(u.data);
    free(u.field_end);
    free(cp.data);
    free(cp.field_end);
    free(tc.data);
    free(tc.field_end);
    return 0;
}
