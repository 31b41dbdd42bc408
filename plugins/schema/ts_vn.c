/*
 * ts_vn.c -- CCCD, MST and phone checks (see ts_vn.h): lua/mekong/id.lua's
 * rules, written again in C for the schema plugin's hot path.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_vn.h"

static int all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static int in_table(const char *const *t, const char *p, size_t n)
{
    for (size_t i = 0; t[i]; i++)
        if (strlen(t[i]) == n && memcmp(t[i], p, n) == 0)
            return 1;
    return 0;
}

/* The length of the valid UTF-8 character at p (at most n bytes), 0 if
 * the bytes there are not one (Lua 5.4's strict rules: no overlong form,
 * no surrogate, nothing above U+10FFFF). */
static size_t utf8_char(const unsigned char *p, size_t n)
{
    size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
                 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3 : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
        return 0;
    return len;
}

static int utf8_valid(const char *p, size_t n)
{
    for (size_t i = 0, len; i < n; i += len)
        if (!(len = utf8_char((const unsigned char *)p + i, n - i)))
            return 0;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* "male" 0, "female" 1, -1 unknown: Nam/M/male, Nữ/Nu/F/female, any case,
 * blanks around (the words id.lua's id.sex knows); -2 blank. */
static int sex_of(const char *p, size_t n)
{
    while (n && is_space(*p))
        p++, n--;
    while (n && is_space(p[n - 1]))
        n--;
    if (!n)
        return -2;
    char low[16];
    if (n >= sizeof low)
        return -1;
    for (size_t i = 0; i < n; i++)
        low[i] = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i];
    low[n] = '\0';
    /* Ữ (U+1EEE, E1 BB AE) lowers to ữ (U+1EEF, E1 BB AF) */
    if (n == 4 && memcmp(low + 1, "\xE1\xBB\xAE", 3) == 0)
        low[3] = '\xAF';
    static const char *const male[] = {"male", "m", "nam", NULL};
    static const char *const female[] = {"female", "f", "n\xE1\xBB\xAF", "nu", NULL};
    if (in_table(male, low, n))
        return 0;
    if (in_table(female, low, n))
        return 1;
    return -1;
}

static const char *sex_name(int female)
{
    return female ? "female" : "male";
}

/* The first year of the century the century digit g says (1900 for 0/1). */
static int century_from(int g)
{
    return 1900 + 100 * (g / 2);
}

/* Why the ID's birth year (century digit g, year digits yy) and the birth
 * date's year y (its first four digits, y4) disagree. */
static const char *birth_mismatch(const char *p, int year, const char *y4, const char *date,
                                  size_t datelen, char *buf, size_t cap)
{
    int g = p[3] - '0', y = atoi(y4), from = century_from(g);
    int dl = (int)(datelen > 40 ? 40 : datelen);
    if (y >= from && y <= from + 99) {
        snprintf(buf, cap,
                 "year digits %.2s (digits 5-6) say born %d, birth_date %.*s says %.4s "
                 "(digits 5-6 would be %.2s)",
                 p + 4, year, dl, date, y4, y4 + 2);
        return buf;
    }
    int q = y - 1900 >= 0 ? (y - 1900) / 100 : -((1900 - y + 99) / 100);
    int want = 2 * q + g % 2;
    int n = snprintf(buf, cap, "century digit %d (digit 4) says born %d-%d (%s), birth_date %.*s says %.4s",
                     g, from, from + 99, sex_name(g % 2), dl, date, y4);
    if (want >= 0 && want <= 9 && n > 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, ": a %s born then has century digit %d",
                 sex_name(g % 2), want);
    return buf;
}

/* Why a birth year in the future: the century digit is the likely fault. */
static const char *future_reason(const char *p, int year, int this_year, char *buf, size_t cap)
{
    int g = p[3] - '0', from = century_from(g);
    if (from > this_year)
        snprintf(buf, cap, "century digit %d (digit 4) says born %d-%d, which has not begun", g,
                 from, from + 99);
    else
        snprintf(buf, cap,
                 "century digit %d (digit 4) and year digits %.2s say born %d, a year still to "
                 "come; born %d, the %s would have century digit %d",
                 g, p + 4, year, year - 100, sex_name(g % 2), g - 2);
    return buf;
}

/* The birth date's check: NULL when its year is the ID's. */
static const char *check_birth(const char *p, int year, const char *birth, size_t birthlen,
                               char *buf, size_t cap)
{
    size_t i = 0;
    while (i < birthlen && is_space(birth[i]))
        i++;
    if (birthlen - i < 4 || !all_digits(birth + i, 4)) {
        snprintf(buf, cap, "birth_date '%.*s' does not start with a year (yyyy-mm-dd)",
                 (int)(birthlen > 40 ? 40 : birthlen), birth);
        return buf;
    }
    char want[12], y4[5];
    snprintf(want, sizeof want, "%04d", year % 10000);
    memcpy(y4, birth + i, 4);
    y4[4] = '\0';
    if (memcmp(want, y4, 4) != 0)
        return birth_mismatch(p, year, y4, birth, birthlen, buf, cap);
    return NULL;
}

/* The sex column's check: NULL when it says the sex of century digit g. */
static const char *check_sex(int g, const char *sex, size_t sexlen, char *buf, size_t cap)
{
    if (!utf8_valid(sex, sexlen))
        return "sex is not valid UTF-8";
    int want = sex_of(sex, sexlen);
    if (want == -2)
        return "empty";
    if (want < 0) {
        snprintf(buf, cap, "sex '%.*s' is not one of Nam, N\xE1\xBB\xAF (or Nu), M, F, male, female",
                 (int)(sexlen > 40 ? 40 : sexlen), sex);
        return buf;
    }
    if (want != g % 2) {
        int from = century_from(g);
        snprintf(buf, cap,
                 "century digit %d (digit 4) is %s, a %s born %d-%d, but sex says %s (a %s born "
                 "then has %d)",
                 g, g % 2 ? "odd" : "even", sex_name(g % 2), from, from + 99, sex_name(want),
                 sex_name(want), g % 2 ? g - 1 : g + 1);
        return buf;
    }
    return NULL;
}

const char *ts_vn_cccd(const char *p, size_t n, const char *sex, size_t sexlen,
                       const char *birth, size_t birthlen, int this_year, char *buf, size_t cap)
{
    if (!n)
        return "empty";
    if (!all_digits(p, n))
        return "must be 12 digits, has other characters";
    if (n == 9)
        return "9 digits: an old identity card (CMND) number, not a 12-digit citizen ID";
    if (n != 12) {
        snprintf(buf, cap, "must be 12 digits, has %zu", n);
        return buf;
    }
    int g = p[3] - '0';
    int year = century_from(g) + (p[4] - '0') * 10 + (p[5] - '0');
    if (!in_table(ts_vn_cccd_provinces, p, 3)) {
        snprintf(buf, cap, "unknown province code %.3s", p);
        return buf;
    }
    const char *why = birth ? check_birth(p, year, birth, birthlen, buf, cap) : NULL;
    if (why)
        return why;
    if (year > this_year)
        return future_reason(p, year, this_year, buf, cap);
    return sex ? check_sex(g, sex, sexlen, buf, cap) : NULL;
}

const char *ts_vn_mst(const char *p, size_t n, char *buf, size_t cap)
{
    static const int weights[9] = {31, 29, 23, 19, 17, 13, 7, 5, 3};
    int branch = n == 14 && p[10] == '-' && all_digits(p, 10) && all_digits(p + 11, 3);
    if (!branch && !(n == 10 && all_digits(p, 10))) {
        if (n == 13 && all_digits(p, n))
            return "13 digits: the branch form is NNNNNNNNNN-NNN, with a hyphen";
        if (n == 12 && all_digits(p, n))
            return "12 digits: a personal ID number (used as tax code since 2025-07-01), not a "
                   "10-digit tax code";
        return "must be 10 digits, or 10 digits, '-' and 3 digits (branch)";
    }
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (p[i] - '0') * weights[i];
    int c = 10 - sum % 11;
    if (c == 10) {
        snprintf(buf, cap, "no valid check digit exists for %.9s (never issued)", p);
        return buf;
    }
    if (c != p[9] - '0') {
        snprintf(buf, cap, "check digit is %c, expected %d", p[9], c);
        return buf;
    }
    if (branch && memcmp(p + 11, "000", 3) == 0)
        return "branch number 000 is not used (001..999)";
    return NULL;
}

static int mobile_start(const char *p)
{
    return p[0] == '0' && (p[1] == '3' || p[1] == '5' || p[1] == '7' || p[1] == '8' || p[1] == '9');
}

/* A Vietnamese number in national form (0..., 10 or 11 digits). */
static const char *vn_number(const char *d, size_t k, int *mobile, char *buf, size_t cap)
{
    if (k == 11 && d[1] == '1') {
        for (size_t i = 0; ts_vn_mobile_2018[i][0]; i++)
            if (memcmp(ts_vn_mobile_2018[i][0], d, 4) == 0) {
                *mobile = 1;
                return NULL;
            }
        snprintf(buf, cap, "old mobile prefix %.4s is not in the 2018 conversion table", d);
        return buf;
    }
    if (k == 11 && d[1] == '2') {
        if (in_table(ts_vn_landline_areas, d + 1, 3) || in_table(ts_vn_landline_areas, d + 1, 2)) {
            *mobile = 0;
            return NULL;
        }
        snprintf(buf, cap, "unknown landline area code after 0 in %.4s", d);
        return buf;
    }
    if (k == 10 && mobile_start(d)) {
        *mobile = 1;
        return NULL;
    }
    if (k == 10 && d[1] == '2')
        return "10 digits starting 02: landline numbers have 11 digits since 2017";
    return "not a Vietnamese mobile (10 digits, 03/05/07/08/09) or landline (11 digits, 02) "
           "number";
}

static int phone_separator(char c)
{
    return is_space(c) || c == '.' || c == '-' || c == '(' || c == ')';
}

/* The number without separators (blanks . - ( )) into d (its first cap - 1
 * characters); *k is its whole length.  Returns 0 unless it is one or
 * more digits, perhaps after one leading '+'. */
static int strip_phone(const char *p, size_t n, char *d, size_t cap, size_t *k)
{
    size_t m = 0, digits = 0;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (phone_separator(c))
            continue;
        if (c >= '0' && c <= '9')
            digits++;
        else if (c != '+' || m != 0)
            ok = 0;
        if (m + 1 < cap)
            d[m] = c;
        m++;
    }
    d[m + 1 < cap ? m : cap - 1] = '\0';
    *k = m;
    return ok && (digits || !m);
}

/* Why a number has characters it should not: the first character that is
 * not a digit, '+' or a separator, with its position in characters. */
static const char *stray_reason(const char *p, size_t n, char *buf, size_t cap)
{
    static const char *lead = "has characters other than digits and + . - ( ) space";
    size_t chars = 0;
    for (size_t i = 0, len; i < n; i += len) {
        len = utf8_char((const unsigned char *)p + i, n - i);
        if (!len) {
            snprintf(buf, cap, "%s (byte %zu is not UTF-8)", lead, i + 1);
            return buf;
        }
        chars++;
        char c = p[i];
        if (len > 1 || !((c >= '0' && c <= '9') || c == '+' || phone_separator(c))) {
            snprintf(buf, cap, "%s ('%.*s' at character %zu)", lead, (int)len, p + i, chars);
            return buf;
        }
    }
    snprintf(buf, cap, "%s ('+' not at the start)", lead);
    return buf;
}

/* The length of the E.164 country code at the start of d (k digits): 1
 * and 7 are one digit, the codes below two, every other code three. */
static size_t country_code(const char *d, size_t k)
{
    static const char *const two[] = {
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", NULL};
    if (d[0] == '1' || d[0] == '7')
        return 1;
    if (k >= 2 && in_table(two, d, 2))
        return 2;
    return k < 3 ? k : 3;
}

/* The national form of the stripped number d (length *k) in place: +84 /
 * 0084 / 84 (11 or 12 digits) become 0, and a 0 written after +84 is the
 * same 0.  Returns the reason for a foreign number, else NULL. */
static const char *national_phone(char *d, size_t *k, char *buf, size_t cap)
{
    size_t skip = d[0] == '+' ? 1 : d[0] == '0' && d[1] == '0' ? 2 : 0;
    if (skip && d[skip] >= '1' && d[skip] <= '9') {
        size_t cc = country_code(d + skip, *k - skip);
        if (cc != 2 || memcmp(d + skip, "84", 2) != 0) {
            snprintf(buf, cap, "a foreign number (country code +%.*s), not a Vietnamese one",
                     (int)cc, d + skip);
            return buf;
        }
        skip += 2;
        if (d[skip] != '0')
            d[--skip] = '0';
    } else if (d[0] == '8' && d[1] == '4' && (*k == 11 || *k == 12) && all_digits(d, *k)) {
        skip = 1;
        d[1] = '0';
    } else {
        return NULL;
    }
    memmove(d, d + skip, strlen(d + skip) + 1);
    *k -= skip;
    return NULL;
}

const char *ts_vn_phone(const char *p, size_t n, int *mobile, char *buf, size_t cap)
{
    char d[64];
    size_t k;
    if (!strip_phone(p, n, d, sizeof d, &k))
        return stray_reason(p, n, buf, cap);
    if (k == 0)
        return "empty";
    const char *why = national_phone(d, &k, buf, cap);
    if (why)
        return why;
    if (d[0] != '0')
        return "must start with 0, +84 or 84";
    if (k < 10 || k > 11) {
        snprintf(buf, cap, "too %s: %zu digits (a mobile number has 10, a landline 11)",
                 k < 10 ? "short" : "long", k);
        return buf;
    }
    return vn_number(d, k, mobile, buf, cap);
}
