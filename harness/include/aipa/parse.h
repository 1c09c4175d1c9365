/*
 * aipa/parse.h: bounded parsing of untrusted response bodies.
 *
 * A body is parsed into one normalised tree, whatever its format, so
 * matchers use one path language for XML and JSON. The tree type is cJSON:
 *
 *   JSON  parsed as is (cJSON_ParseWithLengthOpts; the whole input must be
 *         consumed, trailing whitespace aside). An object with a member name
 *         twice is rejected (cJSON would answer the first, the SDKs use the
 *         last), as are NUL, raw control bytes in strings and \u0000.
 *   XML   the root element's name goes to doc->root_name, and the root
 *         element becomes the tree: an element with element children is an
 *         object; children that share a name become an array in document
 *         order; an element without element children is a string (its text,
 *         "" when empty; CDATA counts as text). Attributes, comments and
 *         processing instructions are dropped; whitespace-only text between
 *         elements is ignored. Every XML leaf is a string: "5", not 5.
 *
 * XML is read with libxml2 (XML_PARSE_NONET | XML_PARSE_NOBLANKS, never
 * NOENT or DTDLOAD); a document with a DOCTYPE or any entity declaration is
 * rejected before its internal subset is read. Both formats are held to a
 * size limit, a depth limit and (XML) an element-count limit.
 *
 * Failures carry one-line reasons such as "XML not well-formed at line 3:
 * ...", "DOCTYPE not allowed", "JSON: unexpected byte at offset 17",
 * "too deep (more than 32 levels)", "body larger than 8388608 bytes".
 */
#ifndef AIPA_PARSE_H
#define AIPA_PARSE_H

#include "aipa/common.h"

#include <cjson/cJSON.h>

enum aipa_body_format {
    AIPA_BODY_UNKNOWN = 0,
    AIPA_BODY_XML = 1,
    AIPA_BODY_JSON = 2,
};
AIPA_API const char *aipa_body_format_name(enum aipa_body_format f); /* "xml", "json", "unknown" */

#define AIPA_PARSE_DEFAULT_MAX_BYTES (8u * 1024u * 1024u)
#define AIPA_PARSE_DEFAULT_MAX_DEPTH 32u
#define AIPA_PARSE_DEFAULT_MAX_NODES 100000u

struct aipa_parse_limits {
    size_t max_bytes; /* body length; larger is rejected without parsing */
    size_t max_depth; /* nesting of elements / objects and arrays (the root is depth 1) */
    size_t max_nodes; /* XML elements in the document */
};

AIPA_API struct aipa_parse_limits aipa_parse_default_limits(void);

struct aipa_doc {
    enum aipa_body_format format;
    cJSON *root;         /* owned; NULL until a parse succeeds */
    char root_name[128]; /* XML root element name (truncated past 127 bytes); "" for JSON */
};

AIPA_API void aipa_doc_init(struct aipa_doc *d);
AIPA_API void aipa_doc_cleanup(struct aipa_doc *d); /* frees root; d can be parsed into again */

/*
 * The format a body is in: from content_type when it names one ("json" or
 * "xml" in the media type, case-insensitive), else by sniffing the first
 * byte that is not whitespace (after a UTF-8 BOM): '<' XML, '{' or '[' JSON.
 * content_type may be NULL.
 */
AIPA_API enum aipa_body_format aipa_detect_format(const char *content_type, const uint8_t *body,
                                                  size_t len);

/*
 * Parses body (len bytes, not NUL-terminated) into d, which must be
 * initialised (it is cleaned first). fmt AIPA_BODY_UNKNOWN means detect with
 * aipa_detect_format(content_type, ...). limits NULL means the defaults.
 * Returns AIPA_OK, or AIPA_EPARSE / AIPA_ETOOBIG with the reason in why (if
 * non-NULL; appended, one line, no newline), AIPA_ENOMEM. On failure d->root
 * is NULL.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_parse_body(enum aipa_body_format fmt,
                                                  const char *content_type, const uint8_t *body,
                                                  size_t len,
                                                  const struct aipa_parse_limits *limits,
                                                  struct aipa_doc *d, struct aipa_buf *why);

/* ---- paths ----
 *
 * A path is member names separated by '.', each optionally followed by one
 * or more [N] indexes: "RequestId", "Instances.Instance[0].PublicIpAddress.IpAddress".
 * The empty path is the node itself. Names are matched exactly (case-sensitive).
 * Where a path indexes a node that is not an array, the node counts as a
 * one-element array (a single XML element where JSON has an array): [0] is
 * the node itself, any other index is absent.
 */

/*
 * Looks path up under node. AIPA_OK with *out set; AIPA_ENOTFOUND when
 * something on the way is absent (*out NULL); AIPA_EINVAL for a malformed
 * path ("a..b", "a[", "a[x]", "[0"... a leading index is allowed: "[0].A").
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_path_lookup(const cJSON *node, const char *path,
                                                   const cJSON **out);
/* aipa_path_lookup, NULL for absent or malformed. */
AIPA_API const cJSON *aipa_path_get(const cJSON *node, const char *path);
/* The string at path, or NULL when absent or not a string. */
AIPA_API const char *aipa_path_string(const cJSON *node, const char *path);
/*
 * Number of elements at path where an array is expected: an array gives its
 * size, an absent node 0, an empty string 0 (an empty XML element such as
 * <IpAddress/> where JSON has []), any other node 1.
 */
AIPA_API size_t aipa_path_array_len(const cJSON *node, const char *path);
/* Element i of the array at path (with the one-element rule above); NULL if absent. */
AIPA_API const cJSON *aipa_path_array_item(const cJSON *node, const char *path, size_t i);

/* "string", "number", "bool", "null", "object", "array", or "absent" for NULL. */
AIPA_API const char *aipa_node_type_name(const cJSON *node);
/*
 * The text of a scalar, for comparing XML leaves (always strings) with JSON
 * values: a string as is, an integral number in decimal without exponent or
 * fraction ("5"), another number with %.17g, booleans "true"/"false", null
 * "null". Appends to out; AIPA_EINVAL for objects, arrays and NULL.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_node_scalar_text(const cJSON *node, struct aipa_buf *out);

/* ---- value checks ---- */

/* An 8-4-4-4-12 hex UUID, all uppercase or all lowercase (digits fit both). */
AIPA_API bool aipa_is_request_id(const char *s, size_t n);
/* Dotted-quad IPv4: four decimal parts 0-255, no leading zeros, nothing else. */
AIPA_API bool aipa_is_ipv4(const char *s, size_t n);

#endif /* AIPA_PARSE_H */
