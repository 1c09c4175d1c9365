/*
 * Target: aipa_parse_body on XML bodies, aipa_detect_format, and the path
 * and value helpers (harness/parse/parse.c). Response bodies come from targets
 * the harness does not trust, so this is the XXE / billion-laughs surface.
 *
 * Input: see fuzz_parse_common.h. Oracles:
 *   - the outcome contract and the limits (bytes, depth, element count);
 *   - no DOCTYPE ever passes: a body that parses has no internal or
 *     external subset when libxml2 reads it on its own;
 *   - differential: libxml2 read directly (same flags, never NOENT) and
 *     mapped with an independent implementation of the parse.h rules gives
 *     the same tree and root name whenever both succeed; a body libxml2
 *     finds well-formed, without DOCTYPE and within the limits must parse;
 *   - paths and value helpers as in fuzz_parse_json.
 */
#include "fuzz_parse_common.h"
#include "fuzz_xml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_xml_init();
    return 0;
}

static bool has_elements(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            return true;
        }
    }
    return false;
}

static bool blank(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            return false;
        }
    }
    return true;
}

/* parse.h: elements with element children are objects, same names an array,
 * leaves strings. */
static cJSON *ref_map(xmlNodePtr n, size_t depth, size_t *max_depth, size_t *count)
{
    cJSON *o;

    (*count)++;
    *max_depth = depth > *max_depth ? depth : *max_depth;
    if (!has_elements(n)) {
        xmlChar *t = xmlNodeGetContent(n);
        const char *s = t != NULL ? (const char *)t : "";
        /* whitespace-only text may be kept or dropped as blank */
        o = cJSON_CreateString(blank(s) ? "" : s);
        xmlFree(t);
        return o;
    }
    o = cJSON_CreateObject();
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) {
            continue;
        }
        cJSON *v = ref_map(c, depth + 1, max_depth, count);
        cJSON *prev = cJSON_GetObjectItemCaseSensitive(o, (const char *)c->name);
        if (prev == NULL) {
            cJSON_AddItemToObject(o, (const char *)c->name, v);
        } else {
            if (!cJSON_IsArray(prev)) {
                cJSON *arr = cJSON_CreateArray();
                cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(o, prev));
                cJSON_AddItemToObject(o, (const char *)c->name, arr);
                prev = arr;
            }
            cJSON_AddItemToArray(prev, v);
        }
    }
    return o;
}

/*
 * tree_eq of the parser's tree got with the reference want, where a string
 * of got that is blank counts as "" (ref_map made want's so): the parser
 * may keep or drop whitespace-only text. Compared in place, so the parser's
 * tree is not copied for each input.
 */
static bool tree_eq_blank(const cJSON *got, const cJSON *want)
{
    const cJSON *c;

    if (cJSON_IsString(got) && cJSON_IsString(want)) {
        return strcmp(blank(got->valuestring) ? "" : got->valuestring, want->valuestring) == 0;
    }
    if ((got->type & 0xFF) != (want->type & 0xFF)) {
        return false;
    }
    if (cJSON_IsArray(got) || cJSON_IsObject(got)) {
        const cJSON *d = want->child;
        if (cJSON_GetArraySize(got) != cJSON_GetArraySize(want)) {
            return false;
        }
        cJSON_ArrayForEach(c, got)
        {
            const cJSON *other =
                cJSON_IsObject(got) ? cJSON_GetObjectItemCaseSensitive(want, c->string) : d;
            if (other == NULL || !tree_eq_blank(c, other)) {
                return false;
            }
            d = d != NULL ? d->next : NULL;
        }
        return true;
    }
    return tree_eq(got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse_input in;
    xmlDocPtr doc;

    parse_input_run(&in, AIPA_BODY_XML, "text/xml;charset=utf-8", "application/json", data, size);

    doc = fz_xml_read((const char *)in.body, in.len,
                      XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
                          XML_PARSE_NOWARNING);
    if (in.err == AIPA_OK) {
        FUZZ_CHECK(in.d.format == AIPA_BODY_XML, "format %d", (int)in.d.format);
        FUZZ_CHECK(doc != NULL, "parsed a body libxml2 finds malformed");
        FUZZ_CHECK(doc->intSubset == NULL && doc->extSubset == NULL, "a DOCTYPE passed");
    }
    if (doc != NULL && xmlDocGetRootElement(doc) != NULL && doc->intSubset == NULL &&
        doc->extSubset == NULL) {
        size_t depth = 0, count = 0;
        xmlNodePtr root = xmlDocGetRootElement(doc);
        cJSON *want = ref_map(root, 1, &depth, &count);
        if (in.len <= in.lim.max_bytes && depth <= in.lim.max_depth && count <= in.lim.max_nodes &&
            memchr(in.body, '&', in.len) == NULL) {
            /* entity references aside (libxml2 alone would resolve what the guard
             * refuses) */
            FUZZ_CHECK(in.err == AIPA_OK, "rejected a well-formed body within the limits: %s",
                       in.why.ptr != NULL ? in.why.ptr : "");
        }
        if (in.err == AIPA_OK) {
            char name[128];
            FUZZ_CHECK(tree_eq_blank(in.d.root, want), "the tree differs:\n%s\n---\n%s",
                       cJSON_PrintUnformatted(in.d.root), cJSON_PrintUnformatted(want));
            snprintf(name, sizeof(name), "%s", (const char *)root->name);
            FUZZ_CHECK(strcmp(in.d.root_name, name) == 0, "root name %s, libxml2 %s",
                       in.d.root_name, name);
        }
        cJSON_Delete(want);
    }
    xmlFreeDoc(doc);
    parse_input_done(&in);
    return 0;
}
