/*
 * admin_key.c -- match keys of unit names and the type words before them.
 *
 * One key for every way a name is written: "Phường Thuận Hoà", "P. Thuận
 * Hòa", "phường thuận hoà", "P.THUẬN HÒA" all give type Phường and key
 * "thuân hoa2".  The tone mark is taken off the vowel and written after the
 * syllable, so old and new tone placement (hòa/hoà, thủy/thuỷ) agree without
 * a list of syllables; case is folded, so TCVN3's lost capitals and legacy
 * damage ("Huyện ý Yên") match too.  Decomposed text (NFD) gives the
 * same key: combining tone marks are tones, and a circumflex, breve or horn
 * joins the letter before it, so no normalization is needed first.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin.h"

/* The per-character helpers are forced inline: adm_key_make runs them for
 * every character of every part (callgrind: -230 instructions a row). */
#define HOT static inline __attribute__((always_inline))

typedef struct key_writer {
    adm_key *k;
    int cls;      /* 0 between syllables, 1 letters, 2 digits */
    int tone;     /* tone of the syllable being written */
    size_t start; /* where the syllable began */
} key_writer;

HOT void put(key_writer *w, const char *s, size_t n)
{
    adm_key *k = w->k;
    if (k->len + n >= ADM_KEY_MAX - 8)
        return;                    /* too long: cut (such a name matches nothing) */
    for (size_t i = 0; i < n; i++) /* 1 to 3 bytes: no call */
        k->text[k->len + i] = s[i];
    k->len += n;
}

static void end_syllable(key_writer *w)
{
    adm_key *k = w->k;
    if (w->cls == 1 && w->tone) {
        char d = (char)('0' + w->tone);
        put(w, &d, 1);
    } else if (w->cls == 2) { /* "05" -> "5" */
        size_t z = w->start;
        while (z + 1 < k->len && k->text[z] == '0')
            z++;
        memmove(k->text + w->start, k->text + z, k->len - z);
        k->len -= z - w->start;
    }
    w->cls = 0;
    w->tone = 0;
}

HOT void begin(key_writer *w, int cls)
{
    if (w->cls == cls)
        return;
    if (w->cls)
        end_syllable(w);
    if (w->k->len)
        put(w, " ", 1);
    w->start = w->k->len;
    w->cls = cls;
}

static size_t put_utf8(char *b, uint32_t cp)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    b[0] = (char)(0xE0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Next code point of s (len > 0); invalid bytes come back as 0xFFFD. */
HOT uint32_t next_cp(const unsigned char *s, size_t len, size_t *used)
{
    unsigned c = s[0];
    *used = 1;
    if (c < 0x80)
        return c;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (!n || n > len)
        return 0xFFFD;
    uint32_t cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *used = n;
    return cp;
}

static int combining_tone(uint32_t cp)
{
    switch (cp) {
    case 0x0301:
        return 1;
    case 0x0300:
        return 2;
    case 0x0309:
        return 3;
    case 0x0303:
        return 4;
    case 0x0323:
        return 5;
    default:
        return 0;
    }
}

/* The letter just written with a circumflex, breve or horn on it. */
static void combine_last(key_writer *w, uint32_t mark)
{
    adm_key *k = w->k;
    if (w->cls != 1 || !k->len)
        return;
    char c = k->text[k->len - 1];
    const char *with = NULL;
    if (mark == 0x0302)
        with = c == 'a' ? "â" : c == 'e' ? "ê" : c == 'o' ? "ô" : NULL;
    else if (mark == 0x0306)
        with = c == 'a' ? "ă" : NULL;
    else
        with = c == 'o' ? "ơ" : c == 'u' ? "ư" : NULL;
    if (with) {
        k->len--;
        put(w, with, 2);
    }
}

HOT void add_cp(key_writer *w, uint32_t cp)
{
    char b[4];
    const adm_letter *l = NULL;
    if (cp >= 0xC0 && cp <= 0x1B0)
        l = &adm_letters_0[cp - 0xC0];
    else if (cp >= 0x1EA0 && cp <= 0x1EF9)
        l = &adm_letters_1[cp - 0x1EA0];
    if (cp < 0x80 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')) {
        begin(w, 1);
        b[0] = (char)(cp | 0x20);
        put(w, b, 1);
    } else if (cp >= '0' && cp <= '9') {
        begin(w, 2);
        b[0] = (char)cp;
        put(w, b, 1);
    } else if (cp == '\'' || cp == 0x2019 || cp == 0x02BC) {
        begin(w, 1); /* M'gar, M’gar */
        put(w, "'", 1);
    } else if (l && l->base) {
        begin(w, 1);
        put(w, b, put_utf8(b, l->base));
        if (l->tone)
            w->tone = l->tone;
    } else if (combining_tone(cp)) {
        if (w->cls == 1)
            w->tone = combining_tone(cp);
    } else if (cp == 0x0302 || cp == 0x0306 || cp == 0x031B) {
        combine_last(w, cp); /* decomposed text: â ă ê ô ơ ư from their parts */
    } else if (cp >= 0x0300 && cp <= 0x036F) {
        /* another combining mark: ignored */
    } else if (cp >= 0x80 && cp != 0xFFFD && !(cp >= 0x2000 && cp <= 0x206F) && cp != 0xA0) {
        begin(w, 1); /* a letter of another script: kept */
        put(w, b, put_utf8(b, cp));
    } else if (w->cls) {
        end_syllable(w);
    }
}

/* Type words as keys, longest first where one begins another. */
#define W(s) s, sizeof s - 1
static const struct {
    const char *key;
    size_t len;
    int type;
} type_words[] = {
    {W("thi5 trân1"), ADM_T_TT}, {W("thi5 xa4"), ADM_T_TX},    {W("thanh2 phô1"), ADM_T_TP},
    {W("đăc5 khu"), ADM_T_DK},   {W("phương2"), ADM_T_PHUONG}, {W("xa4"), ADM_T_XA},
    {W("quân5"), ADM_T_QUAN},    {W("huyên5"), ADM_T_HUYEN},   {W("tinh3"), ADM_T_TINH},
    {W("tt"), ADM_T_TT},         {W("tx"), ADM_T_TX},          {W("tp"), ADM_T_TP},
    {W("p"), ADM_T_PHUONG},      {W("x"), ADM_T_XA},           {W("q"), ADM_T_QUAN},
    {W("h"), ADM_T_HUYEN},       {W("t"), ADM_T_TINH},         {W("đk"), ADM_T_DK},
};
#undef W

static void strip_type(adm_key *k)
{
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++) {
        size_t n = type_words[i].len;
        if (k->len > n + 1 && k->text[n] == ' ' && k->text[0] == type_words[i].key[0] &&
            memcmp(k->text, type_words[i].key, n) == 0) {
            memmove(k->text, k->text + n + 1, k->len - n - 1);
            k->len -= n + 1;
            k->type = type_words[i].type;
            return;
        }
    }
}

void adm_key_make(const char *s, size_t len, int strip, adm_key *k)
{
    key_writer w = {k, 0, 0, 0};
    k->len = 0;
    k->type = ADM_T_NONE;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        int cls = (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? 1 : c >= '0' && c <= '9' ? 2 : 0;
        if (cls && w.cls == cls && k->len < ADM_KEY_MAX - 8) {
            /* the common case, inside an ASCII syllable: one byte, no calls */
            k->text[k->len++] = (char)(cls == 1 ? c | 0x20 : c);
            i++;
            continue;
        }
        size_t used;
        uint32_t cp = next_cp(p + i, len - i, &used);
        add_cp(&w, cp);
        i += used;
    }
    if (w.cls)
        end_syllable(&w);
    k->text[k->len] = '\0';
    if (strip)
        strip_type(k);
    k->text[k->len] = '\0';
}

int adm_type_of(const char *division_type)
{
    adm_key k;
    adm_key_make(division_type, strlen(division_type), 0, &k);
    if (strncmp(k.text, "thanh2 phô1", 11) == 0)
        return ADM_T_TP; /* "thành phố trung ương" */
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++)
        if (strcmp(k.text, type_words[i].key) == 0)
            return type_words[i].type;
    return ADM_T_NONE;
}

int adm_type_levels(int type)
{
    switch (type) {
    case ADM_T_PHUONG:
    case ADM_T_XA:
    case ADM_T_TT:
    case ADM_T_DK:
        return 1;
    case ADM_T_QUAN:
    case ADM_T_HUYEN:
    case ADM_T_TX:
        return 2;
    case ADM_T_TP:
        return 2 | 4;
    case ADM_T_TINH:
        return 4;
    default:
        return 0;
    }
}

const char *adm_type_word(int type)
{
    static const char *const words[] = {"",       "Tỉnh",   "Thành phố", "Quận",     "Huyện",
                                        "Thị xã", "Phường", "Xã",        "Thị trấn", "Đặc khu"};
    return type >= 0 && type <= ADM_T_DK ? words[type] : "";
}

void adm_key_fold(const adm_key *k, adm_key *out)
{
    static const struct {
        const char *from, *to;
    } folds[] = {{"ă", "a"}, {"â", "a"}, {"ê", "e"}, {"ô", "o"},
                 {"ơ", "o"}, {"ư", "u"}, {"đ", "d"}};
    size_t n = 0;
    int after_letter = 0;
    for (size_t i = 0; i < k->len && n < ADM_KEY_MAX - 1;) {
        unsigned char c = (unsigned char)k->text[i];
        size_t used = 1;
        const char *put = NULL;
        for (size_t f = 0; f < sizeof folds / sizeof folds[0]; f++) {
            size_t fl = strlen(folds[f].from);
            if (i + fl <= k->len && memcmp(k->text + i, folds[f].from, fl) == 0) {
                put = folds[f].to;
                used = fl;
            }
        }
        if (!put && c >= '0' && c <= '9' && after_letter) {
            i++; /* a tone digit */
            continue;
        }
        after_letter = put || (c >= 'a' && c <= 'z') || c >= 0x80;
        if (put)
            out->text[n++] = put[0];
        else
            memcpy(out->text + n, k->text + i, used), n += used;
        i += used;
    }
    out->text[n] = '\0';
    out->len = n;
    out->type = k->type;
}

const char *adm_shown(const char *s, size_t len, char *buf, size_t size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len && o + 8 < size;) {
        size_t used;
        uint32_t cp = next_cp(p + i, len - i, &used);
        if ((cp == 0xFFFD && used == 1) || cp < 0x20 || cp == 0x7F) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02X", p[i]);
            i++;
            continue;
        }
        memcpy(buf + o, s + i, used);
        o += used;
        i += used;
    }
    buf[o] = '\0';
    return buf;
}
