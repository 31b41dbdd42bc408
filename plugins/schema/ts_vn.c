/*
 * ts_vn.c -- CCCD, MST and phone checks (see ts_vn.h): lua/mekong/id.lua's
 * rules, written again in C for the schema plugin's hot path.
 */
#include "config.h"

#include <stdio.h>
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

/* "male" 0, "female" 1, -1 unknown: male/m/nam, female/f/nữ/nu, any case,
 * blanks around (the values id.lua's sex_of knows). */
static int sex_of(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    char low[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof low - 1; i++) {
        char c = p[i];
        low[k++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    if (n >= sizeof low)
        return -1;
    low[k] = '\0';
    /* Ữ (U+1EEE, E1 BB AE) lowers to ữ (U+1EEF, E1 BB AF) */
    if (k == 4 && memcmp(low + 1, "\xE1\xBB\xAE", 3) == 0)
        low[3] = '\xAF';
    static const char *const male[] = {"male", "m", "nam", NULL};
    static const char *const female[] = {"female", "f", "n\xE1\xBB\xAF", "nu", NULL};
    if (in_table(male, low, k))
        return 0;
    if (in_table(female, low, k))
        return 1;
    return -1;
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
    int year = 1900 + 100 * (g / 2) + (p[4] - '0') * 10 + (p[5] - '0');
    const char *sexname = g % 2 == 0 ? "male" : "female";
    if (!in_table(ts_vn_cccd_provinces, p, 3)) {
        snprintf(buf, cap, "unknown province code %.3s", p);
        return buf;
    }
    if (year > this_year) {
        snprintf(buf, cap, "birth year %d (century digit %c) is in the future", year, p[3]);
        return buf;
    }
    if (birth) {
        size_t i = 0;
        while (i < birthlen && (birth[i] == ' ' || birth[i] == '\t'))
            i++;
        if (birthlen - i < 4 || !all_digits(birth + i, 4)) {
            snprintf(buf, cap, "birth_date '%.*s' does not start with a year (yyyy-mm-dd)",
                     (int)(birthlen > 40 ? 40 : birthlen), birth);
            return buf;
        }
        char want[12];
        snprintf(want, sizeof want, "%04d", year % 10000);
        if (memcmp(want, birth + i, 4) != 0) {
            snprintf(buf, cap, "birth year %d in the ID does not match birth_date %.*s", year,
                     (int)(birthlen > 40 ? 40 : birthlen), birth);
            return buf;
        }
    }
    if (sex) {
        int want = sex_of(sex, sexlen);
        if (want < 0) {
            snprintf(buf, cap, "sex '%.*s' is not one of male, female, nam, n\xE1\xBB\xAF, m, f",
                     (int)(sexlen > 40 ? 40 : sexlen), sex);
            return buf;
        }
        if (want != g % 2) {
            snprintf(buf, cap, "the ID is of a %s (century digit %c), sex says %s", sexname,
                     p[3], want ? "female" : "male");
            return buf;
        }
    }
    return NULL;
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

/* The number without " .-()" and blanks, with +84 / 0084 / 84 as 0, into
 * d; returns its length, PHONE_TOO_LONG or PHONE_NOT_DIGITS. */
#define PHONE_TOO_LONG ((size_t)-1)
#define PHONE_NOT_DIGITS ((size_t)-2)
static size_t normalise_phone(const char *p, size_t n, char *d, size_t cap)
{
    size_t k = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '\t' || c == '\n' ||
            c == '\r' || c == '\f' || c == '\v')
            continue;
        if (k + 1 >= cap)
            return PHONE_TOO_LONG;
        d[k++] = c;
    }
    d[k] = '\0';
    if (k >= 3 && memcmp(d, "+84", 3) == 0) {
        d[2] = '0';
        memmove(d, d + 2, k - 1);
        k -= 2;
    } else if (k >= 4 && memcmp(d, "0084", 4) == 0) {
        d[3] = '0';
        memmove(d, d + 3, k - 2);
        k -= 3;
    } else if ((k == 11 || k == 12) && d[0] == '8' && d[1] == '4' && all_digits(d, k)) {
        d[1] = '0';
        memmove(d, d + 1, k);
        k -= 1;
    }
    for (size_t i = 0; i < k; i++)
        bad |= d[i] < '0' || d[i] > '9';
    return bad ? PHONE_NOT_DIGITS : k;
}

const char *ts_vn_phone(const char *p, size_t n, int *mobile, char *buf, size_t cap)
{
    char d[64];
    size_t k = normalise_phone(p, n, d, sizeof d);
    if (k == 0)
        return "empty";
    if (k == PHONE_NOT_DIGITS)
        return "has characters other than digits and + . - ( ) space";
    if (k == PHONE_TOO_LONG)
        return "not a Vietnamese mobile (10 digits, 03/05/07/08/09) or landline (11 digits, 02) "
               "number";
    if (d[0] != '0')
        return "must start with 0, +84 or 84";
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
