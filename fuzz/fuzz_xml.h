/*
 * fuzz/fuzz_xml.h: libxml2 as the oracles' XML reader.
 *
 * fz_xml_read parses a document the way xmlReadMemory does, through one
 * parser context kept for the whole process (xmlCtxtReadMemory resets it
 * before each document). A new context per document, with its dictionary
 * and buffers, cost the stateful targets more than the code under test.
 * Errors are never printed (the caller's options include NOERROR and
 * NOWARNING; the generic handler is silenced once).
 *
 * fz_xml_walk reads a document the same way but builds no tree: libxml2
 * calls the target back for each element start and end and each run of
 * text (character data, CDATA, whitespace). An oracle that only compares
 * names and text saves the tree's nodes, strings and their copies
 * (xmlNodeGetContent), which were most of the allocations of an input.
 */
#ifndef AIPA_FUZZ_XML_H
#define AIPA_FUZZ_XML_H

#include "fuzz_common.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

static void fz_xml_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* Once, from LLVMFuzzerInitialize. */
static inline void fz_xml_init(void)
{
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, fz_xml_quiet);
}

/* The document, or NULL when it is not well-formed; free it with xmlFreeDoc. */
static inline xmlDocPtr fz_xml_read(const char *buf, size_t len, int options)
{
    static xmlParserCtxtPtr ctxt;

    if (ctxt == NULL) {
        ctxt = xmlNewParserCtxt();
        FUZZ_CHECK(ctxt != NULL, "xmlNewParserCtxt");
    }
    FUZZ_CHECK(len <= 0x7fffffff, "document of %zu bytes", len);
    return xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, options);
}

/* A target's callbacks for fz_xml_walk; ctx is its own. */
struct fz_xml_walker {
    void (*start)(void *ctx, const char *name); /* an element's local name */
    void (*end)(void *ctx);
    void (*text)(void *ctx, const char *s, size_t n);
    void *ctx;
};

static void fz_xml_walk_start(void *c, const xmlChar *localname, const xmlChar *prefix,
                              const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                              int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    const struct fz_xml_walker *w = ((xmlParserCtxtPtr)c)->_private;

    (void)prefix;
    (void)uri;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_attributes;
    (void)nb_defaulted;
    (void)attributes;
    w->start(w->ctx, (const char *)localname);
}

static void fz_xml_walk_end(void *c, const xmlChar *localname, const xmlChar *prefix,
                            const xmlChar *uri)
{
    const struct fz_xml_walker *w = ((xmlParserCtxtPtr)c)->_private;

    (void)localname;
    (void)prefix;
    (void)uri;
    w->end(w->ctx);
}

static void fz_xml_walk_text(void *c, const xmlChar *s, int n)
{
    const struct fz_xml_walker *w = ((xmlParserCtxtPtr)c)->_private;

    w->text(w->ctx, (const char *)s, n > 0 ? (size_t)n : 0);
}

/*
 * Reads buf with the walker's callbacks; true when it is well-formed.
 * options must not hold NOBLANKS or NOCDATA (they replace the callbacks
 * that deliver whitespace and CDATA).
 */
static inline bool fz_xml_walk(const char *buf, size_t len, int options, struct fz_xml_walker *w)
{
    static xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    bool ok;

    if (ctxt == NULL) {
        ctxt = xmlNewParserCtxt();
        FUZZ_CHECK(ctxt != NULL, "xmlNewParserCtxt");
        ctxt->sax->startElementNs = fz_xml_walk_start;
        ctxt->sax->endElementNs = fz_xml_walk_end;
        ctxt->sax->characters = fz_xml_walk_text;
        ctxt->sax->ignorableWhitespace = fz_xml_walk_text;
        ctxt->sax->cdataBlock = fz_xml_walk_text;
    }
    FUZZ_CHECK(len <= 0x7fffffff, "document of %zu bytes", len);
    FUZZ_CHECK((options & (XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA)) == 0, "walk options");
    ctxt->_private = w;
    doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, options);
    ok = doc != NULL;
    xmlFreeDoc(doc); /* the document node alone: no element was added to it */
    return ok;
}

#endif /* AIPA_FUZZ_XML_H */
