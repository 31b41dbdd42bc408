/*
 * ts_json.h -- Table Schema and Data Package descriptors as cfg_node trees.
 *
 * A descriptor is JSON or YAML.  YAML is read by the engine's pipefile
 * reader (libyaml, positions kept); JSON by the small parser in ts_json.c,
 * which builds the same tree, so one compiler reads both.  In the tree a
 * JSON string is a quoted scalar, a number, true, false or null an unquoted
 * one (cfg_is_null tells null).  ts_json_write writes a tree back as JSON:
 * quoted scalars as strings, unquoted ones that look like JSON numbers or
 * true/false/null as themselves, anything else as a string.
 */
#ifndef MEKONG_TS_JSON_H
#define MEKONG_TS_JSON_H

#include <stdio.h>

#include "pipefile.h"

/* Parse JSON text (len bytes).  NULL with "name:line:col: message" in err. */
cfg_node *ts_json_parse(const char *text, size_t len, const char *name, char *err,
                        size_t errlen);
/* Read a descriptor file: JSON when its first non-blank byte is '{' or '[',
 * YAML otherwise.  NULL with the message in err. */
cfg_node *ts_load(const char *path, char *err, size_t errlen);
/* Write n as JSON to fp (indent < 0: one line).  0, or -1 on a write error. */
int ts_json_write(FILE *fp, const cfg_node *n, int indent);
/* Write s as a JSON string (quotes, escapes). */
void ts_json_string(FILE *fp, const char *s);
/* Nonzero when s is a JSON number. */
int ts_is_json_number(const char *s);

#endif
