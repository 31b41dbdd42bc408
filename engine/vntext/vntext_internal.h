/*
 * vntext_internal.h -- what the files of engine/vntext share and nobody else sees.
 *
 * The Vietnamese alphabet as data: 12 vowels x 6 tone states x 2 cases, plus
 * d-stroke.  The legacy tables (TCVN3, VNI, VPS) are written in these terms
 * (vowel, tone, case) rather than as raw code points, which is how the
 * standards themselves lay the letters out.
 */
#ifndef MEKONG_VNTEXT_INTERNAL_H
#define MEKONG_VNTEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vntext.h"

#define VN_NO_CP 0xFFFFFFFFu /* undefined byte in a single-byte table */
#define VN_REPLACEMENT_CP 0xFFFDu

/* The 12 vowel letters in alphabetical order. */
enum {
    VN_A, VN_AW, VN_AA, VN_E, VN_EE, VN_I, VN_O, VN_OO, VN_OW, VN_U, VN_UW, VN_Y, VN_VOWELS
};
/* Tone states, in the order TCVN3 and most tables use them. */
enum { VN_T_NONE, VN_T_GRAVE, VN_T_HOOK, VN_T_TILDE, VN_T_ACUTE, VN_T_DOT, VN_TONES };

/* Code point of a vowel letter with a tone, in lower (0) or upper (1) case. */
uint32_t vn_vowel_cp(int vowel, int tone, int upper);
#define VN_D_STROKE_LOWER 0x0111u
#define VN_D_STROKE_UPPER 0x0110u

/* Letter classes returned by vn_letter_info. */
enum { VN_L_NONE = 0, VN_L_VOWEL, VN_L_CONSONANT, VN_L_DSTROKE };
typedef struct vn_letter {
    unsigned char kind;  /* VN_L_* */
    unsigned char vowel; /* VN_A.. for vowels; the ASCII lowercase letter for consonants */
    unsigned char tone;  /* VN_T_* */
    unsigned char upper; /* 1 for capitals */
} vn_letter;
/* What cp is as a Vietnamese letter (kind VN_L_NONE for anything else, incl. f j w z). */
vn_letter vn_letter_info(uint32_t cp);

/* Windows-1252 0x80-0x9F (VN_NO_CP where undefined). */
extern const uint32_t vn_cp1252_c1[32];
/* Fill a 256-entry byte -> code point table. */
void vn_table_latin1(uint32_t table[256]);
void vn_table_cp1252(uint32_t table[256]);
void vn_table_tcvn3(uint32_t table[256]);
void vn_table_vps(uint32_t table[256]);
void vn_table_vni_single(uint32_t table[256]);

/* VNI-Windows two-byte sequences: base letter byte + mark byte. */
typedef struct vn_vni_base {
    signed char vowel; /* VN_A..; -1 when the byte is no base */
    unsigned char upper;
} vn_vni_base;
typedef struct vn_vni_mark {
    signed char modifier; /* -1: not a mark byte; 0: tone only; VN_AA: circumflex; VN_AW: breve */
    unsigned char tone;
} vn_vni_mark;
void vn_vni_tables(vn_vni_base base[256], vn_vni_mark mark[256]);
/* The letter a VNI base + mark makes, or VN_NO_CP when the pair is no letter. */
uint32_t vn_vni_compose(vn_vni_base b, vn_vni_mark m);

/* UTF-8 helpers. */
size_t vn_utf8_put(char *dst, uint32_t cp);
/* Decode one code point of valid UTF-8 at s (len > 0); *adv = bytes used. */
uint32_t vn_utf8_get(const unsigned char *s, size_t len, size_t *adv);

/* One pass over UTF-8: 0 valid and NFC by the quick check, 1 valid but needs NFC, 2 invalid at *bad. */
int vn_utf8_scan(const char *str, size_t len, size_t *bad);
/* NFC of valid UTF-8 s into scratch (s must not point into scratch); VN_OK, VN_ENOMEM, VN_EINVALID. */
int vn_nfc_into(const char *s, size_t len, vn_buf *scratch);

/* Decode with an explicit on_invalid, ignoring the decoder's (for detection). */
int vn_decode_field_mode(vn_decoder *d, const char *src, size_t len, const char **out,
                         size_t *out_len, vn_buf *scratch, vn_error *e, int on_invalid);

#endif
