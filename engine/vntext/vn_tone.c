/*
 * vn_tone.c -- where the tone mark goes: the two conventions (vn_tone_style)
 * and keys that compare text whatever its case, tone placement or zero
 * padding (vn_match_key).  Used by the rule library (mekong.vn.tone_style,
 * mekong.lookup) and open to C plugins that compare place names.
 *
 * The conventions differ only in open syllables whose vowel is oa, oe or
 * uy after a consonant onset (or none): the old style marks the first vowel
 * (hòa, khỏe, thủy), the new style of QĐ 1989/QĐ-BGDĐT the second (hoà,
 * khoẻ, thuỷ).  With a final consonant (hoàng, huỳnh) or a third vowel
 * (ngoài, khuỷu) both agree, and in qu/gi the u and i belong to the onset
 * (quý, quà, gió, giỏi): those are left alone, as is anything that is not a
 * Vietnamese syllable of plain letters and one tone mark.
 *
 * Trade-off: a syllable is read into a small array of code points (at most
 * STYLE_LETTERS_MAX letters; longer runs are no Vietnamese syllable) and
 * written out again only when its tone moves, so text that needs nothing
 * is only read.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

#include "vntext.h"
#include "vntext_internal.h"

#define STYLE_LETTERS_MAX 8

/* The five tone marks, 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng; 0 otherwise. */
static int tone_mark(int32_t cp)
{
    switch (cp) {
    case 0x0301: return 1;
    case 0x0300: return 2;
    case 0x0309: return 3;
    case 0x0303: return 4;
    case 0x0323: return 5;
    default: return 0;
    }
}

int vn_decompose_cp(int32_t cp, int32_t d[8])
{
    int bound = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE, &bound);
    if (n < 1 || n > 8) {
        d[0] = cp;
        return 1;
    }
    return (int)n;
}

static int letter_or_mark(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME);
}

/* Unicode White_Space (PropList.txt). */
static int space_cp(int32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= '\t' && cp <= '\r');
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static int put_cp(vn_buf *b, int32_t cp)
{
    char enc[4];
    return vn_buf_append(b, enc, vn_utf8_put(enc, (uint32_t)cp));
}

/* ---- the two conventions -------------------------------------------------- */

/* Onsets before oa/oe/uy ("#" is đ); qu and gi are not among them. */
static const char *const style_onsets[] = {
    "", "b", "c", "ch", "d", "#", "g", "gh", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
    "p", "ph", "r", "s", "t", "th", "tr", "v", "x", NULL,
};

typedef struct style_syllable {
    char lower[STYLE_LETTERS_MAX + 1]; /* the letters, lower case, tone off ('#': đ) */
    int32_t letter[STYLE_LETTERS_MAX]; /* as written, tone off */
    int nletters;
    int32_t tone; /* the combining tone mark, 0 when none */
    int tone_at;  /* the letter it is on */
} style_syllable;

/* Read s[0..len) (one run of letters and marks) into y: 0 when it is plain
 * letters (a-z, A-Z, đ, Đ) with at most one tone mark. */
static int style_read(const unsigned char *s, size_t len, style_syllable *y)
{
    y->nletters = 0;
    y->tone = 0;
    for (size_t i = 0, adv; i < len; i += adv) {
        int32_t d[8];
        int nd = vn_decompose_cp((int32_t)vn_utf8_get(s + i, len - i, &adv), d);
        for (int k = 0; k < nd; k++) {
            int32_t c = d[k];
            if (tone_mark(c)) {
                if (y->tone || y->nletters == 0)
                    return -1;
                y->tone = c;
                y->tone_at = y->nletters - 1;
                continue;
            }
            if (y->nletters == STYLE_LETTERS_MAX)
                return -1;
            char low;
            if (c >= 'a' && c <= 'z')
                low = (char)c;
            else if (c >= 'A' && c <= 'Z')
                low = (char)(c + 32);
            else if (c == 0x0110 || c == 0x0111)
                low = '#';
            else
                return -1; /* another mark (ơ, â, ...) or letter */
            y->lower[y->nletters] = low;
            y->letter[y->nletters++] = c;
        }
    }
    y->lower[y->nletters] = '\0';
    return 0;
}

/* The letter the tone belongs on in style, or -1 when the conventions
 * agree on this syllable. */
static int style_target(const style_syllable *y, int style)
{
    if (y->nletters < 2)
        return -1;
    const char *v = y->lower + y->nletters - 2;
    if (strcmp(v, "oa") != 0 && strcmp(v, "oe") != 0 && strcmp(v, "uy") != 0)
        return -1;
    size_t onset = (size_t)y->nletters - 2;
    for (int k = 0; style_onsets[k]; k++)
        if (strlen(style_onsets[k]) == onset && memcmp(style_onsets[k], y->lower, onset) == 0)
            return (int)onset + (style == VN_TONE_NEW);
    return -1;
}

/* The syllable s[0..len) in style into enc (NFC): its length, or 0 when it
 * stays as it is. */
static size_t style_syllable_moved(const unsigned char *s, size_t len, int style,
                                   char enc[4 * (STYLE_LETTERS_MAX + 1)])
{
    style_syllable y;
    if (style_read(s, len, &y) != 0 || !y.tone)
        return 0;
    int at = style_target(&y, style);
    if (at < 0 || at == y.tone_at)
        return 0;
    int32_t out[STYLE_LETTERS_MAX + 1];
    int n = 0;
    for (int k = 0; k < y.nletters; k++) {
        out[n++] = y.letter[k];
        if (k == at)
            out[n++] = y.tone;
    }
    utf8proc_ssize_t m = utf8proc_normalize_utf32(out, n, UTF8PROC_COMPOSE);
    size_t used = 0;
    for (utf8proc_ssize_t k = 0; k < m; k++)
        used += vn_utf8_put(enc + used, (uint32_t)out[k]);
    return used;
}

int vn_tone_style(const char *str, size_t len, int style, vn_buf *out, int *changed)
{
    const unsigned char *s = (const unsigned char *)str;
    *changed = 0;
    if (vn_utf8_validate(str, len) != len)
        return VN_EINVALID;
    out->len = 0;
    size_t done = 0; /* str[0..done) is in out */
    size_t start = 0, i = 0;
    int in_syllable = 0;
    while (i <= len) {
        size_t at = i, adv = 1;
        int part = i < len && letter_or_mark((int32_t)vn_utf8_get(s + i, len - i, &adv));
        i += adv;
        if (part && !in_syllable) {
            start = at;
        } else if (!part && in_syllable) {
            char enc[4 * (STYLE_LETTERS_MAX + 1)];
            size_t n = style_syllable_moved(s + start, at - start, style, enc);
            if (n) {
                if (vn_buf_append(out, str + done, start - done) != VN_OK ||
                    vn_buf_append(out, enc, n) != VN_OK)
                    return VN_ENOMEM;
                done = at;
                *changed = 1;
            }
        }
        in_syllable = part;
    }
    if (*changed && vn_buf_append(out, str + done, len - done) != VN_OK)
        return VN_ENOMEM;
    return VN_OK;
}

/* ---- matching keys ------------------------------------------------------------ */

/* One code point of a key, lower-cased, folded or without its tone (the
 * tone of the syllable goes to *tone). */
static int key_cp(int32_t cp, int steps, int *tone, vn_buf *out)
{
    if (steps & VN_KEY_FOLD) {
        if (cp == 0x0110 || cp == 0x0111)
            return put_cp(out, 'd');
        if (utf8proc_category(cp) == UTF8PROC_CATEGORY_MN)
            return VN_OK;
        int32_t d[8];
        int nd = vn_decompose_cp(cp, d);
        int marks_only = 1;
        for (int k = 1; k < nd; k++)
            marks_only &= utf8proc_category(d[k]) == UTF8PROC_CATEGORY_MN;
        return put_cp(out, utf8proc_tolower(nd > 1 && marks_only ? d[0] : cp));
    }
    int lower = steps & VN_KEY_LOWER;
    if (!(steps & VN_KEY_TONE))
        return put_cp(out, lower ? utf8proc_tolower(cp) : cp);
    int32_t d[8];
    int nd = vn_decompose_cp(cp, d);
    for (int k = 0; k < nd; k++) {
        if (tone_mark(d[k])) {
            *tone = tone_mark(d[k]);
            continue;
        }
        if (put_cp(out, lower ? utf8proc_tolower(d[k]) : d[k]) != VN_OK)
            return VN_ENOMEM;
    }
    return VN_OK;
}

/* The digits-only key out[from..] padded with zeros on the left to pad. */
static int key_pad(vn_buf *out, size_t from, int pad)
{
    size_t n = out->len - from;
    if (pad <= 0 || n == 0 || n >= (size_t)pad)
        return VN_OK;
    for (size_t i = from; i < out->len; i++)
        if (out->data[i] < '0' || out->data[i] > '9')
            return VN_OK;
    size_t add = (size_t)pad - n;
    if (vn_buf_reserve(out, out->len + add) != VN_OK)
        return VN_ENOMEM;
    memmove(out->data + from + add, out->data + from, n);
    memset(out->data + from, '0', add);
    out->len += add;
    return VN_OK;
}

/* s[0..*len) without Unicode white space at either end. */
static const char *key_trim(const char *str, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t a = 0, b = *len, adv;
    while (a < b && space_cp((int32_t)vn_utf8_get(s + a, b - a, &adv)))
        a += adv;
    while (b > a) {
        size_t start = b - 1;
        while (start > a && (s[start] & 0xC0) == 0x80)
            start--;
        if (!space_cp((int32_t)vn_utf8_get(s + start, b - start, &adv)))
            break;
        b = start;
    }
    *len = b - a;
    return str + a;
}

static int key_mark_tone(vn_buf *out, int tone)
{
    char mark[2] = {'\x01', (char)('0' + tone)};
    return vn_buf_append(out, mark, 2);
}

int vn_match_key(const char *str, size_t len, int steps, int pad, vn_buf *tmp, vn_buf *out)
{
    if ((steps & VN_KEY_TEXT) && vn_utf8_validate(str, len) != len)
        return VN_EINVALID;
    if (steps & VN_KEY_TRIM)
        str = key_trim(str, &len);
    if (steps & (VN_KEY_NFC | VN_KEY_TONE | VN_KEY_FOLD)) {
        const char *n;
        size_t nl;
        tmp->len = 0;
        if (vn_nfc(str, len, &n, &nl, tmp) != VN_OK)
            return VN_EINVALID;
        str = n;
        len = nl;
    }
    size_t from = out->len;
    if (!(steps & (VN_KEY_LOWER | VN_KEY_TONE | VN_KEY_FOLD))) {
        if (vn_buf_append(out, str, len) != VN_OK)
            return VN_ENOMEM;
        return key_pad(out, from, pad);
    }
    const unsigned char *s = (const unsigned char *)str;
    int tone = 0;
    for (size_t i = 0, adv; i < len; i += adv) {
        int32_t cp = (int32_t)vn_utf8_get(s + i, len - i, &adv);
        if (tone && !letter_or_mark(cp)) { /* a syllable ended: its tone */
            if (key_mark_tone(out, tone) != VN_OK)
                return VN_ENOMEM;
            tone = 0;
        }
        if (key_cp(cp, steps, &tone, out) != VN_OK)
            return VN_ENOMEM;
    }
    if (tone && key_mark_tone(out, tone) != VN_OK)
        return VN_ENOMEM;
    return key_pad(out, from, pad);
}
