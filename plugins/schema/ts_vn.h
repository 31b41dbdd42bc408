/*
 * ts_vn.h -- the rule library's Vietnamese identifier checks in C, for the
 * schema plugin's mekong:check property: the 12-digit citizen ID (CCCD)
 * with its agreement with sex and birth date, the tax code (MST) check
 * digit, phone numbers.  The same rules and reasons as lua/mekong/id.lua
 * (tests/scripts/schema-vn-lua.sh compares the two on the same inputs); the
 * facts come from lua/mekong/id_data.lua through vn_ids_data.c.
 *
 * Each check returns NULL when the value is valid, else the reason (in
 * buf, or a constant).  No allocation.
 */
#ifndef MEKONG_TS_VN_H
#define MEKONG_TS_VN_H

#include <stddef.h>

extern const char *const ts_vn_cccd_provinces[];   /* NULL-terminated */
extern const char *const ts_vn_mobile_2018[][2];    /* {old prefix, new}, {0, 0} last */
extern const char *const ts_vn_landline_areas[];   /* NULL-terminated */

/* sex, birth: NULL when not checked.  this_year: the current year. */
const char *ts_vn_cccd(const char *p, size_t n, const char *sex, size_t sexlen,
                       const char *birth, size_t birthlen, int this_year, char *buf,
                       size_t cap);
const char *ts_vn_mst(const char *p, size_t n, char *buf, size_t cap);
/* *mobile: 1 for a mobile number, 0 for a landline (when valid). */
const char *ts_vn_phone(const char *p, size_t n, int *mobile, char *buf, size_t cap);

#endif
