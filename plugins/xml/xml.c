/*
 * xml.c -- the xml plugin's descriptor: a source (xml_source.c) and a sink
 * (xml_sink.c), their declared options, and the safety settings of every
 * document the plugin parses.
 *
 * Safety on the libxml2 of Debian 12 (2.9.14), which has neither
 * XML_PARSE_NO_XXE nor per-context amplification limits: entities are
 * never substituted by libxml2 (no XML_PARSE_NOENT) and no external DTD is
 * loaded (no XML_PARSE_DTDLOAD), so an external entity or parameter entity
 * is never fetched; XML_PARSE_NONET forbids the network; and the external
 * entity loader, which libxml2 asks for any resource at all, refuses
 * everything.  The loader is process-wide in libxml2, so it is installed
 * once and lets local files through only on a thread that asked for it
 * (the sink reading its XSD, which the pipeline's author wrote).
 */
#include "config.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <pthread.h>
#include <string.h>

#include "xml_plugin.h"

static _Thread_local int local_files_allowed;
static xmlExternalEntityLoader default_loader;
static pthread_once_t safety_once = PTHREAD_ONCE_INIT;

int xml_parse_options(void)
{
    return XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_COMPACT;
}

void xml_allow_local_files(int allow)
{
    local_files_allowed = allow;
}

/* A local path or file: URL (no other scheme). */
static int is_local(const char *url)
{
    if (!url)
        return 0;
    if (strncmp(url, "file://", 7) == 0)
        return 1;
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    return !colon || (slash && slash < colon);
}

static xmlParserInputPtr refusing_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    if (local_files_allowed && is_local(url) && default_loader)
        return default_loader(url, id, ctxt);
    return NULL; /* libxml2 reports "failed to load external entity" */
}

static void install_safety(void)
{
    xmlInitParser();
    default_loader = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(refusing_loader);
}

void xml_init_safety(void)
{
    pthread_once(&safety_once, install_safety);
}

static const mk_option_decl source_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file or glob to read (data/*.xml), relative to the pipeline"},
    {"record", MK_OPT_STRING, 1, NULL,
     "path of the repeated element from the document element (/DanhSach/CongDan)"},
    {"namespaces", MK_OPT_MAP, 0, NULL, "prefixes used in record and fields: { dc: \"urn:...\" }"},
    {"fields", MK_OPT_MAP, 1, NULL,
     "column -> path below the record element: '@attr', child, child/grandchild, '.'"},
    {"encoding", MK_OPT_STRING, 0, NULL,
     "read the documents in this encoding whatever they declare (utf-8, utf-16, cp1258, tcvn3, "
     "... or any name iconv knows)"},
    {"repeated", MK_OPT_STRING, 0, "reject",
     "a field's element appearing twice in one record: reject (the record) or first (keep the "
     "first)",
     "reject|first"},
    {"on_malformed", MK_OPT_STRING, 0, "fail",
     "a document that is not well-formed: fail (the run) or keep (the rows before the fault; "
     "the rest of the file is one rejected record)",
     "fail|keep"},
    {"max_record_bytes", MK_OPT_INT, 0, "16777216",
     "most text one record may hold (entities expanded) before the run fails"},
    /* set by `mekong run --shard` from the shard plan (docs/SCALE.md) */
    {"shard_files", MK_OPT_LIST, 0, NULL,
     "read only these files of the glob (as the glob names them), in glob order, each numbered "
     "as its place in the glob; - alone: none (an empty shard)"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "file to write (written atomically when the run succeeds)"},
    {"root", MK_OPT_STRING, 0, "rows", "name of the document element"},
    {"record", MK_OPT_STRING, 0, "row", "name of each row's element"},
    {"namespace", MK_OPT_STRING, 0, NULL, "default namespace URI of the elements (xmlns)"},
    {"attributes", MK_OPT_LIST, 0, NULL, "columns written as attributes of the record element"},
    {"null", MK_OPT_STRING, 0, "omit", "a NULL: omit (the element) or nil (xsi:nil=\"true\")",
     "omit|nil"},
    {"schema", MK_OPT_PATH, 0, NULL,
     "XSD the written file must satisfy; checked before the file is published"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_plugin xml_plugin = {
    MK_PLUGIN_HEAD,
    "xml",
    PACKAGE_VERSION,
    "XML documents: streamed with libxml2's reader, written with XSD validation",
    source_options,
    &xml_source_ops,
    NULL,
    NULL,
    sink_options,
    &xml_sink_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &xml_plugin;
}
