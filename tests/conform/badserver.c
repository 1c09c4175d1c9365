/*
 * badserver: the reference server behind a fault layer, for testing that
 * `aipa conform` catches a broken target.
 *
 * It runs aipa_srv_handle() (the whole reference handler, fixture protocol
 * included) behind its own libmicrohttpd front end on 127.0.0.1, port 0
 * unless --port says otherwise, prints the port on the first line of
 * stdout, and then breaks every API response in the way --fault names.
 * Requests under /_aipa/ (the fixture protocol) pass through untouched so
 * cases can still set up state. It stops by itself after --max-seconds,
 * or on SIGINT/SIGTERM.
 *
 * docs/badserver.md lists the faults and what each demonstrates.
 */
#define _GNU_SOURCE /* memmem */
#include "aipa/errors.h"
#include "aipa/render.h"
#include "aipa/server.h"
#include "aipa/wire.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_REQUEST_BODY (1024u * 1024u)
#define MAX_TARGET       (64u * 1024u)
#define MAX_RESPONSE     (4u * 1024u * 1024u)
#define MIB              (1024u * 1024u)
#define DEFAULT_TOKEN    "aipa-badserver"

/* ---- the faults ---- */

#define FAULTS(X)                                                                                  \
    X(F_NONE, "none", "behave: every response is the reference server's")                          \
    X(F_WRONG_STATUS, "wrong-status",                                                              \
      "error responses keep their body but get another HTTP status (400<->403, 404->403, "         \
      "5xx swapped)")                                                                              \
    X(F_WRONG_CODE, "wrong-code",                                                                  \
      "error responses keep their status but name another Code (IncorrectInstanceStatus, or "      \
      "InvalidInstanceId.NotFound when that was the Code)")                                        \
    X(F_ERROR_AS_200, "error-as-200", "error bodies are sent with HTTP status 200")                \
    X(F_NO_REQUEST_ID, "no-request-id", "RequestId is left out of every body")                     \
    X(F_BAD_REQUEST_ID, "bad-request-id", "RequestId is not an 8-4-4-4-12 hex UUID")               \
    X(F_BAD_IP, "bad-ip", "IpAddress in an allocation response is not a dotted-quad IPv4")         \
    X(F_FIELD_CASE, "field-case", "IpAddress is spelled ipAddress in allocation responses")        \
    X(F_WRONG_ROOT, "wrong-root", "XML bodies get another root element (<XResult>, <Errors>)")     \
    X(F_FORGET_IP, "forget-ip",                                                                    \
      "DescribeInstances never lists a PublicIpAddress: allocations have no visible effect")       \
    X(F_MALFORMED_XML, "malformed-xml", "XML bodies are cut before the closing root tag")          \
    X(F_MALFORMED_JSON, "malformed-json", "JSON bodies are cut before the closing brace")          \
    X(F_ENTITY_BOMB, "entity-bomb",                                                                \
      "XML bodies carry a DOCTYPE with nested entities (10^9 expansions) referenced in RequestId") \
    X(F_XXE, "xxe",                                                                                \
      "XML bodies carry a DOCTYPE with an external DTD and an external entity (file:///etc/"       \
      "hostname) referenced in RequestId")                                                         \
    X(F_XML_FOR_JSON, "xml-for-json",                                                              \
      "when JSON was asked for, the same data comes back as XML with an XML content type")         \
    X(F_WRONG_CTYPE, "wrong-content-type", "every body is labelled text/html;charset=utf-8")       \
    X(F_HTML_PAGE, "html-page",                                                                    \
      "every answer is a gateway's HTML page labelled text/html, with the reference's status")     \
    X(F_DEEP_NESTING, "deep-nesting",                                                              \
      "bodies nest 1,000,000 levels deep (JSON arrays, XML elements), in the format asked for")    \
    X(F_GZIP, "gzip",                                                                              \
      "bodies are gzip-compressed and sent with Content-Encoding: gzip, which nobody asked for")   \
    X(F_OVERSIZED, "oversized",                                                                    \
      "responses are --size-mib MiB (default 64) with a Content-Length that says so")              \
    X(F_ENDLESS, "endless", "responses are a chunked body that never ends")                        \
    X(F_SLOW, "slow", "responses are held back --delay-ms milliseconds (default 30000)")           \
    X(F_RESET, "reset", "API requests get their connection reset (RST) with no response")          \
    X(F_TRICKLE, "trickle", "headers at once, then the body one byte every 200 ms")                \
    X(F_THROTTLE, "throttle",                                                                      \
      "every second API request is answered 400 Throttling.User with x-acs-retry-after: 20 "       \
      "(milliseconds), before the reference sees it")                                              \
    X(F_FIXTURE_500, "fixture-500",                                                                \
      "fixture requests (/_aipa/) answer 500: the target's test hooks are broken")                 \
    /* Faults of the fixture protocol itself (conformance/FIXTURES.md), for   */                   \
    /* `aipa conform --check-fixtures`; API requests are left alone.          */                   \
    X(F_FX_ANY_TOKEN, "fx-any-token", "fixture requests are served whatever X-Aipa-Token says")    \
    X(F_FX_INFO_PROTOCOL, "fx-info-protocol",                                                      \
      "GET /_aipa/info gives Protocol as the string \"1\"")                                        \
    X(F_FX_EDITION_IGNORED, "fx-edition-ignored",                                                  \
      "PUT /_aipa/edition answers as if it switched, and the edition stays")                       \
    X(F_FX_RESET_IGNORED, "fx-reset-ignored", "POST /_aipa/reset answers 200 and changes nothing") \
    X(F_FX_STATUS_IGNORED, "fx-status-ignored",                                                    \
      "POST /_aipa/instances drops Status: every instance is created Running")                     \
    X(F_FX_NEXT_ERROR_IGNORED, "fx-next-error-ignored",                                            \
      "POST /_aipa/instances drops AipaNextAllocateError")                                         \
    X(F_FX_ACCEPT_BAD, "fx-accept-bad",                                                            \
      "POST /_aipa/instances answers a refused instance 201 with an InstanceId")                   \
    X(F_FX_POOL_IGNORED, "fx-pool-ignored",                                                        \
      "PUT /_aipa/pool answers {\"Free\": N} and changes nothing")                                 \
    X(F_FX_STATE_CIDR, "fx-state-cidr",                                                            \
      "GET /_aipa/state writes its first pool block with host bits set")                           \
    X(F_FX_STATE_COUNTERS, "fx-state-counters",                                                    \
      "GET /_aipa/state counts one free address more in Counters.PoolFree than in FreeCount")      \
    /* HTTP-layer faults: a relay in front of the reference's own front end (relay_main) */     \
    X(F_HTTP_NONE, "http-none", "HTTP faults' relay, passing every byte unchanged")               \
    X(F_HTTP_CL_TE, "http-cl-te",                                                                  \
      "Content-Length is dropped when Transfer-Encoding is present: read as chunked, kept open")  \
    X(F_HTTP_DUP_CL, "http-dup-cl", "every Content-Length but the first is dropped")               \
    X(F_HTTP_BAD_CL, "http-bad-cl", "a Content-Length that is not digits becomes 0")               \
    X(F_HTTP_TE_SILENT, "http-te-silent",                                                          \
      "a request whose Transfer-Encoding is not plain chunked gets no answer")                     \
    X(F_HTTP_CHUNK_SILENT, "http-chunk-silent",                                                    \
      "a chunked request whose first chunk size has more than 8 digits gets no answer")           \
    X(F_HTTP_NO_DEADLINE, "http-no-deadline",                                                      \
      "a request head is waited for as long as the client takes (no header deadline)")            \
    X(F_HTTP_METHOD_LATE, "http-method-late",                                                      \
      "a method other than GET/POST on a path other than / becomes GET (404 before 403)")          \
    X(F_HTTP_ABSOLUTE_404, "http-absolute-404",                                                    \
      "an absolute-form target is taken as an unknown path (404)")                                 \
    X(F_HTTP10_KEEP, "http10-keep-alive", "HTTP/1.0 requests are kept alive as HTTP/1.1")          \
    X(F_UNENFORCE, "unenforce:<Code>",                                                             \
      "when the reference would answer <Code>, answer 200 with a plausible IpAddress instead")     \
    /* Accounts and STS: the reference's checks, switched off at start-up. */                      \
    X(F_IGNORE_OWNER, "ignore-owner",                                                              \
      "every key acts for one account: the second account sees and changes the first one's "       \
      "instances")                                                                                 \
    X(F_IGNORE_TOKEN, "ignore-token",                                                              \
      "STS keys are taken as long-term keys: any SecurityToken, or none, is accepted")             \
    X(F_RETRY_AFTER, "retry-after",                                                                \
      "every second API request is answered 503 ServiceUnavailable with x-acs-retry-after: 20 "    \
      "(a throttle known only by its header), before the reference sees it")                       \
    /* State faults: each breaks one rule of the model, and keeps the state it claims. */          \
    X(F_DOUBLE_ALLOC, "double-alloc",                                                              \
      "allocating for an instance that has an address hands out a second one (200, a new "        \
      "address that DescribeInstances then shows)")                                                \
    X(F_500_NO_INSTANCE_ID, "500-no-instanceid",                                                   \
      "an API request without InstanceId is answered 500 InternalError")                           \
    X(F_ALLOC_TRANSITIONING, "alloc-transitioning",                                                \
      "allocation is allowed while the instance is Starting or Stopping")                          \
    X(F_LEAK_ON_REJECT, "leak-on-reject",                                                          \
      "a rejected allocation still takes an address from the pool (only the state shows it)")

enum fault {
#define FAULT_ENUM_(id, name, desc) id,
    FAULTS(FAULT_ENUM_)
#undef FAULT_ENUM_
};

struct fault_info {
    enum fault id;
    const char *name;
    const char *desc;
};

static const struct fault_info faults[] = {
#define FAULT_ROW_(id, name, desc) {id, name, desc},
    FAULTS(FAULT_ROW_)
#undef FAULT_ROW_
};

struct options {
    enum fault fault;
    char unenforce_code[64];
    unsigned max_seconds;
    unsigned delay_ms;
    unsigned size_mib;
    unsigned edition;
    uint64_t seed;
    uint16_t port;
    const char *token;
    bool verbose;
};

static struct options opt;
static struct aipa_srv *srv;
static atomic_bool stopping;
static atomic_uint fake_ip_counter;
static atomic_uint throttle_counter;

/*
 * Credentials of the reference profile: an active key, an inactive one, a
 * whitelisted one, a key of a second account, and two STS keys (one
 * expired). The ignore-owner and ignore-token faults clear the account and
 * token fields of a copy.
 */
static const struct aipa_srv_credential credentials[] = {
    {AIPA_DEMO_ACCESS_KEY_ID, AIPA_DEMO_ACCESS_KEY_SECRET, true, false, NULL, NULL, 0},
    {"inactiveid", "inactivesecret", false, false, NULL, NULL, 0},
    {"whitelistid", "whitelistsecret", true, true, NULL, NULL, 0},
    {"otherid", "othersecret", true, false, "1000000000000002", NULL, 0},
    {"STS.badserver", "stssecret", true, false, NULL, "CAISbadserverToken", 0},
    {"STS.badexpired", "stsexpiredsecret", true, false, NULL, "CAISbadserverExpired", 1},
};

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stopping, true);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- per-connection request assembly ---- */

struct conn {
    struct aipa_buf target; /* path and query as on the request line */
    struct aipa_buf body;
    bool started;
    bool too_big;
};

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct conn *cn = aipa_calloc(1, sizeof(*cn));

    (void)cls;
    (void)c;
    if (cn == NULL) {
        return NULL;
    }
    aipa_buf_init(&cn->target, MAX_TARGET);
    aipa_buf_init(&cn->body, MAX_REQUEST_BODY);
    if (uri == NULL || aipa_buf_puts(&cn->target, uri) != AIPA_OK) {
        cn->too_big = true;
    }
    return cn;
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct conn *cn = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (cn != NULL) {
        aipa_buf_cleanup(&cn->target);
        aipa_buf_cleanup(&cn->body);
        aipa_free(cn);
        *con_cls = NULL;
    }
}

struct header_vec {
    struct aipa_header items[AIPA_SRV_MAX_HEADERS];
    size_t count;
    bool overflow;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct header_vec *v = cls;

    (void)kind;
    if (v->count == AIPA_SRV_MAX_HEADERS) {
        v->overflow = true;
        return MHD_NO;
    }
    v->items[v->count].name = aipa_slice_cstr(key);
    v->items[v->count].value = aipa_slice_cstr(value != NULL ? value : "");
    v->count++;
    return MHD_YES;
}

/* ---- body helpers ---- */

static bool is_json(const char *content_type)
{
    return content_type != NULL && strncmp(content_type, "application/json", 16) == 0;
}

static bool is_xml(const char *content_type)
{
    return content_type != NULL && strncmp(content_type, "text/xml", 8) == 0;
}

static aipa_err buf_set(struct aipa_buf *b, const char *p, size_t n)
{
    aipa_buf_reset(b);
    return aipa_buf_append(b, p, n);
}

/* Replaces b with a copy of the libxml2 serialisation of doc. */
static aipa_err xml_store(xmlDocPtr doc, struct aipa_buf *b)
{
    xmlChar *mem = NULL;
    int size = 0;
    aipa_err err = AIPA_ENOMEM;

    xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    if (mem != NULL && size >= 0) {
        err = buf_set(b, (const char *)mem, (size_t)size);
    }
    xmlFree(mem);
    return err;
}

static xmlNodePtr xml_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0) {
            return n;
        }
    }
    return NULL;
}

static aipa_err json_store(cJSON *root, struct aipa_buf *b)
{
    char *s = cJSON_PrintUnformatted(root);
    aipa_err err = AIPA_ENOMEM;

    if (s != NULL) {
        err = buf_set(b, s, strlen(s));
        cJSON_free(s);
    }
    return err;
}

/*
 * One structural edit of a body, done with libxml2 or cJSON so that only the
 * intended part changes. A body that does not parse is left alone.
 */
enum edit {
    EDIT_REMOVE_REQUEST_ID,
    EDIT_BAD_REQUEST_ID,
    EDIT_SET_CODE,
    EDIT_BAD_IP,
    EDIT_FIELD_CASE,
    EDIT_ROOT,
    EDIT_FORGET_IP,
};

static void xml_edit(xmlNodePtr root, enum edit e, const char *arg)
{
    xmlNodePtr n = NULL;

    switch (e) {
    case EDIT_REMOVE_REQUEST_ID:
        n = xml_child(root, "RequestId");
        if (n != NULL) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
        break;
    case EDIT_BAD_REQUEST_ID:
        n = xml_child(root, "RequestId");
        if (n != NULL) {
            xmlNodeSetContent(n, (const xmlChar *)arg);
        }
        break;
    case EDIT_SET_CODE:
        n = xml_child(root, "Code");
        if (n != NULL) {
            xmlNodeSetContent(n, (const xmlChar *)arg);
        }
        break;
    case EDIT_BAD_IP:
        n = xml_child(root, "IpAddress");
        if (n != NULL) {
            xmlNodeSetContent(n, (const xmlChar *)arg);
        }
        break;
    case EDIT_FIELD_CASE:
        n = xml_child(root, "IpAddress");
        if (n != NULL) {
            xmlNodeSetName(n, (const xmlChar *)"ipAddress");
        }
        break;
    case EDIT_ROOT:
        xmlNodeSetName(root, (const xmlChar *)arg);
        break;
    case EDIT_FORGET_IP:
        n = xml_child(root, "Instances");
        for (xmlNodePtr i = n != NULL ? n->children : NULL; i != NULL; i = i->next) {
            xmlNodePtr pub = NULL;
            xmlNodePtr ip = NULL;

            if (i->type != XML_ELEMENT_NODE || xmlStrcmp(i->name, (const xmlChar *)"Instance")) {
                continue;
            }
            pub = xml_child(i, "PublicIpAddress");
            while (pub != NULL && (ip = xml_child(pub, "IpAddress")) != NULL) {
                xmlUnlinkNode(ip);
                xmlFreeNode(ip);
            }
        }
        break;
    }
}

static void json_edit(cJSON *root, enum edit e, const char *arg)
{
    cJSON *item = NULL;

    switch (e) {
    case EDIT_REMOVE_REQUEST_ID:
        cJSON_DeleteItemFromObjectCaseSensitive(root, "RequestId");
        break;
    case EDIT_BAD_REQUEST_ID:
        if (cJSON_GetObjectItemCaseSensitive(root, "RequestId") != NULL) {
            (void)cJSON_ReplaceItemInObjectCaseSensitive(root, "RequestId",
                                                         cJSON_CreateString(arg));
        }
        break;
    case EDIT_SET_CODE:
        if (cJSON_GetObjectItemCaseSensitive(root, "Code") != NULL) {
            (void)cJSON_ReplaceItemInObjectCaseSensitive(root, "Code", cJSON_CreateString(arg));
        }
        break;
    case EDIT_BAD_IP:
        if (cJSON_GetObjectItemCaseSensitive(root, "IpAddress") != NULL) {
            (void)cJSON_ReplaceItemInObjectCaseSensitive(root, "IpAddress",
                                                         cJSON_CreateString(arg));
        }
        break;
    case EDIT_FIELD_CASE:
        item = cJSON_DetachItemFromObjectCaseSensitive(root, "IpAddress");
        if (item != NULL) {
            cJSON_AddItemToObject(root, "ipAddress", item);
        }
        break;
    case EDIT_ROOT:
        break; /* JSON bodies have no root name */
    case EDIT_FORGET_IP: {
        cJSON *insts = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(root, "Instances"), "Instance");
        cJSON *inst = NULL;

        cJSON_ArrayForEach(inst, insts)
        {
            cJSON *pub = cJSON_GetObjectItemCaseSensitive(inst, "PublicIpAddress");

            if (cJSON_IsObject(pub)) {
                (void)cJSON_ReplaceItemInObjectCaseSensitive(pub, "IpAddress", cJSON_CreateArray());
            }
        }
        break;
    }
    }
}

static aipa_err edit_body(struct aipa_srv_response *r, enum edit e, const char *arg)
{
    aipa_err err = AIPA_OK;

    if (is_json(r->content_type)) {
        cJSON *root = cJSON_ParseWithLength(r->body.ptr, r->body.len);

        if (root != NULL) {
            json_edit(root, e, arg);
            err = json_store(root, &r->body);
            cJSON_Delete(root);
        }
    } else if (is_xml(r->content_type)) {
        xmlDocPtr doc = xmlReadMemory(r->body.ptr, (int)r->body.len, NULL, "UTF-8",
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

        if (doc != NULL) {
            xmlNodePtr root = xmlDocGetRootElement(doc);

            if (root != NULL) {
                xml_edit(root, e, arg);
                err = xml_store(doc, &r->body);
            }
            xmlFreeDoc(doc);
        }
    }
    return err;
}

/* The name of the root element of an XML body ("" if none is found). */
static void xml_root_name(const struct aipa_buf *b, char *out, size_t cap)
{
    const char *p = b->ptr;
    const char *end = b->ptr + b->len;
    size_t n = 0;

    out[0] = '\0';
    while (p < end) {
        p = memchr(p, '<', (size_t)(end - p));
        if (p == NULL || p + 1 >= end) {
            return;
        }
        if (p[1] != '?' && p[1] != '!') {
            break;
        }
        p++;
    }
    p++;
    while (p < end && n + 1 < cap && *p != '>' && *p != ' ' && *p != '/' && *p != '\n') {
        out[n++] = *p++;
    }
    out[n] = '\0';
}

/*
 * Puts a DOCTYPE (named after the root, then doctype) after the XML
 * declaration and replaces the text of <RequestId> with ref.
 */
static aipa_err xml_with_doctype(struct aipa_buf *b, const char *doctype, const char *ref)
{
    char root[128];
    struct aipa_buf out;
    aipa_err err = AIPA_OK;
    const char *decl_end = strstr(b->ptr, "?>");
    const char *rid = strstr(b->ptr, "<RequestId>");
    const char *rid_end = rid != NULL ? strstr(rid, "</RequestId>") : NULL;
    size_t head = decl_end != NULL ? (size_t)(decl_end + 2 - b->ptr) : 0;

    xml_root_name(b, root, sizeof(root));
    aipa_buf_init(&out, MAX_RESPONSE);
    err = aipa_buf_append(&out, b->ptr, head);
    if (err == AIPA_OK) {
        err = aipa_buf_printf(&out, "\n<!DOCTYPE %s", root);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_puts(&out, doctype);
    }
    if (err == AIPA_OK && rid != NULL && rid_end != NULL) {
        err = aipa_buf_append(&out, b->ptr + head, (size_t)(rid + 11 - (b->ptr + head)));
        if (err == AIPA_OK) {
            err = aipa_buf_puts(&out, ref);
        }
        if (err == AIPA_OK) {
            err = aipa_buf_append(&out, rid_end, (size_t)(b->ptr + b->len - rid_end));
        }
    } else if (err == AIPA_OK) {
        err = aipa_buf_append(&out, b->ptr + head, b->len - head);
    }
    if (err == AIPA_OK) {
        err = buf_set(b, out.ptr, out.len);
    }
    aipa_buf_cleanup(&out);
    return err;
}

static const char entity_bomb_doctype[] =
    " [\n"
    " <!ENTITY lol0 \"lol\">\n"
    " <!ENTITY lol1 \"&lol0;&lol0;&lol0;&lol0;&lol0;&lol0;&lol0;&lol0;&lol0;&lol0;\">\n"
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>";

/* Port 9 (discard) on loopback: a harness that fetches the DTD gets nothing. */
static const char xxe_doctype[] = " SYSTEM \"http://127.0.0.1:9/aipa.dtd\" [\n"
                                  " <!ENTITY xxe SYSTEM \"file:///etc/hostname\">\n"
                                  "]>";

/* Cuts an XML body before its last end tag, so the root is never closed. */
static void xml_cut(struct aipa_buf *b)
{
    for (size_t i = b->len; i >= 2; i--) {
        if (b->ptr[i - 2] == '<' && b->ptr[i - 1] == '/') {
            b->len = i - 2;
            b->ptr[b->len] = '\0';
            return;
        }
    }
}

/* Cuts a JSON body before its closing brace and leaves a dangling member. */
static aipa_err json_cut(struct aipa_buf *b)
{
    while (b->len > 0 && b->ptr[b->len - 1] != '}') {
        b->len--;
    }
    if (b->len > 0) {
        b->len--;
    }
    b->ptr[b->len] = '\0';
    return aipa_buf_puts(b, ",\"IpAddress\":");
}

/* JSON -> XML with the render writer: objects nest, arrays repeat their name. */
static void json_members_to_xml(struct aipa_writer *w, const cJSON *obj, int depth);

static void json_value_to_xml(struct aipa_writer *w, const char *name, const cJSON *v, int depth)
{
    char num[64];

    if (cJSON_IsString(v)) {
        aipa_w_cstr(w, name, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        snprintf(num, sizeof(num), "%.17g", v->valuedouble);
        aipa_w_cstr(w, name, num);
    } else if (cJSON_IsBool(v)) {
        aipa_w_bool(w, name, cJSON_IsTrue(v));
    } else if (cJSON_IsObject(v)) {
        aipa_w_obj_begin(w, name);
        json_members_to_xml(w, v, depth + 1);
        aipa_w_obj_end(w);
    } else if (cJSON_IsArray(v)) {
        const cJSON *item = NULL;

        aipa_w_arr_begin(w, name);
        cJSON_ArrayForEach(item, v)
        {
            if (cJSON_IsObject(item)) {
                aipa_w_item_obj_begin(w);
                json_members_to_xml(w, item, depth + 1);
                aipa_w_item_obj_end(w);
            } else if (cJSON_IsString(item)) {
                aipa_w_item_str(w, item->valuestring, strlen(item->valuestring));
            }
        }
        aipa_w_arr_end(w);
    }
}

static void json_members_to_xml(struct aipa_writer *w, const cJSON *obj, int depth)
{
    const cJSON *m = NULL;

    if (depth >= AIPA_W_MAX_DEPTH - 2) {
        return;
    }
    cJSON_ArrayForEach(m, obj)
    {
        if (m->string != NULL) {
            json_value_to_xml(w, m->string, m, depth);
        }
    }
}

static aipa_err json_to_xml(struct aipa_srv_response *r)
{
    cJSON *root = cJSON_ParseWithLength(r->body.ptr, r->body.len);
    struct aipa_buf out;
    struct aipa_writer w;
    char root_name[80];
    aipa_err err = AIPA_OK;

    if (root == NULL) {
        return AIPA_OK;
    }
    if (r->status >= 400 || r->action[0] == '\0') {
        snprintf(root_name, sizeof(root_name), "Error");
    } else {
        snprintf(root_name, sizeof(root_name), "%sResponse", r->action);
    }
    aipa_buf_init(&out, MAX_RESPONSE);
    aipa_w_begin(&w, &out, AIPA_FMT_XML, root_name);
    json_members_to_xml(&w, root, 0);
    err = aipa_w_end(&w);
    if (err == AIPA_OK) {
        err = buf_set(&r->body, out.ptr, out.len);
        r->content_type = AIPA_CT_XML;
    }
    aipa_buf_cleanup(&out);
    cJSON_Delete(root);
    return err;
}

static unsigned wrong_status(unsigned s)
{
    switch (s) {
    case 400:
        return 403;
    case 403:
        return 400;
    case 404:
        return 403;
    case 500:
        return 503;
    case 503:
        return 500;
    default:
        return s >= 400 ? 400 : s;
    }
}

/* ---- hostile bodies (html-page, deep-nesting, gzip) ---- */

#define DEEP_LEVELS 1000000u

static const char html_page[] =
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1><p>The upstream server is unavailable.</p></body></html>\n";

/* DEEP_LEVELS nested arrays (JSON) or elements (XML), in place of the body. */
static aipa_err deep_body(struct aipa_buf *b, bool json)
{
    aipa_buf_reset(b);
    for (unsigned i = 0; i < DEEP_LEVELS; i++) {
        AIPA_TRY(aipa_buf_puts(b, json ? "[" : "<a>"));
    }
    for (unsigned i = 0; i < DEEP_LEVELS; i++) {
        AIPA_TRY(aipa_buf_puts(b, json ? "]" : "</a>"));
    }
    return AIPA_OK;
}

/* The body gzip-compressed (zlib's gzip wrapper), in place. */
static aipa_err gzip_body(struct aipa_buf *b)
{
    z_stream z;
    uLong cap = compressBound((uLong)b->len) + 32u;
    unsigned char *out = aipa_malloc(cap);
    aipa_err err = AIPA_ENOMEM;

    if (out == NULL) {
        return AIPA_ENOMEM;
    }
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
        Z_OK) {
        z.next_in = (Bytef *)b->ptr;
        z.avail_in = (uInt)b->len;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            err = buf_set(b, (const char *)out, (size_t)z.total_out);
        }
        deflateEnd(&z);
    }
    aipa_free(out);
    return err;
}

/* ---- streamed bodies (oversized, endless) ---- */

struct stream {
    uint64_t total; /* UINT64_MAX: endless */
    char head[256];
    size_t head_len;
    char tail[8];
    size_t tail_len;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    const struct stream *s = cls;
    size_t n = 0;

    if (atomic_load(&stopping)) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (s->total != UINT64_MAX && pos >= s->total) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    while (n < max) {
        uint64_t at = pos + n;

        if (s->total != UINT64_MAX && at >= s->total) {
            break;
        }
        if (at < s->head_len) {
            buf[n] = s->head[at];
        } else if (s->total != UINT64_MAX && at >= s->total - s->tail_len) {
            buf[n] = s->tail[at - (s->total - s->tail_len)];
        } else {
            buf[n] = 'A';
        }
        n++;
    }
    return (ssize_t)n;
}

/* The trickle fault: the real body, one byte per call, 200 ms apart. */
struct trickle {
    char *body;
    size_t len;
};

static ssize_t trickle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    const struct trickle *t = cls;

    if (pos >= t->len) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    for (unsigned waited = 0; waited < 200 && !atomic_load(&stopping); waited += 50) {
        sleep_ms(50);
    }
    if (atomic_load(&stopping) || max == 0) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    buf[0] = t->body[pos];
    return 1;
}

static void trickle_free(void *cls)
{
    struct trickle *t = cls;

    if (t != NULL) {
        aipa_free(t->body);
        aipa_free(t);
    }
}

static struct MHD_Response *trickle_response(struct aipa_srv_response *r)
{
    struct trickle *t = aipa_calloc(1, sizeof(*t));
    struct MHD_Response *mr = NULL;

    if (t == NULL) {
        return NULL;
    }
    t->body = aipa_buf_steal(&r->body, &t->len);
    if (t->body == NULL) {
        aipa_free(t);
        return NULL;
    }
    mr = MHD_create_response_from_callback(t->len, 1, trickle_read, t, trickle_free);
    if (mr == NULL) {
        trickle_free(t);
    }
    return mr;
}

static void stream_free(void *cls)
{
    aipa_free(cls);
}

static struct MHD_Response *stream_response(const struct aipa_srv_response *r, bool endless)
{
    struct stream *s = aipa_calloc(1, sizeof(*s));
    struct MHD_Response *mr = NULL;
    int n = 0;

    if (s == NULL) {
        return NULL;
    }
    if (is_json(r->content_type)) {
        n = snprintf(s->head, sizeof(s->head), "{\"RequestId\":\"%s\",\"IpAddress\":\"",
                     r->request_id);
        memcpy(s->tail, "\"}", 2);
    } else {
        n = snprintf(s->head, sizeof(s->head),
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><%sResponse><RequestId>%s"
                     "</RequestId><IpAddress>",
                     r->action[0] != '\0' ? r->action : "AllocatePublicIpAddress", r->request_id);
        memcpy(s->tail, "</X>", 4);
    }
    s->head_len = n > 0 && (size_t)n < sizeof(s->head) ? (size_t)n : 0;
    s->tail_len = strlen(s->tail);
    s->total = endless ? UINT64_MAX : (uint64_t)opt.size_mib * MIB;
    if (!endless && s->total < s->head_len + s->tail_len) {
        s->total = s->head_len + s->tail_len;
    }
    mr = MHD_create_response_from_callback(endless ? MHD_SIZE_UNKNOWN : s->total, 64 * 1024,
                                           stream_read, s, stream_free);
    if (mr == NULL) {
        aipa_free(s);
    }
    return mr;
}

/* ---- the fault layer ---- */

static bool is_fixture_request(const char *target)
{
    return strncmp(target, "/_aipa/", 7) == 0 || strcmp(target, "/_aipa") == 0;
}

/*
 * Applies the configured fault to r in place. Returns false when the
 * response should not be sent from r (stream, reset), with *kind saying what.
 */
enum send_kind { SEND_BODY, SEND_STREAM, SEND_ENDLESS, SEND_RESET, SEND_TRICKLE };

/* ---- state faults ---- */

/* The value of parameter name in the query or a form body; false when absent or empty. */
static bool request_param(const struct aipa_srv_request *req, const char *name, char *out,
                          size_t cap)
{
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    struct aipa_params ps;
    const char *q = memchr(req->target, '?', req->target_len);
    const char *v = NULL;
    bool found = false;

    aipa_params_init(&ps, &lim);
    if (q != NULL) {
        size_t n = req->target_len - (size_t)(q + 1 - req->target);
        /* a request that does not parse simply has no such parameter */
        if (aipa_wire_parse((const uint8_t *)q + 1, n, AIPA_WIRE_PLUS_IS_SPACE, AIPA_PARAM_QUERY,
                            &ps, NULL) != AIPA_OK) {
            aipa_params_cleanup(&ps);
            return false;
        }
    }
    if (req->body_len > 0 && aipa_wire_parse(req->body, req->body_len, AIPA_WIRE_PLUS_IS_SPACE,
                                             AIPA_PARAM_BODY, &ps, NULL) != AIPA_OK) {
        aipa_params_cleanup(&ps);
        return false;
    }
    v = aipa_params_value(&ps, name);
    if (v != NULL && v[0] != '\0' && strlen(v) < cap) {
        snprintf(out, cap, "%s", v);
        found = true;
    }
    aipa_params_cleanup(&ps);
    return found;
}

static bool is_allocate(const struct aipa_srv_request *req)
{
    char action[48];
    const struct aipa_header *h = NULL;

    for (size_t i = 0; i < req->header_count; i++) {
        if (req->headers[i].name.len == 12 &&
            strncasecmp((const char *)req->headers[i].name.ptr, "x-acs-action", 12) == 0) {
            h = &req->headers[i];
        }
    }
    if (h != NULL) {
        return h->value.len == 23 && memcmp(h->value.ptr, "AllocatePublicIpAddress", 23) == 0;
    }
    return request_param(req, "Action", action, sizeof(action)) &&
           strcmp(action, "AllocatePublicIpAddress") == 0;
}

/* Replaces r with a rendered error (id's Code and Message, status). */
static aipa_err answer_error(struct aipa_srv_response *r, enum aipa_code id, unsigned status)
{
    const struct aipa_api_error *e = aipa_code_info(id);
    enum aipa_format f = is_json(r->content_type) ? AIPA_FMT_JSON : AIPA_FMT_XML;

    r->status = status;
    snprintf(r->code, sizeof(r->code), "%s", e->code);
    r->content_type = f == AIPA_FMT_JSON ? AIPA_CT_JSON : AIPA_CT_XML;
    aipa_buf_reset(&r->body);
    return aipa_render_error(f, r->request_id, "ecs.aliyuncs.com", e->code, e->message, "",
                             &r->body);
}

/* Replaces r with an allocation success for ip. */
static aipa_err answer_allocated(struct aipa_srv_response *r, const char *ip)
{
    enum aipa_format f = is_json(r->content_type) ? AIPA_FMT_JSON : AIPA_FMT_XML;

    r->status = 200;
    r->code[0] = '\0';
    r->content_type = f == AIPA_FMT_JSON ? AIPA_CT_JSON : AIPA_CT_XML;
    aipa_buf_reset(&r->body);
    return aipa_render_allocate(f, r->request_id, ip, &r->body);
}

/*
 * The state faults, around the reference's handling of one API request
 * (before: the instance as it was; the response is the reference's).
 */
static aipa_err state_fault(const struct aipa_srv_request *req, struct aipa_srv_response *r,
                            const struct aipa_instance_view *before, bool had_instance)
{
    struct aipa_model *m = aipa_srv_model(srv);
    struct aipa_alloc_req ar;
    char ip[AIPA_IPV4_MAX];

    if (opt.fault == F_500_NO_INSTANCE_ID) {
        char id[AIPA_INSTANCE_ID_MAX];
        if (!request_param(req, "InstanceId", id, sizeof(id))) {
            return answer_error(r, AIPA_C_INTERNAL_ERROR, 500);
        }
    } else if (opt.fault == F_DOUBLE_ALLOC) {
        /* the address it had goes back, and a fresh one is handed out and kept */
        if (had_instance && before->public_ip[0] != '\0' && is_allocate(req) &&
            (r->status == 200 || strcmp(r->code, "AllocatedAlready") == 0) &&
            aipa_model_release(m, before->instance_id, before->public_ip) == AIPA_C_OK) {
            memset(&ar, 0, sizeof(ar));
            ar.instance_id = before->instance_id;
            ar.whitelisted = true;
            if (aipa_model_allocate(m, &ar, ip) == AIPA_C_OK) {
                return answer_allocated(r, ip);
            }
        }
    } else if (opt.fault == F_ALLOC_TRANSITIONING) {
        /* Starting or Stopping: the address is given (the status is left as it is) */
        if (had_instance && is_allocate(req) && strcmp(r->code, "IncorrectInstanceStatus") == 0 &&
            (before->status == AIPA_ST_STARTING || before->status == AIPA_ST_STOPPING) &&
            before->locks == 0 && before->public_ip[0] == '\0') {
            unsigned n = atomic_fetch_add(&fake_ip_counter, 1u);
            snprintf(ip, sizeof(ip), "47.96.%u.%u", 200u + (n / 250u) % 50u, 1u + n % 250u);
            return answer_allocated(r, ip);
        }
    } else if (opt.fault == F_LEAK_ON_REJECT) {
        /* the answer is right; one address leaves the pool all the same */
        if (is_allocate(req) && r->status >= 400 && aipa_model_pool_free(m) > 0) {
            return aipa_model_set_pool_free(m, aipa_model_pool_free(m) - 1);
        }
    }
    return AIPA_OK;
}

static aipa_err apply_fault(struct aipa_srv_response *r, enum send_kind *kind)
{
    char fake_ip[AIPA_IPV4_MAX];
    unsigned n = 0;

    *kind = SEND_BODY;
    switch (opt.fault) {
    case F_NONE:
    case F_THROTTLE:     /* answered before the reference (send_throttled) */
    case F_IGNORE_OWNER: /* set up in the credentials (main) */
    case F_IGNORE_TOKEN:
    case F_RETRY_AFTER: /* answered before the reference (send_throttled) */
        return AIPA_OK;
    case F_WRONG_STATUS:
        r->status = wrong_status(r->status);
        return AIPA_OK;
    case F_WRONG_CODE:
        if (r->status >= 400) {
            return edit_body(r, EDIT_SET_CODE,
                             strcmp(r->code, "IncorrectInstanceStatus") == 0
                                 ? "InvalidInstanceId.NotFound"
                                 : "IncorrectInstanceStatus");
        }
        return AIPA_OK;
    case F_ERROR_AS_200:
        if (r->status >= 400) {
            r->status = 200;
        }
        return AIPA_OK;
    case F_NO_REQUEST_ID:
        return edit_body(r, EDIT_REMOVE_REQUEST_ID, NULL);
    case F_BAD_REQUEST_ID:
        return edit_body(r, EDIT_BAD_REQUEST_ID, "req-0001");
    case F_BAD_IP:
        return edit_body(r, EDIT_BAD_IP, "47.96.300.12");
    case F_FIELD_CASE:
        return edit_body(r, EDIT_FIELD_CASE, NULL);
    case F_WRONG_ROOT:
        if (is_xml(r->content_type)) {
            char root[96];

            if (r->status >= 400) {
                snprintf(root, sizeof(root), "Errors");
            } else {
                snprintf(root, sizeof(root), "%sResult",
                         r->action[0] != '\0' ? r->action : "Unknown");
            }
            return edit_body(r, EDIT_ROOT, root);
        }
        return AIPA_OK;
    case F_FORGET_IP:
        if (strcmp(r->action, "DescribeInstances") == 0 && r->status == 200) {
            return edit_body(r, EDIT_FORGET_IP, NULL);
        }
        return AIPA_OK;
    case F_MALFORMED_XML:
        if (is_xml(r->content_type)) {
            xml_cut(&r->body);
        }
        return AIPA_OK;
    case F_MALFORMED_JSON:
        if (is_json(r->content_type)) {
            return json_cut(&r->body);
        }
        return AIPA_OK;
    case F_ENTITY_BOMB:
        if (is_xml(r->content_type)) {
            return xml_with_doctype(&r->body, entity_bomb_doctype, "&lol9;");
        }
        return AIPA_OK;
    case F_XXE:
        if (is_xml(r->content_type)) {
            return xml_with_doctype(&r->body, xxe_doctype, "&xxe;");
        }
        return AIPA_OK;
    case F_XML_FOR_JSON:
        if (is_json(r->content_type)) {
            return json_to_xml(r);
        }
        return AIPA_OK;
    case F_WRONG_CTYPE:
        r->content_type = "text/html;charset=utf-8";
        return AIPA_OK;
    case F_HTML_PAGE:
        r->content_type = "text/html;charset=utf-8";
        return buf_set(&r->body, html_page, sizeof(html_page) - 1);
    case F_DEEP_NESTING:
        return deep_body(&r->body, is_json(r->content_type));
    case F_GZIP:
        return gzip_body(&r->body); /* the header is added when the answer is queued */
    case F_OVERSIZED:
        *kind = SEND_STREAM;
        return AIPA_OK;
    case F_ENDLESS:
        *kind = SEND_ENDLESS;
        return AIPA_OK;
    case F_SLOW:
        for (unsigned waited = 0; waited < opt.delay_ms && !atomic_load(&stopping); waited += 50) {
            sleep_ms(50);
        }
        return AIPA_OK;
    case F_TRICKLE:
        *kind = SEND_TRICKLE;
        return AIPA_OK;
    case F_FIXTURE_500:
        return AIPA_OK; /* handled before the reference sees the request */
    case F_FX_ANY_TOKEN:
    case F_FX_INFO_PROTOCOL:
    case F_FX_EDITION_IGNORED:
    case F_FX_RESET_IGNORED:
    case F_FX_STATUS_IGNORED:
    case F_FX_NEXT_ERROR_IGNORED:
    case F_FX_ACCEPT_BAD:
    case F_FX_POOL_IGNORED:
    case F_FX_STATE_CIDR:
    case F_FX_STATE_COUNTERS:
        return AIPA_OK; /* fixture faults: fx_before and fx_after */
    case F_HTTP_NONE:
    case F_HTTP_CL_TE:
    case F_HTTP_DUP_CL:
    case F_HTTP_BAD_CL:
    case F_HTTP_TE_SILENT:
    case F_HTTP_CHUNK_SILENT:
    case F_HTTP_NO_DEADLINE:
    case F_HTTP_METHOD_LATE:
    case F_HTTP_ABSOLUTE_404:
    case F_HTTP10_KEEP:
        return AIPA_OK; /* the relay's: they never reach this layer */
    case F_RESET:
        *kind = SEND_RESET;
        return AIPA_OK;
    case F_DOUBLE_ALLOC:
    case F_500_NO_INSTANCE_ID:
    case F_ALLOC_TRANSITIONING:
    case F_LEAK_ON_REJECT:
        return AIPA_OK; /* state_fault, around the reference */
    case F_UNENFORCE:
        if (strcmp(r->code, opt.unenforce_code) != 0) {
            return AIPA_OK;
        }
        n = atomic_fetch_add(&fake_ip_counter, 1u);
        snprintf(fake_ip, sizeof(fake_ip), "47.96.%u.%u", 200u + (n / 250u) % 50u, 1u + n % 250u);
        r->status = 200;
        r->code[0] = '\0';
        r->content_type = is_json(r->content_type) ? AIPA_CT_JSON : AIPA_CT_XML;
        aipa_buf_reset(&r->body);
        return aipa_render_allocate(is_json(r->content_type) ? AIPA_FMT_JSON : AIPA_FMT_XML,
                                    r->request_id, fake_ip, &r->body);
    }
    return AIPA_OK;
}

/*
 * ---- fixture-protocol faults (F_FX_*) ----
 *
 * Each breaks one rule of conformance/FIXTURES.md so `aipa conform
 * --check-fixtures` can be shown to report it. fx_before may rewrite the
 * request (its token header, its body, kept in *body) or answer it itself;
 * fx_after edits the reference's answer.
 */

static bool fx_is(const struct aipa_srv_request *req, const char *method, const char *path)
{
    size_t n = strlen(path);

    return strcmp(req->method, method) == 0 && req->target_len >= n &&
           memcmp(req->target, path, n) == 0 && (req->target_len == n || req->target[n] == '?');
}

static aipa_err fx_reply(struct aipa_srv_response *r, unsigned status, cJSON *o)
{
    char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    aipa_err err = text != NULL ? buf_set(&r->body, text, strlen(text)) : AIPA_ENOMEM;

    r->status = status;
    r->content_type = AIPA_CT_JSON;
    cJSON_free(text);
    cJSON_Delete(o);
    return err;
}

/* The request body as a JSON object, or NULL. */
static cJSON *fx_body(const struct aipa_srv_request *req)
{
    cJSON *doc = cJSON_ParseWithLength((const char *)req->body, req->body_len);

    if (doc != NULL && !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

static aipa_err fx_token(struct aipa_srv_request *req, struct header_vec *hv)
{
    const char *tok = opt.token != NULL ? opt.token : DEFAULT_TOKEN;

    for (size_t i = 0; i < hv->count; i++) {
        if (aipa_slice_eq_ci(hv->items[i].name, "X-Aipa-Token")) {
            hv->items[i].value = aipa_slice_cstr(tok);
            return AIPA_OK;
        }
    }
    if (hv->count == AIPA_SRV_MAX_HEADERS) {
        return AIPA_ETOOBIG;
    }
    hv->items[hv->count].name = aipa_slice_cstr("X-Aipa-Token");
    hv->items[hv->count].value = aipa_slice_cstr(tok);
    hv->count++;
    req->header_count = hv->count;
    return AIPA_OK;
}

/* Drops field from an instance body; the new body lives in *body. */
static aipa_err fx_drop_field(struct aipa_srv_request *req, const char *field,
                              struct aipa_buf *body)
{
    cJSON *doc = fx_body(req);
    char *text = NULL;
    aipa_err err = AIPA_OK;

    if (doc == NULL) {
        return AIPA_OK; /* the reference refuses it as it is */
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, field);
    text = cJSON_PrintUnformatted(doc);
    err = text != NULL ? buf_set(body, text, strlen(text)) : AIPA_ENOMEM;
    if (err == AIPA_OK) {
        req->body = (const uint8_t *)body->ptr;
        req->body_len = body->len;
    }
    cJSON_free(text);
    cJSON_Delete(doc);
    return err;
}

/* An accepted-looking answer that changes nothing (edition, pool). */
static aipa_err fx_fake(const struct aipa_srv_request *req, const char *field,
                        struct aipa_srv_response *r, bool *answered)
{
    cJSON *doc = fx_body(req);
    const cJSON *v = doc != NULL ? cJSON_GetObjectItemCaseSensitive(doc, field) : NULL;
    bool ok = strcmp(field, "Edition") == 0
                  ? cJSON_IsString(v) && (strcmp(v->valuestring, "2018-08-02") == 0 ||
                                          strcmp(v->valuestring, "2024-12-20") == 0)
                  : cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 &&
                        v->valuedouble == (double)(long)v->valuedouble;
    cJSON *o = NULL;
    aipa_err err = AIPA_OK;

    if (ok) {
        o = cJSON_CreateObject();
        if (o != NULL && cJSON_AddItemToObject(o, field, cJSON_Duplicate(v, false))) {
            *answered = true;
            err = fx_reply(r, 200, o);
        } else {
            cJSON_Delete(o);
            err = AIPA_ENOMEM;
        }
    }
    cJSON_Delete(doc);
    return err;
}

static aipa_err fx_before(struct aipa_srv_request *req, struct header_vec *hv,
                          struct aipa_buf *body, struct aipa_srv_response *r, bool *answered)
{
    enum fault f = opt.fault;

    *answered = false;
    if (f == F_FX_ANY_TOKEN) {
        return fx_token(req, hv);
    }
    if (f == F_FX_EDITION_IGNORED && fx_is(req, "PUT", "/_aipa/edition")) {
        return fx_fake(req, "Edition", r, answered);
    }
    if (f == F_FX_POOL_IGNORED && fx_is(req, "PUT", "/_aipa/pool")) {
        return fx_fake(req, "Free", r, answered);
    }
    if (f == F_FX_RESET_IGNORED && fx_is(req, "POST", "/_aipa/reset")) {
        cJSON *o = cJSON_CreateObject();

        *answered = true;
        if (o == NULL || cJSON_AddTrueToObject(o, "ok") == NULL) {
            cJSON_Delete(o);
            return AIPA_ENOMEM;
        }
        return fx_reply(r, 200, o);
    }
    if ((f == F_FX_STATUS_IGNORED || f == F_FX_NEXT_ERROR_IGNORED) &&
        fx_is(req, "POST", "/_aipa/instances")) {
        return fx_drop_field(req, f == F_FX_STATUS_IGNORED ? "Status" : "AipaNextAllocateError",
                             body);
    }
    return AIPA_OK; /* the other faults act on the answer, or on API requests */
}

/* The first pool block with its last octet's host bit set: 47.96.0.0/16 -> 47.96.0.1/16. */
static aipa_err fx_state_edit(struct aipa_srv_response *r)
{
    cJSON *doc = cJSON_ParseWithLength(r->body.ptr, r->body.len);
    cJSON *pool = cJSON_GetObjectItemCaseSensitive(doc, "Pool");
    cJSON *cidrs = cJSON_GetObjectItemCaseSensitive(pool, "Cidrs");
    cJSON *counters = cJSON_GetObjectItemCaseSensitive(doc, "Counters");
    cJSON *first = cJSON_GetArrayItem(cidrs, 0);
    cJSON *pf = cJSON_GetObjectItemCaseSensitive(counters, "PoolFree");
    unsigned a, b, c, d, n;
    char cidr[32];

    if (doc == NULL) {
        return AIPA_OK;
    }
    if (opt.fault == F_FX_STATE_CIDR && cJSON_IsString(first) &&
        sscanf(first->valuestring, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &n) == 5) {
        snprintf(cidr, sizeof(cidr), "%u.%u.%u.%u/%u", a, b, c, d | 1u, n);
        (void)cJSON_SetValuestring(first, cidr);
    }
    if (opt.fault == F_FX_STATE_COUNTERS && cJSON_IsNumber(pf)) {
        cJSON_SetNumberValue(pf, pf->valuedouble + 1);
    }
    return fx_reply(r, r->status, doc);
}

static aipa_err fx_after(const struct aipa_srv_request *req, struct aipa_srv_response *r)
{
    enum fault f = opt.fault;

    if (f == F_FX_INFO_PROTOCOL && fx_is(req, "GET", "/_aipa/info") && r->status == 200) {
        cJSON *doc = cJSON_ParseWithLength(r->body.ptr, r->body.len);

        if (doc == NULL) {
            return AIPA_OK;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "Protocol");
        (void)cJSON_AddStringToObject(doc, "Protocol", "1");
        return fx_reply(r, 200, doc);
    }
    if (f == F_FX_ACCEPT_BAD && fx_is(req, "POST", "/_aipa/instances") && r->status == 400) {
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || cJSON_AddStringToObject(o, "InstanceId", "i-badserver-took-it") == NULL) {
            cJSON_Delete(o);
            return AIPA_ENOMEM;
        }
        return fx_reply(r, 201, o);
    }
    if ((f == F_FX_STATE_CIDR || f == F_FX_STATE_COUNTERS) && fx_is(req, "GET", "/_aipa/state") &&
        r->status == 200) {
        return fx_state_edit(r);
    }
    return AIPA_OK;
}

/* ---- end of the fixture-protocol faults ---- */

static enum MHD_Result send_plain(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *mr = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                              MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_NO;

    if (mr != NULL) {
        (void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        ret = MHD_queue_response(c, status, mr);
        MHD_destroy_response(mr);
    }
    return ret;
}

/*
 * The throttle fault's answer: what a rate-limiting gateway sends, in the
 * format the request asked for, with the wait the official SDKs read. The
 * request itself never reaches the reference, so it changes nothing there
 * (its nonce stays unused).
 */
/*
 * The throttle and retry-after faults' answer: Throttling.User (400), or for
 * retry-after ServiceUnavailable (503), a Code that does not say throttling,
 * so only the x-acs-retry-after header does.
 */
static enum MHD_Result send_throttled(struct MHD_Connection *c, const struct aipa_srv_request *req)
{
    bool by_header = opt.fault == F_RETRY_AFTER;
    const char *q = memchr(req->target, '?', req->target_len);
    bool json = false;
    struct aipa_buf body;
    struct MHD_Response *mr = NULL;
    enum MHD_Result ret = MHD_NO;
    char rid[40];
    unsigned n = atomic_load(&throttle_counter);

    /* Format=JSON in the query or a form body; XML otherwise, as the API defaults. */
    json = (q != NULL && strstr(q, "Format=JSON") != NULL) ||
           (req->body_len > 0 && memmem(req->body, req->body_len, "Format=JSON", 11) != NULL);
    snprintf(rid, sizeof(rid), "7B0A8B8C-0A3E-4C68-9B0A-%012X", n);
    aipa_buf_init(&body, 4096);
    if (aipa_render_error(json ? AIPA_FMT_JSON : AIPA_FMT_XML, rid, "ecs.aliyuncs.com",
                          by_header ? "ServiceUnavailable" : "Throttling.User",
                          by_header ? "The request has failed due to a temporary failure of the "
                                      "server."
                                    : "Request was denied due to user flow control.",
                          "", &body) == AIPA_OK) {
        mr = MHD_create_response_from_buffer(body.len, body.ptr, MHD_RESPMEM_MUST_COPY);
    }
    if (mr != NULL) {
        (void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      json ? AIPA_CT_JSON : AIPA_CT_XML);
        (void)MHD_add_response_header(mr, "x-acs-request-id", rid);
        (void)MHD_add_response_header(mr, "x-acs-retry-after", "20");
        ret = MHD_queue_response(c, by_header ? 503 : 400, mr);
        MHD_destroy_response(mr);
    }
    aipa_buf_cleanup(&body);
    return ret;
}

static enum MHD_Result reset_connection(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

    if (ci != NULL) {
        struct linger lg = {1, 0}; /* close() then sends RST, not FIN */

        (void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    return MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct conn *cn = *con_cls;
    struct header_vec hv;
    struct aipa_srv_request req;
    struct aipa_srv_response resp;
    struct MHD_Response *mr = NULL;
    enum send_kind kind = SEND_BODY;
    enum MHD_Result ret = MHD_NO;
    bool fixture = false;
    struct aipa_instance_view before;
    char id[AIPA_INSTANCE_ID_MAX];
    bool had_instance = false;
    bool fx_answered = false;
    struct aipa_buf fx_body_buf;

    (void)cls;
    (void)url;
    (void)version;
    if (cn == NULL) {
        return MHD_NO;
    }
    if (!cn->started) {
        cn->started = true;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (!cn->too_big && aipa_buf_append(&cn->body, upload_data, *upload_data_size) != AIPA_OK) {
            cn->too_big = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (cn->too_big) {
        return send_plain(c, 413, "request too large for badserver\n");
    }

    memset(&hv, 0, sizeof(hv));
    (void)MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hv);
    req.method = method;
    req.target = cn->target.ptr != NULL ? cn->target.ptr : "/";
    req.target_len = cn->target.ptr != NULL ? cn->target.len : 1;
    req.headers = hv.items;
    req.header_count = hv.count;
    req.body = (const uint8_t *)cn->body.ptr;
    req.body_len = cn->body.len;
    fixture = is_fixture_request(req.target);
    if (fixture && opt.fault == F_FIXTURE_500) {
        return send_plain(c, 500, "fixture protocol unavailable (badserver fault fixture-500)\n");
    }

    if (!fixture && (opt.fault == F_THROTTLE || opt.fault == F_RETRY_AFTER) &&
        atomic_fetch_add(&throttle_counter, 1u) % 2u == 0) {
        return send_throttled(c, &req);
    }
    aipa_srv_response_init(&resp);
    memset(&before, 0, sizeof(before));
    if (!fixture && request_param(&req, "InstanceId", id, sizeof(id))) {
        had_instance = aipa_model_get(aipa_srv_model(srv), id, &before) == AIPA_C_OK;
    }
    aipa_buf_init(&fx_body_buf, MAX_REQUEST_BODY);
    if (fixture && fx_before(&req, &hv, &fx_body_buf, &resp, &fx_answered) != AIPA_OK) {
        ret = send_plain(c, 500, "badserver fixture fault failed\n");
        goto out;
    }
    if (!fx_answered && aipa_srv_handle(srv, &req, &resp) != AIPA_OK) {
        ret = send_plain(c, 500, "reference handler failed\n");
        goto out;
    }
    if (fixture && fx_after(&req, &resp) != AIPA_OK) {
        ret = send_plain(c, 500, "badserver fixture fault failed\n");
        goto out;
    }
    if (!fixture && (state_fault(&req, &resp, &before, had_instance) != AIPA_OK ||
                     apply_fault(&resp, &kind) != AIPA_OK)) {
        ret = send_plain(c, 500, "badserver fault layer failed\n");
        goto out;
    }
    if (opt.verbose) {
        fprintf(stderr, "badserver: %s %.*s -> %u %s%s\n", method,
                (int)(req.target_len > 200 ? 200 : req.target_len), req.target, resp.status,
                resp.code, fixture ? " (fixture)" : "");
    }
    switch (kind) {
    case SEND_RESET:
        ret = reset_connection(c);
        goto out;
    case SEND_STREAM:
    case SEND_ENDLESS:
        mr = stream_response(&resp, kind == SEND_ENDLESS);
        break;
    case SEND_TRICKLE:
        mr = trickle_response(&resp);
        break;
    case SEND_BODY:
        mr = MHD_create_response_from_buffer(resp.body.len, resp.body.ptr, MHD_RESPMEM_MUST_COPY);
        break;
    }
    if (mr == NULL) {
        ret = MHD_NO;
        goto out;
    }
    if (resp.content_type != NULL) {
        (void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
    }
    if (resp.request_id[0] != '\0') {
        /* as the reference's own front end does */
        (void)MHD_add_response_header(mr, "x-acs-request-id", resp.request_id);
    }
    if (!fixture && opt.fault == F_GZIP) {
        (void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    ret = MHD_queue_response(c, resp.status, mr);
    MHD_destroy_response(mr);
out:
    aipa_srv_response_cleanup(&resp);
    aipa_buf_cleanup(&fx_body_buf);
    return ret;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: badserver --fault NAME [options]\n"
            "\n"
            "The aipa reference server behind a fault layer, on 127.0.0.1. Prints the port\n"
            "on the first line of stdout; stops after --max-seconds or on SIGINT/SIGTERM.\n"
            "Fixture requests (/_aipa/...) always pass through untouched.\n"
            "\n"
            "options:\n"
            "  --fault NAME         one fault (below); default none\n"
            "  --max-seconds N      stop after N seconds (default 120, at most 3600)\n"
            "  --port N             listen port (default 0: any free port)\n"
            "  --edition E          2018-08-02 or 2024-12-20 (default 2024-12-20)\n"
            "  --seed N             reference model seed (default 1)\n"
            "  --fixture-token T    X-Aipa-Token for the fixture protocol (default " DEFAULT_TOKEN
            ")\n"
            "  --delay-ms N         the slow fault's delay (default 30000)\n"
            "  --size-mib N         the oversized fault's body size (default 64)\n"
            "  --verbose            one line per request on stderr\n"
            "  --list-faults        print the faults and exit\n"
            "\n"
            "faults:\n");
    for (size_t i = 0; i < AIPA_ARRAY_LEN(faults); i++) {
        fprintf(f, "  %-20s %s\n", faults[i].name, faults[i].desc);
    }
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long v = 0;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_fault(const char *s)
{
    if (strncmp(s, "unenforce:", 10) == 0) {
        size_t n = strlen(s + 10);

        if (n == 0 || n >= sizeof(opt.unenforce_code)) {
            return false;
        }
        memcpy(opt.unenforce_code, s + 10, n + 1);
        opt.fault = F_UNENFORCE;
        return true;
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(faults); i++) {
        if (faults[i].id != F_UNENFORCE && strcmp(s, faults[i].name) == 0) {
            opt.fault = faults[i].id;
            return true;
        }
    }
    return false;
}

static int parse_args(int argc, char **argv)
{
    unsigned long v = 0;

    opt.fault = F_NONE;
    opt.max_seconds = 120;
    opt.delay_ms = 30000;
    opt.size_mib = 64;
    opt.edition = AIPA_ED_2024;
    opt.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list-faults") == 0) {
            for (size_t k = 0; k < AIPA_ARRAY_LEN(faults); k++) {
                printf("%s\t%s\n", faults[k].name, faults[k].desc);
            }
            return 0;
        } else if (strcmp(a, "--verbose") == 0) {
            opt.verbose = true;
            continue;
        }
        if (val == NULL) {
            fprintf(stderr, "badserver: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--fault") == 0) {
            if (!parse_fault(val)) {
                fprintf(stderr, "badserver: unknown fault '%s' (see --list-faults)\n", val);
                return 2;
            }
        } else if (strcmp(a, "--max-seconds") == 0 && parse_uint(val, 3600, &v) && v > 0) {
            opt.max_seconds = (unsigned)v;
        } else if (strcmp(a, "--port") == 0 && parse_uint(val, 65535, &v)) {
            opt.port = (uint16_t)v;
        } else if (strcmp(a, "--edition") == 0 && strcmp(val, "2018-08-02") == 0) {
            opt.edition = AIPA_ED_2018;
        } else if (strcmp(a, "--edition") == 0 && strcmp(val, "2024-12-20") == 0) {
            opt.edition = AIPA_ED_2024;
        } else if (strcmp(a, "--seed") == 0 && parse_uint(val, ULONG_MAX, &v)) {
            opt.seed = v;
        } else if (strcmp(a, "--fixture-token") == 0) {
            opt.token = val;
        } else if (strcmp(a, "--delay-ms") == 0 && parse_uint(val, 600000, &v)) {
            opt.delay_ms = (unsigned)v;
        } else if (strcmp(a, "--size-mib") == 0 && parse_uint(val, 4096, &v) && v > 0) {
            opt.size_mib = (unsigned)v;
        } else {
            fprintf(stderr, "badserver: bad option or value: %s %s\n", a, val);
            return 2;
        }
    }
    return -1;
}

/* ---- HTTP-layer faults (F_HTTP_*): a byte relay in front of aipa_srv_start ----
 *
 * These faults break the HTTP layer, not the answers, so they need a front
 * end that gets the HTTP layer right to break: the reference's own
 * (aipa_srv_start on a private port, header deadline 2 s). The relay takes
 * each connection's first request head, changes it as the fault says, and
 * then copies bytes both ways. http-none changes nothing and copies bytes as
 * they come, so it shows the relay itself is transparent.
 */

#define RELAY_HEAD_MAX (256u * 1024u)

static uint16_t relay_upstream;

static bool is_http_fault(enum fault f)
{
    return f == F_HTTP_NONE || f == F_HTTP_CL_TE || f == F_HTTP_DUP_CL || f == F_HTTP_BAD_CL ||
           f == F_HTTP_TE_SILENT || f == F_HTTP_CHUNK_SILENT || f == F_HTTP_NO_DEADLINE ||
           f == F_HTTP_METHOD_LATE || f == F_HTTP_ABSOLUTE_404 || f == F_HTTP10_KEEP;
}

/* The line of head h[0..n) naming header name (case-insensitive) at or after from; -1 if none. */
static long find_line(const char *h, size_t n, const char *name, size_t from)
{
    size_t nl = strlen(name);

    for (size_t i = from; i < n;) {
        const char *eol = memchr(h + i, '\n', n - i);
        size_t end = eol != NULL ? (size_t)(eol - h) + 1 : n;

        if (i > 0 && end - i > nl && h[i + nl] == ':' && strncasecmp(h + i, name, nl) == 0) {
            return (long)i;
        }
        i = end;
    }
    return -1;
}

/* Removes the line starting at off from b. */
static void cut_line(struct aipa_buf *b, size_t off)
{
    const char *eol = memchr(b->ptr + off, '\n', b->len - off);
    size_t end = eol != NULL ? (size_t)(eol - b->ptr) + 1 : b->len;

    memmove(b->ptr + off, b->ptr + end, b->len - end);
    b->len -= end - off;
    b->ptr[b->len] = '\0';
}

/* Replaces b[off, off + n) with s. */
static bool splice(struct aipa_buf *b, size_t off, size_t n, const char *s)
{
    struct aipa_buf t;
    bool ok;

    aipa_buf_init(&t, RELAY_HEAD_MAX * 2);
    ok = aipa_buf_append(&t, b->ptr, off) == AIPA_OK && aipa_buf_puts(&t, s) == AIPA_OK &&
         aipa_buf_append(&t, b->ptr + off + n, b->len - off - n) == AIPA_OK;
    if (ok) {
        aipa_buf_reset(b);
        ok = aipa_buf_append(b, t.ptr, t.len) == AIPA_OK;
    }
    aipa_buf_cleanup(&t);
    return ok;
}

/*
 * Applies the fault to the first request in b (its head ends at head_len).
 * False: the request is to get no answer at all.
 */
static bool rewrite_head(struct aipa_buf *b, size_t head_len)
{
    long te = find_line(b->ptr, head_len, "Transfer-Encoding", 0);
    long cl = find_line(b->ptr, head_len, "Content-Length", 0);
    const char *sp = memchr(b->ptr, ' ', head_len);

    switch ((int)opt.fault) { /* only the relay's faults rewrite */
    case F_HTTP_CL_TE:
        while (te >= 0 && (cl = find_line(b->ptr, b->len, "Content-Length", 0)) >= 0 &&
               (size_t)cl < head_len) {
            cut_line(b, (size_t)cl);
            head_len = (size_t)(strstr(b->ptr, "\r\n\r\n") - b->ptr) + 4;
        }
        return true;
    case F_HTTP_DUP_CL:
        while (cl >= 0) {
            long next = find_line(b->ptr, head_len, "Content-Length", (size_t)cl + 1);

            if (next < 0) {
                break;
            }
            cut_line(b, (size_t)next);
            head_len = (size_t)(strstr(b->ptr, "\r\n\r\n") - b->ptr) + 4;
        }
        return true;
    case F_HTTP_BAD_CL:
        if (cl >= 0) {
            size_t v = (size_t)cl + strlen("Content-Length:");
            size_t e = v;

            while (e < head_len && b->ptr[e] != '\r' && b->ptr[e] != '\n') {
                e++;
            }
            for (size_t i = v; i < e; i++) {
                if (b->ptr[i] != ' ' && (b->ptr[i] < '0' || b->ptr[i] > '9')) {
                    return splice(b, v, e - v, " 0");
                }
            }
        }
        return true;
    case F_HTTP_TE_SILENT:
        if (te >= 0) {
            const char *v = b->ptr + te + strlen("Transfer-Encoding:");

            return strncmp(v, " chunked\r\n", 10) == 0;
        }
        return true;
    case F_HTTP_CHUNK_SILENT:
        if (te >= 0) {
            const char *body = b->ptr + head_len;
            size_t digits = strspn(body, "0123456789abcdefABCDEF");

            return digits <= 8;
        }
        return true;
    case F_HTTP_METHOD_LATE:
        if (sp != NULL && strncmp(b->ptr, "GET ", 4) != 0 && strncmp(b->ptr, "POST ", 5) != 0 &&
            strncmp(sp, " / ", 3) != 0 && strncmp(sp, " /?", 3) != 0) {
            return splice(b, 0, (size_t)(sp - b->ptr), "GET");
        }
        return true;
    case F_HTTP_ABSOLUTE_404:
        if (sp != NULL && strncasecmp(sp + 1, "http://", 7) == 0) {
            return splice(b, (size_t)(sp - b->ptr) + 1, 7, "/absolute/");
        }
        return true;
    case F_HTTP10_KEEP: {
        const char *v = strstr(b->ptr, " HTTP/1.0\r\n");

        if (v != NULL && (size_t)(v - b->ptr) < head_len) {
            return splice(b, (size_t)(v - b->ptr), 11,
                          " HTTP/1.1\r\nHost: badserver\r\nConnection: keep-alive\r\n");
        }
        return true;
    }
    default:
        return true;
    }
}

static int dial_upstream(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(relay_upstream);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Copies bytes both ways until both sides are done (or the relay stops). */
static void pipe_both(int a, int b)
{
    int fds[2] = {a, b};
    bool open_in[2] = {true, true};
    char buf[16384];

    while ((open_in[0] || open_in[1]) && !atomic_load(&stopping)) {
        struct pollfd p[2] = {{a, open_in[0] ? POLLIN : 0, 0}, {b, open_in[1] ? POLLIN : 0, 0}};

        if (poll(p, 2, 200) < 0) {
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (open_in[k] && (p[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                ssize_t r = recv(fds[k], buf, sizeof(buf), 0);

                if (r <= 0 || !send_all(fds[1 - k], buf, (size_t)r)) {
                    open_in[k] = false;
                    (void)shutdown(fds[1 - k], SHUT_WR);
                }
            }
        }
    }
}

static void *relay_conn(void *arg)
{
    int client = (int)(intptr_t)arg;
    int up = -1;
    struct aipa_buf head;
    char buf[16384];
    bool answer = true;
    char *end = NULL;

    aipa_buf_init(&head, RELAY_HEAD_MAX);
    /* http-none copies at once; the others need the whole first head. */
    while (opt.fault != F_HTTP_NONE && !atomic_load(&stopping) &&
           (end = head.ptr != NULL ? memmem(head.ptr, head.len, "\r\n\r\n", 4) : NULL) == NULL) {
        struct pollfd p = {client, POLLIN, 0};
        ssize_t r;

        if (poll(&p, 1, opt.fault == F_HTTP_NO_DEADLINE ? 200 : 5000) == 0) {
            if (opt.fault == F_HTTP_NO_DEADLINE) {
                continue; /* the fault: wait for the head however long it takes */
            }
            break;
        }
        r = recv(client, buf, sizeof(buf) - 1, 0);
        if (r <= 0 || aipa_buf_append(&head, buf, (size_t)r) != AIPA_OK) {
            break;
        }
    }
    if (end != NULL) {
        /* The head text has no NUL before its end in the cases; past one it is left alone. */
        answer = strlen(head.ptr) < (size_t)(end - head.ptr) ||
                 rewrite_head(&head, (size_t)(end - head.ptr) + 4);
    }
    if (!answer) {
        while (!atomic_load(&stopping) && recv(client, buf, sizeof(buf), 0) > 0) {
        } /* silence: read and drop until the client gives up */
    } else if ((up = dial_upstream()) >= 0 &&
               (head.len == 0 || send_all(up, head.ptr, head.len))) {
        pipe_both(client, up);
    }
    if (up >= 0) {
        close(up);
    }
    close(client);
    aipa_buf_cleanup(&head);
    return NULL;
}

/* The relay on the public port, until stopping or --max-seconds. lfd is listening. */
static void relay_main(int lfd, time_t start)
{
    while (!atomic_load(&stopping) && time(NULL) - start < (time_t)opt.max_seconds) {
        struct pollfd p = {lfd, POLLIN, 0};
        pthread_attr_t attr;
        pthread_t t;
        int fd;

        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, relay_conn, (void *)(intptr_t)fd) != 0) {
            close(fd);
        }
        pthread_attr_destroy(&attr);
    }
}

/* Starts the reference's front end privately and relays the public port to it. */
static int run_relay(time_t start)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    if (aipa_srv_start(srv) != AIPA_OK) {
        fprintf(stderr, "badserver: the reference front end did not start\n");
        return 2;
    }
    relay_upstream = aipa_srv_port(srv);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(opt.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "badserver: cannot listen on 127.0.0.1:%u\n", (unsigned)opt.port);
        if (lfd >= 0) {
            close(lfd);
        }
        return 2;
    }
    printf("%u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    relay_main(lfd, start);
    atomic_store(&stopping, true);
    close(lfd);
    aipa_srv_stop(srv);
    return 0;
}

int main(int argc, char **argv)
{
    struct aipa_srv_config cfg;
    struct aipa_srv_credential creds[AIPA_ARRAY_LEN(credentials)];
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info = NULL;
    struct sigaction sa;
    struct aipa_buf why;
    time_t start = 0;
    int rc = parse_args(argc, argv);

    if (rc >= 0) {
        return rc;
    }
    rc = 2;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
    xmlInitParser();
    aipa_buf_init(&why, 4096);

    aipa_srv_config_defaults(&cfg);
    memcpy(creds, credentials, sizeof(creds));
    for (size_t i = 0; i < AIPA_ARRAY_LEN(creds); i++) {
        if (opt.fault == F_IGNORE_OWNER) {
            creds[i].owner_id = NULL;
        }
        if (opt.fault == F_IGNORE_TOKEN) {
            creds[i].security_token = NULL;
        }
    }
    cfg.credentials = creds;
    cfg.credential_count = AIPA_ARRAY_LEN(credentials);
    cfg.edition = opt.edition;
    cfg.seed = opt.seed;
    cfg.fixtures = true;
    cfg.fixture_token = opt.token != NULL ? opt.token : DEFAULT_TOKEN;
    cfg.error = &why;
    cfg.header_timeout_ms = 2000; /* the relay's upstream (HTTP faults): see run_relay */
    if (aipa_srv_new(&srv, &cfg) != AIPA_OK) {
        fprintf(stderr, "badserver: cannot create the reference server: %s\n",
                why.len > 0 ? why.ptr : "(no reason given)");
        goto out;
    }
    if (is_http_fault(opt.fault)) {
        rc = run_relay(time(NULL));
        goto out;
    }

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(opt.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* MHD's own log only with --verbose: the faults make it complain by design. */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                             (opt.verbose ? MHD_USE_ERROR_LOG : 0u),
                         0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
                         MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)64, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "badserver: cannot listen on 127.0.0.1:%u\n", (unsigned)opt.port);
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        fprintf(stderr, "badserver: cannot tell the bound port\n");
        goto out;
    }
    printf("%u\n", (unsigned)info->port);
    fflush(stdout);
    start = time(NULL);
    while (!atomic_load(&stopping) && time(NULL) - start < (time_t)opt.max_seconds) {
        sleep_ms(100);
    }
    atomic_store(&stopping, true);
    rc = 0;
out:
    if (d != NULL) {
        MHD_stop_daemon(d);
    }
    aipa_srv_free(srv);
    xmlCleanupParser();
    aipa_buf_cleanup(&why);
    return rc;
}
