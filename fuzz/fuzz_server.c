/*
 * Target: the whole request handler aipa_srv_handle (reference_impl/lib/src/
 * server*.c, and through it wire, sign, model and render), with no network.
 *
 * Input: byte 0 picks the configuration:
 *   bit 0  auth off (so mutated requests reach the model), else V1/V3 auth
 *          with the demo key testid/testsecret (whitelisted) and an inactive
 *          key "inactive"
 *   bit 1  edition 2018-08-02, else 2024-12-20
 *   bit 2  fixture protocol on, token "t" (X-Aipa-Token: t)
 *   0xf8 and above: allocation-failure mode (fuzz_oom.h): the next two
 *          bytes pick n (below 2048), and the n-th of libaipa's allocations
 *          while the requests run fails
 * then up to four requests, each as "\\\n"-separated strings (fuzz_common.h):
 *   method, target ("/?Action=..."), headers "Name: value" one per string
 *   until an empty string, body.
 * The clock is fixed at 2026-11-27T07:51:30Z through the config's now hook,
 * so the captured SDK requests of spec/wire.md §2.6 verify as they are.
 * The clock moves one second per request of the input (the captures' skew
 * stays far inside the window), and every configuration throttles at 0.5
 * requests per second in bursts of 2: buckets refill between requests, and
 * the fourth request of one key (of any with auth off) in an input is
 * answered Throttling.User.
 * One server per configuration lives for the whole process (creating one
 * costs a millisecond); before each input it is returned to its seed state
 * (model restored from a snapshot of its reset state, edition, nonce cache
 * cleared, RequestId generator reseeded: fuzz_server_state.h, which also
 * checks that restoring equals resetting), so every input runs the same way
 * alone or in a campaign. The pool is 47.96.0.0/28, small enough to run out.
 * Oracles, for every response:
 *   - aipa_srv_handle returns AIPA_OK (in allocation-failure mode, AIPA_OK
 *     or AIPA_ENOMEM, and everything below still holds for what it
 *     answers, in that request and the ones after it);
 *   - the status is one the server documents: 200, 201 (fixture created),
 *     a status of the error table, or 405/413/414/431;
 *   - the content type is the XML or the JSON one, and the body parses as
 *     that (libxml2 without network or entities; cJSON);
 *   - an API error body carries Code equal to resp.code and RequestId equal
 *     to resp.request_id; a success has no code;
 *   - that Code is a row of the error table with the response's status
 *     (aipa_code_lookup / _lookup_all, errors.c).
 */
#include "aipa/errors.h"
#include "aipa/render.h"
#include "aipa/server.h"
#include "fuzz_common.h"
#include "fuzz_oom.h"
#include "fuzz_server_state.h" /* returns a server to its seed state between inputs */
#include "fuzz_xml.h"

#include <cjson/cJSON.h>

#define MAX_REQUESTS 4
#define MAX_FIELD    4096
#define FIXED_NOW    1795765890 /* 2026-11-27T07:51:30Z */

/* Seconds past FIXED_NOW: the index of the request being handled (0-3). */
static int64_t clock_offset;

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return FIXED_NOW + clock_offset;
}

/* AIPA_FUZZ_VERBOSE=1 prints one line per request (for checking seeds). */
static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("AIPA_FUZZ_VERBOSE") != NULL;
    fz_oom_install();
    fz_xml_init();
    return 0;
}

static bool status_documented(unsigned status)
{
    if (status == 200 || status == 201 || status == 405 || status == 413 || status == 414 ||
        status == 431) {
        return true;
    }
    for (int id = AIPA_C_OK + 1; id < AIPA_C_COUNT_; id++) {
        const struct aipa_api_error *e = aipa_code_info((enum aipa_code)id);
        if (e != NULL && (unsigned)e->http_status == status) {
            return true;
        }
    }
    return false;
}

/*
 * An error's Code is a row of the error table (aipa_code_lookup_all, or a
 * row whose Code has a %s that the name fills) with the response's status,
 * and aipa_code_lookup gives the first such row.
 */
static void check_code(const struct aipa_srv_response *r)
{
    enum aipa_code ids[8];
    size_t n = strlen(r->code);
    size_t found = aipa_code_lookup_all(r->code, n, ids, AIPA_ARRAY_LEN(ids));
    bool status_ok = false;

    if (found > 0) {
        FUZZ_CHECK(aipa_code_lookup(r->code, n) == aipa_code_info(ids[0]),
                   "lookup and lookup_all disagree on %s", r->code);
        for (size_t i = 0; i < found && i < AIPA_ARRAY_LEN(ids); i++) {
            status_ok = status_ok || (unsigned)aipa_code_info(ids[i])->http_status == r->status;
        }
    } else {
        FUZZ_CHECK(aipa_code_lookup(r->code, n) == NULL, "lookup finds %s, lookup_all not",
                   r->code);
        for (int id = AIPA_C_OK + 1; id < AIPA_C_COUNT_ && !status_ok; id++) {
            const struct aipa_api_error *e = aipa_code_info((enum aipa_code)id);
            const char *hole = strstr(e->code, "%s");
            size_t pre = hole != NULL ? (size_t)(hole - e->code) : 0;
            size_t post = hole != NULL ? strlen(hole + 2) : 0;
            status_ok = hole != NULL && n > pre + post && strncmp(r->code, e->code, pre) == 0 &&
                        strcmp(r->code + n - post, hole + 2) == 0 &&
                        (unsigned)e->http_status == r->status;
        }
    }
    FUZZ_CHECK(status_ok, "Code %s with status %u is no row of the error table", r->code,
               r->status);
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * What the XML oracle reads of a body, as libxml2 walks it (fz_xml_walk, no
 * tree): the root element's name, and the text of its Code and RequestId
 * children (the last of each, with all the text inside it).
 */
struct xml_fields {
    char root[64];
    char code[256];
    char rid[256];
    size_t depth;
    char *into; /* the field the current depth-2 element fills, or NULL */
    size_t into_cap, into_len;
    bool code_seen, rid_seen;
};

static void xml_start(void *ctx, const char *name)
{
    struct xml_fields *x = ctx;

    if (++x->depth == 1) {
        snprintf(x->root, sizeof(x->root), "%s", name);
    } else if (x->depth == 2) {
        bool code = strcmp(name, "Code") == 0, rid = strcmp(name, "RequestId") == 0;
        x->into = code ? x->code : rid ? x->rid : NULL;
        x->into_cap = code ? sizeof(x->code) : sizeof(x->rid);
        x->into_len = 0;
        x->code_seen = x->code_seen || code;
        x->rid_seen = x->rid_seen || rid;
        if (x->into != NULL) {
            x->into[0] = '\0';
        }
    }
}

static void xml_end(void *ctx)
{
    struct xml_fields *x = ctx;

    if (x->depth-- == 2) {
        x->into = NULL;
    }
}

/* Text past the field's room is cut (and can then never equal what is compared). */
static void xml_text(void *ctx, const char *s, size_t n)
{
    struct xml_fields *x = ctx;

    if (x->into != NULL) {
        size_t room = x->into_cap - 1 - x->into_len;
        if (n > room) {
            n = room;
            x->into[0] = '\x01';
        }
        memcpy(x->into + x->into_len, s, n);
        x->into_len += n;
        x->into[x->into_len] = '\0';
    }
}

static void check_response(const struct aipa_srv_response *r, bool fixture_path)
{
    const char *body = r->body.ptr != NULL ? r->body.ptr : "";
    bool is_error = r->status >= 300;

    FUZZ_CHECK(status_documented(r->status), "status %u is not documented", r->status);
    FUZZ_CHECK(r->content_type != NULL && (strcmp(r->content_type, AIPA_CT_XML) == 0 ||
                                           strcmp(r->content_type, AIPA_CT_JSON) == 0),
               "content type %s", r->content_type ? r->content_type : "(null)");
    FUZZ_CHECK(memchr(r->code, 0, sizeof(r->code)) && memchr(r->action, 0, sizeof(r->action)) &&
                   memchr(r->request_id, 0, sizeof(r->request_id)),
               "an unterminated response field");
    FUZZ_CHECK(strlen(body) == r->body.len, "the body holds a NUL byte");
    if (is_error && !fixture_path && r->code[0] != '\0') {
        check_code(r);
    }
    if (strcmp(r->content_type, AIPA_CT_JSON) == 0) {
        cJSON *j = cJSON_ParseWithLength(body, r->body.len);
        FUZZ_CHECK(j != NULL && cJSON_IsObject(j), "body is not a JSON object:\n%s", body);
        if (!fixture_path && is_error && strcmp(r->code, "InternalError") != 0) {
            const char *code = json_str(j, "Code"), *rid = json_str(j, "RequestId");
            FUZZ_CHECK(code != NULL && strcmp(code, r->code) == 0, "Code %s, resp.code %s",
                       code ? code : "(none)", r->code);
            FUZZ_CHECK(rid != NULL && strcmp(rid, r->request_id) == 0,
                       "RequestId %s, resp.request_id %s", rid ? rid : "(none)", r->request_id);
        }
        cJSON_Delete(j);
    } else {
        struct xml_fields x = {0};
        struct fz_xml_walker w = {xml_start, xml_end, xml_text, &x};
        FUZZ_CHECK(fz_xml_walk(body, r->body.len,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING, &w),
                   "body is not well-formed XML:\n%s", body);
        FUZZ_CHECK(x.root[0] != '\0', "XML without a root element");
        if (is_error) {
            FUZZ_CHECK(strcmp(x.root, "Error") == 0, "error root <%s>", x.root);
            if (!fixture_path && strcmp(r->code, "InternalError") != 0) {
                FUZZ_CHECK(x.code_seen && x.rid_seen && strcmp(x.code, r->code) == 0 &&
                               strcmp(x.rid, r->request_id) == 0,
                           "XML error body without Code %s / RequestId %s", r->code, r->request_id);
            }
        } else {
            FUZZ_CHECK(r->code[0] == '\0', "success with code %s", r->code);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char method[64], target[MAX_FIELD], body[MAX_FIELD];
    static char hdr_text[AIPA_SRV_MAX_HEADERS][512];
    static struct fz_seed servers[8];
    struct fz f = {data, size};
    struct aipa_srv_config cfg;
    struct aipa_srv *srv;
    uint8_t b0 = fz_u8(&f), mode = b0 & 7u;
    long oom_at = b0 >= 0xf8 ? (long)(fz_u16(&f) % 2048u) : -1;
    aipa_err err;

    fz_server_config(&cfg, mode, fixed_now);
    cfg.throttle_rate = 0.5;
    cfg.throttle_burst = 2;
    if (servers[mode].srv == NULL) {
        err = aipa_srv_new(&srv, &cfg);
        FUZZ_CHECK(err == AIPA_OK, "srv_new: %s", aipa_errname(err));
        fz_seed_init(&servers[mode], srv);
    }
    srv = servers[mode].srv;
    fz_seed_restore(&servers[mode]);
    if (oom_at >= 0) {
        fz_oom_arm(oom_at);
    }

    for (int n = 0; n < MAX_REQUESTS && f.n > 0; n++) {
        struct aipa_header headers[AIPA_SRV_MAX_HEADERS];
        struct aipa_srv_request req;
        struct aipa_srv_response resp;
        size_t target_len, body_len, count = 0, len;

        fz_str(&f, method, sizeof(method), NULL);
        fz_str(&f, target, sizeof(target), &target_len);
        while (count < AIPA_SRV_MAX_HEADERS) {
            char *h = fz_str(&f, hdr_text[count], sizeof(hdr_text[count]), &len);
            char *colon = memchr(h, ':', len);
            size_t vstart;
            if (len == 0) {
                break;
            }
            if (colon == NULL) {
                colon = h + len;
            }
            headers[count].name = (struct aipa_slice){(const uint8_t *)h, (size_t)(colon - h)};
            vstart = colon < h + len ? (size_t)(colon - h) + 1 : len;
            while (vstart < len && h[vstart] == ' ') {
                vstart++;
            }
            headers[count].value = (struct aipa_slice){(const uint8_t *)h + vstart, len - vstart};
            count++;
        }
        fz_str(&f, body, sizeof(body), &body_len);

        req.method = method;
        req.target = target;
        req.target_len = target_len;
        req.headers = headers;
        req.header_count = count;
        req.body = (const uint8_t *)body;
        req.body_len = body_len;
        clock_offset = n;
        aipa_srv_response_init(&resp);
        err = aipa_srv_handle(srv, &req, &resp);
        if (err == AIPA_ENOMEM && oom_at >= 0) {
            aipa_srv_response_cleanup(&resp);
            continue;
        }
        FUZZ_CHECK(err == AIPA_OK, "srv_handle: %s", aipa_errname(err));
        if (verbose) {
            fprintf(stderr, "  %s %.60s -> %u %s %s\n", method, target, resp.status, resp.action,
                    resp.code);
        }
        check_response(&resp, cfg.fixtures && strncmp(target, "/_aipa", 6) == 0 &&
                                  (target[6] == '/' || target[6] == '\0' || target[6] == '?'));
        aipa_srv_response_cleanup(&resp);
    }
    (void)fz_oom_disarm();
    clock_offset = 0;
    if (fz_seed_check_due(data, size)) {
        fz_seed_check(&servers[mode]);
    }
    return 0;
}
