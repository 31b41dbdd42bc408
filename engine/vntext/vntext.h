/*
 * vntext.h -- decoding Vietnamese text to UTF-8 NFC, one field at a time.
 *
 * Every text source of mekong (CSV, XML, databases) hands each field to a
 * vn_decoder, which turns legacy Vietnamese encodings (TCVN3/ABC, VNI-Windows,
 * VPS, VISCII, Windows-1258, TCVN 5712 VN1) and decomposed Unicode into UTF-8
 * in Normalization Form C.  The trade-off is speed on the common case: a field
 * that is already NFC UTF-8 (or pure ASCII in an ASCII-compatible encoding) is
 * returned as it is, without a copy; everything else is written into a buffer
 * the caller owns and reuses, so a steady stream of fields allocates nothing.
 *
 * Also here: UTF-16 stream conversion (done for the whole input before a
 * parser sees it), detection of the encoding from a sample, per-row detection
 * for files that mix UTF-8 and one legacy encoding, and case restoration for
 * text decoded from TCVN3 (which cannot hold toned capitals).
 *
 * A decoder is not thread-safe; use one per thread.  Everything else is.
 * See docs/ENCODINGS.md for what users see.
 */
#ifndef MEKONG_VNTEXT_H
#define MEKONG_VNTEXT_H

#include <stddef.h>
#include <stdint.h>

/* ---- Results ---------------------------------------------------------- */

enum {
    VN_OK = 0,       /* success */
    VN_EINVALID = -1, /* invalid or undefined byte sequence (VN_REJECT mode) */
    VN_ENOMEM = -2,   /* out of memory */
    VN_EUSAGE = -3    /* bad argument (e.g. stream-only encoding used per field) */
};

/* What a decoder does with a byte sequence that is invalid in its encoding. */
enum { VN_REJECT = 0, VN_REPLACE = 1 };

/* Where and why a decode failed (or how many replacements it made). */
typedef struct vn_error {
    size_t offset;       /* byte offset in the field (or stream) of the first bad byte */
    size_t replacements; /* U+FFFD substituted by this call (VN_REPLACE mode) */
    char message[192];   /* for people: what, where, which encoding */
} vn_error;

/* ---- Growable byte buffer, reused across fields ----------------------- */

typedef struct vn_buf {
    char *data;
    size_t len, cap;
} vn_buf;

/* An empty buffer; allocates nothing. */
void vn_buf_init(vn_buf *b);
/* Make room for at least cap bytes (keeps the contents); VN_OK or VN_ENOMEM. */
int vn_buf_reserve(vn_buf *b, size_t cap);
/* Append len bytes; VN_OK or VN_ENOMEM. */
int vn_buf_append(vn_buf *b, const char *s, size_t len);
/* Give the memory back; the buffer is empty and usable again. */
void vn_buf_free(vn_buf *b);

/* ---- Encodings and decoders ------------------------------------------- */

typedef struct vn_decoder vn_decoder;

/* The accepted encoding names, comma-separated, for help and error text. */
const char *vn_encoding_names(void);
/* Canonical name for an accepted name ("ABC" -> "tcvn3"), or NULL if unknown. */
const char *vn_encoding_canonical(const char *name);
/* 1 if the encoding must be converted for the whole stream first (utf-16*). */
int vn_encoding_is_stream(const char *name);

/* A decoder for encoding (case-insensitive; NULL or "" means utf-8); NULL with err set if unknown. */
vn_decoder *vn_decoder_new(const char *encoding, int on_invalid, char *err, size_t errlen);
/* Free a decoder (NULL is fine). */
void vn_decoder_free(vn_decoder *d);
/* Canonical name of the decoder's encoding, e.g. "tcvn3". */
const char *vn_decoder_name(const vn_decoder *d);
/* U+FFFD substituted by this decoder since it was created. */
uint64_t vn_decoder_replacements(const vn_decoder *d);

/*
 * Decode one field to UTF-8 NFC.  *out points either at src (nothing to do:
 * zero copy) or at scratch->data; it stays valid until src or scratch change.
 * VN_EINVALID with e->offset and e->message in VN_REJECT mode; in VN_REPLACE
 * mode bad sequences become U+FFFD, counted in e->replacements.  A decoder
 * for utf-16 decodes fields as UTF-8: its stream has been converted already.
 */
int vn_decode_field(vn_decoder *d, const char *src, size_t len, const char **out, size_t *out_len,
                    vn_buf *scratch, vn_error *e);

/* ---- NFC -------------------------------------------------------------- */

/* 1 if s (valid UTF-8) is certainly NFC by the quick check; 0 if it must be normalized. */
int vn_is_nfc_quick(const char *s, size_t len);
/* NFC of valid UTF-8 s: *out = s when already NFC, else scratch->data; VN_EINVALID on bad UTF-8. */
int vn_nfc(const char *s, size_t len, const char **out, size_t *out_len, vn_buf *scratch);
/* Byte offset of the first invalid UTF-8 sequence in s, or len if s is valid. */
size_t vn_utf8_validate(const char *s, size_t len);

/* ---- Byte-order marks and UTF-16 streams ------------------------------ */

/* Length of a byte-order mark at the start of s (0, 2 or 3); *name = "utf-8"/"utf-16le"/"utf-16be". */
size_t vn_bom_sniff(const char *s, size_t len, const char **name);

/* Converts a UTF-16 byte stream, fed in chunks of any size, to UTF-8 (not normalized). */
typedef struct vn_utf16_stream {
    int byte_order;      /* 0: from the BOM, 1: little-endian, 2: big-endian */
    int on_invalid;      /* VN_REJECT or VN_REPLACE */
    unsigned char pending[3];
    size_t npending;      /* bytes of an incomplete code unit / BOM kept from the last chunk */
    uint32_t high;        /* a high surrogate waiting for its low half, or 0 */
    uint64_t offset;      /* stream bytes consumed so far */
    uint64_t replacements;
} vn_utf16_stream;

/* Start a stream; encoding is "utf-16" (BOM required), "utf-16le" or "utf-16be". */
int vn_utf16_init(vn_utf16_stream *s, const char *encoding, int on_invalid);
/* Convert one chunk, appending UTF-8 to out; VN_EINVALID with e->offset in the stream. */
int vn_utf16_feed(vn_utf16_stream *s, const char *chunk, size_t len, vn_buf *out, vn_error *e);
/* End of input: a dangling byte or surrogate is invalid (or U+FFFD). */
int vn_utf16_finish(vn_utf16_stream *s, vn_buf *out, vn_error *e);

/* ---- Detection -------------------------------------------------------- */

typedef struct vn_detection {
    const char *encoding;  /* "utf-8", "cp1258", "tcvn3", "vni", "viscii", "ascii", or "undecided" */
    double confidence;     /* 0..1 */
    const char *runner_up; /* second best candidate (NULL for ascii) */
    double runner_up_score;
    double score;          /* plausibility of the chosen decoding, 0..1 */
    size_t words;          /* words with non-ASCII letters the decision rests on */
    char message[320];     /* for people: the choice and why, or why not */
} vn_detection;

/* Guess the encoding of sample; VN_OK when decided (or ascii), VN_EINVALID when undecided. */
int vn_detect(const char *sample, size_t len, vn_detection *result);

enum { VN_ROW_ASCII = 0, VN_ROW_UTF8 = 1, VN_ROW_LEGACY = 2 };
/* For one row or field of a mixed file: is it UTF-8 or legacy's encoding?  VN_ROW_*; <0 on ENOMEM. */
int vn_detect_row(vn_decoder *legacy, const char *s, size_t len, vn_buf *scratch);

/* Share of the words in UTF-8 text s with a non-ASCII letter that are valid Vietnamese syllables (-1 if none). */
double vn_plausibility(const char *s, size_t len);

/* ---- Case restoration after TCVN3 ------------------------------------- */

enum {
    VN_CASE_NAME = 1,   /* names: every syllable Title-cased, the rest lower ("nguyễn văn ánh" -> "Nguyễn Văn Ánh") */
    VN_CASE_HEADING = 2 /* upper-case toned letters in words whose other letters are upper ("NGUYễN" -> "NGUYỄN") */
};
/* Restore letter case in UTF-8 NFC s into out (replaced, not appended); VN_OK or VN_ENOMEM/VN_EINVALID. */
int vn_restore_case(const char *s, size_t len, int mode, vn_buf *out);

/* ---- Tone placement and matching keys (vn_tone.c) ------------------------ */

enum {
    VN_TONE_OLD = 0, /* hòa, khỏe, thủy: the tone on the first vowel of oa, oe, uy */
    VN_TONE_NEW = 1  /* hoà, khoẻ, thuỷ: on the second (QĐ 1989/QĐ-BGDĐT) */
};
/* UTF-8 s with the tone of every open oa/oe/uy syllable in style's place
 * (not after qu/gi; each letter keeps its case; a moved syllable is NFC).
 * *changed 0: nothing moved, use s (out is not written); 1: out holds the
 * result (replaced).  VN_OK, VN_EINVALID (not UTF-8) or VN_ENOMEM. */
int vn_tone_style(const char *s, size_t len, int style, vn_buf *out, int *changed);

/* The canonical decomposition of code point cp into d[8]: the number of
 * code points, 1 with d[0] = cp when cp has none. */
int vn_decompose_cp(int32_t cp, int32_t d[8]);

/* Steps of vn_match_key, applied in this order. */
#define VN_KEY_TRIM 1  /* Unicode white space off both ends */
#define VN_KEY_NFC 2   /* NFC */
#define VN_KEY_LOWER 4 /* lower case */
#define VN_KEY_TONE 8  /* tone placement does not count: hòa = hoà (implies NFC) */
#define VN_KEY_FOLD 16 /* no case, tones or diacritics, đ = d (implies NFC) */
#define VN_KEY_TEXT (VN_KEY_TRIM | VN_KEY_NFC | VN_KEY_LOWER | VN_KEY_TONE | VN_KEY_FOLD)
/* Append the key of s (steps as above; then, with pad > 0, a key of ASCII
 * digits shorter than pad gets zeros on the left) to out; tmp is scratch
 * (not out).  Two texts match when their keys are equal.  VN_OK,
 * VN_EINVALID (not UTF-8, with a text step) or VN_ENOMEM.  The key is for
 * comparing, not for showing (TONE writes the tone as \x01 and a digit at
 * the end of each syllable). */
int vn_match_key(const char *s, size_t len, int steps, int pad, vn_buf *tmp, vn_buf *out);

#endif
