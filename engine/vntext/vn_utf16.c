/*
 * vn_utf16.c -- UTF-16 to UTF-8, for a whole stream fed in chunks.
 *
 * UTF-16 cannot be split into fields before it is converted (a comma is two
 * bytes, one of them zero), so a source converts the stream first and parses
 * the UTF-8 result.  Chunks may end anywhere: in the middle of a code unit,
 * between the halves of a surrogate pair, or inside the byte-order mark;
 * the few bytes involved are carried to the next chunk.  The output is not
 * normalized here: the fields go through a utf-8 decoder afterwards.
 */
#include "vntext_internal.h"

#include <stdio.h>
#include <string.h>

int vn_utf16_init(vn_utf16_stream *s, const char *encoding, int on_invalid)
{
    memset(s, 0, sizeof *s);
    s->on_invalid = on_invalid;
    const char *canonical = vn_encoding_canonical(encoding);
    if (!canonical || !vn_encoding_is_stream(canonical))
        return VN_EUSAGE;
    if (strcmp(canonical, "utf-16le") == 0)
        s->byte_order = 1;
    else if (strcmp(canonical, "utf-16be") == 0)
        s->byte_order = 2;
    return VN_OK;
}

static int utf16_error(vn_utf16_stream *s, vn_buf *out, vn_error *e, uint64_t at, const char *what)
{
    if (s->on_invalid == VN_REJECT) {
        if (e) {
            e->offset = (size_t)at;
            snprintf(e->message, sizeof e->message, "invalid UTF-16 at byte offset %llu: %s",
                     (unsigned long long)at, what);
        }
        return VN_EINVALID;
    }
    if (vn_buf_append(out, "\xEF\xBF\xBD", 3) != VN_OK)
        return VN_ENOMEM;
    s->replacements++;
    if (e)
        e->replacements++;
    return VN_OK;
}

static int put_cp(vn_buf *out, uint32_t cp)
{
    char tmp[4];
    return vn_buf_append(out, tmp, vn_utf8_put(tmp, cp));
}

/* One 16-bit code unit that starts at stream offset at. */
static int unit(vn_utf16_stream *s, unsigned u, uint64_t at, vn_buf *out, vn_error *e)
{
    int rc;
    if (s->high) {
        if (u >= 0xDC00 && u <= 0xDFFF) {
            uint32_t cp = 0x10000u + ((s->high - 0xD800u) << 10) + (u - 0xDC00u);
            s->high = 0;
            return put_cp(out, cp);
        }
        s->high = 0;
        if ((rc = utf16_error(s, out, e, at - 2, "a high surrogate is not followed by a low one")))
            return rc;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
        s->high = u;
        return VN_OK;
    }
    if (u >= 0xDC00 && u <= 0xDFFF)
        return utf16_error(s, out, e, at, "a low surrogate without a high one before it");
    return put_cp(out, u);
}

int vn_utf16_feed(vn_utf16_stream *s, const char *chunk, size_t len, vn_buf *out, vn_error *e)
{
    const unsigned char *c = (const unsigned char *)chunk;
    size_t i = 0;
    if (e) {
        e->replacements = 0;
        e->message[0] = '\0';
    }
    /* Reserve roughly what this chunk needs: <= 3 UTF-8 bytes per 2 input bytes. */
    if (len < SIZE_MAX / 4 && vn_buf_reserve(out, out->len + len / 2 * 3 + 8) != VN_OK)
        return VN_ENOMEM;
    while (i < len) {
        s->pending[s->npending++] = c[i++];
        if (s->npending < 2)
            continue;
        unsigned b0 = s->pending[0], b1 = s->pending[1];
        uint64_t at = s->offset;
        s->npending = 0;
        s->offset += 2;
        if (s->byte_order == 0) { /* first two bytes must be the BOM */
            if (b0 == 0xFF && b1 == 0xFE)
                s->byte_order = 1;
            else if (b0 == 0xFE && b1 == 0xFF)
                s->byte_order = 2;
            else {
                if (e) {
                    e->offset = 0;
                    snprintf(e->message, sizeof e->message,
                             "UTF-16 input has no byte-order mark (it starts with 0x%02X 0x%02X): "
                             "set the encoding to utf-16le or utf-16be",
                             b0, b1);
                }
                return VN_EINVALID;
            }
            continue;
        }
        if (at == 0 && ((s->byte_order == 1 && b0 == 0xFF && b1 == 0xFE) ||
                        (s->byte_order == 2 && b0 == 0xFE && b1 == 0xFF)))
            continue; /* a BOM in utf-16le/be input is dropped too */
        unsigned u = s->byte_order == 1 ? (b0 | (b1 << 8)) : ((b0 << 8) | b1);
        int rc = unit(s, u, at, out, e);
        if (rc != VN_OK)
            return rc;
    }
    return VN_OK;
}

int vn_utf16_finish(vn_utf16_stream *s, vn_buf *out, vn_error *e)
{
    int rc = VN_OK;
    if (e) {
        e->replacements = 0;
        e->message[0] = '\0';
    }
    if (s->high) {
        s->high = 0;
        rc = utf16_error(s, out, e, s->offset - 2, "the input ends after a high surrogate");
        if (rc != VN_OK)
            return rc;
    }
    if (s->npending) {
        s->npending = 0;
        rc = utf16_error(s, out, e, s->offset, "the input ends in the middle of a code unit");
    }
    return rc;
}
