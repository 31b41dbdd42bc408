/*
 * ts_types.c -- reading a cell as one of the Table Schema types, and the
 * constraints of a cell, without allocating: the canonical text goes into
 * the caller's scratch buffer.
 *
 * Canonical forms (what canonical: true writes, and what unique, enum and
 * keys compare): integer and number without group characters, with '.' as
 * decimal character and without the text bareNumber: false allows around
 * them; boolean "true"/"false"; date YYYY-MM-DD, time HH:MM:SS[.f],
 * datetime YYYY-MM-DDTHH:MM:SS[.f][Z|+HH:MM], year YYYY, yearmonth YYYY-MM;
 * geopoint "lon,lat"; everything else as read.  docs/SCHEMA.md has the
 * table.
 *
 * Trade-off: numbers are compared as doubles (bounds, min/max), which is
 * exact for integers up to 2^53 and for the decimals people write in
 * constraints; canonical text keeps every digit.
 */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_json.h"
#include "ts_schema.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void set_canon(ts_cell *out, const char *p, size_t n)
{
    out->canon = p;
    out->canon_len = n;
}

/* ---- numbers -------------------------------------------------------------- */

/* Digits of a number into buf: sign, digits without group characters, '.'
 * for the decimal character, exponent.  Returns the length or 0. */
static size_t read_number(const ts_field *f, const char *p, size_t n, int integer, char *buf,
                          size_t cap)
{
    size_t i = 0, o = 0;
    if (!f->bare_number) { /* "€95", "95%": skip what is not part of a number */
        while (i < n && !is_digit(p[i]) && p[i] != '-' && p[i] != '+' && p[i] != f->decimal_char)
            i++;
        while (n > i && !is_digit(p[n - 1]) && p[n - 1] != f->decimal_char)
            n--;
    }
    if (n - i > cap - 2)
        return 0;
    if (i < n && (p[i] == '-' || p[i] == '+')) {
        if (p[i] == '-')
            buf[o++] = '-';
        i++;
    }
    size_t digits = 0;
    for (; i < n; i++) {
        if (is_digit(p[i])) {
            buf[o++] = p[i];
            digits++;
        } else if (f->group_char && p[i] == f->group_char && digits) {
            continue;
        } else {
            break;
        }
    }
    if (!digits)
        return 0;
    if (!integer && i < n && p[i] == f->decimal_char) {
        buf[o++] = '.';
        i++;
        size_t frac = 0;
        while (i < n && is_digit(p[i]))
            buf[o++] = p[i++], frac++;
        if (!frac)
            o--; /* "12." is 12 */
    }
    if (!integer && i < n && (p[i] == 'e' || p[i] == 'E')) {
        buf[o++] = 'e';
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            buf[o++] = p[i++];
        size_t e = 0;
        while (i < n && is_digit(p[i]))
            buf[o++] = p[i++], e++;
        if (!e)
            return 0;
    }
    return i == n ? o : 0;
}

static int parse_integer(const ts_field *f, const char *p, size_t n, char *scratch,
                         ts_cell *out)
{
    size_t len = read_number(f, p, n, 1, scratch, TS_SCRATCH);
    if (!len)
        return 0;
    scratch[len] = '\0';
    /* canonical: no leading zeros ("007" is 7, as frictionless-py reads it) */
    char *d = scratch + (scratch[0] == '-');
    size_t lead = 0;
    while (d[lead] == '0' && d[lead + 1])
        lead++;
    if (lead) {
        memmove(d, d + lead, strlen(d + lead) + 1);
        len -= lead;
    }
    if (strcmp(scratch, "-0") == 0)
        memmove(scratch, scratch + 1, len--);
    out->number = strtod(scratch, NULL);
    out->has_number = 1;
    set_canon(out, scratch, len);
    return 1;
}

static int parse_number(const ts_field *f, const char *p, size_t n, char *scratch, ts_cell *out)
{
    static const char *const special[] = {"NaN", "INF", "-INF", "Infinity", "-Infinity"};
    for (size_t i = 0; i < 5; i++) {
        if (n == strlen(special[i]) && memcmp(p, special[i], n) == 0) {
            out->number = i == 0 ? NAN : special[i][0] == '-' ? -INFINITY : INFINITY;
            out->has_number = i != 0;
            set_canon(out, i == 0 ? "NaN" : special[i][0] == '-' ? "-INF" : "INF",
                      i == 0 ? 3 : special[i][0] == '-' ? 4 : 3);
            return 1;
        }
    }
    size_t len = read_number(f, p, n, 0, scratch, TS_SCRATCH);
    if (!len)
        return 0;
    scratch[len] = '\0';
    out->number = strtod(scratch, NULL); /* '.' decimal: the C locale of every plugin */
    out->has_number = 1;
    set_canon(out, scratch, len);
    return 1;
}

/* ---- booleans ------------------------------------------------------------- */

static int in_list(const ts_strings *l, const char *p, size_t n)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == n && memcmp(l->v[i], p, n) == 0)
            return 1;
    return 0;
}

static int parse_boolean(const ts_field *f, const char *p, size_t n, ts_cell *out)
{
    if (in_list(&f->true_values, p, n)) {
        set_canon(out, "true", 4);
        out->number = 1;
    } else if (in_list(&f->false_values, p, n)) {
        set_canon(out, "false", 5);
        out->number = 0;
    } else {
        return 0;
    }
    return 1;
}

/* ---- dates and times -------------------------------------------------------- */

typedef struct tparts {
    int year, month, day, hour, minute, second;
    int frac_len;
    char frac[10];
    int tz; /* 0 none, 1 Z, 2 offset */
    int tz_minutes;
    int has_date, has_time;
} tparts;

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Exactly width digits (width 0: 1 or 2) at *i. */
static int digits(const char *p, size_t n, size_t *i, int width, int *v)
{
    int got = 0, val = 0, max = width ? width : 2;
    while (*i < n && got < max && is_digit(p[*i])) {
        val = val * 10 + (p[*i] - '0');
        (*i)++;
        got++;
    }
    if (got == 0 || (width && got != width))
        return 0;
    *v = val;
    return 1;
}

static int valid_parts(const tparts *t)
{
    if (t->has_date && (t->month < 1 || t->month > 12 || t->day < 1 ||
                        t->day > days_in_month(t->year, t->month)))
        return 0;
    if (t->has_time && (t->hour > 23 || t->minute > 59 || t->second > 60))
        return 0;
    return !(t->tz == 2 && (t->tz_minutes > 14 * 60 || t->tz_minutes < -14 * 60));
}

static int read_frac(const char *p, size_t n, size_t *i, tparts *t)
{
    if (*i < n && p[*i] == '.') {
        (*i)++;
        while (*i < n && is_digit(p[*i])) {
            if (t->frac_len < 9)
                t->frac[t->frac_len++] = p[*i];
            (*i)++;
        }
        if (!t->frac_len)
            return 0;
    }
    return 1;
}

static int read_tz(const char *p, size_t n, size_t *i, tparts *t)
{
    if (*i < n && p[*i] == 'Z') {
        t->tz = 1;
        (*i)++;
    } else if (*i < n && (p[*i] == '+' || p[*i] == '-')) {
        int sign = p[*i] == '-' ? -1 : 1, hh, mm = 0;
        (*i)++;
        if (!digits(p, n, i, 2, &hh))
            return 0;
        if (*i < n && p[*i] == ':')
            (*i)++;
        if (*i < n && !digits(p, n, i, 2, &mm))
            return 0;
        t->tz = 2;
        t->tz_minutes = sign * (hh * 60 + mm);
    }
    return 1;
}

static int iso_time(const char *p, size_t n, size_t *i, tparts *t)
{
    t->has_time = 1;
    if (!digits(p, n, i, 2, &t->hour) || *i >= n || p[(*i)++] != ':' ||
        !digits(p, n, i, 2, &t->minute) || *i >= n || p[(*i)++] != ':' ||
        !digits(p, n, i, 2, &t->second))
        return 0;
    return read_frac(p, n, i, t);
}

static int iso_date(const char *p, size_t n, size_t *i, tparts *t)
{
    t->has_date = 1;
    return digits(p, n, i, 4, &t->year) && *i < n && p[(*i)++] == '-' &&
           digits(p, n, i, 2, &t->month) && *i < n && p[(*i)++] == '-' &&
           digits(p, n, i, 2, &t->day);
}

/* %f: 1 to 9 digits of a second. */
static int frac_digits(const char *p, size_t n, size_t *i, tparts *t)
{
    while (*i < n && is_digit(p[*i])) {
        if (t->frac_len < 9)
            t->frac[t->frac_len++] = p[*i];
        (*i)++;
    }
    return t->frac_len > 0;
}

/* %p: AM or PM (any case); *pm 1 for PM. */
static int am_pm(const char *p, size_t n, size_t *i, int *pm)
{
    if (*i + 2 > n || !((p[*i] | 32) == 'a' || (p[*i] | 32) == 'p') || (p[*i + 1] | 32) != 'm')
        return 0;
    *pm = (p[*i] | 32) == 'p';
    *i += 2;
    return 1;
}

/* A strftime-style pattern (%Y %y %m %d %H %I %M %S %f %p %z %%, other
 * bytes literal), as frictionless reads a format such as "%d/%m/%Y". */
static int by_pattern(const char *fmt, const char *p, size_t n, tparts *t)
{
    size_t i = 0;
    int pm = -1;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (i >= n || p[i++] != *f)
                return 0;
            continue;
        }
        int ok = 1;
        switch (*++f) {
        case 'Y': ok = digits(p, n, &i, 4, &t->year); t->has_date = 1; break;
        case 'y': ok = digits(p, n, &i, 2, &t->year); t->year += t->year < 69 ? 2000 : 1900;
                  t->has_date = 1; break;
        case 'm': ok = digits(p, n, &i, 0, &t->month); break;
        case 'd': ok = digits(p, n, &i, 0, &t->day); break;
        case 'H': ok = digits(p, n, &i, 0, &t->hour); t->has_time = 1; break;
        case 'I': ok = digits(p, n, &i, 0, &t->hour) && t->hour >= 1 && t->hour <= 12;
                  t->has_time = 1; break;
        case 'M': ok = digits(p, n, &i, 0, &t->minute); break;
        case 'S': ok = digits(p, n, &i, 0, &t->second); break;
        case 'f': ok = frac_digits(p, n, &i, t); break;
        case 'p': ok = am_pm(p, n, &i, &pm); break;
        case 'z': ok = read_tz(p, n, &i, t) && t->tz; break;
        case '%': ok = i < n && p[i++] == '%'; break;
        default: return 0;
        }
        if (!ok)
            return 0;
    }
    if (pm >= 0)
        t->hour = t->hour % 12 + (pm ? 12 : 0);
    return i == n;
}

/* format: any for dates: ISO, then day first (the Vietnamese order):
 * d/m/Y, d-m-Y, d.m.Y, then Y/m/d. */
static int any_date(const char *p, size_t n, tparts *t)
{
    static const char *const forms[] = {"%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y",
                                        "%Y/%m/%d", "%Y%m%d"};
    for (size_t k = 0; k < sizeof forms / sizeof *forms; k++) {
        tparts c = {0};
        c.has_date = 1;
        if (by_pattern(forms[k], p, n, &c) && valid_parts(&c)) {
            *t = c;
            return 1;
        }
    }
    return 0;
}

static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n as exactly width digits (sprintf costs more than the rest of a date). */
static size_t put_digits(char *o, int n, int width)
{
    for (int i = width - 1; i >= 0; i--, n /= 10)
        o[i] = (char)('0' + n % 10);
    return (size_t)width;
}

static size_t write_date(char *o, const tparts *t)
{
    size_t len = put_digits(o, t->year, 4);
    o[len++] = '-';
    len += put_digits(o + len, t->month, 2);
    o[len++] = '-';
    return len + put_digits(o + len, t->day, 2);
}

static size_t write_time(char *o, const tparts *t)
{
    size_t len = put_digits(o, t->hour, 2);
    o[len++] = ':';
    len += put_digits(o + len, t->minute, 2);
    o[len++] = ':';
    len += put_digits(o + len, t->second, 2);
    if (t->frac_len)
        len += (size_t)sprintf(o + len, ".%.*s", t->frac_len, t->frac);
    if (t->tz == 1)
        o[len++] = 'Z';
    else if (t->tz == 2)
        len += (size_t)sprintf(o + len, "%c%02d:%02d", t->tz_minutes < 0 ? '-' : '+',
                               abs(t->tz_minutes) / 60, abs(t->tz_minutes) % 60);
    o[len] = '\0';
    return len;
}

static double time_seconds(const tparts *t)
{
    double s = t->hour * 3600.0 + t->minute * 60.0 + t->second - t->tz_minutes * 60.0;
    if (t->frac_len)
        s += strtod(t->frac, NULL) / pow(10, t->frac_len);
    return s;
}

static int parse_temporal(const ts_field *f, const char *p, size_t n, char *scratch,
                          ts_cell *out)
{
    tparts t = {0};
    size_t i = 0;
    int ok;
    if (f->format == TS_FMT_PATTERN) {
        ok = by_pattern(f->date_pattern, p, n, &t);
        t.has_date = f->type != TS_TIME;
        t.has_time = f->type != TS_DATE;
        if (f->type != TS_TIME && !t.year)
            ok = 0;
    } else if (f->type == TS_DATE && f->format == TS_FMT_ANY) {
        ok = any_date(p, n, &t);
    } else if (f->type == TS_DATE) {
        ok = iso_date(p, n, &i, &t) && i == n;
    } else if (f->type == TS_TIME) {
        ok = iso_time(p, n, &i, &t) && read_tz(p, n, &i, &t) && i == n;
    } else { /* datetime: ISO 8601, 'T' (or a blank, as frictionless-py's isoparse) */
        ok = iso_date(p, n, &i, &t) && i < n && (p[i] == 'T' || p[i] == ' ') && ++i &&
             iso_time(p, n, &i, &t) && read_tz(p, n, &i, &t) && i == n;
    }
    if (!ok || !valid_parts(&t))
        return 0;
    size_t len = 0;
    if (f->type != TS_TIME)
        len = write_date(scratch, &t);
    if (f->type == TS_DATETIME)
        scratch[len++] = 'T';
    if (f->type != TS_DATE)
        len += write_time(scratch + len, &t);
    scratch[len] = '\0';
    double days = f->type == TS_TIME ? 0 : (double)days_from_civil(t.year, t.month, t.day);
    out->number = f->type == TS_DATE   ? days
                  : f->type == TS_TIME ? time_seconds(&t)
                                       : days * 86400.0 + time_seconds(&t);
    out->has_number = 1;
    set_canon(out, scratch, len);
    return 1;
}

static int parse_year(const ts_field *f, const char *p, size_t n, char *scratch, ts_cell *out)
{
    tparts t = {0};
    size_t i = 0;
    if (f->type == TS_YEAR) {
        if (!digits(p, n, &i, 4, &t.year) || i != n)
            return 0;
        out->number = t.year;
        set_canon(out, scratch, (size_t)sprintf(scratch, "%04d", t.year));
    } else {
        if (!digits(p, n, &i, 4, &t.year) || i >= n || p[i++] != '-' ||
            !digits(p, n, &i, 2, &t.month) || i != n || t.month < 1 || t.month > 12)
            return 0;
        out->number = t.year * 12.0 + t.month - 1;
        set_canon(out, scratch, (size_t)sprintf(scratch, "%04d-%02d", t.year, t.month));
    }
    out->has_number = 1;
    return 1;
}

/* ISO 8601 duration PnYnMnWnDTnHnMnS; its length in seconds (a month is
 * 30 days, a year 365) for bounds. */
static int parse_duration(const char *p, size_t n, ts_cell *out)
{
    size_t i = 0;
    if (n < 2 || p[i++] != 'P')
        return 0;
    int in_time = 0, any = 0;
    double secs = 0;
    const char *units = "YMWD", *tunits = "HMS";
    static const double usecs[] = {365 * 86400.0, 30 * 86400.0, 7 * 86400.0, 86400.0};
    static const double tsecs[] = {3600.0, 60.0, 1.0};
    int last = -1;
    while (i < n) {
        if (p[i] == 'T') {
            if (in_time)
                return 0;
            in_time = 1, last = -1, i++;
            if (i == n)
                return 0;
            continue;
        }
        size_t start = i;
        while (i < n && (is_digit(p[i]) || p[i] == '.' || p[i] == ','))
            i++;
        if (i == start || i == n)
            return 0;
        const char *u = strchr(in_time ? tunits : units, p[i]);
        if (!u || (int)(u - (in_time ? tunits : units)) <= last)
            return 0;
        last = (int)(u - (in_time ? tunits : units));
        double v = strtod(p + start, NULL);
        secs += v * (in_time ? tsecs[last] : usecs[last]);
        any = 1;
        i++;
    }
    if (!any)
        return 0;
    out->number = secs;
    out->has_number = 1;
    set_canon(out, p, n);
    return 1;
}

/* ---- JSON text (object, array, geopoint array/object) --------------------- */

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* End of the JSON value at i, or 0 (no allocation; depth-limited). */
static size_t json_skip(const char *p, size_t n, size_t i, int depth)
{
    i = skip_ws(p, n, i);
    if (i >= n || depth > 64)
        return 0;
    if (p[i] == '"') {
        for (i++; i < n && p[i] != '"'; i++)
            if (p[i] == '\\' && ++i >= n)
                return 0;
            else if ((unsigned char)p[i] < 0x20)
                return 0;
        return i < n ? i + 1 : 0;
    }
    if (p[i] == '{' || p[i] == '[') {
        char close = p[i] == '{' ? '}' : ']';
        int obj = p[i] == '{';
        i = skip_ws(p, n, i + 1);
        if (i < n && p[i] == close)
            return i + 1;
        for (;;) {
            if (obj) {
                i = skip_ws(p, n, i);
                if (i >= n || p[i] != '"' || !(i = json_skip(p, n, i, depth + 1)))
                    return 0;
                i = skip_ws(p, n, i);
                if (i >= n || p[i++] != ':')
                    return 0;
            }
            if (!(i = json_skip(p, n, i, depth + 1)))
                return 0;
            i = skip_ws(p, n, i);
            if (i < n && p[i] == ',') {
                i++;
                continue;
            }
            return i < n && p[i] == close ? i + 1 : 0;
        }
    }
    size_t start = i;
    while (i < n && p[i] && strchr("+-.0123456789eEtruefalsn", p[i]))
        i++;
    char word[40];
    if (i == start || i - start >= sizeof word)
        return 0;
    memcpy(word, p + start, i - start);
    word[i - start] = '\0';
    if (strcmp(word, "true") && strcmp(word, "false") && strcmp(word, "null") &&
        !ts_is_json_number(word))
        return 0;
    return i;
}

static int parse_json(const char *p, size_t n, char open, ts_cell *out)
{
    size_t i = skip_ws(p, n, 0);
    if (i >= n || p[i] != open)
        return 0;
    size_t end = json_skip(p, n, i, 0);
    if (!end || skip_ws(p, n, end) != n)
        return 0;
    set_canon(out, p, n);
    return 1;
}

/* lon, lat as two numbers in range. */
static int geo_pair(double lon, double lat, char *scratch, ts_cell *out)
{
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        return 0;
    set_canon(out, scratch, (size_t)snprintf(scratch, TS_SCRATCH, "%.15g,%.15g", lon, lat));
    return 1;
}

static int read_double(const char *p, size_t n, size_t *i, double *v)
{
    char buf[64];
    size_t start = *i = skip_ws(p, n, *i), k = 0;
    while (*i < n && k < sizeof buf - 1 && p[*i] && strchr("+-.0123456789eE", p[*i]))
        buf[k++] = p[(*i)++];
    buf[k] = '\0';
    if (*i == start)
        return 0;
    char *end;
    *v = strtod(buf, &end);
    return *end == '\0';
}

static int parse_geopoint(const ts_field *f, const char *p, size_t n, char *scratch,
                          ts_cell *out)
{
    double lon, lat;
    size_t i = 0;
    if (f->format == TS_FMT_DEFAULT) {
        if (!read_double(p, n, &i, &lon) || (i = skip_ws(p, n, i)) >= n || p[i++] != ',' ||
            !read_double(p, n, &i, &lat) || skip_ws(p, n, i) != n)
            return 0;
        return geo_pair(lon, lat, scratch, out);
    }
    if (f->format == TS_FMT_GEO_ARRAY) {
        i = skip_ws(p, n, 0);
        if (i >= n || p[i++] != '[' || !read_double(p, n, &i, &lon) ||
            (i = skip_ws(p, n, i)) >= n || p[i++] != ',' || !read_double(p, n, &i, &lat) ||
            (i = skip_ws(p, n, i)) >= n || p[i++] != ']' || skip_ws(p, n, i) != n)
            return 0;
        return geo_pair(lon, lat, scratch, out);
    }
    /* object: {"lon": x, "lat": y} in either order */
    int have = 0;
    i = skip_ws(p, n, 0);
    if (i >= n || p[i++] != '{')
        return 0;
    for (int k = 0; k < 2; k++) {
        i = skip_ws(p, n, i);
        int is_lon = n - i >= 5 && memcmp(p + i, "\"lon\"", 5) == 0;
        int is_lat = n - i >= 5 && memcmp(p + i, "\"lat\"", 5) == 0;
        if (!is_lon && !is_lat)
            return 0;
        i = skip_ws(p, n, i + 5);
        if (i >= n || p[i++] != ':' || !read_double(p, n, &i, is_lon ? &lon : &lat))
            return 0;
        have |= is_lon ? 1 : 2;
        i = skip_ws(p, n, i);
        if (i < n && p[i] == ',' && k == 0)
            i++;
    }
    if (have != 3 || i >= n || p[i++] != '}' || skip_ws(p, n, i) != n)
        return 0;
    return geo_pair(lon, lat, scratch, out);
}

/* ---- strings -------------------------------------------------------------- */

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int string_format(ts_format fmt, const char *p, size_t n)
{
    size_t i;
    switch (fmt) {
    case TS_FMT_EMAIL: { /* local@domain.tld, no blanks, one @ */
        const char *at = memchr(p, '@', n);
        if (!at || at == p || at == p + n - 1 || memchr(at + 1, '@', n - (size_t)(at - p) - 1))
            return 0;
        for (i = 0; i < n; i++)
            if (p[i] == ' ' || p[i] == '\t' || (unsigned char)p[i] < 0x20)
                return 0;
        const char *dot = memchr(at + 1, '.', n - (size_t)(at - p) - 1);
        return dot && dot > at + 1 && dot < p + n - 1;
    }
    case TS_FMT_URI: /* scheme ":" something, RFC 3986 scheme */
        if (!n || !((p[0] | 32) >= 'a' && (p[0] | 32) <= 'z'))
            return 0;
        for (i = 1; i < n && p[i] != ':'; i++)
            if (!(((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z') || is_digit(p[i]) || p[i] == '+' ||
                  p[i] == '-' || p[i] == '.'))
                return 0;
        if (i + 1 >= n)
            return 0;
        for (; i < n; i++)
            if (p[i] == ' ' || (unsigned char)p[i] < 0x20)
                return 0;
        return 1;
    case TS_FMT_UUID:
        if (n != 36)
            return 0;
        for (i = 0; i < 36; i++)
            if ((i == 8 || i == 13 || i == 18 || i == 23) ? p[i] != '-' : !is_hex(p[i]))
                return 0;
        return 1;
    case TS_FMT_BINARY: /* base64 */
        if (n % 4)
            return 0;
        for (i = 0; i < n; i++) {
            char c = p[i];
            int ok = ((c | 32) >= 'a' && (c | 32) <= 'z') || is_digit(c) || c == '+' || c == '/';
            if (!ok && !(c == '=' && i >= n - 2 && (i == n - 1 || p[n - 1] == '=')))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

int ts_parse(const ts_field *f, const char *p, size_t n, char *scratch, ts_cell *out)
{
    out->has_number = 0;
    set_canon(out, p, n);
    switch (f->type) {
    case TS_STRING: return string_format(f->format, p, n);
    case TS_INTEGER: return parse_integer(f, p, n, scratch, out);
    case TS_NUMBER: return parse_number(f, p, n, scratch, out);
    case TS_BOOLEAN: return parse_boolean(f, p, n, out);
    case TS_DATE: case TS_TIME: case TS_DATETIME:
        return n < 64 && parse_temporal(f, p, n, scratch, out);
    case TS_YEAR: case TS_YEARMONTH: return parse_year(f, p, n, scratch, out);
    case TS_DURATION: return parse_duration(p, n, out);
    case TS_GEOPOINT: return n < 200 && parse_geopoint(f, p, n, scratch, out);
    case TS_OBJECT: return parse_json(p, n, '{', out);
    case TS_ARRAY: return parse_json(p, n, '[', out);
    default: return 1; /* list (delimited text) and any: every value */
    }
}
