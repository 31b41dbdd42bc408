/*
 * csv.c -- the csv plugin's descriptor: a source (csv_source.c) and a sink
 * (csv_sink.c), with their declared options.
 */
#include "config.h"

#include "csv_plugin.h"

/* The engine refuses non-ASCII option characters when it loads the
 * pipeline; this is the plugin's own guard, for hosts that do not.  A byte
 * above 0x7f is part of a character in UTF-8 and a letter in the
 * single-byte encodings, so splitting on it cuts text apart; a line break
 * would end every record inside the field or quote it opens. */
int csv_check_char(const mk_host *host, mk_context *ctx, const char *what, char c)
{
    unsigned char u = (unsigned char)c;
    if (u == 0 || u >= 0x80) {
        host->error(ctx, "%s must be one ASCII character (byte 0x%02x is not)", what, u);
        return -1;
    }
    if (c == '\n' || c == '\r') {
        host->error(ctx, "%s must not be a line break (\\%c)", what, c == '\n' ? 'n' : 'r');
        return -1;
    }
    return 0;
}

static const mk_option_decl source_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file or glob to read (data/*.csv), relative to the pipeline"},
    {"delimiter", MK_OPT_CHAR, 0, ",", "field delimiter (one ASCII character, or \\t)"},
    {"quote", MK_OPT_CHAR, 0, "\"", "quote character (one ASCII character)"},
    {"header", MK_OPT_BOOL, 0, "true", "the first record holds the column names"},
    {"columns", MK_OPT_LIST, 0, NULL, "column names (needed when header is false; replace the header's)"},
    {"null", MK_OPT_STRING, 0, NULL, "an unquoted field equal to this is NULL too (e.g. NULL or \\N)"},
    {"encoding", MK_OPT_STRING, 0, "utf-8",
     "utf-8, utf-16, cp1258, viscii, tcvn3, vni, vps, tcvn5712-1, latin1, cp1252, auto, or bytes "
     "(no decoding); see docs/ENCODINGS.md"},
    {"on_invalid", MK_OPT_STRING, 0, "reject",
     "bytes invalid in the encoding: reject (the row) or replace (with U+FFFD, counted)",
     "reject|replace"},
    {"per_row_utf8", MK_OPT_BOOL, 0, "false",
     "rows may be UTF-8 instead of the legacy encoding: decide row by row"},
    {"max_field_bytes", MK_OPT_INT, 0, "268435456", "longest field accepted before the run fails",
     "1.."},
    {"incremental", MK_OPT_BOOL, 0, "false",
     "read only files new or changed since the last successful run, and only the rows appended "
     "to a file that grew (state: path, size, mtime, SHA-256); see docs/OPERATIONS.md"},
    /* set by `mekong run --shard` from the shard plan (docs/SCALE.md) */
    {"shard_files", MK_OPT_LIST, 0, NULL,
     "read only these files of the glob (as the glob names them), in glob order; none: only the "
     "first file's header (an empty shard)"},
    {"shard_range", MK_OPT_STRING, 0, NULL,
     "START-END: of the one file, read the header and then only bytes [START, END); START is a "
     "record boundary, with shard_line and shard_record"},
    {"shard_line", MK_OPT_INT, 0, "1", "with shard_range: the line number at byte START"},
    {"shard_record", MK_OPT_INT, 0, "0",
     "with shard_range: the records before byte START, the header not counted"},
    /* ... and, with incremental: true, from what the plan found new */
    {"shard_parts", MK_OPT_LIST, 0, NULL,
     "with shard_files: the files the whole run reads, in order; rows are numbered as parts of "
     "that list (default: the glob's files)"},
    {"shard_resume", MK_OPT_LIST, 0, NULL,
     "with shard_files and incremental: per file, - (read whole) or OFFSET LINE RECORD HASH: a "
     "file that grew goes on at byte OFFSET, its SHA-256 state so far HASH"},
    {"shard_sha256", MK_OPT_STRING, 0, NULL,
     "with shard_range and incremental: the SHA-256 of the whole file; the shard that has it "
     "remembers the file in its state"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file to write (written atomically when the run succeeds)"},
    {"delimiter", MK_OPT_CHAR, 0, ",", "field delimiter (one ASCII character, not \" or a line break)"},
    {"header", MK_OPT_BOOL, 0, "true", "write a header row"},
    {"formula_guard", MK_OPT_BOOL, 0, "false",
     "make cells a spreadsheet would run as formulas inert (a leading ')"},
    {"invalid_utf8", MK_OPT_STRING, 0, "reject",
     "what to do with a value that is not valid UTF-8: reject (the row) or replace (with U+FFFD)",
     CSV_INVALID_UTF8_CHOICES},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_plugin csv_plugin = {
    MK_PLUGIN_HEAD,
    "csv",
    PACKAGE_VERSION,
    "CSV files (RFC 4180): read with libcsv, written with exact quoting",
    source_options,
    &csv_source_ops,
    NULL,
    NULL,
    sink_options,
    &csv_sink_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &csv_plugin;
}
