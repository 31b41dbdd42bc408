/*
 * fuzz_vntext.c -- the legacy decoders and auto-detection (engine/vntext):
 * the input decoded by every encoding's decoder in both modes (reject,
 * replace), fed to the UTF-16 stream converter in chunks, detected as a
 * sample and row by row, normalized (NFC) and case-restored.  Beyond the
 * sanitizers: every decoded field must be valid UTF-8, and a decoder in
 * replace mode must never fail.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vntext.h"

static const char *const encodings[] = {
    "utf-8", "cp1258", "viscii", "tcvn3", "vni", "vps", "tcvn5712-1", "latin1", "cp1252",
};
#define NENC (sizeof encodings / sizeof encodings[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok, const char *what, const char *encoding)
{
    if (!ok) {
        fprintf(stderr, "fuzz_vntext: %s (%s)\n", what, encoding);
        abort();
    }
}

static void decode_all(const char *s, size_t len, vn_buf *scratch)
{
    char err[256];
    for (size_t i = 0; i < NENC; i++) {
        for (int mode = 0; mode < 2; mode++) {
            int on_invalid = mode ? VN_REPLACE : VN_REJECT;
            vn_decoder *d = vn_decoder_new(encodings[i], on_invalid, err, sizeof err);
            must(d != NULL, "no decoder", encodings[i]);
            const char *out;
            size_t out_len;
            vn_error e;
            memset(&e, 0, sizeof e);
            int rc = vn_decode_field(d, s, len, &out, &out_len, scratch, &e);
            must(rc == VN_OK || (rc == VN_EINVALID && on_invalid == VN_REJECT), "decode failed",
                 encodings[i]);
            if (rc == VN_OK)
                must(vn_utf8_validate(out, out_len) == out_len, "decoded text is not UTF-8",
                     encodings[i]);
            if (i > 0)
                vn_detect_row(d, s, len, scratch);
            vn_decoder_free(d);
        }
    }
}

static void utf16(const char *s, size_t len, vn_buf *out)
{
    static const char *const names[] = {"utf-16", "utf-16le", "utf-16be"};
    for (size_t i = 0; i < 3; i++) {
        vn_utf16_stream st;
        if (vn_utf16_init(&st, names[i], VN_REPLACE) != VN_OK)
            continue;
        out->len = 0;
        vn_error e;
        memset(&e, 0, sizeof e);
        /* odd chunk sizes: code units and surrogate pairs cut anywhere */
        size_t at = 0, step = 1;
        while (at < len) {
            size_t n = len - at < step ? len - at : step;
            vn_utf16_feed(&st, s + at, n, out, &e);
            at += n;
            step = step * 2 + 1;
        }
        vn_utf16_finish(&st, out, &e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    vn_buf scratch, more;
    vn_buf_init(&scratch);
    vn_buf_init(&more);
    decode_all(s, size, &scratch);
    utf16(s, size, &more);
    vn_detection det;
    vn_detect(s, size, &det);
    const char *bom;
    vn_bom_sniff(s, size, &bom);
    if (vn_utf8_validate(s, size) == size) {
        const char *out;
        size_t out_len;
        if (vn_nfc(s, size, &out, &out_len, &scratch) == VN_OK)
            must(vn_utf8_validate(out, out_len) == out_len, "NFC is not UTF-8", "nfc");
        vn_plausibility(s, size);
        more.len = 0;
        vn_restore_case(s, size, VN_CASE_NAME, &more);
        more.len = 0;
        vn_restore_case(s, size, VN_CASE_HEADING, &more);
    }
    vn_buf_free(&scratch);
    vn_buf_free(&more);
    return 0;
}
