/*
 * log.c -- see log.h.
 */
#include "config.h"

#include "log.h"

#include <stdio.h>
#include <time.h>

int mk_log_threshold = MK_LOG_INFO;
static int progress_on_screen;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void mk_log_progress_shown(int shown)
{
    progress_on_screen = shown;
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
    fprintf(stderr, "%s %-5s %s\n", stamp, level_names[level], line);
}

void mk_log(mk_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mk_logv(level, fmt, ap);
    va_end(ap);
}
