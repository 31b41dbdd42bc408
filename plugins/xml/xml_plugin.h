/*
 * xml_plugin.h -- the parts of the xml plugin: the source (xml_source.c),
 * the sink (xml_sink.c), the paths of the source's record and fields
 * (xml_path.c) and the safety settings both share (xml.c).
 */
#ifndef MEKONG_XML_PLUGIN_H
#define MEKONG_XML_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "mekong.h"
#include "vntext/vntext.h"

/* ---- safety (xml.c) ------------------------------------------------------ */

/* libxml2's options for every document the plugin parses: never
 * XML_PARSE_NOENT (entities substituted) nor XML_PARSE_DTDLOAD (external
 * DTD loaded), no network, line numbers past 65535. */
int xml_parse_options(void);
/* Start libxml2 once and install the external-entity loader that refuses
 * everything (network, files, the external DTD) -- except local files while
 * xml_allow_local_files(1) is in force on the calling thread (the sink's
 * XSD and what it includes).  Main thread, from open(). */
void xml_init_safety(void);
void xml_allow_local_files(int allow);

/* ---- paths (xml_path.c) -------------------------------------------------- */

/* A name in a path: namespace URI (NULL: no namespace) and local name. */
typedef struct xml_name {
    char *uri;
    char *local;
    const void *interned; /* local in the dictionary of the document being read */
} xml_name;

/* The field tree: node 0 is the record element; a node's children are the
 * elements below it that some field names; a node may be a field itself
 * (its text), and may carry attribute fields. */
typedef struct xml_attr_field {
    xml_name name;
    size_t field;
} xml_attr_field;

typedef struct xml_field_node {
    xml_name name;      /* unused for node 0 */
    long text_field;    /* the field that takes this element's text, or -1 */
    size_t first_child; /* 0: none (node 0 is never a child) */
    size_t next_sibling;
    xml_attr_field *attrs;
    size_t nattrs;
} xml_field_node;

typedef struct xml_paths {
    xml_name *record; /* the record path, from the document element down */
    size_t record_steps;
    xml_field_node *nodes;
    size_t nnodes;
    char **columns;   /* field names, in the order of the fields option */
    char **exprs;     /* each field's path as written, for messages */
    size_t nfields;
} xml_paths;

/* Read the record, namespaces and fields options into p: MK_OK, or
 * MK_ERROR after host->error naming the option and what is wrong. */
int xml_paths_load(xml_paths *p, mk_context *ctx, const mk_host *host);
void xml_paths_free(xml_paths *p);
/* 1 when the element (uri may be NULL) is name. */
int xml_name_is(const xml_name *name, const char *uri, const char *local);


/* ---- input (xml_input.c) ------------------------------------------------- */

/* One document being read: the file, the encoding it is read in, and the
 * bytes handed to libxml2 (through xml_input_read).  Encodings vntext
 * knows (UTF-16, windows-1258, TCVN3, VNI, VISCII, latin1, ...) are decoded
 * here to UTF-8 and libxml2 is told so; any other name goes to libxml2
 * (iconv) as it is. */
typedef struct xml_input {
    int fd;
    const char *path;
    char *raw;            /* read buffer */
    size_t raw_pos, raw_len;
    int eof;
    int finished;         /* the decoder saw the end of the file */
    uint64_t bytes_read;  /* of the file, for the entity-expansion bound */
    vn_decoder *decoder;  /* our decoding to UTF-8, or NULL */
    int utf16;
    vn_utf16_stream u16;
    vn_buf decoded;       /* decoded bytes not yet handed to libxml2 */
    size_t decoded_pos;
    vn_buf scratch;
    size_t carry;         /* raw bytes kept for the next block (cut at a tag end) */
    const char *libxml_encoding; /* what libxml2 is told, or NULL (it reads the declaration) */
    char name[64];        /* the encoding read in, for the report */
    uint64_t replacements;
    char error[512];      /* why reading failed, "" if it did not */
} xml_input;

/* Open path and choose its encoding: the override when given, else the
 * BOM or the declaration.  0, or -1 with in->error set. */
int xml_input_open(xml_input *in, const char *path, const char *override);
/* libxml2's read callback (context: the xml_input). */
int xml_input_read(void *context, char *buffer, int len);
void xml_input_close(xml_input *in);

extern const mk_source_ops xml_source_ops;
extern const mk_sink_ops xml_sink_ops;

#endif
