/*
 * parse.c: untrusted response bodies (XML or JSON) into one cJSON tree, with
 * limits, and the path language the matchers use (aipa/parse.h,
 * docs/internals/client.md).
 */
#include "aipa/parse.h"

#include "aipa/wire.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *aipa_body_format_name(enum aipa_body_format f)
{
    switch (f) {
    case AIPA_BODY_XML:
        return "xml";
    case AIPA_BODY_JSON:
        return "json";
    case AIPA_BODY_UNKNOWN:
        break;
    }
    return "unknown";
}

struct aipa_parse_limits aipa_parse_default_limits(void)
{
    struct aipa_parse_limits l = {AIPA_PARSE_DEFAULT_MAX_BYTES, AIPA_PARSE_DEFAULT_MAX_DEPTH,
                                  AIPA_PARSE_DEFAULT_MAX_NODES};
    return l;
}

void aipa_doc_init(struct aipa_doc *d)
{
    d->format = AIPA_BODY_UNKNOWN;
    d->root = NULL;
    d->root_name[0] = '\0';
}

void aipa_doc_cleanup(struct aipa_doc *d)
{
    cJSON_Delete(d->root);
    aipa_doc_init(d);
}

/* Appends a one-line reason to why (if any); always returns err. */
static aipa_err fail(struct aipa_buf *why, aipa_err err, const char *fmt, ...) AIPA_PRINTF(3, 4);
static aipa_err fail(struct aipa_buf *why, aipa_err err, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL) {
        va_start(ap, fmt);
        /* A reason that does not fit is dropped; the returned err still tells. */
        aipa_err lost = aipa_buf_vprintf(why, fmt, ap);
        (void)lost;
        va_end(ap);
    }
    return err;
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Case-insensitive search for needle (lowercase) in s[0..n). */
static bool contains_ci(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);

    for (size_t i = 0; m <= n && i <= n - m; i++) {
        size_t k = 0;
        while (k < m) {
            char c = s[i + k];
            if (c >= 'A' && c <= 'Z') {
                c = (char)(c - 'A' + 'a');
            }
            if (c != needle[k]) {
                break;
            }
            k++;
        }
        if (k == m) {
            return true;
        }
    }
    return false;
}

enum aipa_body_format aipa_detect_format(const char *content_type, const uint8_t *body, size_t len)
{
    if (content_type != NULL) {
        /* Only the media type counts, not its parameters. */
        size_t n = strcspn(content_type, ";");
        if (contains_ci(content_type, n, "json")) {
            return AIPA_BODY_JSON;
        }
        if (contains_ci(content_type, n, "xml")) {
            return AIPA_BODY_XML;
        }
    }
    size_t i = 0;
    if (len >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF) {
        i = 3;
    }
    while (i < len && is_ws(body[i])) {
        i++;
    }
    if (i < len) {
        if (body[i] == '<') {
            return AIPA_BODY_XML;
        }
        if (body[i] == '{' || body[i] == '[') {
            return AIPA_BODY_JSON;
        }
    }
    return AIPA_BODY_UNKNOWN;
}

/* ---- JSON ---- */

/* Well-formed UTF-8 (no overlongs, surrogates, or > U+10FFFF); *bad_at on failure. */
static bool utf8_ok(const uint8_t *s, size_t n, size_t *bad_at)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t len = aipa_utf8_decode(s + i, n - i, &cp);

        if (cp == AIPA_UTF8_INVALID) {
            *bad_at = i;
            return false;
        }
        i += len;
    }
    return true;
}

/*
 * Checks what cJSON does not: NUL and raw control bytes inside strings,
 * "\u0000" escapes (cJSON would cut the string there), and the depth limit,
 * in one pass that tracks strings so brackets inside them do not count.
 */
static aipa_err json_prescan(const uint8_t *s, size_t n, size_t max_depth, struct aipa_buf *why)
{
    size_t depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == 0) {
            return fail(why, AIPA_EPARSE, "JSON: NUL byte at offset %zu", i);
        }
        if (in_str) {
            if (c < 0x20) {
                return fail(why, AIPA_EPARSE, "JSON: control byte 0x%02x in a string at offset %zu",
                            c, i);
            }
            if (c == '\\') {
                if (i + 5 < n && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) {
                    return fail(why, AIPA_EPARSE, "JSON: \\u0000 in a string at offset %zu", i);
                }
                i++; /* skip the escaped byte (a quote or backslash) */
            } else if (c == '"') {
                in_str = false;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                return fail(why, AIPA_ETOOBIG, "too deep (more than %zu levels) at offset %zu",
                            max_depth, i);
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return AIPA_OK;
}

static int cmp_member_name(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/*
 * The first member name that occurs twice in one object anywhere in the tree,
 * or NULL. Duplicates are refused rather than resolved: cJSON lookups would
 * see the first value while the SDKs (JSON.parse, Go, Python) keep the last,
 * so any choice here could disagree with what a client of the target sees.
 * Recursion is bounded by the depth limit checked before parsing.
 */
static const char *duplicate_member(const cJSON *n, aipa_err *err)
{
    const cJSON *c;
    size_t count = 0;

    cJSON_ArrayForEach(c, n)
    {
        const char *dup = duplicate_member(c, err);
        if (dup != NULL || *err != AIPA_OK) {
            return dup;
        }
        count++;
    }
    if (!cJSON_IsObject(n) || count < 2) {
        return NULL;
    }
    if (count <= 8) {
        for (const cJSON *a = n->child; a != NULL; a = a->next) {
            for (const cJSON *b = a->next; b != NULL; b = b->next) {
                if (strcmp(a->string, b->string) == 0) {
                    return a->string;
                }
            }
        }
        return NULL;
    }
    /* Larger objects: sort the names, O(n log n) even for a hostile 8 MiB object. */
    const cJSON **names = aipa_malloc(count * sizeof(*names));
    if (names == NULL) {
        *err = AIPA_ENOMEM;
        return NULL;
    }
    size_t i = 0;
    cJSON_ArrayForEach(c, n)
    {
        names[i++] = c;
    }
    qsort(names, count, sizeof(*names), cmp_member_name);
    const char *dup = NULL;
    for (i = 1; i < count && dup == NULL; i++) {
        if (strcmp(names[i - 1]->string, names[i]->string) == 0) {
            dup = names[i]->string;
        }
    }
    aipa_free(names);
    return dup;
}

static aipa_err parse_json(const uint8_t *body, size_t len, const struct aipa_parse_limits *lim,
                           struct aipa_doc *d, struct aipa_buf *why)
{
    const char *text = (const char *)body;
    const char *end = NULL;
    size_t bad_at = 0;
    size_t start = 0;

    if (len >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF) {
        start = 3; /* a UTF-8 BOM is tolerated, as JSON parsers commonly do */
    }
    if (!utf8_ok(body, len, &bad_at)) {
        return fail(why, AIPA_EPARSE, "JSON: invalid UTF-8 at offset %zu", bad_at);
    }
    AIPA_TRY(json_prescan(body + start, len - start, lim->max_depth, why));

    cJSON *root = cJSON_ParseWithLengthOpts(text + start, len - start, &end, false);
    if (root == NULL) {
        /* cJSON reports the failure position through end (its global is not thread-safe). */
        size_t off = len;
        if (end != NULL && end >= text && end <= text + len) {
            off = (size_t)(end - text);
        }
        if (off >= len) {
            return fail(why, AIPA_EPARSE, "JSON: unexpected end of input at offset %zu", len);
        }
        return fail(why, AIPA_EPARSE, "JSON: unexpected byte 0x%02x at offset %zu",
                    (unsigned)body[off], off);
    }
    size_t off = (size_t)(end - text);
    while (off < len && is_ws(body[off])) {
        off++;
    }
    if (off < len) {
        cJSON_Delete(root);
        return fail(why, AIPA_EPARSE, "JSON: trailing data at offset %zu", off);
    }
    aipa_err derr = AIPA_OK;
    const char *dup = duplicate_member(root, &derr);
    if (dup != NULL || derr != AIPA_OK) {
        char shown[65];
        size_t k = 0;
        /* The name is peer data: keep the reason on one printable line. */
        for (; dup != NULL && dup[k] != '\0' && k < sizeof(shown) - 1; k++) {
            unsigned char ch = (unsigned char)dup[k];
            shown[k] = (ch < 0x20 || ch == 0x7F || ch == '"') ? '?' : (char)ch;
        }
        shown[k] = '\0';
        aipa_err e = derr != AIPA_OK
                         ? fail(why, derr, "out of memory checking member names")
                         : fail(why, AIPA_EPARSE, "JSON: duplicate member \"%s\"", shown);
        cJSON_Delete(root);
        return e;
    }
    d->format = AIPA_BODY_JSON;
    d->root = root;
    return AIPA_OK;
}

/* ---- XML ---- */

/* Per-parse state, reached from the SAX hooks through ctxt->_private. */
struct xml_guard {
    size_t depth;
    size_t max_depth;
    size_t nodes;
    size_t max_nodes;
    char reason[96]; /* set when a hook stopped the parser */
    aipa_err err;
};

static void guard_stop(xmlParserCtxtPtr ctxt, aipa_err err, const char *reason)
{
    struct xml_guard *g = ctxt->_private;
    if (g->reason[0] == '\0') {
        (void)snprintf(g->reason, sizeof(g->reason), "%s", reason);
        g->err = err;
    }
    xmlStopParser(ctxt);
}

/* A DOCTYPE is refused before its internal subset (and any entity) is read. */
static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                               const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    guard_stop(ctx, AIPA_EPARSE, "DOCTYPE not allowed");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    guard_stop(ctx, AIPA_EPARSE, "entity declarations not allowed");
}

/* An entity reference (&x;) to anything but the five predefined ones. */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
    xmlEntityPtr e = xmlGetPredefinedEntity(name);
    if (e == NULL) {
        guard_stop(ctx, AIPA_EPARSE, "undeclared entity reference");
    }
    return e;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct xml_guard *g = ctxt->_private;
    char msg[96];

    if (++g->nodes > g->max_nodes) {
        (void)snprintf(msg, sizeof(msg), "too many elements (more than %zu)", g->max_nodes);
        guard_stop(ctxt, AIPA_ETOOBIG, msg);
        return;
    }
    if (++g->depth > g->max_depth) {
        (void)snprintf(msg, sizeof(msg), "too deep (more than %zu levels)", g->max_depth);
        guard_stop(ctxt, AIPA_ETOOBIG, msg);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct xml_guard *g = ctxt->_private;

    if (g->depth > 0) {
        g->depth--;
    }
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Text content (text and CDATA children) of a leaf element, as a cJSON string. */
static cJSON *leaf_to_json(xmlNodePtr n)
{
    struct aipa_buf text;
    cJSON *s;

    aipa_buf_init(&text, SIZE_MAX / 2);
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL) {
            if (aipa_buf_puts(&text, (const char *)c->content) != AIPA_OK) {
                aipa_buf_cleanup(&text);
                return NULL;
            }
        }
    }
    s = cJSON_CreateString(text.ptr != NULL ? text.ptr : "");
    aipa_buf_cleanup(&text);
    return s;
}

/* An index from member name to member, for elements with many children. */
struct name_slot {
    const char *name;
    cJSON *item;
};

static uint64_t hash_name(const char *s)
{
    return aipa_fnv1a64(AIPA_FNV1A64_BASIS, s, strlen(s));
}

/*
 * Element -> cJSON (the mapping in aipa/parse.h). Recursion depth is bounded
 * by the depth guard that ran during parsing. Finding the member a child
 * joins is O(1): a linear search per child made a hostile body of 100,000
 * distinct sibling names cost about a minute.
 */
static cJSON *elem_to_json(xmlNodePtr n)
{
    struct name_slot *tab = NULL;
    size_t cap = 0;
    size_t kids = 0;

    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        kids += c->type == XML_ELEMENT_NODE ? 1u : 0u;
    }
    if (kids == 0) {
        return leaf_to_json(n);
    }
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        return NULL;
    }
    if (kids > 8) {
        cap = 16;
        while (cap < 2 * kids) {
            cap *= 2;
        }
        tab = aipa_calloc(cap, sizeof(*tab));
        if (tab == NULL) {
            goto fail;
        }
    }
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) {
            continue;
        }
        const char *name = (const char *)c->name;
        struct name_slot *slot = NULL;
        cJSON *prev;
        if (tab != NULL) {
            size_t i = (size_t)(hash_name(name) & (cap - 1));
            while (tab[i].name != NULL && strcmp(tab[i].name, name) != 0) {
                i = (i + 1) & (cap - 1);
            }
            slot = &tab[i];
            prev = slot->item;
        } else {
            prev = cJSON_GetObjectItemCaseSensitive(obj, name);
        }
        cJSON *v = elem_to_json(c);
        if (v == NULL) {
            goto fail;
        }
        if (prev == NULL) {
            if (!cJSON_AddItemToObject(obj, name, v)) {
                cJSON_Delete(v);
                goto fail;
            }
            if (slot != NULL) {
                slot->name = name;
                slot->item = v;
            }
            continue;
        }
        if (!cJSON_IsArray(prev)) {
            /*
             * The second sibling of this name (elements never map to arrays
             * otherwise): the member becomes an array, taking over the
             * member's key so that nothing here can fail after this point.
             */
            cJSON *arr = cJSON_CreateArray();
            if (arr == NULL) {
                cJSON_Delete(v);
                goto fail;
            }
            cJSON *first = cJSON_DetachItemViaPointer(obj, prev);
            arr->string = first->string;
            first->string = NULL;
            cJSON_AddItemToArray(obj, arr); /* links a keyed item: no allocation */
            cJSON_AddItemToArray(arr, first);
            if (slot != NULL) {
                slot->item = arr;
            }
            prev = arr;
        }
        cJSON_AddItemToArray(prev, v);
    }
    aipa_free(tab);
    return obj;
fail:
    aipa_free(tab);
    cJSON_Delete(obj);
    return NULL;
}

static aipa_err parse_xml(const uint8_t *body, size_t len, const struct aipa_parse_limits *lim,
                          struct aipa_doc *d, struct aipa_buf *why)
{
    aipa_err err = AIPA_ENOMEM;
    struct xml_guard guard;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;

    if (len > INT_MAX) {
        return fail(why, AIPA_ETOOBIG, "body larger than %d bytes", INT_MAX);
    }
    memset(&guard, 0, sizeof(guard));
    guard.max_depth = lim->max_depth;
    guard.max_nodes = lim->max_nodes;
    guard.err = AIPA_OK;

    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        goto out;
    }
    ctxt->_private = &guard;
    ctxt->sax->internalSubset = on_internal_subset;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->getEntity = on_get_entity;
    ctxt->sax->startElementNs = on_start;
    ctxt->sax->endElementNs = on_end;

    /* Never NOENT, DTDLOAD, DTDATTR or HUGE; errors go to the context, not stderr. */
    doc = xmlCtxtReadMemory(ctxt, (const char *)body, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (guard.reason[0] != '\0') {
        err = fail(why, guard.err, "%s", guard.reason);
        goto out;
    }
    if (doc == NULL || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[160] = "";
        int line = 0;
        if (e != NULL) {
            line = e->line;
            if (e->message != NULL) {
                (void)snprintf(msg, sizeof(msg), "%s", e->message);
                msg[strcspn(msg, "\r\n")] = '\0';
            }
        }
        err = fail(why, AIPA_EPARSE, "XML not well-formed at line %d: %s", line,
                   msg[0] != '\0' ? msg : "parse error");
        goto out;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        err = fail(why, AIPA_EPARSE, "DOCTYPE not allowed");
        goto out;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL) {
        err = fail(why, AIPA_EPARSE, "XML: no root element");
        goto out;
    }
    d->root = elem_to_json(root);
    if (d->root == NULL) {
        err = fail(why, AIPA_ENOMEM, "out of memory building the tree");
        goto out;
    }
    (void)snprintf(d->root_name, sizeof(d->root_name), "%s", (const char *)root->name);
    d->format = AIPA_BODY_XML;
    err = AIPA_OK;
out:
    if (doc != NULL) {
        xmlFreeDoc(doc);
    }
    if (ctxt != NULL) {
        xmlFreeParserCtxt(ctxt);
    }
    return err;
}

aipa_err aipa_parse_body(enum aipa_body_format fmt, const char *content_type, const uint8_t *body,
                         size_t len, const struct aipa_parse_limits *limits, struct aipa_doc *d,
                         struct aipa_buf *why)
{
    struct aipa_parse_limits lim = limits != NULL ? *limits : aipa_parse_default_limits();
    aipa_err err;

    aipa_doc_cleanup(d);
    if (body == NULL && len > 0) {
        return AIPA_EINVAL;
    }
    if (len > lim.max_bytes) {
        return fail(why, AIPA_ETOOBIG, "body larger than %zu bytes", lim.max_bytes);
    }
    if (len == 0) {
        return fail(why, AIPA_EPARSE, "empty body");
    }
    if (fmt == AIPA_BODY_UNKNOWN) {
        fmt = aipa_detect_format(content_type, body, len);
    }
    switch (fmt) {
    case AIPA_BODY_XML:
        err = parse_xml(body, len, &lim, d, why);
        break;
    case AIPA_BODY_JSON:
        err = parse_json(body, len, &lim, d, why);
        break;
    case AIPA_BODY_UNKNOWN:
    default:
        return fail(why, AIPA_EPARSE, "unknown body format (content type %s, first byte 0x%02x)",
                    content_type != NULL ? content_type : "none", (unsigned)body[0]);
    }
    if (err != AIPA_OK) {
        aipa_doc_cleanup(d);
    }
    return err;
}

/* ---- paths ---- */

/* The one-element rule: index i of a node that is not an array. */
static const cJSON *index_node(const cJSON *n, size_t i)
{
    if (cJSON_IsArray(n)) {
        if (i > (size_t)INT_MAX) {
            return NULL;
        }
        return cJSON_GetArrayItem(n, (int)i);
    }
    return i == 0 ? n : NULL;
}

aipa_err aipa_path_lookup(const cJSON *node, const char *path, const cJSON **out)
{
    const char *p = path;
    const cJSON *cur = node;

    *out = NULL;
    if (node == NULL || path == NULL) {
        return node == NULL ? AIPA_ENOTFOUND : AIPA_EINVAL;
    }
    bool first = true;
    while (*p != '\0') {
        /* A segment: [name] then any number of [N]. */
        if (!first) {
            if (*p != '.') {
                return AIPA_EINVAL;
            }
            p++;
        }
        size_t nlen = strcspn(p, ".[");
        if (nlen == 0 && !(first && *p == '[')) {
            return AIPA_EINVAL; /* "a..b", "a.", ".a", "a.[0]" */
        }
        if (nlen > 0) {
            if (cur != NULL) {
                if (!cJSON_IsObject(cur)) {
                    cur = NULL;
                } else {
                    const cJSON *found = NULL;
                    for (const cJSON *c = cur->child; c != NULL; c = c->next) {
                        if (c->string != NULL && strlen(c->string) == nlen &&
                            memcmp(c->string, p, nlen) == 0) {
                            found = c;
                            break;
                        }
                    }
                    cur = found;
                }
            }
            p += nlen;
        }
        while (*p == '[') {
            p++;
            size_t idx = 0;
            size_t digits = 0;
            while (*p >= '0' && *p <= '9') {
                size_t dgt = (size_t)(*p - '0');
                if (idx > (SIZE_MAX - dgt) / 10) {
                    return AIPA_EINVAL;
                }
                idx = idx * 10 + dgt;
                p++;
                digits++;
            }
            if (digits == 0 || *p != ']') {
                return AIPA_EINVAL;
            }
            p++;
            if (cur != NULL) {
                cur = index_node(cur, idx);
            }
        }
        first = false;
    }
    if (cur == NULL) {
        return AIPA_ENOTFOUND;
    }
    *out = cur;
    return AIPA_OK;
}

const cJSON *aipa_path_get(const cJSON *node, const char *path)
{
    const cJSON *out = NULL;

    if (aipa_path_lookup(node, path, &out) != AIPA_OK) {
        return NULL;
    }
    return out;
}

const char *aipa_path_string(const cJSON *node, const char *path)
{
    const cJSON *n = aipa_path_get(node, path);

    return cJSON_IsString(n) ? n->valuestring : NULL;
}

size_t aipa_path_array_len(const cJSON *node, const char *path)
{
    const cJSON *n = aipa_path_get(node, path);

    if (n == NULL) {
        return 0;
    }
    if (cJSON_IsArray(n)) {
        return (size_t)cJSON_GetArraySize(n);
    }
    if (cJSON_IsString(n) && n->valuestring[0] == '\0') {
        return 0;
    }
    return 1;
}

const cJSON *aipa_path_array_item(const cJSON *node, const char *path, size_t i)
{
    const cJSON *n = aipa_path_get(node, path);

    if (n == NULL || (cJSON_IsString(n) && n->valuestring[0] == '\0')) {
        return NULL;
    }
    return index_node(n, i);
}

const char *aipa_node_type_name(const cJSON *node)
{
    if (node == NULL) {
        return "absent";
    }
    if (cJSON_IsString(node)) {
        return "string";
    }
    if (cJSON_IsNumber(node)) {
        return "number";
    }
    if (cJSON_IsBool(node)) {
        return "bool";
    }
    if (cJSON_IsNull(node)) {
        return "null";
    }
    if (cJSON_IsObject(node)) {
        return "object";
    }
    if (cJSON_IsArray(node)) {
        return "array";
    }
    return "invalid";
}

aipa_err aipa_node_scalar_text(const cJSON *node, struct aipa_buf *out)
{
    if (cJSON_IsString(node)) {
        return aipa_buf_puts(out, node->valuestring);
    }
    if (cJSON_IsNumber(node)) {
        double v = node->valuedouble;
        /* Integral and exact in a double: print without fraction or exponent. */
        if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v) {
            return aipa_buf_printf(out, "%.0f", v);
        }
        return aipa_buf_printf(out, "%.17g", v);
    }
    if (cJSON_IsBool(node)) {
        return aipa_buf_puts(out, cJSON_IsTrue(node) ? "true" : "false");
    }
    if (cJSON_IsNull(node)) {
        return aipa_buf_puts(out, "null");
    }
    return AIPA_EINVAL;
}

/* ---- value checks ---- */

static bool is_hex_case(char c, bool upper)
{
    if (c >= '0' && c <= '9') {
        return true;
    }
    return upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f');
}

bool aipa_is_request_id(const char *s, size_t n)
{
    static const size_t dashes[] = {8, 13, 18, 23};

    if (s == NULL || n != 36) {
        return false;
    }
    for (int pass = 0; pass < 2; pass++) {
        bool upper = pass == 0;
        bool ok = true;
        size_t d = 0;
        for (size_t i = 0; i < n && ok; i++) {
            if (d < AIPA_ARRAY_LEN(dashes) && i == dashes[d]) {
                ok = s[i] == '-';
                d++;
            } else {
                ok = is_hex_case(s[i], upper);
            }
        }
        if (ok) {
            return true;
        }
    }
    return false;
}

bool aipa_is_ipv4(const char *s, size_t n)
{
    size_t i = 0;

    if (s == NULL) {
        return false;
    }
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return false;
            }
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0')) {
            return false;
        }
    }
    return i == n;
}
