/*
 * kit_text.c -- CSV fields, JSON strings and UTF-8 for plugins: thin
 * wrappers of engine/util/textout.c, so the quoting, escaping and UTF-8
 * rules of the plugins are those of the engine's own rejects file.
 *
 * Trade-off: each writer is one call per field into the library, which
 * jumps straight on to textout (an mkk_file is an mk_outfile, the style
 * types are one type); a row-at-a-time writer would save that call but
 * fix what a sink does per cell.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kit_file.h"
#include "util/textout.h"

int mkk_csv_field(mkk_file *f, const mkk_csv_style *st, const char *ptr, size_t len)
{
    return mk_csv_write_field(outfile_of(f), st, ptr, len);
}

int mkk_csv_field_repaired(mkk_file *f, const mkk_csv_style *st, const char *ptr, size_t len,
                           size_t *replaced)
{
    kit_owner *k = owner_of(f);
    if (!ptr || mk_utf8_valid_prefix(ptr, len) == len)
        return mkk_csv_field(f, st, ptr, len);
    if (len * 3 > k->repair_cap) {
        char *r = realloc(k->repair, len * 3);
        if (!r) {
            outfile_of(f)->err = ENOMEM;
            return -1;
        }
        k->repair = r;
        k->repair_cap = len * 3;
    }
    size_t n = mk_utf8_repair(ptr, len, k->repair, replaced);
    return mkk_csv_field(f, st, k->repair, n);
}

int mkk_json_string(mkk_file *f, const char *ptr, size_t len, int mode, size_t *replaced)
{
    return mk_json_write_string(outfile_of(f), ptr, len, mode, replaced);
}

size_t mkk_utf8_valid_prefix(const char *s, size_t len)
{
    return mk_utf8_valid_prefix(s, len);
}

long mkk_utf8_check_cells(const mk_value *cells, size_t n, size_t *offset)
{
    return mk_cells_first_invalid_utf8(cells, n, offset);
}

size_t mkk_utf8_repair(const char *s, size_t len, char *out, size_t *replaced)
{
    return mk_utf8_repair(s, len, out, replaced);
}

int mkk_utf8_reject_row(const mk_host *h, mk_context *ctx, const mk_batch *b, size_t r,
                        const char *rule)
{
    size_t off;
    long bad = mk_cells_first_invalid_utf8(&MK_CELL(b, r, 0), b->schema->ncols, &off);
    if (bad < 0)
        return 0;
    char why[512];
    snprintf(why, sizeof why, "column %s is not valid UTF-8 (byte %zu)", b->schema->names[bad],
             off + 1);
    int rc = h->row_reject(ctx, b, r, rule, why);
    return rc == MK_OK ? 1 : rc < 0 ? rc : MK_ERROR;
}

_Static_assert((int)MKK_JSON_CHECK == (int)MK_JSON_CHECK &&
                   (int)MKK_JSON_REPLACE == (int)MK_JSON_REPLACE &&
                   (int)MKK_JSON_VALID == (int)MK_JSON_VALID,
               "the kit's JSON modes are textout's");
