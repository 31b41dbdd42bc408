/*
 * vn_tables.c -- the Vietnamese alphabet and the legacy byte tables built on it.
 *
 * Tables are written in the terms the standards use -- "this byte is vowel o
 * with a hook above, lower case" -- and turned into code points through one
 * alphabet table, instead of as 256 raw numbers per encoding.  That keeps
 * each encoding to a screen of data that can be checked by eye; the unit
 * tests check every byte against independently derived tables.
 */
#include "vntext_internal.h"

#include <pthread.h>
#include <string.h>

/* Lower-case vowel letters: [vowel][tone] with tones none, grave, hook, tilde, acute, dot. */
static const uint32_t vowel_lower[VN_VOWELS][VN_TONES] = {
    [VN_A] = {0x0061, 0x00E0, 0x1EA3, 0x00E3, 0x00E1, 0x1EA1},
    [VN_AW] = {0x0103, 0x1EB1, 0x1EB3, 0x1EB5, 0x1EAF, 0x1EB7},
    [VN_AA] = {0x00E2, 0x1EA7, 0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD},
    [VN_E] = {0x0065, 0x00E8, 0x1EBB, 0x1EBD, 0x00E9, 0x1EB9},
    [VN_EE] = {0x00EA, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EBF, 0x1EC7},
    [VN_I] = {0x0069, 0x00EC, 0x1EC9, 0x0129, 0x00ED, 0x1ECB},
    [VN_O] = {0x006F, 0x00F2, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD},
    [VN_OO] = {0x00F4, 0x1ED3, 0x1ED5, 0x1ED7, 0x1ED1, 0x1ED9},
    [VN_OW] = {0x01A1, 0x1EDD, 0x1EDF, 0x1EE1, 0x1EDB, 0x1EE3},
    [VN_U] = {0x0075, 0x00F9, 0x1EE7, 0x0169, 0x00FA, 0x1EE5},
    [VN_UW] = {0x01B0, 0x1EEB, 0x1EED, 0x1EEF, 0x1EE9, 0x1EF1},
    [VN_Y] = {0x0079, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5},
};

/* Capital of a lower-case Vietnamese letter: the blocks pair letters differently. */
static uint32_t upper_of(uint32_t lower)
{
    if (lower < 0x80 || (lower >= 0xE0 && lower <= 0xFE))
        return lower - 0x20; /* ASCII and Latin-1: 0x20 apart */
    return lower - 1;        /* Latin Extended-A/B and U+1EA0 block: capital just before */
}

uint32_t vn_vowel_cp(int vowel, int tone, int upper)
{
    uint32_t cp = vowel_lower[vowel][tone];
    return upper ? upper_of(cp) : cp;
}

/* ---- Reverse lookup: code point -> letter ------------------------------ */

static vn_letter letters_low[0x200];     /* U+0000..U+01FF */
static vn_letter letters_ext[0x60];      /* U+1EA0..U+1EFF */
static pthread_once_t letters_once = PTHREAD_ONCE_INIT;

static void set_letter(uint32_t cp, vn_letter l)
{
    if (cp < 0x200)
        letters_low[cp] = l;
    else if (cp >= 0x1EA0 && cp < 0x1F00)
        letters_ext[cp - 0x1EA0] = l;
}

static void build_letters(void)
{
    for (int v = 0; v < VN_VOWELS; v++)
        for (int t = 0; t < VN_TONES; t++)
            for (int u = 0; u < 2; u++)
                set_letter(vn_vowel_cp(v, t, u), (vn_letter){VN_L_VOWEL, (unsigned char)v,
                                                             (unsigned char)t, (unsigned char)u});
    const char *consonants = "bcdghklmnpqrstvx";
    for (const char *c = consonants; *c; c++) {
        set_letter((unsigned char)*c, (vn_letter){VN_L_CONSONANT, (unsigned char)*c, 0, 0});
        set_letter((unsigned char)*c - 0x20u, (vn_letter){VN_L_CONSONANT, (unsigned char)*c, 0, 1});
    }
    set_letter(VN_D_STROKE_LOWER, (vn_letter){VN_L_DSTROKE, 0, 0, 0});
    set_letter(VN_D_STROKE_UPPER, (vn_letter){VN_L_DSTROKE, 0, 0, 1});
}

vn_letter vn_letter_info(uint32_t cp)
{
    pthread_once(&letters_once, build_letters);
    if (cp < 0x200)
        return letters_low[cp];
    if (cp >= 0x1EA0 && cp < 0x1F00)
        return letters_ext[cp - 0x1EA0];
    return (vn_letter){VN_L_NONE, 0, 0, 0};
}

/* ---- Single-byte tables ---------------------------------------------- */

const uint32_t vn_cp1252_c1[32] = {
    0x20AC, VN_NO_CP, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, /* 80-87 */
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, VN_NO_CP, 0x017D, VN_NO_CP, /* 88-8F */
    VN_NO_CP, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, /* 90-97 */
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, VN_NO_CP, 0x017E, 0x0178, /* 98-9F */
};

void vn_table_latin1(uint32_t table[256])
{
    for (int b = 0; b < 256; b++)
        table[b] = (uint32_t)b;
}

void vn_table_cp1252(uint32_t table[256])
{
    vn_table_latin1(table);
    for (int b = 0x80; b < 0xA0; b++)
        table[b] = vn_cp1252_c1[b - 0x80];
}

/*
 * TCVN 5712:1993 VN3 ("ABC").  A1-A7 hold the only capitals it has (Ă Â Ê Ô
 * Ơ Ư Đ), A8-AE their lower case; from B5 on, each vowel in alphabetical
 * order takes five bytes for grave, hook, tilde, acute and dot below, with
 * gaps where VN1 keeps capitals (undefined here).  Toned capitals have no
 * byte: ABC fonts drew the lower-case bytes as capitals (.VnTimeH), so they
 * decode to lower case.  80-9F carry the Windows-1252 symbols.
 */
static const unsigned char tcvn3_toned[VN_VOWELS][5] = {
    [VN_A] = {0xB5, 0xB6, 0xB7, 0xB8, 0xB9},  [VN_AW] = {0xBB, 0xBC, 0xBD, 0xBE, 0xC6},
    [VN_AA] = {0xC7, 0xC8, 0xC9, 0xCA, 0xCB}, [VN_E] = {0xCC, 0xCE, 0xCF, 0xD0, 0xD1},
    [VN_EE] = {0xD2, 0xD3, 0xD4, 0xD5, 0xD6}, [VN_I] = {0xD7, 0xD8, 0xDC, 0xDD, 0xDE},
    [VN_O] = {0xDF, 0xE1, 0xE2, 0xE3, 0xE4},  [VN_OO] = {0xE5, 0xE6, 0xE7, 0xE8, 0xE9},
    [VN_OW] = {0xEA, 0xEB, 0xEC, 0xED, 0xEE}, [VN_U] = {0xEF, 0xF1, 0xF2, 0xF3, 0xF4},
    [VN_UW] = {0xF5, 0xF6, 0xF7, 0xF8, 0xF9}, [VN_Y] = {0xFA, 0xFB, 0xFC, 0xFD, 0xFE},
};
static const unsigned char tcvn3_modified[6] = {VN_AW, VN_AA, VN_EE, VN_OO, VN_OW, VN_UW};

void vn_table_tcvn3(uint32_t table[256])
{
    for (int b = 0; b < 0x80; b++)
        table[b] = (uint32_t)b;
    for (int b = 0x80; b < 0x100; b++)
        table[b] = VN_NO_CP;
    for (int b = 0x80; b < 0xA0; b++)
        table[b] = vn_cp1252_c1[b - 0x80];
    for (int i = 0; i < 6; i++) {
        table[0xA1 + i] = vn_vowel_cp(tcvn3_modified[i], VN_T_NONE, 1);
        table[0xA8 + i] = vn_vowel_cp(tcvn3_modified[i], VN_T_NONE, 0);
    }
    table[0xA7] = VN_D_STROKE_UPPER;
    table[0xAE] = VN_D_STROKE_LOWER;
    for (int v = 0; v < VN_VOWELS; v++)
        for (int t = 0; t < 5; t++)
            table[tcvn3_toned[v][t]] = vn_vowel_cp(v, t + 1, 0);
}

/*
 * VPS (Vietnamese Professionals Society).  Latin-1 with the letters Latin-1
 * lacks put wherever there was room, capitals with dot below even in C0.
 * There is no pattern to follow, so the layout is a grid: for each vowel and
 * tone (none, grave, hook, tilde, acute, dot), the byte, or 0 when the letter
 * keeps its Latin-1 / ASCII byte.  91 92 A0 DF E7 EE F6 FC are undefined.
 */
static const unsigned char vps_grid[2][VN_VOWELS][VN_TONES] = {
    { /* lower case */
     [VN_A] = {0, 0, 0xE4, 0, 0, 0xE5},
     [VN_AW] = {0xE6, 0xA2, 0xA3, 0xA4, 0xA1, 0xA5},
     [VN_AA] = {0, 0xC0, 0xC4, 0xC5, 0xC3, 0xC6},
     [VN_E] = {0, 0, 0xC8, 0xEB, 0, 0xCB},
     [VN_EE] = {0, 0x8A, 0x8B, 0xCD, 0x89, 0x8C},
     [VN_I] = {0, 0, 0xCC, 0xEF, 0, 0xCE},
     [VN_O] = {0, 0, 0xD5, 0, 0, 0x86},
     [VN_OO] = {0, 0xD2, 0xB0, 0x87, 0xD3, 0xB6},
     [VN_OW] = {0xD6, 0xA9, 0xAA, 0xAB, 0xA7, 0xAE},
     [VN_U] = {0, 0, 0xFB, 0xDB, 0, 0xF8},
     [VN_UW] = {0xDC, 0xD8, 0xBA, 0xBB, 0xD9, 0xBF},
     [VN_Y] = {0, 0xFF, 0x9B, 0xCF, 0x9A, 0x9C}},
    { /* upper case */
     [VN_A] = {0, 0x80, 0x81, 0x82, 0, 0x02},
     [VN_AW] = {0x88, 0x8E, 0x8F, 0xF0, 0x8D, 0x04},
     [VN_AA] = {0, 0x84, 0x85, 0x1C, 0x83, 0x03},
     [VN_E] = {0, 0xD7, 0xDE, 0xFE, 0, 0x05},
     [VN_EE] = {0, 0x93, 0x94, 0x95, 0x90, 0x06},
     [VN_I] = {0, 0xB5, 0xB7, 0xB8, 0xB4, 0x10},
     [VN_O] = {0, 0xBC, 0xBD, 0xBE, 0xB9, 0x11},
     [VN_OO] = {0, 0x97, 0x98, 0x99, 0x96, 0x12},
     [VN_OW] = {0xF7, 0x9E, 0x9F, 0xA6, 0x9D, 0x13},
     [VN_U] = {0, 0xA8, 0xD1, 0xAC, 0, 0x14},
     [VN_UW] = {0xD0, 0xAF, 0xB1, 0x1D, 0xAD, 0x15},
     [VN_Y] = {0, 0xB2, 0xFD, 0xB3, 0, 0x19}},
};

void vn_table_vps(uint32_t table[256])
{
    static const unsigned char undefined[] = {0x91, 0x92, 0xA0, 0xDF, 0xE7, 0xEE, 0xF6, 0xFC};
    vn_table_latin1(table);
    for (size_t i = 0; i < sizeof undefined; i++)
        table[undefined[i]] = VN_NO_CP;
    for (int u = 0; u < 2; u++)
        for (int v = 0; v < VN_VOWELS; v++)
            for (int t = 0; t < VN_TONES; t++)
                if (vps_grid[u][v][t])
                    table[vps_grid[u][v][t]] = vn_vowel_cp(v, t, u);
    table[0xC7] = VN_D_STROKE_LOWER;
    table[0xF1] = VN_D_STROKE_UPPER;
}

/*
 * VNI-Windows.  A letter is its ASCII base followed by one mark byte; the
 * marks have an upper-case form (for capitals) 0x20 below the lower-case one.
 * Only o-horn, u-horn, d-stroke, the toned i's and y-dot have single bytes.
 * Everything else decodes as Windows-1252.
 */
static const struct {
    unsigned char byte; /* lower-case form; upper-case is byte - 0x20 */
    signed char modifier;
    unsigned char tone;
} vni_marks[] = {
    {0xF9, 0, VN_T_ACUTE},      {0xF8, 0, VN_T_GRAVE},      {0xFB, 0, VN_T_HOOK},
    {0xF5, 0, VN_T_TILDE},      {0xEF, 0, VN_T_DOT},        {0xE2, VN_AA, VN_T_NONE},
    {0xE1, VN_AA, VN_T_ACUTE},  {0xE0, VN_AA, VN_T_GRAVE},  {0xE5, VN_AA, VN_T_HOOK},
    {0xE3, VN_AA, VN_T_TILDE},  {0xE4, VN_AA, VN_T_DOT},    {0xEA, VN_AW, VN_T_NONE},
    {0xE9, VN_AW, VN_T_ACUTE},  {0xE8, VN_AW, VN_T_GRAVE},  {0xFA, VN_AW, VN_T_HOOK},
    {0xFC, VN_AW, VN_T_TILDE},  {0xEB, VN_AW, VN_T_DOT},
};

void vn_table_vni_single(uint32_t table[256])
{
    vn_table_cp1252(table);
    for (int u = 0; u < 2; u++) {
        int off = u ? 0x20 : 0; /* upper-case single bytes sit 0x20 below */
        table[0xF4 - off] = vn_vowel_cp(VN_OW, VN_T_NONE, u);
        table[0xF6 - off] = vn_vowel_cp(VN_UW, VN_T_NONE, u);
        table[0xF1 - off] = u ? VN_D_STROKE_UPPER : VN_D_STROKE_LOWER;
        table[0xED - off] = vn_vowel_cp(VN_I, VN_T_ACUTE, u);
        table[0xEC - off] = vn_vowel_cp(VN_I, VN_T_GRAVE, u);
        table[0xE6 - off] = vn_vowel_cp(VN_I, VN_T_HOOK, u);
        table[0xF3 - off] = vn_vowel_cp(VN_I, VN_T_TILDE, u);
        table[0xF2 - off] = vn_vowel_cp(VN_I, VN_T_DOT, u);
        table[0xEE - off] = vn_vowel_cp(VN_Y, VN_T_DOT, u);
    }
}

void vn_vni_tables(vn_vni_base base[256], vn_vni_mark mark[256])
{
    static const struct {
        unsigned char byte;
        signed char vowel;
    } bases[] = {{'a', VN_A}, {'e', VN_E}, {'o', VN_O}, {'u', VN_U}, {'y', VN_Y},
                 {0xF4, VN_OW}, {0xF6, VN_UW}};
    for (int b = 0; b < 256; b++) {
        base[b] = (vn_vni_base){-1, 0};
        mark[b] = (vn_vni_mark){-1, 0};
    }
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        base[bases[i].byte] = (vn_vni_base){bases[i].vowel, 0};
        base[bases[i].byte - 0x20] = (vn_vni_base){bases[i].vowel, 1};
    }
    for (size_t i = 0; i < sizeof vni_marks / sizeof vni_marks[0]; i++) {
        vn_vni_mark m = {vni_marks[i].modifier, vni_marks[i].tone};
        mark[vni_marks[i].byte] = m;
        mark[vni_marks[i].byte - 0x20] = m;
    }
}

uint32_t vn_vni_compose(vn_vni_base b, vn_vni_mark m)
{
    int vowel = b.vowel;
    if (vowel < 0 || m.modifier < 0)
        return VN_NO_CP;
    if (m.modifier == VN_AA) { /* circumflex: a e o */
        if (vowel == VN_A)
            vowel = VN_AA;
        else if (vowel == VN_E)
            vowel = VN_EE;
        else if (vowel == VN_O)
            vowel = VN_OO;
        else
            return VN_NO_CP;
    } else if (m.modifier == VN_AW) { /* breve: a only */
        if (vowel != VN_A)
            return VN_NO_CP;
        vowel = VN_AW;
    } else if (vowel == VN_Y && m.tone == VN_T_DOT) {
        return VN_NO_CP; /* y-dot is a single byte (EE) */
    }
    return vn_vowel_cp(vowel, m.tone, b.upper);
}

/* ---- UTF-8 ------------------------------------------------------------ */

size_t vn_utf8_put(char *dst, uint32_t cp)
{
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xC0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (unsigned char)(0xF0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t vn_utf8_get(const unsigned char *s, size_t len, size_t *adv)
{
    unsigned char c = s[0];
    if (c < 0x80 || len < 2) {
        *adv = 1;
        return c;
    }
    if (c < 0xE0) {
        *adv = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (c < 0xF0 || len < 4) {
        *adv = len < 3 ? len : 3;
        if (len < 3)
            return VN_REPLACEMENT_CP;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *adv = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}
