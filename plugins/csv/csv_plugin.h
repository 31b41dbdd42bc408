/*
 * csv_plugin.h -- the parts of the csv plugin (source and sink).
 */
#ifndef MEKONG_CSV_PLUGIN_H
#define MEKONG_CSV_PLUGIN_H

#include "mekong.h"

/* The choices of the sink's invalid_utf8 option (declared in csv.c). */
#define CSV_INVALID_UTF8_CHOICES "reject|replace"

/* 0 if c can be the delimiter or quote named `what`; otherwise an error
 * is reported and -1 returned (csv.c). */
int csv_check_char(const mk_host *host, mk_context *ctx, const char *what, char c);

extern const mk_source_ops csv_source_ops;
extern const mk_sink_ops csv_sink_ops;

#endif
