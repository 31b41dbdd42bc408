/*
 * textout.h -- writing fields as CSV and JSON text.
 *
 * Shared by the csv and jsonl sinks and the engine's rejects file, so the
 * quoting rules live in one place.
 */
#ifndef MEKONG_TEXTOUT_H
#define MEKONG_TEXTOUT_H

#include <stddef.h>

#include "mekong.h"
#include "outfile.h"

#include <stdint.h>

/* Nonzero when one of the eight bytes of w equals the byte repeated in
 * pattern (ones * byte): the "has zero byte" test on w ^ pattern.  The hot
 * loops that look for a few rare ASCII bytes test eight bytes a step. */
static inline uint64_t mk_word_has_byte(uint64_t w, uint64_t pattern)
{
    uint64_t x = w ^ pattern;
    return (x - 0x0101010101010101u) & ~x & 0x8080808080808080u;
}

#define MK_BYTE_PATTERN(c) (0x0101010101010101u * (unsigned char)(c))

/* delimiter, quote, formula_guard (make spreadsheet formulas inert, see
 * the csv sink docs): the plugin kit's type, so its writers pass it on. */
typedef mkk_csv_style mk_csv_style;

/* One field: NULL (ptr == NULL) as an empty unquoted field, the empty
 * string as "", quoted when it holds the delimiter, the quote, CR, LF, or
 * starts/ends with a blank.  With formula_guard: a formula gets a leading
 * ', a cell holding , ; tab CR LF is quoted, and a formula piece after one
 * of those (or the delimiter) gets a ' before it (docs/PLUGINS.md). */
int mk_csv_write_field(mk_outfile *f, const mk_csv_style *st, const char *ptr, size_t len);

/* Nonzero when a spreadsheet would take the cell as a formula. */
int mk_csv_is_formula(const char *ptr, size_t len);

/* Length of the valid UTF-8 prefix of s (== len when all valid). */
size_t mk_utf8_valid_prefix(const char *s, size_t len);
/* len, or less so that s[0..len) does not end inside a UTF-8 sequence
 * (for text cut to fit a buffer; what comes before is not checked). */
size_t mk_utf8_whole(const char *s, size_t len);

/* A JSON string with quotes.  Control characters (C0, DEL, C1), quote,
 * backslash, U+2028 and U+2029 are escaped.  Invalid UTF-8: with
 * MK_JSON_CHECK -2 is returned and nothing is written; with MK_JSON_REPLACE
 * it becomes U+FFFD (count added to *replaced); MK_JSON_VALID says the
 * caller knows the text is valid (it is not checked again). */
enum { MK_JSON_CHECK = 0, MK_JSON_REPLACE = 1, MK_JSON_VALID = 2 };
int mk_json_write_string(mk_outfile *f, const char *ptr, size_t len, int replace,
                         size_t *replaced);

/* A NUL-terminated string as a JSON string (invalid UTF-8 replaced), and
 * an unsigned number: for the small JSON files the engine writes (plans,
 * states, ledgers). */
void mk_json_put_str(mk_outfile *f, const char *s);
void mk_json_put_u64(mk_outfile *f, uint64_t v);

/* The first of the n cells that is not valid UTF-8, or -1 when all are
 * (NULL cells are valid); *offset is where its first bad byte is. */
long mk_cells_first_invalid_utf8(const mk_value *cells, size_t n, size_t *offset);

/* Copy s into out (room for 3 * len bytes) with U+FFFD for each maximal
 * invalid subpart; returns the bytes written and adds the replacements to
 * *replaced. */
size_t mk_utf8_repair(const char *s, size_t len, char *out, size_t *replaced);

#endif
