/*
 * ts_schema.h -- a Frictionless Table Schema (v2; v1 accepted) compiled
 * into a plan per field, and the checks of one cell.
 *
 * ts_schema_compile reads the descriptor tree once: types, formats, type
 * options, missing values, constraints, keys, and the mekong:* extension
 * properties (Vietnamese checks, warn instead of reject).  Checking a cell
 * (ts_cell_check) allocates nothing: it parses into the caller's scratch
 * buffer, which receives the canonical text of the value (what unique,
 * enum, keys and the canonical output compare and write).
 *
 * Used by the schema transform, the datapackage sink (declared schemas)
 * and the infer / validate commands.  docs/SCHEMA.md is the user's side.
 */
#ifndef MEKONG_TS_SCHEMA_H
#define MEKONG_TS_SCHEMA_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "pipefile.h"

typedef enum ts_type {
    TS_STRING, TS_INTEGER, TS_NUMBER, TS_BOOLEAN, TS_DATE, TS_TIME, TS_DATETIME,
    TS_YEAR, TS_YEARMONTH, TS_DURATION, TS_GEOPOINT, TS_OBJECT, TS_ARRAY, TS_LIST, TS_ANY,
    TS_NTYPES
} ts_type;

/* Formats (one enum for all types; each type accepts a few). */
typedef enum ts_format {
    TS_FMT_DEFAULT, TS_FMT_ANY, TS_FMT_PATTERN, /* dates: %Y-%m-%d style */
    TS_FMT_EMAIL, TS_FMT_URI, TS_FMT_UUID, TS_FMT_BINARY, /* string */
    TS_FMT_GEO_ARRAY, TS_FMT_GEO_OBJECT,                  /* geopoint */
} ts_format;

/* What a cell can fail, in the order they are checked; also the index of
 * the per-field failure counts in the report. */
typedef enum ts_check {
    TS_C_TYPE, TS_C_REQUIRED, TS_C_MINLENGTH, TS_C_MAXLENGTH, TS_C_MINIMUM, TS_C_MAXIMUM,
    TS_C_XMINIMUM, TS_C_XMAXIMUM, TS_C_PATTERN, TS_C_ENUM, TS_C_UNIQUE, TS_C_VN, TS_NCHECKS
} ts_check;

/* Vietnamese checks (the mekong:check property). */
typedef enum ts_vn {
    TS_VN_NONE, TS_VN_CCCD, TS_VN_MST, TS_VN_PHONE, TS_VN_MOBILE, TS_VN_WARD_2025,
    TS_VN_PROVINCE_2025
} ts_vn;

typedef struct ts_strings {
    char **v;
    size_t n;
} ts_strings;

typedef struct ts_field {
    char *name;
    ts_type type;
    ts_format format;
    char *date_pattern;     /* TS_FMT_PATTERN: strftime-style */
    char decimal_char;      /* number: '.' */
    char group_char;        /* number, integer: 0 = none */
    int bare_number;        /* number, integer: 1 */
    ts_strings true_values, false_values;
    ts_strings missing;     /* the field's missing values (its own, or the schema's) */
    /* constraints */
    int required, unique;
    long min_length, max_length; /* -1: none */
    int has_bound[4];            /* minimum, maximum, exclusiveMinimum, exclusiveMaximum */
    double bound[4];
    char *bound_text[4];
    int has_pattern;
    pcre2_code *pattern;
    pcre2_match_data *pattern_match; /* one per field: the plugin checks on one thread */
    pcre2_match_context *pattern_ctx; /* match and depth limits */
    char *pattern_text;
    ts_strings enum_canon;       /* canonical texts of the enum values */
    /* extensions */
    int warn;                    /* mekong:onError: warn */
    ts_vn vn;
    char *vn_sex_field, *vn_birth_field; /* mekong:sexField, mekong:birthDateField (cccd) */
} ts_field;

typedef struct ts_key {
    size_t n;
    size_t *fields; /* indexes into ts_schema.fields */
} ts_key;

typedef struct ts_fkey {
    ts_key local;
    char *resource;       /* "" : this table */
    ts_strings ref_fields;
} ts_fkey;

typedef enum ts_match { TS_MATCH_EXACT, TS_MATCH_EQUAL, TS_MATCH_SUBSET, TS_MATCH_SUPERSET,
                        TS_MATCH_PARTIAL } ts_match;

typedef struct ts_schema {
    ts_field *fields;
    size_t nfields;
    ts_key primary;          /* n == 0: none */
    ts_key *unique_keys;
    size_t nunique_keys;
    ts_fkey *fkeys;
    size_t nfkeys;
    ts_match match;
    int v1;                  /* declared as v1 (no $schema, or a v1 profile) */
} ts_schema;

/* Compile the descriptor tree root (a Table Schema object).  NULL with
 * "where: message" in err.  name names the file in messages. */
ts_schema *ts_schema_compile(const cfg_node *root, const char *name, char *err, size_t errlen);
void ts_schema_free(ts_schema *s);
/* Index of the field called name, or -1. */
long ts_schema_field(const ts_schema *s, const char *name);

/* Result of checking one cell. */
typedef struct ts_cell {
    int missing;          /* a missing value (NULL or one of missingValues) */
    ts_check failed;      /* TS_NCHECKS: passed */
    double number;        /* numbers, dates (days), times (seconds)...: for bounds and stats */
    int has_number;
    const char *canon;    /* canonical text (the value itself or the scratch buffer) */
    size_t canon_len;
    char detail[200];     /* why, when failed */
} ts_cell;

enum { TS_SCRATCH = 512 };
/* Limits of one pattern match (PCRE2 match and depth limits). */
enum { TS_MATCH_LIMIT = 1000000, TS_DEPTH_LIMIT = 10000 }; /* longer values keep their own text as canonical form */

/* Check one cell of field f (not unique or keys: the caller's set does
 * those).  scratch has TS_SCRATCH bytes. */
void ts_cell_check(const ts_field *f, const char *ptr, size_t len, char *scratch, ts_cell *out);
/* The same with the pattern's match data given (NULL: the field's own):
 * each thread that checks cells needs its own (ts_field_match_data). */
void ts_cell_check_md(const ts_field *f, const char *ptr, size_t len, char *scratch,
                      pcre2_match_data *md, ts_cell *out);
/* Match data for f's pattern (NULL when it has none or out of memory). */
pcre2_match_data *ts_field_match_data(const ts_field *f);
/* The parse of one value as f's type, without constraints: 1 valid, 0 not. */
int ts_parse(const ts_field *f, const char *ptr, size_t len, char *scratch, ts_cell *out);

const char *ts_type_name(ts_type t);
const char *ts_check_name(ts_check c); /* "minimum", "pattern", "type", ... */

#endif
