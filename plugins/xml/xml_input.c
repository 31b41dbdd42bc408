/*
 * xml_input.c -- the bytes of one XML document, in the encoding it is
 * read in, for libxml2's reader.
 *
 * The encoding is the `encoding` option when it is set, else what the
 * document says: a byte-order mark, else the encoding of its XML
 * declaration, else UTF-8.  Encodings the engine's vntext library knows
 * (UTF-16, windows-1258, TCVN3, VNI, VISCII, VPS, latin1, ...) are decoded
 * here, to UTF-8 in NFC, and libxml2 reads UTF-8 with the declaration
 * ignored: the Vietnamese legacy encodings are vntext's business (iconv has
 * no TCVN3 or VNI, and its windows-1258 leaves tone marks uncomposed).  Any
 * other name is handed to libxml2, which asks iconv.
 *
 * Trade-off: a single-byte encoding is decoded block by block, each block
 * cut after its last '>' so that a letter and the tone mark after it are
 * never decoded apart (markup is ASCII in every one of them); the cut
 * costs one backwards scan per 1 MiB block.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xml_plugin.h"

#define RAW_BLOCK (1u << 20)

static int read_raw(xml_input *in)
{
    /* bytes from raw_pos on are kept, moved to the front */
    size_t keep = in->raw_len - in->raw_pos;
    memmove(in->raw, in->raw + in->raw_pos, keep);
    in->raw_pos = 0;
    in->raw_len = keep;
    while (!in->eof && in->raw_len < RAW_BLOCK) {
        ssize_t n = read(in->fd, in->raw + in->raw_len, RAW_BLOCK - in->raw_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(in->error, sizeof in->error, "cannot read %s: %s", in->path, strerror(errno));
            return -1;
        }
        if (n == 0)
            in->eof = 1;
        in->raw_len += (size_t)n;
        in->bytes_read += (uint64_t)n;
        if (n > 0 && in->raw_len >= 4096)
            break; /* enough for a block; a FIFO gives what it has */
    }
    return 0;
}

/* The encoding named by the XML declaration at the start of s, copied to
 * out; 0 when there is none (or it is not ASCII-compatible). */
static int declared_encoding(const char *s, size_t len, char *out, size_t outlen)
{
    if (len < 6 || memcmp(s, "<?xml", 5) != 0)
        return 0;
    const char *end = memmem(s, len, "?>", 2);
    if (!end)
        return 0;
    const char *e = memmem(s, (size_t)(end - s), "encoding", 8);
    if (!e)
        return 0;
    e += 8;
    while (e < end && (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n'))
        e++;
    if (e == end || *e++ != '=')
        return 0;
    while (e < end && (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n'))
        e++;
    if (e == end || (*e != '"' && *e != '\''))
        return 0;
    char q = *e++;
    const char *v = e;
    while (e < end && *e != q)
        e++;
    size_t n = (size_t)(e - v);
    if (e == end || n == 0 || n >= outlen)
        return 0;
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

/* Decide the encoding from the override, the BOM or the declaration. */
static int choose_encoding(xml_input *in, const char *override)
{
    char declared[64] = "";
    const char *bom = NULL;
    size_t bom_len = vn_bom_sniff(in->raw, in->raw_len, &bom);
    const char *name = override;
    if (!name && bom_len)
        name = strcmp(bom, "utf-8") == 0 ? "utf-8" : "utf-16";
    if (!name && declared_encoding(in->raw, in->raw_len, declared, sizeof declared))
        name = declared;
    if (!name)
        name = "utf-8";
    snprintf(in->name, sizeof in->name, "%s", name);
    const char *canonical = vn_encoding_canonical(name);
    if (canonical && strcmp(canonical, "utf-8") == 0) {
        in->libxml_encoding = override ? "UTF-8" : NULL;
        snprintf(in->name, sizeof in->name, "utf-8");
        return 0;
    }
    if (!canonical) {
        in->libxml_encoding = override; /* libxml2 reads the declaration itself */
        return 0;
    }
    /* declared "UTF-16" with a BOM of one byte order: the BOM tells */
    char err[256];
    in->decoder = vn_decoder_new(canonical, VN_REJECT, err, sizeof err);
    if (!in->decoder) {
        snprintf(in->error, sizeof in->error, "encoding %s: %s", name, err);
        return -1;
    }
    snprintf(in->name, sizeof in->name, "%s", canonical);
    in->utf16 = vn_encoding_is_stream(canonical);
    if (in->utf16 && vn_utf16_init(&in->u16, canonical, VN_REJECT) != VN_OK) {
        snprintf(in->error, sizeof in->error, "cannot start UTF-16 decoding");
        return -1;
    }
    in->libxml_encoding = "UTF-8";
    return 0;
}

int xml_input_open(xml_input *in, const char *path, const char *override)
{
    memset(in, 0, sizeof(*in));
    in->path = path;
    vn_buf_init(&in->decoded);
    vn_buf_init(&in->scratch);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(in->error, sizeof in->error,
                 "%s is a directory: give a file or a glob such as %s/*.xml", path, path);
        return -1;
    }
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
        snprintf(in->error, sizeof in->error, "cannot open %s: %s (check the path and its "
                 "permissions)", path, strerror(errno));
        return -1;
    }
    if (!(in->raw = malloc(RAW_BLOCK))) {
        snprintf(in->error, sizeof in->error, "out of memory");
        return -1;
    }
    if (read_raw(in) != 0)
        return -1;
    return choose_encoding(in, override && *override ? override : NULL);
}

/* Where to cut raw[0, n) so that no character is decoded apart from the
 * marks after it: after the last '>', else after the last ASCII blank;
 * n when neither (a block of text without a blank: decoded whole). */
static size_t safe_cut(const char *raw, size_t n)
{
    for (size_t i = n; i > 0; i--)
        if (raw[i - 1] == '>')
            return i;
    for (size_t i = n; i > 0; i--)
        if (raw[i - 1] == ' ' || raw[i - 1] == '\n')
            return i;
    return n;
}

/* Decode the next block of raw bytes into in->decoded; 0 or -1. */
static int decode_block(xml_input *in)
{
    in->decoded.len = 0;
    in->decoded_pos = 0;
    if (read_raw(in) != 0)
        return -1;
    vn_error e;
    e.replacements = 0;
    size_t n = in->raw_len - in->raw_pos;
    if (in->utf16) {
        int rc = n ? vn_utf16_feed(&in->u16, in->raw + in->raw_pos, n, &in->decoded, &e)
                   : vn_utf16_finish(&in->u16, &in->decoded, &e);
        in->raw_pos += n;
        if (rc != VN_OK) {
            snprintf(in->error, sizeof in->error, "%s: %s", in->path,
                     rc == VN_ENOMEM ? "out of memory" : e.message);
            return -1;
        }
        return 0;
    }
    size_t cut = in->eof ? n : safe_cut(in->raw + in->raw_pos, n);
    const char *out;
    size_t out_len;
    int rc = vn_decode_field(in->decoder, in->raw + in->raw_pos, cut, &out, &out_len,
                             &in->scratch, &e);
    if (rc != VN_OK) {
        snprintf(in->error, sizeof in->error, "%s: byte %llu: %s", in->path,
                 (unsigned long long)(in->bytes_read - (in->raw_len - in->raw_pos) + e.offset + 1),
                 rc == VN_ENOMEM ? "out of memory" : e.message);
        return -1;
    }
    in->raw_pos += cut;
    return vn_buf_append(&in->decoded, out, out_len) == VN_OK ? 0 : -1;
}

int xml_input_read(void *context, char *buffer, int len)
{
    xml_input *in = context;
    if (len <= 0)
        return 0;
    if (!in->decoder) {
        if (in->raw_pos == in->raw_len) {
            if (in->eof)
                return 0;
            in->raw_pos = in->raw_len = 0;
            if (read_raw(in) != 0)
                return -1;
        }
        size_t n = in->raw_len - in->raw_pos;
        if (n > (size_t)len)
            n = (size_t)len;
        memcpy(buffer, in->raw + in->raw_pos, n);
        in->raw_pos += n;
        return (int)n;
    }
    while (in->decoded_pos == in->decoded.len) {
        if (in->finished)
            return 0;
        /* the last block: UTF-16 checks for a dangling half character */
        in->finished = in->eof && in->raw_pos == in->raw_len;
        if (decode_block(in) != 0)
            return -1;
    }
    size_t n = in->decoded.len - in->decoded_pos;
    if (n > (size_t)len)
        n = (size_t)len;
    memcpy(buffer, in->decoded.data + in->decoded_pos, n);
    in->decoded_pos += n;
    return (int)n;
}

void xml_input_close(xml_input *in)
{
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    free(in->raw);
    in->raw = NULL;
    vn_decoder_free(in->decoder);
    in->decoder = NULL;
    vn_buf_free(&in->decoded);
    vn_buf_free(&in->scratch);
}
