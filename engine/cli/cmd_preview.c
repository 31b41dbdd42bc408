/*
 * cmd_preview.c -- `mekong preview PIPELINE [-n 20]`: the first rows after
 * each stage (each source as read, then each transform's output), as
 * aligned tables.  The pipeline runs as a dry run (nothing written: no
 * outputs, rejects, report, history or metrics) and stops reading once
 * every stage showed n rows.  Columns are aligned by display width
 * (utf8proc: combining marks take no column, wide characters two), so
 * Vietnamese text lines up whether it is precomposed or not.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "args.h"
#include "commands.h"
#include "log.h"
#include "run/run.h"

#define MAX_CELL_WIDTH 40

typedef struct stage_rows {
    const mk_step *step;
    size_t ncols;
    char **names; /* the columns of the first batch seen */
    char **cells; /* nrows * ncols, malloc'd; NULL: NULL */
    size_t nrows;
} stage_rows;

typedef struct preview {
    size_t limit;
    stage_rows *stages;
    size_t nstages;
} preview;

static char *copy_cell(const mk_value *v)
{
    if (MK_IS_NULL(*v))
        return NULL;
    char *s = malloc(v->len + 1);
    if (s) {
        memcpy(s, v->ptr, v->len);
        s[v->len] = '\0';
    }
    return s;
}

static void add_stage(preview *pv, const mk_step *step)
{
    pv->stages[pv->nstages++].step = step;
}

static stage_rows *stage_of(preview *pv, const mk_step *step)
{
    for (size_t i = 0; i < pv->nstages; i++)
        if (pv->stages[i].step == step)
            return &pv->stages[i];
    return NULL;
}

/* Copy rows of b until the stage has limit; the columns are those of its
 * first batch, found by name in later ones. */
static void take_rows(preview *pv, stage_rows *st, const mk_batch *b)
{
    if (!b->schema || !b->nrows)
        return;
    if (!st->names) {
        st->ncols = b->schema->ncols;
        st->names = calloc(st->ncols ? st->ncols : 1, sizeof(char *));
        st->cells = calloc(pv->limit * (st->ncols ? st->ncols : 1), sizeof(char *));
        for (size_t c = 0; st->names && c < st->ncols; c++)
            st->names[c] = strdup(b->schema->names[c]);
    }
    if (!st->names || !st->cells)
        return;
    for (size_t r = 0; r < b->nrows && st->nrows < pv->limit; r++, st->nrows++) {
        for (size_t c = 0; c < st->ncols; c++) {
            size_t k = c;
            if (b->schema->ncols <= c || strcmp(b->schema->names[c], st->names[c]) != 0)
                for (k = 0; k < b->schema->ncols && strcmp(b->schema->names[k], st->names[c]); k++)
                    ;
            if (k < b->schema->ncols)
                st->cells[st->nrows * st->ncols + c] = copy_cell(&MK_CELL(b, r, k));
        }
    }
}

static int on_stage(void *data, const mk_step *step, const mk_batch *b)
{
    preview *pv = data;
    stage_rows *st = stage_of(pv, step);
    if (st)
        take_rows(pv, st, b);
    for (size_t i = 0; i < pv->nstages; i++)
        if (pv->stages[i].nrows < pv->limit)
            return 0;
    return 1; /* every stage has its rows: stop reading */
}

/* ---- printing ------------------------------------------------------------ */

/* The text shown for a cell: controls escaped, NULL as ∅, invalid UTF-8 as
 * U+FFFD; then its display width. */
static size_t shown(const char *s, char *out, size_t cap, size_t max_width)
{
    if (!s) {
        snprintf(out, cap, "\u2205");
        return 1;
    }
    size_t width = 0, o = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    while (left > 0 && o + 16 < cap) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            cp = 0xfffd;
            n = 1;
        }
        char esc[8] = "";
        if (cp < 0x20 || cp == 0x7f)
            snprintf(esc, sizeof esc,
                     cp == '\n'   ? "\\n"
                     : cp == '\t' ? "\\t"
                     : cp == '\r' ? "\\r"
                                  : "\\x%02x",
                     (unsigned)cp);
        int w = esc[0] ? (int)strlen(esc) : utf8proc_charwidth(cp);
        if (w < 0)
            w = 0;
        if (width + (size_t)w > max_width - 1 && left > n) { /* no room: an ellipsis */
            o += (size_t)utf8proc_encode_char(0x2026, (utf8proc_uint8_t *)out + o);
            width++;
            break;
        }
        if (esc[0])
            o += (size_t)snprintf(out + o, cap - o, "%s", esc);
        else
            o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + o);
        width += (size_t)w;
        p += n;
        left -= n;
    }
    out[o] = '\0';
    return width;
}

static void print_cell(const char *s, size_t width, int last)
{
    char buf[MAX_CELL_WIDTH * 8 + 32];
    size_t w = shown(s, buf, sizeof buf, MAX_CELL_WIDTH);
    fputs(buf, stdout);
    for (size_t i = w; !last && i < width + 2; i++)
        fputc(' ', stdout);
}

static void print_stage(const stage_rows *st)
{
    const mk_step *s = st->step;
    printf("%s %s (plugin %s): %zu row%s\n", mk_role_name(s->role), s->name, s->plugin_name,
           st->nrows, st->nrows == 1 ? "" : "s");
    if (!st->names) {
        printf("  (no rows)\n\n");
        return;
    }
    size_t *width = calloc(st->ncols ? st->ncols : 1, sizeof(size_t));
    if (!width)
        return;
    char buf[MAX_CELL_WIDTH * 8 + 32];
    for (size_t c = 0; c < st->ncols; c++) {
        width[c] = shown(st->names[c], buf, sizeof buf, MAX_CELL_WIDTH);
        for (size_t r = 0; r < st->nrows; r++) {
            size_t w = shown(st->cells[r * st->ncols + c], buf, sizeof buf, MAX_CELL_WIDTH);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    fputs("  ", stdout);
    for (size_t c = 0; c < st->ncols; c++)
        print_cell(st->names[c], width[c], c + 1 == st->ncols);
    fputs("\n  ", stdout);
    for (size_t c = 0; c < st->ncols; c++)
        for (size_t i = 0; i < width[c] + (c + 1 < st->ncols ? 2 : 0); i++)
            fputs(i < width[c] ? "-" : " ", stdout);
    fputc('\n', stdout);
    for (size_t r = 0; r < st->nrows; r++) {
        fputs("  ", stdout);
        for (size_t c = 0; c < st->ncols; c++)
            print_cell(st->cells[r * st->ncols + c], width[c], c + 1 == st->ncols);
        fputc('\n', stdout);
    }
    fputc('\n', stdout);
    free(width);
}

static void free_preview(preview *pv)
{
    for (size_t i = 0; i < pv->nstages; i++) {
        stage_rows *st = &pv->stages[i];
        for (size_t c = 0; st->names && c < st->ncols; c++)
            free(st->names[c]);
        for (size_t k = 0; st->cells && k < st->nrows * st->ncols; k++)
            free(st->cells[k]);
        free(st->names);
        free(st->cells);
    }
    free(pv->stages);
}

static size_t preview_limit = 20;

static int preview_loaded(mk_pipeline *p, const mk_cli_args *a)
{
    (void)a;
    size_t n = p->ntransforms;
    for (size_t i = 0; i < p->nsources; i++)
        n += 1 + p->sources[i].chain_len;
    preview pv = {preview_limit, calloc(n ? n : 1, sizeof(stage_rows)), 0};
    if (!pv.stages)
        return MK_EXIT_FAILED;
    for (size_t i = 0; i < p->nsources; i++) {
        add_stage(&pv, &p->sources[i]);
        for (size_t k = 0; k < p->sources[i].chain_len; k++)
            add_stage(&pv, &p->sources[i].chain[k]);
    }
    for (size_t i = 0; i < p->ntransforms; i++)
        add_stage(&pv, &p->transforms[i]);
    char failure[2048] = "";
    mk_run_options o = {.report_path = "/dev/null",
                        .silent = 1,
                        .failure = failure,
                        .failure_len = sizeof failure,
                        .dry_run = 1,
                        .on_stage = on_stage,
                        .stage_data = &pv};
    int rc = mk_run_pipeline(p, &o);
    int full = on_stage(&pv, NULL, NULL) != 0;
    for (size_t i = 0; i < pv.nstages; i++)
        print_stage(&pv.stages[i]);
    free_preview(&pv);
    if (rc == MK_EXIT_FAILED && !full) {
        mk_log(MK_LOG_ERROR, "preview: the run failed: %s", failure[0] ? failure : "see above");
        return MK_EXIT_FAILED;
    }
    return MK_EXIT_OK;
}

int mk_cmd_preview(int argc, char **argv)
{
    /* -n N is preview's own; the rest are the options run and check share */
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    if (!rest)
        return MK_EXIT_FAILED;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-n") != 0) {
            rest[nrest++] = argv[i];
            continue;
        }
        char *end;
        long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
        if (i + 1 >= argc || *end || v < 1 || v > 10000) {
            fprintf(stderr, "mekong preview: -n wants a number of rows from 1 to 10000\n");
            free(rest);
            return MK_EXIT_USAGE;
        }
        preview_limit = (size_t)v;
        i++;
    }
    int rc = mk_cli_with_pipeline(nrest, rest, "preview", "previewed", preview_loaded);
    free(rest);
    return rc;
}
