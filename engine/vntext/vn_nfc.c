/*
 * vn_nfc.c -- UTF-8 validation and NFC with a quick check in front.
 *
 * utf8proc_NFC on every field costs a malloc and a full decompose/compose
 * pass (about 40 MB/s).  Almost every field is already NFC, so we first run
 * a quick check: one pass over the bytes, a bit test per non-ASCII code
 * point.  Only fields that fail it are normalized, with utf8proc's
 * decompose/compose into the caller's reused buffer (no malloc once warm).
 *
 * The quick check is conservative: a code point passes when it is a starter
 * (combining class 0) that can never be the second half of a canonical
 * composition and is not excluded from composition.  This is the standard
 * NFC_QC=Yes property, derived at first use from utf8proc's own data, so it
 * follows whatever Unicode version the installed utf8proc has.  A "maybe"
 * only costs time: the field is normalized anyway.
 */
#include "vntext_internal.h"

#include <pthread.h>
#include <string.h>
#include <utf8proc.h>

#define CP_LIMIT 0x110000u
static uint8_t needs_nfc_bits[CP_LIMIT / 8]; /* bit set: not NFC_QC=Yes */
static pthread_once_t nfc_once = PTHREAD_ONCE_INIT;

static void mark_needs(uint32_t cp)
{
    needs_nfc_bits[cp >> 3] |= (uint8_t)(1u << (cp & 7));
}

static void build_quick_check(void)
{
    for (uint32_t cp = 0x80; cp < CP_LIMIT; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
        if (p->combining_class != 0)
            mark_needs(cp);
        if (p->decomp_seqindex == UINT16_MAX || p->decomp_type != 0)
            continue; /* no canonical decomposition */
        utf8proc_int32_t parts[8];
        int last_boundclass = 0;
        utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, parts, 8,
                                                     UTF8PROC_DECOMPOSE, &last_boundclass);
        if (n < 1 || n > 8) {
            mark_needs(cp);
            continue;
        }
        /* Anything after the first part can be the second half of a composition. */
        for (utf8proc_ssize_t i = 1; i < n; i++)
            mark_needs((uint32_t)parts[i]);
        /* Singletons, exclusions, non-starter decompositions: NFC of the letter alone
         * is not the letter (NFC_QC=No). */
        utf8proc_ssize_t m = utf8proc_normalize_utf32(parts, n, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (m != 1 || (uint32_t)parts[0] != cp || p->comp_exclusion)
            mark_needs(cp);
    }
    /* Hangul: vowel and trailing jamo compose algorithmically with what precedes them. */
    for (uint32_t cp = 0x1161; cp <= 0x1175; cp++)
        mark_needs(cp);
    for (uint32_t cp = 0x11A8; cp <= 0x11C2; cp++)
        mark_needs(cp);
}

static inline int needs_nfc(uint32_t cp)
{
    return (needs_nfc_bits[cp >> 3] >> (cp & 7)) & 1;
}

/* ---- Validation ------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0 when invalid (incl. truncated). */
static inline size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return (avail >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c > 0xF4 || avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
        return 0;
    if (c == 0xF0 && s[1] < 0x90)
        return 0; /* overlong */
    if (c == 0xF4 && s[1] >= 0x90)
        return 0; /* above U+10FFFF */
    return 4;
}

size_t vn_utf8_validate(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

int vn_utf8_scan(const char *str, size_t len, size_t *bad)
{
    pthread_once(&nfc_once, build_quick_check);
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    int result = 0;
    while (i < len) {
        /* ASCII, eight bytes at a time: skip to the first byte >= 0x80
         * (little-endian: the lowest set high bit is the first such byte). */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t high = w & 0x8080808080808080ull;
            if (!high) {
                i += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t)__builtin_ctzll(high) >> 3;
#else
            while (s[i] < 0x80)
                i++;
#endif
        } else if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(s + i, len - i);
        if (!n) {
            *bad = i;
            return 2;
        }
        /* decoded here rather than by vn_utf8_get: this loop runs over
         * every non-ASCII letter of every field */
        uint32_t cp;
        if (n == 2)
            cp = ((uint32_t)(s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F);
        else if (n == 3)
            cp = ((uint32_t)(s[i] & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
                 (s[i + 2] & 0x3F);
        else
            cp = ((uint32_t)(s[i] & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                 ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
        result |= needs_nfc(cp);
        i += n;
    }
    return result;
}

int vn_is_nfc_quick(const char *s, size_t len)
{
    size_t bad;
    return vn_utf8_scan(s, len, &bad) == 0;
}

int vn_nfc_into(const char *s, size_t len, vn_buf *scratch)
{
    const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    size_t want = len + 1; /* code points, +1 for the terminator reencode writes */
    for (;;) {
        if (want > (SIZE_MAX / 4) - 1)
            return VN_ENOMEM;
        if (vn_buf_reserve(scratch, (want + 1) * sizeof(utf8proc_int32_t)) != VN_OK)
            return VN_ENOMEM;
        utf8proc_int32_t *u32 = (utf8proc_int32_t *)(void *)scratch->data;
        size_t room = scratch->cap / sizeof(utf8proc_int32_t) - 1;
        utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
                                                u32, (utf8proc_ssize_t)room, opts);
        if (n < 0)
            return n == UTF8PROC_ERROR_NOMEM ? VN_ENOMEM : VN_EINVALID;
        if ((size_t)n > room) {
            want = (size_t)n;
            continue;
        }
        n = utf8proc_normalize_utf32(u32, n, opts);
        if (n < 0)
            return VN_EINVALID;
        n = utf8proc_reencode(u32, n, opts);
        if (n < 0)
            return VN_EINVALID;
        scratch->len = (size_t)n;
        return VN_OK;
    }
}

int vn_nfc(const char *s, size_t len, const char **out, size_t *out_len, vn_buf *scratch)
{
    size_t bad;
    int r = vn_utf8_scan(s, len, &bad);
    if (r == 2)
        return VN_EINVALID;
    if (r == 0) {
        *out = s;
        *out_len = len;
        return VN_OK;
    }
    int rc = vn_nfc_into(s, len, scratch);
    if (rc != VN_OK)
        return rc;
    *out = scratch->data;
    *out_len = scratch->len;
    return VN_OK;
}
