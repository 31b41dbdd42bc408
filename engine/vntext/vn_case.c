/*
 * vn_case.c -- putting capitals back after TCVN3.
 *
 * TCVN3 (ABC) has no bytes for toned capitals: a document showed "HÀ NỘI"
 * by drawing the bytes of "hà nội"-style letters in a capitals font, so the
 * decoded text reads "Hà NộI" -- plain capitals survive, toned ones come
 * back lower case.  Which letters were capitals cannot be known from the
 * bytes, so this is a rule the pipeline chooses per field:
 *   VN_CASE_NAME     every syllable starts with a capital, the rest lower;
 *                    right for names of people and places.
 *   VN_CASE_HEADING  a word whose letters that TCVN3 can show in both cases
 *                    are all capitals is made all capitals; a word made
 *                    only of toned vowels ("ở") follows its neighbours.
 */
#include "vntext_internal.h"

#include <string.h>
#include <utf8proc.h>

static int is_word_letter(uint32_t cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME);
}

static int is_apostrophe(uint32_t cp)
{
    return cp == '\'' || cp == 0x2019;
}

/* Find the word starting at or after *pos: [*start, *end); 0 when there is none. */
static int next_word(const unsigned char *s, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos, adv;
    while (i < len && !is_word_letter(vn_utf8_get(s + i, len - i, &adv)))
        i += adv;
    if (i >= len)
        return 0;
    *start = i;
    while (i < len) {
        uint32_t cp = vn_utf8_get(s + i, len - i, &adv);
        if (is_word_letter(cp)) {
            i += adv;
            continue;
        }
        /* An apostrophe between letters stays in the word (M'gar, Cư M’gar). */
        if (is_apostrophe(cp) && i + adv < len) {
            size_t adv2;
            if (is_word_letter(vn_utf8_get(s + i + adv, len - i - adv, &adv2))) {
                i += adv;
                continue;
            }
        }
        break;
    }
    *end = *pos = i;
    return 1;
}

/* Letters TCVN3 cannot show as capitals: toned lower-case vowels. */
static int case_lost_in_tcvn3(uint32_t cp)
{
    vn_letter l = vn_letter_info(cp);
    return l.kind == VN_L_VOWEL && l.tone != VN_T_NONE && !l.upper;
}

/* W_NO_EVIDENCE: nothing tells the case ("ở"), or only a first capital ("Hà" could be
 * "HÀ" or "Hà"); such words follow their neighbours. */
enum { W_NO_EVIDENCE, W_ALL_CAPS, W_NOT_CAPS };

static int word_class(const unsigned char *s, size_t start, size_t end)
{
    int upper = 0, only_first = 1, first = 1;
    size_t adv;
    for (size_t i = start; i < end; i += adv, first = 0) {
        uint32_t cp = vn_utf8_get(s + i, end - i, &adv);
        if (!is_word_letter(cp) || case_lost_in_tcvn3(cp))
            continue;
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        if (c == UTF8PROC_CATEGORY_LL)
            return W_NOT_CAPS;
        if (c == UTF8PROC_CATEGORY_LU) {
            upper++;
            if (!first)
                only_first = 0;
        }
    }
    if (!upper || (upper == 1 && only_first))
        return W_NO_EVIDENCE;
    return W_ALL_CAPS;
}

static int put(vn_buf *out, uint32_t cp)
{
    char tmp[4];
    return vn_buf_append(out, tmp, vn_utf8_put(tmp, cp));
}

/* Copy [start, end) changing case: first letter per first_upper, others per rest (-1 keep, 0 lower, 1 upper). */
static int emit_word(const unsigned char *s, size_t start, size_t end, int first, int rest,
                     vn_buf *out)
{
    size_t adv;
    int seen_letter = 0;
    for (size_t i = start; i < end; i += adv) {
        uint32_t cp = vn_utf8_get(s + i, end - i, &adv);
        int mode = seen_letter ? rest : first;
        if (is_word_letter(cp))
            seen_letter = 1;
        else
            mode = -1;
        if (mode == 1)
            cp = (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp);
        else if (mode == 0)
            cp = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        if (put(out, cp) != VN_OK)
            return VN_ENOMEM;
    }
    return VN_OK;
}

/* Class of the next word after pos that has case evidence (looks at most 8 words ahead). */
static int next_evidence(const unsigned char *s, size_t len, size_t pos)
{
    size_t start, end;
    for (int n = 0; n < 8 && next_word(s, len, &pos, &start, &end); n++) {
        int c = word_class(s, start, end);
        if (c != W_NO_EVIDENCE)
            return c;
    }
    return W_NO_EVIDENCE;
}

int vn_restore_case(const char *str, size_t len, int mode, vn_buf *out)
{
    if (vn_utf8_validate(str, len) != len)
        return VN_EINVALID;
    if (vn_buf_reserve(out, len + 16) != VN_OK)
        return VN_ENOMEM;
    out->len = 0;
    const unsigned char *s = (const unsigned char *)str;
    size_t pos = 0, start, end, copied = 0;
    int prev = W_NO_EVIDENCE;
    while (next_word(s, len, &pos, &start, &end)) {
        if (vn_buf_append(out, str + copied, start - copied) != VN_OK)
            return VN_ENOMEM;
        int rc;
        if (mode & VN_CASE_NAME) {
            rc = emit_word(s, start, end, 1, 0, out);
        } else {
            int cls = word_class(s, start, end);
            int caps = cls == W_ALL_CAPS;
            if (cls == W_NO_EVIDENCE) {
                int next = next_evidence(s, len, end);
                caps = (prev == W_ALL_CAPS && next != W_NOT_CAPS) ||
                       (next == W_ALL_CAPS && prev != W_NOT_CAPS);
            } else {
                prev = cls;
            }
            rc = caps ? emit_word(s, start, end, 1, 1, out) : emit_word(s, start, end, -1, -1, out);
        }
        if (rc != VN_OK)
            return rc;
        copied = end;
    }
    if (vn_buf_append(out, str + copied, len - copied) != VN_OK)
        return VN_ENOMEM;
    out->data[out->len] = '\0';
    return VN_OK;
}
