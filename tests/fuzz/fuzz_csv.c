/*
 * fuzz_csv.c -- the csv source, through a whole run (csv -> csv sink,
 * rejects, report), in every encoding and with the options that change
 * parsing.  The first two bytes choose the options, the rest is the file:
 *
 *   byte 0: encoding (one of the list below)
 *   byte 1: bit 0-1 delimiter , ; tab |   bit 2 quote " or '
 *           bit 3 header false (columns a,b,c given)   bit 4 on_invalid: replace
 *           bit 5 per_row_utf8   bit 6 max_field_bytes: 16   bit 7 null: NULL
 *
 * Beyond the sanitizers, a run whose row accounts do not add up is a crash:
 * every row read must be written, rejected with a reason or dropped.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz_common.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "run/run.h"

const mk_plugin *mk_fuzz_csv_plugin(void);

static const char *const encodings[] = {
    "utf-8", "utf-16", "utf-16le",   "utf-16be", "cp1258", "viscii", "tcvn3",
    "vni",   "vps",    "tcvn5712-1", "latin1",   "cp1252", "auto",   "bytes",
};
#define NENC (sizeof encodings / sizeof encodings[0])

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mk_log_threshold = -1; /* quiet: the runs' errors are expected */
    if (mk_plugin_register_builtin(mk_fuzz_csv_plugin()) != 0)
        abort();
    fuzz_make_dir("csv");
    return 0;
}

static void write_pipeline(uint8_t enc, uint8_t bits)
{
    static const char *const delimiters[] = {",", ";", "tab", "|"};
    char yaml[1024];
    int n = snprintf(yaml, sizeof yaml,
                     "sources:\n"
                     "  - name: in\n"
                     "    plugin: csv\n"
                     "    path: in.csv\n"
                     "    encoding: %s\n"
                     "    delimiter: \"%s\"\n"
                     "    quote: \"%s\"\n"
                     "    header: %s\n"
                     "%s"
                     "    on_invalid: %s\n"
                     "    per_row_utf8: %s\n"
                     "    max_field_bytes: %s\n"
                     "%s"
                     "sinks:\n"
                     "  - plugin: csv\n"
                     "    path: out.csv\n"
                     "rejects: rejects.csv\n"
                     "report: report.json\n",
                     encodings[enc % NENC], delimiters[bits & 3], bits & 4 ? "'" : "\\\"",
                     bits & 8 ? "false" : "true", bits & 8 ? "    columns: [a, b, c]\n" : "",
                     bits & 16 ? "replace" : "reject", bits & 32 ? "true" : "false",
                     bits & 64 ? "16" : "268435456", bits & 128 ? "    null: NULL\n" : "");
    fuzz_write("p.yaml", yaml, (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    write_pipeline(data[0], data[1]);
    fuzz_write("in.csv", data + 2, size - 2);
    char path[512];
    mk_plugin_path sp = {NULL, 0};
    mk_pipeline p;
    if (mk_pipeline_load(fuzz_path(path, sizeof path, "p.yaml"), NULL, &sp, &p) != 0) {
        fprintf(stderr, "fuzz_csv: the generated pipeline did not load\n");
        abort();
    }
    char failure[1024] = "";
    mk_run_options o;
    memset(&o, 0, sizeof o);
    o.silent = 1;
    o.failure = failure;
    o.failure_len = sizeof failure;
    mk_run_pipeline(&p, &o);
    mk_pipeline_free(&p);
    if (strstr(failure, "do not add up")) {
        fprintf(stderr, "fuzz_csv: %s\n", failure);
        abort();
    }
    return 0;
}
