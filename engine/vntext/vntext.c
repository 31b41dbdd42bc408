/*
 * vntext.c -- field decoders: UTF-8, single-byte tables, VNI pairs, iconv.
 *
 * Four decoding strategies, chosen once when the decoder is made:
 *   utf-8   validate and quick-check NFC in one pass; zero copy when clean.
 *   table   one byte -> one code point (TCVN3, VPS, VISCII, Latin-1,
 *           Windows-1252).
 *   vni     VNI-Windows: a base letter and a following mark byte make one
 *           letter; decoded greedily (pair, then single byte, then 1252).
 *   toned   Windows-1258 and TCVN 5712 VN1, whose tone marks are combining
 *           bytes: table, plus composing vowel + tone byte inline; NFC only
 *           for a tone mark on anything else.
 * For the encodings glibc knows (VISCII, CP1258, TCVN5712-1) the byte table
 * is read from glibc iconv when the decoder is made -- glibc's mapping, one
 * iconv handle per decoder -- and not called per field: an iconv() call per
 * 17-byte field measured 46 MB/s against 400+ MB/s for the table loop.
 * Every strategy first checks whether the field is all bytes that map to
 * themselves (ASCII, minus the C0 bytes some encodings use for letters);
 * such a field is returned as it is.
 */
#include "vntext_internal.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- vn_buf ----------------------------------------------------------- */

void vn_buf_init(vn_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

int vn_buf_reserve(vn_buf *b, size_t cap)
{
    if (cap <= b->cap)
        return VN_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < cap) {
        if (ncap > SIZE_MAX / 2) {
            ncap = cap;
            break;
        }
        ncap *= 2;
    }
    char *p = realloc(b->data, ncap);
    if (!p)
        return VN_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return VN_OK;
}

int vn_buf_append(vn_buf *b, const char *s, size_t len)
{
    if (len > SIZE_MAX - b->len - 1 || vn_buf_reserve(b, b->len + len + 1) != VN_OK)
        return VN_ENOMEM;
    if (len)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    return VN_OK;
}

void vn_buf_free(vn_buf *b)
{
    free(b->data);
    vn_buf_init(b);
}

/* ---- Encoding names --------------------------------------------------- */

enum { ENC_UTF8, ENC_UTF16, ENC_UTF16LE, ENC_UTF16BE, ENC_CP1258, ENC_VISCII, ENC_TCVN3,
       ENC_VNI, ENC_VPS, ENC_VN1, ENC_LATIN1, ENC_CP1252 };
enum { KIND_UTF8, KIND_TABLE, KIND_VNI, KIND_TONED };

static const struct encoding {
    int id;
    const char *canonical;
    const char *display; /* in messages */
    const char *aliases; /* '|'-separated, canonical included */
    const char *iconv_name;
} encodings[] = {
    {ENC_UTF8, "utf-8", "UTF-8", "utf-8|utf8", NULL},
    {ENC_UTF16, "utf-16", "UTF-16", "utf-16|utf16", NULL},
    {ENC_UTF16LE, "utf-16le", "UTF-16LE", "utf-16le|utf16le", NULL},
    {ENC_UTF16BE, "utf-16be", "UTF-16BE", "utf-16be|utf16be", NULL},
    {ENC_CP1258, "cp1258", "Windows-1258", "cp1258|windows-1258", "CP1258"},
    {ENC_VISCII, "viscii", "VISCII", "viscii", "VISCII"},
    {ENC_TCVN3, "tcvn3", "TCVN3 (ABC)", "tcvn3|abc", NULL},
    {ENC_VNI, "vni", "VNI-Windows", "vni|vni-windows", NULL},
    {ENC_VPS, "vps", "VPS", "vps", NULL},
    {ENC_VN1, "tcvn5712-1", "TCVN 5712 VN1", "tcvn5712-1|vn1", "TCVN5712-1"},
    {ENC_LATIN1, "latin1", "Latin-1", "latin1|iso-8859-1", NULL},
    {ENC_CP1252, "cp1252", "Windows-1252", "cp1252|windows-1252", NULL},
};
#define N_ENCODINGS (sizeof encodings / sizeof encodings[0])

const char *vn_encoding_names(void)
{
    return "utf-8 (utf8), utf-16 (with BOM), utf-16le, utf-16be, cp1258 (windows-1258), viscii, "
           "tcvn3 (abc), vni (vni-windows), vps, tcvn5712-1 (vn1), latin1 (iso-8859-1), "
           "cp1252 (windows-1252)";
}

static const struct encoding *find_encoding(const char *name)
{
    if (!name || !*name)
        return &encodings[0];
    size_t n = strlen(name);
    for (size_t i = 0; i < N_ENCODINGS; i++) {
        const char *a = encodings[i].aliases;
        while (*a) {
            size_t alen = strcspn(a, "|");
            if (alen == n && strncasecmp(a, name, n) == 0)
                return &encodings[i];
            a += alen;
            if (*a == '|')
                a++;
        }
    }
    return NULL;
}

const char *vn_encoding_canonical(const char *name)
{
    const struct encoding *e = find_encoding(name);
    return e ? e->canonical : NULL;
}

int vn_encoding_is_stream(const char *name)
{
    const struct encoding *e = find_encoding(name);
    return e && (e->id == ENC_UTF16 || e->id == ENC_UTF16LE || e->id == ENC_UTF16BE);
}

/* ---- Decoder ---------------------------------------------------------- */

typedef struct utf8_bytes {
    unsigned char len; /* 0: undefined byte */
    char b[3];
} utf8_bytes;

struct vn_decoder {
    const struct encoding *enc;
    int kind;
    int on_invalid;
    uint64_t replacements;
    unsigned char passthrough[256]; /* byte decodes to itself */
    int ascii_identity;             /* every byte 0x20..0x7F decodes to itself */
    utf8_bytes table[256];          /* KIND_TABLE and KIND_VNI single bytes */
    vn_vni_base vni_base[256];
    vn_vni_mark vni_mark[256];
    uint32_t cps[256];              /* byte -> code point (VN_NO_CP: undefined) */
    unsigned char tone_byte[256];   /* KIND_TONED: VN_T_* of a combining tone byte, else 0 */
    unsigned char vowel_byte[256];  /* KIND_TONED: byte is a toneless Vietnamese vowel */
    utf8_bytes toned[256][VN_TONES]; /* KIND_TONED: vowel byte + tone, as UTF-8 */
    vn_buf work;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* One byte through iconv, VN_NO_CP when glibc says it is undefined. */
static uint32_t iconv_byte(iconv_t cd, unsigned char byte)
{
    char in[1] = {(char)byte};
    char out[16];
    char *ip = in, *op = out;
    size_t il = 1, ol = sizeof out;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
        return VN_NO_CP;
    if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1 || op == out)
        return VN_NO_CP;
    size_t adv;
    uint32_t cp = vn_utf8_get((const unsigned char *)out, (size_t)(op - out), &adv);
    return adv == (size_t)(op - out) ? cp : VN_NO_CP;
}

static void load_table(vn_decoder *d, const uint32_t cps[256])
{
    static const uint32_t combining_tones[VN_TONES] = {0, 0x0300, 0x0309, 0x0303, 0x0301, 0x0323};
    for (int b = 0; b < 256; b++) {
        d->cps[b] = cps[b];
        for (int t = 1; t < VN_TONES; t++)
            if (cps[b] == combining_tones[t])
                d->tone_byte[b] = (unsigned char)t;
        vn_letter l = cps[b] == VN_NO_CP ? (vn_letter){0, 0, 0, 0} : vn_letter_info(cps[b]);
        d->vowel_byte[b] = (unsigned char)(l.kind == VN_L_VOWEL && l.tone == VN_T_NONE);
        for (int t = 0; d->vowel_byte[b] && t < VN_TONES; t++) {
            char tmp[4];
            uint32_t cp = vn_vowel_cp(l.vowel, t, l.upper);
            d->toned[b][t].len = (unsigned char)vn_utf8_put(tmp, cp);
            memcpy(d->toned[b][t].b, tmp, d->toned[b][t].len);
        }
        utf8_bytes *t = &d->table[b];
        memset(t, 0, sizeof *t);
        if (cps[b] != VN_NO_CP) {
            char tmp[4];
            t->len = (unsigned char)vn_utf8_put(tmp, cps[b]);
            memcpy(t->b, tmp, t->len);
        }
        d->passthrough[b] = (unsigned char)(b < 0x80 && cps[b] == (uint32_t)b);
    }
}

vn_decoder *vn_decoder_new(const char *encoding, int on_invalid, char *err, size_t errlen)
{
    const struct encoding *enc = find_encoding(encoding);
    if (!enc) {
        set_err(err, errlen, "unknown encoding \"%s\": use one of %s, or auto", encoding,
                vn_encoding_names());
        return NULL;
    }
    if (on_invalid != VN_REJECT && on_invalid != VN_REPLACE) {
        set_err(err, errlen, "on_invalid must be VN_REJECT or VN_REPLACE");
        return NULL;
    }
    vn_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        set_err(err, errlen, "out of memory creating a %s decoder", enc->display);
        return NULL;
    }
    d->enc = enc;
    d->on_invalid = on_invalid;
    iconv_t cd = (iconv_t)-1;
    vn_buf_init(&d->work);
    uint32_t cps[256];
    switch (enc->id) {
    case ENC_UTF8:
    case ENC_UTF16:
    case ENC_UTF16LE:
    case ENC_UTF16BE:
        d->kind = KIND_UTF8;
        for (int b = 0; b < 0x80; b++)
            d->passthrough[b] = 1;
        return d;
    case ENC_TCVN3:
        vn_table_tcvn3(cps);
        break;
    case ENC_VPS:
        vn_table_vps(cps);
        break;
    case ENC_LATIN1:
        vn_table_latin1(cps);
        break;
    case ENC_CP1252:
        vn_table_cp1252(cps);
        break;
    case ENC_VNI:
        vn_table_vni_single(cps);
        vn_vni_tables(d->vni_base, d->vni_mark);
        break;
    default: /* glibc iconv */
        cd = iconv_open("UTF-8", enc->iconv_name);
        if (cd == (iconv_t)-1) {
            set_err(err, errlen,
                    "cannot decode %s: this system's iconv does not know %s (%s); glibc has it",
                    enc->display, enc->iconv_name, strerror(errno));
            free(d);
            return NULL;
        }
        for (int b = 0; b < 256; b++)
            cps[b] = iconv_byte(cd, (unsigned char)b);
        break;
    }
    load_table(d, cps);
    if (cd != (iconv_t)-1)
        iconv_close(cd); /* glibc's table is loaded; no iconv call per field */
    d->kind = KIND_TABLE;
    if (enc->id == ENC_VNI)
        d->kind = KIND_VNI;
    else if (enc->id == ENC_CP1258 || enc->id == ENC_VN1)
        d->kind = KIND_TONED;
    /* VNI: an ASCII letter may take the next byte's mark */
    d->ascii_identity = d->kind != KIND_VNI;
    for (int b = 0x20; b < 0x80; b++)
        d->ascii_identity &= d->passthrough[b];
    return d;
}

void vn_decoder_free(vn_decoder *d)
{
    if (!d)
        return;
    vn_buf_free(&d->work);
    free(d);
}

const char *vn_decoder_name(const vn_decoder *d)
{
    return d->enc->canonical;
}

uint64_t vn_decoder_replacements(const vn_decoder *d)
{
    return d->replacements;
}

/* ---- Errors ----------------------------------------------------------- */

static int reject(vn_error *e, size_t offset, const char *fmt, ...)
{
    if (e) {
        e->offset = offset;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return VN_EINVALID;
}

static int out_of_memory(vn_error *e, const vn_decoder *d, size_t len)
{
    if (e) {
        e->offset = 0;
        snprintf(e->message, sizeof e->message, "out of memory decoding a %zu-byte %s field", len,
                 d->enc->display);
    }
    return VN_ENOMEM;
}

static const char REPLACEMENT_UTF8[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

/* ---- UTF-8 ------------------------------------------------------------ */

/* Bytes of the longest prefix of a well-formed sequence at s (>= 1): one U+FFFD replaces them. */
static size_t utf8_maximal_subpart(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 1;
    size_t i = 1;
    while (i < need && i < avail) {
        unsigned char b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80)
            break;
        i++;
    }
    return i;
}

static int utf8_reject(vn_error *e, const unsigned char *s, size_t len, size_t bad)
{
    size_t sub = utf8_maximal_subpart(s + bad, len - bad);
    if (bad + sub == len && sub > 1)
        return reject(e, bad, "truncated UTF-8 sequence at byte offset %zu: the field ends after "
                              "%zu of its bytes (first 0x%02X)",
                      bad, sub, s[bad]);
    if (sub > 1 || (s[bad] >= 0xC2 && s[bad] <= 0xF4 && bad + 1 < len))
        return reject(e, bad, "invalid UTF-8 byte 0x%02X at byte offset %zu (followed by 0x%02X, "
                              "which cannot continue it)",
                      s[bad], bad, s[bad + sub]);
    if (s[bad] >= 0xC2 && s[bad] <= 0xF4)
        return reject(e, bad, "truncated UTF-8 sequence at byte offset %zu: the field ends after "
                              "0x%02X",
                      bad, s[bad]);
    return reject(e, bad, "invalid UTF-8 byte 0x%02X at byte offset %zu", s[bad], bad);
}

static int decode_utf8(vn_decoder *d, const char *src, size_t len, const char **out,
                       size_t *out_len, vn_buf *scratch, vn_error *e, int on_invalid)
{
    size_t bad = 0;
    int r = vn_utf8_scan(src, len, &bad);
    if (r == 0) {
        *out = src;
        *out_len = len;
        return VN_OK;
    }
    const char *text = src;
    size_t text_len = len;
    if (r == 2) {
        const unsigned char *s = (const unsigned char *)src;
        if (on_invalid == VN_REJECT)
            return utf8_reject(e, s, len, bad);
        /* Rebuild into work with U+FFFD for each maximal invalid subpart. */
        vn_buf *w = &d->work;
        if (vn_buf_reserve(w, len * 3 + 4) != VN_OK)
            return out_of_memory(e, d, len);
        memcpy(w->data, src, bad);
        size_t o = bad, i = bad;
        while (i < len) {
            size_t n = vn_utf8_validate(src + i, len - i);
            memcpy(w->data + o, src + i, n);
            o += n;
            i += n;
            if (i >= len)
                break;
            i += utf8_maximal_subpart(s + i, len - i);
            memcpy(w->data + o, REPLACEMENT_UTF8, 3);
            o += 3;
            d->replacements++;
            if (e)
                e->replacements++;
        }
        w->len = o;
        text = w->data;
        text_len = o;
    }
    const char *n_out;
    size_t n_len;
    int rc = vn_nfc(text, text_len, &n_out, &n_len, scratch);
    if (rc == VN_ENOMEM)
        return out_of_memory(e, d, len);
    if (rc != VN_OK)
        return reject(e, 0, "internal error: NFC of repaired UTF-8 failed");
    if (n_out == text && text != src) { /* already NFC, but lives in work */
        if (vn_buf_reserve(scratch, text_len + 1) != VN_OK)
            return out_of_memory(e, d, len);
        memcpy(scratch->data, text, text_len);
        scratch->len = text_len;
        n_out = scratch->data;
    }
    *out = n_out;
    *out_len = n_len;
    return VN_OK;
}

/* ---- Single-byte tables and VNI --------------------------------------- */

/* The end of the run of printable ASCII (0x20..0x7F) that starts at i,
 * eight bytes a step: most of a Vietnamese field is such bytes, and the
 * decoders copy a run in one go when it decodes to itself. */
static inline size_t printable_run(const unsigned char *s, size_t i, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* high bit: >= 0x80; the borrow test: < 0x20 (its lowest flag is exact) */
        uint64_t m = (w | ((w - 0x2020202020202020u) & ~w)) & 0x8080808080808080u;
        if (m)
            return i + ((size_t)__builtin_ctzll(m) >> 3);
        i += 8;
    }
#endif
    while (i < len && s[i] >= 0x20 && s[i] < 0x80)
        i++;
    return i;
}

static int undefined_byte(vn_decoder *d, vn_error *e, size_t offset, unsigned char byte,
                          int on_invalid, char **o)
{
    if (on_invalid == VN_REJECT)
        return reject(e, offset, "byte 0x%02X at byte offset %zu is not defined in %s", byte,
                      offset, d->enc->display);
    memcpy(*o, REPLACEMENT_UTF8, 3);
    *o += 3;
    d->replacements++;
    if (e)
        e->replacements++;
    return VN_OK;
}

static int decode_table(vn_decoder *d, const unsigned char *s, size_t start, size_t len,
                        char *o, size_t *olen, vn_error *e, int on_invalid)
{
    char *o0 = o;
    for (size_t i = start; i < len; i++) {
        if (d->ascii_identity) {
            size_t j = printable_run(s, i, len);
            memcpy(o, s + i, j - i);
            o += j - i;
            i = j;
            if (i == len)
                break;
        }
        const utf8_bytes *t = &d->table[s[i]];
        if (t->len) {
            memcpy(o, t->b, 3); /* room for 3 per input byte is reserved */
            o += t->len;
        } else if (undefined_byte(d, e, i, s[i], on_invalid, &o) != VN_OK) {
            return VN_EINVALID;
        }
    }
    *olen = (size_t)(o - o0);
    return VN_OK;
}

static int decode_vni(vn_decoder *d, const unsigned char *s, size_t start, size_t len, char *o,
                      size_t *olen, vn_error *e, int on_invalid)
{
    char *o0 = o;
    for (size_t i = start; i < len; i++) {
        unsigned char c = s[i];
        if (i + 1 < len && d->vni_base[c].vowel >= 0 && d->vni_mark[s[i + 1]].modifier >= 0) {
            uint32_t cp = vn_vni_compose(d->vni_base[c], d->vni_mark[s[i + 1]]);
            if (cp != VN_NO_CP) {
                o += vn_utf8_put(o, cp);
                i++;
                continue;
            }
        }
        const utf8_bytes *t = &d->table[c];
        if (t->len) {
            memcpy(o, t->b, 3);
            o += t->len;
        } else if (undefined_byte(d, e, i, c, on_invalid, &o) != VN_OK) {
            return VN_EINVALID;
        }
    }
    *olen = (size_t)(o - o0);
    return VN_OK;
}

/* ---- Tone-mark bytes (Windows-1258, TCVN 5712 VN1) ------------------- */

/*
 * These encodings spell most toned letters as a letter byte followed by a
 * combining tone byte.  The byte table comes from glibc; the composition is
 * done here for the Vietnamese vowels (the common case, no NFC call), and a
 * tone mark after anything else is left for NFC, which gives what glibc's
 * own composing decoder gives, since both are canonical compositions.
 */
static int decode_toned(vn_decoder *d, const unsigned char *s, size_t start, size_t len, char *o,
                        size_t *olen, int *needs_nfc, vn_error *e, int on_invalid)
{
    char *o0 = o, *last = NULL; /* last: where the last toneless vowel was written */
    unsigned char last_byte = 0;
    for (size_t i = start; i < len; i++) {
        if (d->ascii_identity) {
            size_t j = printable_run(s, i, len);
            if (j > i) {
                memcpy(o, s + i, j - i);
                o += j - i;
                last_byte = s[j - 1];
                last = d->vowel_byte[last_byte] ? o - 1 : NULL;
                i = j;
                if (i == len)
                    break;
            }
        }
        unsigned char c = s[i];
        int tone = d->tone_byte[c];
        if (tone && last) {
            const utf8_bytes *v = &d->toned[last_byte][tone];
            o = last; /* rewrite the vowel with its tone */
            memcpy(o, v->b, 3);
            o += v->len;
            last = NULL;
            continue;
        }
        const utf8_bytes *t = &d->table[c];
        if (!t->len) {
            if (undefined_byte(d, e, i, c, on_invalid, &o) != VN_OK)
                return VN_EINVALID;
            last = NULL;
            continue;
        }
        last = NULL;
        if (tone) {
            *needs_nfc = 1; /* a tone mark after a consonant, a toned vowel, ... */
        } else if (d->vowel_byte[c]) {
            last = o;
            last_byte = c;
        }
        memcpy(o, t->b, 3);
        o += t->len;
    }
    *olen = (size_t)(o - o0);
    return VN_OK;
}

/* ---- Dispatch --------------------------------------------------------- */

int vn_decode_field_mode(vn_decoder *d, const char *src, size_t len, const char **out,
                         size_t *out_len, vn_buf *scratch, vn_error *e, int on_invalid)
{
    if (e) {
        e->offset = 0;
        e->replacements = 0;
        e->message[0] = '\0';
    }
    if (d->kind == KIND_UTF8)
        return decode_utf8(d, src, len, out, out_len, scratch, e, on_invalid);

    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < len && d->passthrough[s[i]])
        i++;
    if (i == len) {
        *out = src;
        *out_len = len;
        return VN_OK;
    }
    if (d->kind == KIND_VNI && i > 0 && d->vni_base[s[i - 1]].vowel >= 0)
        i--; /* the ASCII letter before a mark byte is the base of a pair */
    if (d->kind == KIND_TONED && i > 0 && d->vowel_byte[s[i - 1]])
        i--; /* the ASCII vowel before a tone byte takes the tone */
    if (len > (SIZE_MAX - 16) / 3 || vn_buf_reserve(scratch, len * 3 + 16) != VN_OK)
        return out_of_memory(e, d, len);
    memcpy(scratch->data, src, i);
    size_t n = 0;
    int rc;
    switch (d->kind) {
    case KIND_TABLE:
        rc = decode_table(d, s, i, len, scratch->data + i, &n, e, on_invalid);
        scratch->len = i + n;
        break;
    case KIND_VNI:
        rc = decode_vni(d, s, i, len, scratch->data + i, &n, e, on_invalid);
        scratch->len = i + n;
        break;
    default: {
        int needs_nfc = 0;
        rc = decode_toned(d, s, i, len, scratch->data + i, &n, &needs_nfc, e, on_invalid);
        scratch->len = i + n;
        if (rc == VN_OK && needs_nfc && !vn_is_nfc_quick(scratch->data, scratch->len)) {
            if (vn_nfc_into(scratch->data, scratch->len, &d->work) != VN_OK ||
                vn_buf_reserve(scratch, d->work.len + 1) != VN_OK)
                return out_of_memory(e, d, len);
            memcpy(scratch->data, d->work.data, d->work.len);
            scratch->len = d->work.len;
        }
        break;
    }
    }
    if (rc != VN_OK)
        return rc;
    *out = scratch->data;
    *out_len = scratch->len;
    return VN_OK;
}

int vn_decode_field(vn_decoder *d, const char *src, size_t len, const char **out, size_t *out_len,
                    vn_buf *scratch, vn_error *e)
{
    return vn_decode_field_mode(d, src, len, out, out_len, scratch, e, d->on_invalid);
}

/* ---- Byte-order marks ------------------------------------------------- */

size_t vn_bom_sniff(const char *str, size_t len, const char **name)
{
    const unsigned char *s = (const unsigned char *)str;
    const char *dummy;
    if (!name)
        name = &dummy;
    *name = NULL;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        *name = "utf-8";
        return 3;
    }
    if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        *name = "utf-16le";
        return 2;
    }
    if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        *name = "utf-16be";
        return 2;
    }
    return 0;
}
