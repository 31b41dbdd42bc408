/*
 * log.c -- see log.h.
 */
#include "config.h"

#include "log.h"
#include "util/textout.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int mk_log_threshold = MK_LOG_INFO;
int mk_log_json;
static int progress_on_screen;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void mk_log_progress_shown(int shown)
{
    progress_on_screen = shown;
}

/* Write LINE with its control characters escaped, so that a file name or a
 * cell cannot forge a log line or drive the terminal: C0 and DEL as \n, \r,
 * \t or \xHH, and the C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) as
 * \u00HH.  Other UTF-8 text is written as is. */
static void put_escaped(const char *line, FILE *out)
{
    for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
        if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            fprintf(out, "\\u%04x", *++p);
        else
            fputc(*p, out);
    }
}

/* One JSON object a line, for log collectors: the message's text as a JSON
 * string (controls escaped, invalid UTF-8 as U+FFFD). */
static void put_json_line(const char *stamp, mk_log_level level, const char *line, FILE *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char fixed[3 * 4096 + 1];
    size_t replaced = 0, n = mk_utf8_repair(line, strlen(line), fixed, &replaced);
    fprintf(out, "{\"time\":\"%s\",\"level\":\"%s\",\"message\":\"", stamp, names[level]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)fixed[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputs("\"}\n", out);
}

void mk_logv(mk_log_level level, const char *fmt, va_list ap)
{
    if ((int)level > mk_log_threshold)
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[4096];
    vsnprintf(line, sizeof line, fmt, ap);
    if (progress_on_screen) {
        fputs("\r\033[K", stderr);
        progress_on_screen = 0;
    }
    if (mk_log_json) {
        put_json_line(stamp, level, line, stderr);
        return;
    }
    fprintf(stderr, "%s %-5s ", stamp, level_names[level]);
    put_escaped(line, stderr);
    fputc('\n', stderr);
}

void mk_log(mk_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mk_logv(level, fmt, ap);
    va_end(ap);
}
