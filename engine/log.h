/*
 * log.h -- one line per message on stderr: time, level, text.
 */
#ifndef MEKONG_LOG_H
#define MEKONG_LOG_H

#include <stdarg.h>

#include "mekong.h"

extern int mk_log_threshold; /* messages above this level are not shown */
/* --log-format json: each line one JSON object {"time","level","message"} */
extern int mk_log_json;

void mk_logv(mk_log_level level, const char *fmt, va_list ap);
void mk_log(mk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A progress line already on the terminal is cleared before a log line. */
void mk_log_progress_shown(int shown);

#endif
