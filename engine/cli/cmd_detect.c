/*
 * cmd_detect.c -- `mekong detect FILE`: guess the encoding of an unknown file.
 *
 * For an integrator handed a file of unknown origin: the first megabyte goes
 * through the same detection as `encoding: auto` (vn_detect), and the verdict
 * is printed with a few lines decoded by it, so a person can see at a glance
 * whether the text reads as Vietnamese.  When the evidence is too thin the
 * command says so, shows how each candidate reads one line, and asks for an
 * explicit `encoding:` instead of guessing.  Trade-off: only the first
 * megabyte is read, like the csv source, so a file that changes encoding
 * later on is judged by its beginning.
 *
 * Exit status: 0 decided (or plain ASCII), 1 undecided, 2 usage error or the
 * file cannot be read.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run/run.h"
#include "vntext/vntext.h"

#define DETECT_SAMPLE_BYTES (1024 * 1024)
#define DETECT_SAMPLE_LINES 5
#define DETECT_LINE_SHOWN 160 /* bytes of a decoded line printed before "…" */

static const char *const detect_candidates[] = {"utf-8", "cp1258", "tcvn3", "vni", "viscii"};
#define N_DETECT_CANDIDATES (sizeof detect_candidates / sizeof detect_candidates[0])

/* One line of the sample: where it starts, its length without the newline. */
typedef struct sample_line {
    const char *start;
    size_t len;
    size_t number; /* 1-based line number in the file */
} sample_line;

/* Read up to DETECT_SAMPLE_BYTES of path into buf; *total gets the file's size
 * when it is known (else the bytes read).  0, or -1 after printing why. */
static int read_sample(const char *path, char *buf, size_t *got, long long *total)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mekong detect: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    *got = fread(buf, 1, DETECT_SAMPLE_BYTES, f);
    if (ferror(f)) {
        fprintf(stderr, "mekong detect: cannot read %s: %s\n", path, strerror(errno));
        fclose(f);
        return -1;
    }
    *total = (long long)*got;
    if (*got == DETECT_SAMPLE_BYTES && fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        if (end > 0)
            *total = end;
    }
    fclose(f);
    return 0;
}

/* A byte that makes a line worth showing: non-ASCII, or a C0 byte that VISCII
 * and VPS use for capitals. */
static int interesting_byte(unsigned char c)
{
    return c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r' && c != '\n');
}

static int line_is_interesting(const sample_line *l)
{
    const unsigned char *s = (const unsigned char *)l->start;
    for (size_t i = 0; i < l->len; i++)
        if (interesting_byte(s[i]))
            return 1;
    return 0;
}

/* Cut text into lines; the last one is dropped when the sample was cut short
 * (it is probably incomplete).  Returns the number of lines, or -1 on ENOMEM. */
static long split_lines(const char *text, size_t len, int cut_short, sample_line **out)
{
    size_t cap = 64, n = 0, number = 1;
    sample_line *lines = malloc(cap * sizeof *lines);
    if (!lines)
        return -1;
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (!nl && cut_short)
            break;
        size_t l = end - start;
        if (l > 0 && text[start + l - 1] == '\r')
            l--;
        if (n == cap) {
            sample_line *grown = realloc(lines, 2 * cap * sizeof *lines);
            if (!grown) {
                free(lines);
                return -1;
            }
            lines = grown;
            cap *= 2;
        }
        lines[n++] = (sample_line){text + start, l, number++};
        start = end + 1;
    }
    *out = lines;
    return (long)n;
}

/* Pick up to DETECT_SAMPLE_LINES lines, those with non-ASCII bytes first,
 * then other non-empty lines; the picks come back in file order. */
static size_t pick_lines(const sample_line *lines, size_t n, size_t *picked)
{
    char *taken = calloc(n ? n : 1, 1);
    if (!taken)
        return 0;
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n && k < DETECT_SAMPLE_LINES; i++)
            if (!taken[i] && lines[i].len > 0 && (pass == 1 || line_is_interesting(&lines[i]))) {
                taken[i] = 1;
                k++;
            }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (taken[i])
            picked[m++] = i;
    free(taken);
    return m;
}

/* Print decoded UTF-8 text on one line: control characters become '?', tabs
 * a space, and a long line is cut at a character boundary with "…". */
static void print_shown(const char *s, size_t len)
{
    size_t shown = len;
    if (shown > DETECT_LINE_SHOWN) {
        shown = DETECT_LINE_SHOWN;
        while (shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80)
            shown--;
    }
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        putchar(c == '\t' ? ' ' : c < 0x20 || c == 0x7F ? '?' : c);
    }
    if (shown < len)
        fputs(" \xE2\x80\xA6", stdout);
    putchar('\n');
}

/* Decode one line with d (bad bytes become U+FFFD) and print it after prefix. */
static int print_decoded(vn_decoder *d, const sample_line *l, const char *prefix, vn_buf *scratch)
{
    const char *out;
    size_t out_len;
    vn_error e;
    int rc = vn_decode_field(d, l->start, l->len, &out, &out_len, scratch, &e);
    if (rc == VN_ENOMEM) {
        fprintf(stderr, "mekong detect: out of memory\n");
        return -1;
    }
    fputs(prefix, stdout);
    if (rc != VN_OK)
        fputs("(cannot be decoded)\n", stdout);
    else
        print_shown(out, out_len);
    return 0;
}

/* The sample lines decoded with encoding (labelled shown_as: utf-16 arrives as UTF-8). */
static int print_samples(const char *encoding, const char *shown_as, const sample_line *lines,
                         size_t n)
{
    size_t picked[DETECT_SAMPLE_LINES];
    size_t m = pick_lines(lines, n, picked);
    if (m == 0)
        return 0;
    char err[256];
    vn_decoder *d = vn_decoder_new(encoding, VN_REPLACE, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mekong detect: %s\n", err);
        return -1;
    }
    vn_buf scratch;
    vn_buf_init(&scratch);
    printf("\nsample lines, decoded as %s:\n", shown_as);
    int rc = 0;
    for (size_t i = 0; i < m && rc == 0; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%6zu  ", lines[picked[i]].number);
        rc = print_decoded(d, &lines[picked[i]], prefix, &scratch);
    }
    vn_buf_free(&scratch);
    vn_decoder_free(d);
    return rc;
}

/* Undecided: how each candidate reads the first line with non-ASCII bytes. */
static int print_readings(const sample_line *lines, size_t n)
{
    size_t i = 0;
    while (i < n && !line_is_interesting(&lines[i]))
        i++;
    if (i == n)
        return 0;
    printf("\nline %zu as each candidate reads it:\n", lines[i].number);
    vn_buf scratch;
    vn_buf_init(&scratch);
    int rc = 0;
    for (size_t c = 0; c < N_DETECT_CANDIDATES && rc == 0; c++) {
        vn_decoder *d = vn_decoder_new(detect_candidates[c], VN_REPLACE, NULL, 0);
        if (!d)
            continue;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "  %-8s ", detect_candidates[c]);
        rc = print_decoded(d, &lines[i], prefix, &scratch);
        vn_decoder_free(d);
    }
    vn_buf_free(&scratch);
    return rc;
}

/* A UTF-16 file (byte-order mark): convert the sample to UTF-8 into out. */
static int utf16_sample(const char *buf, size_t len, vn_buf *out)
{
    vn_utf16_stream st;
    vn_error e;
    if (vn_utf16_init(&st, "utf-16", VN_REPLACE) != VN_OK ||
        vn_utf16_feed(&st, buf, len, out, &e) != VN_OK) {
        fprintf(stderr, "mekong detect: out of memory\n");
        return -1;
    }
    return 0;
}

static int detect_file(const char *path)
{
    char *buf = malloc(DETECT_SAMPLE_BYTES);
    if (!buf) {
        fprintf(stderr, "mekong detect: out of memory\n");
        return MK_EXIT_USAGE;
    }
    size_t got;
    long long total;
    if (read_sample(path, buf, &got, &total) != 0) {
        free(buf);
        return MK_EXIT_USAGE;
    }
    int cut_short = total > (long long)got;
    printf("file:        %s (%s%zu bytes read%s)\n", path, cut_short ? "first " : "", got,
           cut_short ? " of a larger file" : "");
    if (got == 0) {
        printf("encoding:    undecided\n\n%s is empty: there is nothing to tell the encoding by.\n",
               path);
        free(buf);
        return MK_EXIT_FAILED;
    }

    const char *bom_name;
    size_t bom = vn_bom_sniff(buf, got, &bom_name);
    const char *text = buf + bom;
    size_t text_len = got - bom;
    vn_buf utf8;
    vn_buf_init(&utf8);
    int status = MK_EXIT_OK;
    const char *decode_as, *shown_as;
    if (bom && strcmp(bom_name, "utf-8") != 0) {
        /* utf-16: the mark says it all; the sample is converted for display. */
        if (utf16_sample(buf, got, &utf8) != 0) {
            status = MK_EXIT_USAGE;
            goto done;
        }
        text = utf8.data ? utf8.data : "";
        text_len = utf8.len;
        decode_as = "utf-8"; /* it is UTF-8 now */
        shown_as = "utf-16";
        printf("encoding:    utf-16 (%s-endian byte-order mark)\nconfidence:  1.00\n"
               "why:         the file starts with a UTF-16 byte-order mark\n"
               "in a pipeline: encoding: utf-16\n",
               strcmp(bom_name, "utf-16le") == 0 ? "little" : "big");
    } else {
        vn_detection det;
        int rc = vn_detect(text, text_len, &det);
        if (rc != VN_OK) {
            printf("encoding:    undecided\nwhy:         %s\n", det.message);
            sample_line *lines;
            long n = split_lines(text, text_len, cut_short, &lines);
            if (n < 0 || print_readings(lines, (size_t)n) != 0)
                status = MK_EXIT_USAGE;
            if (n >= 0)
                free(lines);
            if (status == MK_EXIT_OK) {
                printf("\nmekong will not guess: look at the readings above and set the encoding "
                       "of the source in the pipeline, e.g. 'encoding: tcvn3' (names: %s).\n"
                       "A file whose rows are partly UTF-8 and partly one legacy encoding: set "
                       "that encoding and 'per_row_utf8: true'.\n",
                       vn_encoding_names());
                status = MK_EXIT_FAILED;
            }
            goto done;
        }
        int ascii = strcmp(det.encoding, "ascii") == 0;
        decode_as = shown_as = ascii ? "utf-8" : det.encoding;
        printf("encoding:    %s%s\n", det.encoding,
               bom ? " (with a byte-order mark)" : ascii ? " (read as utf-8)" : "");
        printf("confidence:  %.2f\n", det.confidence);
        if (det.runner_up)
            printf("runner-up:   %s (score %.2f; %s scores %.2f)\n", det.runner_up,
                   det.runner_up_score, det.encoding, det.score);
        printf("why:         %s\n", det.message);
        printf("in a pipeline: encoding: %s\n", decode_as);
    }

    sample_line *lines;
    long n = split_lines(text, text_len, cut_short, &lines);
    if (n < 0) {
        fprintf(stderr, "mekong detect: out of memory\n");
        status = MK_EXIT_USAGE;
        goto done;
    }
    if (print_samples(decode_as, shown_as, lines, (size_t)n) != 0)
        status = MK_EXIT_USAGE;
    free(lines);
done:
    vn_buf_free(&utf8);
    free(buf);
    return status;
}

int mk_cmd_detect(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !path) {
            path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "mekong detect: unknown option '%s'; see 'mekong help detect'\n",
                    argv[i]);
            return MK_EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "mekong detect: one file at a time ('%s' and '%s' given); usage: "
                            "mekong detect FILE\n",
                    path, argv[i]);
            return MK_EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "mekong detect: which file? usage: mekong detect FILE\n");
        return MK_EXIT_USAGE;
    }
    int status = detect_file(strcmp(path, "-") == 0 ? "/dev/stdin" : path);
    fflush(stdout);
    return status;
}
