/*
 * textout.c -- see textout.h.  These loops run once per field of every row
 * written, so they scan bytes plainly and copy runs that need no escaping
 * in one memcpy.
 */
#include "config.h"

#include "textout.h"

#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int mk_csv_is_formula(const char *p, size_t len)
{
    if (len == 0)
        return 0;
    switch (p[0]) {
    case '=':
    case '@':
    case '\t':
    case '\r':
    case '\n':
        return 1;
    case '+':
    case '-':
        break;
    default:
        return 0;
    }
    /* "+84912345678", "-5", "-1,5", "+84 91 234 5678" are data: a sign
     * followed by digits, separators and blanks only, with a digit. */
    int digits = 0;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= '0' && c <= '9')
            digits = 1;
        else if (c != '.' && c != ',' && c != ' ')
            return 1;
    }
    return !digits && len > 1;
}

/* Nonzero when the field holds the delimiter, the quote, CR or LF.  These
 * are rare and all below 0x80: eight bytes are tested per step. */
static int has_special(const unsigned char *u, size_t len, unsigned char d, unsigned char q)
{
    const uint64_t pd = MK_BYTE_PATTERN(d), pq = MK_BYTE_PATTERN(q);
    const uint64_t pn = MK_BYTE_PATTERN('\n'), pr = MK_BYTE_PATTERN('\r');
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, u + i, 8);
        if (mk_word_has_byte(w, pd) | mk_word_has_byte(w, pq) | mk_word_has_byte(w, pn) |
            mk_word_has_byte(w, pr))
            return 1;
    }
    for (; i < len; i++) {
        unsigned char c = u[i];
        if (c == d || c == q || c == '\n' || c == '\r')
            return 1;
    }
    return 0;
}

/* ---- formula_guard ------------------------------------------------------
 * A cell that a spreadsheet would run gets a leading ' (mk_csv_is_formula).
 * A spreadsheet opened with another separator, or one that ignores the
 * quotes, splits the cell at ',', ';', tab, CR, LF or the file's delimiter:
 * each piece after such a character that mk_csv_is_formula takes as a
 * formula gets a ' before it too ("x;=cmd" -> "x;'=cmd"), and a guarded
 * cell holding one of those characters is always quoted. */

static int guard_sep(unsigned char c, unsigned char d)
{
    return c == ',' || c == ';' || c == '\t' || c == '\r' || c == '\n' || c == d;
}

/* Nonzero when the piece from p[i] to the next separator is a formula. */
static int piece_is_formula(const char *p, size_t len, size_t i, unsigned char d)
{
    size_t e = i;
    while (e < len && !guard_sep((unsigned char)p[e], d))
        e++;
    return mk_csv_is_formula(p + i, e - i);
}

/* Nonzero when p[i] is a separator and the piece after it a formula. */
static int needs_inner_guard(const char *p, size_t len, size_t i, unsigned char d)
{
    return guard_sep((unsigned char)p[i], d) && piece_is_formula(p, len, i + 1, d);
}

static int has_guard_sep(const char *p, size_t len, unsigned char d)
{
    for (size_t i = 0; i < len; i++)
        if (guard_sep((unsigned char)p[i], d))
            return 1;
    return 0;
}

/* The cell's text between the quotes: quotes doubled and, with guard, a '
 * after each separator that starts a formula. */
static int write_quoted_body(mk_outfile *f, const mk_csv_style *st, const char *p, size_t len)
{
    unsigned char d = (unsigned char)st->delimiter;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        int dq = p[i] == st->quote;
        int ap = st->formula_guard && needs_inner_guard(p, len, i, d);
        if (!dq && !ap)
            continue;
        /* the run including this byte, then the doubling quote or the ' */
        if (mk_outfile_write(f, p + run, i + 1 - run) != 0 ||
            (dq && mk_outfile_putc(f, st->quote) != 0) || (ap && mk_outfile_putc(f, '\'') != 0))
            return -1;
        run = i + 1;
    }
    return mk_outfile_write(f, p + run, len - run);
}

static int needs_quotes(const mk_csv_style *st, const char *p, size_t len)
{
    if (len == 0 || p[0] == ' ' || p[0] == '\t' || p[len - 1] == ' ' || p[len - 1] == '\t')
        return 1;
    if (st->formula_guard && has_guard_sep(p, len, (unsigned char)st->delimiter))
        return 1;
    return has_special((const unsigned char *)p, len, (unsigned char)st->delimiter,
                       (unsigned char)st->quote);
}

int mk_csv_write_field(mk_outfile *f, const mk_csv_style *st, const char *p, size_t len)
{
    if (!p)
        return 0;
    int guard = st->formula_guard && mk_csv_is_formula(p, len);
    if (!guard && !needs_quotes(st, p, len))
        return mk_outfile_write(f, p, len);
    if (mk_outfile_putc(f, st->quote) != 0)
        return -1;
    if (guard && mk_outfile_putc(f, '\'') != 0)
        return -1;
    if (write_quoted_body(f, st, p, len) != 0)
        return -1;
    return mk_outfile_putc(f, st->quote);
}

/* Length of the UTF-8 sequence starting at s[0] if valid, else 0. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        return left >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0;
        if (c == 0xf4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

size_t mk_utf8_whole(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = len;
    while (i > 0 && len - i < 4 && (s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || s[i - 1] < 0xC0)
        return len;
    size_t need = s[i - 1] >= 0xF0 ? 4 : s[i - 1] >= 0xE0 ? 3 : 2;
    return len - (i - 1) < need ? i - 1 : len;
}

size_t mk_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) { /* ASCII eight bytes a step; jump to the first byte >= 0x80 */
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t high = w & 0x8080808080808080u;
            if (!high) {
                i += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t)__builtin_ctzll(high) >> 3;
#endif
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* the common letters inline: 2 bytes (C2..DF), and 3 bytes whose
         * lead has no range exception (E1..EC, EE, EF: Vietnamese U+1Exx) */
        if (c >= 0xc2 && c <= 0xdf && i + 1 < len && (s[i + 1] & 0xc0) == 0x80) {
            i += 2;
            continue;
        }
        if (c >= 0xe1 && c <= 0xef && c != 0xed && i + 2 < len && (s[i + 1] & 0xc0) == 0x80 &&
            (s[i + 2] & 0xc0) == 0x80) {
            i += 3;
            continue;
        }
        size_t n = utf8_seq(s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

/* Flags (lowest exact) the bytes of w that JSON output must look at when
 * the text is known to be valid UTF-8: controls, '"', '\\', DEL, and the
 * lead bytes 0xC2 (C1 controls) and 0xE2 (U+2028, U+2029). */
static inline uint64_t json_attention(uint64_t w)
{
    uint64_t ctl = (w - 0x2020202020202020u) & ~w & 0x8080808080808080u; /* bytes < 0x20 */
    return ctl | mk_word_has_byte(w, MK_BYTE_PATTERN('"')) |
           mk_word_has_byte(w, MK_BYTE_PATTERN('\\')) | mk_word_has_byte(w, MK_BYTE_PATTERN(0x7f)) |
           mk_word_has_byte(w, MK_BYTE_PATTERN(0xc2)) | mk_word_has_byte(w, MK_BYTE_PATTERN(0xe2));
}

/* The length of the maximal invalid subpart at s (not valid UTF-8 there):
 * a lead byte and the continuation bytes that could still have followed it,
 * or a single byte.  Each becomes one U+FFFD (the Unicode recommendation,
 * as in the sources' decoders). */
static size_t maximal_subpart(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t want = c >= 0xf0 && c <= 0xf4   ? 4
                  : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xc2 && c <= 0xdf ? 2
                                           : 1;
    size_t n = 1;
    while (n < want && n < left && (s[n] & 0xc0) == 0x80) {
        if (n == 1 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
                       (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
            break;
        n++;
    }
    return n;
}

long mk_cells_first_invalid_utf8(const mk_value *cells, size_t n, size_t *offset)
{
    for (size_t c = 0; c < n; c++) {
        if (!cells[c].ptr)
            continue;
        size_t ok = mk_utf8_valid_prefix(cells[c].ptr, cells[c].len);
        if (ok != cells[c].len) {
            *offset = ok;
            return (long)c;
        }
    }
    return -1;
}

size_t mk_utf8_repair(const char *str, size_t len, char *out, size_t *replaced)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t ok = mk_utf8_valid_prefix(str + i, len - i);
        memcpy(out + o, str + i, ok);
        o += ok;
        i += ok;
        if (i >= len)
            break;
        size_t n = maximal_subpart(s + i, len - i);
        memcpy(out + o, "\xef\xbf\xbd", 3);
        o += 3;
        i += n;
        (*replaced)++;
    }
    return o;
}

static const char hex[] = "0123456789abcdef";

int mk_json_write_string(mk_outfile *f, const char *str, size_t len, int replace,
                         size_t *replaced)
{
    const unsigned char *s = (const unsigned char *)str;
    if (replace == MK_JSON_CHECK && mk_utf8_valid_prefix(str, len) != len)
        return -2;
    if (mk_outfile_putc(f, '"') != 0)
        return -1;
    int valid = replace != MK_JSON_REPLACE; /* checked above, or known: no byte is invalid */
    size_t run = 0, i = 0;
    while (i < len) {
        if (valid && i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t m = json_attention(w);
            if (!m) {
                i += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t)__builtin_ctzll(m) >> 3;
#endif
        }
        unsigned char c = s[i];
        size_t n = 1;
        const char *esc = NULL;
        char ubuf[7];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
            i++;
            continue;
        }
        if (valid && c >= 0x80 && c != 0xc2 && c != 0xe2) {
            i++; /* valid text: a letter, or the inside of one after a word step */
            continue;
        }
        if (c >= 0x80) {
            n = utf8_seq(s + i, len - i);
            if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0) { /* C1 control */
                ubuf[0] = '\\', ubuf[1] = 'u', ubuf[2] = '0', ubuf[3] = '0';
                ubuf[4] = hex[s[i + 1] >> 4], ubuf[5] = hex[s[i + 1] & 15], ubuf[6] = 0;
                esc = ubuf;
            } else if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
                esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
            } else if (n == 0) {
                esc = "\xef\xbf\xbd";
                n = maximal_subpart(s + i, len - i);
                if (replaced)
                    (*replaced)++;
            } else {
                i += n;
                continue;
            }
        } else {
            switch (c) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            default:
                ubuf[0] = '\\', ubuf[1] = 'u', ubuf[2] = '0', ubuf[3] = '0';
                ubuf[4] = hex[c >> 4], ubuf[5] = hex[c & 15], ubuf[6] = 0;
                esc = ubuf;
            }
        }
        if (mk_outfile_write(f, s + run, i - run) != 0 || mk_outfile_puts(f, esc) != 0)
            return -1;
        i += n;
        run = i;
    }
    if (mk_outfile_write(f, s + run, len - run) != 0)
        return -1;
    return mk_outfile_putc(f, '"');
}

void mk_json_put_str(mk_outfile *f, const char *s)
{
    mk_json_write_string(f, s, strlen(s), MK_JSON_REPLACE, NULL);
}

void mk_json_put_u64(mk_outfile *f, uint64_t v)
{
    char b[32];
    mk_outfile_write(f, b, (size_t)snprintf(b, sizeof b, "%" PRIu64, v));
}
