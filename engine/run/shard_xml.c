/*
 * shard_xml.c -- the merge of an xml sink's parts (see shard.h and
 * docs/SCALE.md): one document, byte for byte what one run writes.
 *
 * The xml sink (plugins/xml/xml_sink.c) writes either
 *
 *   <?xml version="1.0" encoding="UTF-8"?>\n<ROOT attributes>\n
 *   ...records...
 *   </ROOT>\n
 *
 * when it got rows, or the declaration and an empty <ROOT attributes/>\n
 * when it got none.  A part is read as its head (up to the end of the
 * root's start tag, the first '>' outside quotes, and its line end), its
 * body and its end tag, never as a whole: the head of the first part that
 * got rows is written once, then every such part's body in plan order
 * (copied by the kernel where it can), then one end tag.  When no part
 * got rows, the first part is the document (the empty form is the same in
 * every part).  The head is read in one bounded buffer; the body is copied
 * in blocks: memory does not grow with the document.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shard.h"

#define XML_DECLARATION "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define XML_HEAD_MAX (64u * 1024u)
#define XML_COPY_BLOCK (1u << 20)

void mk_xml_join_init(mk_xml_join *j)
{
    memset(j, 0, sizeof(*j));
}

void mk_xml_join_free(mk_xml_join *j)
{
    free(j->head);
    free(j->empty);
    memset(j, 0, sizeof(*j));
}

/* The length of the head in buf[0, n) (through the line end after the
 * root's start tag), *empty: the start tag ends with "/>"; 0 when buf does
 * not start as the xml sink's documents do.  root: the element's name. */
static size_t head_length(const char *buf, size_t n, int *empty, char *root, size_t rootlen)
{
    size_t d = strlen(XML_DECLARATION);
    if (n < d + 2 || memcmp(buf, XML_DECLARATION, d) != 0 || buf[d] != '<')
        return 0;
    size_t i = d + 1, r = 0;
    while (i < n && buf[i] != ' ' && buf[i] != '>' && buf[i] != '/' && r + 1 < rootlen)
        root[r++] = buf[i++];
    root[r] = '\0';
    int quoted = 0;
    for (; i < n; i++) {
        if (buf[i] == '"')
            quoted = !quoted;
        else if (buf[i] == '>' && !quoted)
            break;
    }
    if (!r || i + 1 >= n || buf[i + 1] != '\n')
        return 0;
    *empty = buf[i - 1] == '/';
    return i + 2;
}

/* len bytes of fd from offset off to f. */
static int copy_range(int fd, off_t off, uint64_t len, mk_outfile *f, char *buf)
{
    if (mk_outfile_flush(f) != 0)
        return -1;
    while (len > 0) {
        ssize_t n = copy_file_range(fd, &off, f->fd, NULL, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len -= (uint64_t)n;
    }
    while (len > 0) { /* not between these files: read and write */
        size_t want = len < XML_COPY_BLOCK ? (size_t)len : XML_COPY_BLOCK;
        ssize_t n = pread(fd, buf, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || mk_outfile_write(f, buf, (size_t)n) != 0)
            return -1;
        off += n;
        len -= (uint64_t)n;
    }
    return 0;
}

/* The end tag of a part that got rows: "</ROOT>\n" at its end. */
static int has_end_tag(int fd, uint64_t size, uint64_t head, const char *end, size_t end_len)
{
    char tail[300];
    if (size < head + end_len || end_len > sizeof tail)
        return 0;
    ssize_t n = pread(fd, tail, end_len, (off_t)(size - end_len));
    return n == (ssize_t)end_len && memcmp(tail, end, end_len) == 0;
}

static int part_body(mk_xml_join *j, mk_outfile *f, int fd, uint64_t size, const char *head,
                     size_t hl, const char *root, char *buf)
{
    char end[300];
    int el = snprintf(end, sizeof end, "</%s>\n", root);
    if (el <= 0 || (size_t)el >= sizeof end || !has_end_tag(fd, size, hl, end, (size_t)el))
        return -1;
    if (!j->head) {
        if (!(j->head = malloc(hl + (size_t)el + 1)))
            return -1;
        memcpy(j->head, head, hl);
        memcpy(j->end, end, (size_t)el + 1);
        j->head_len = hl;
        if (mk_outfile_write(f, head, hl) != 0)
            return -1;
    } else if (hl != j->head_len || memcmp(head, j->head, hl) != 0) {
        return -1; /* the parts disagree on the root element */
    }
    return copy_range(fd, (off_t)hl, size - hl - (uint64_t)el, f, buf);
}

int mk_xml_join_part(mk_xml_join *j, mk_outfile *f, const char *path, char *err, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, len, "cannot read the part %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char *buf = malloc(XML_HEAD_MAX + XML_COPY_BLOCK);
    ssize_t got = buf ? pread(fd, buf, XML_HEAD_MAX, 0) : -1;
    int empty = 0, rc = -1;
    char root[256];
    size_t hl = got > 0 ? head_length(buf, (size_t)got, &empty, root, sizeof root) : 0;
    if (hl && empty && (uint64_t)st.st_size == hl) { /* no rows: keep the first such part */
        rc = 0;
        if (!j->empty && (j->empty = malloc(hl))) {
            memcpy(j->empty, buf, hl);
            j->empty_len = hl;
        } else if (!j->empty) {
            rc = -1;
        }
    } else if (hl && !empty) {
        rc = part_body(j, f, fd, (uint64_t)st.st_size, buf, hl, root, buf + XML_HEAD_MAX);
    }
    if (rc != 0)
        snprintf(err, len, "%s is not a part the xml sink wrote (its declaration, root element "
                 "or end tag is not where the sink puts them), or it cannot be copied: run its "
                 "shard again", path);
    free(buf);
    close(fd);
    return rc;
}

int mk_xml_join_end(mk_xml_join *j, mk_outfile *f, char *err, size_t len)
{
    int rc = j->head ? mk_outfile_write(f, j->end, strlen(j->end))
             : j->empty ? mk_outfile_write(f, j->empty, j->empty_len)
                        : 0;
    if (rc != 0)
        snprintf(err, len, "cannot write %s: %s", f->final_path, strerror(f->err));
    return rc;
}
