/*
 * conform_fixcheck.c: `aipa conform --check-fixtures` (aipa/fixcheck.h).
 *
 * Walks the fixture protocol of conformance/FIXTURES.md endpoint by
 * endpoint: the token rule, info, unknown paths and methods, reset, the
 * state document, edition, one instance per documented field (read back in
 * the state document), the refusals, the pool, and that a reset undoes it
 * all. Every check prints one line with its reason. Given a key, it also
 * checks the two promises the protocol makes of the API itself: an armed
 * AipaNextAllocateError fails one allocation, then clears, and a reset
 * clears the nonce cache. The rest of the API is the cases' business.
 */
#include "aipa/client.h"
#include "aipa/fixcheck.h"
#include "aipa/fixture.h"
#include "aipa/fixture_state.h"
#include "aipa/transport.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <string.h>

#define STATE_MAX  (64u * 1024u * 1024u)
#define CHECK_ID   "i-aipa-fixcheck-1"
#define CHECK_VLAN "vlan-fixcheck"
#define MAX_DETAIL 400

struct fx {
    const struct aipa_fixcheck_opts *o;
    struct aipa_fixcheck_result *res;
    struct aipa_tx *tx;
    struct aipa_client *cl; /* signed API requests; NULL without a key */
    struct aipa_buf prefix;
    struct aipa_fixture_conn fc;
    struct aipa_response resp;
    struct aipa_fxstate st;   /* the last state document read */
    struct aipa_fxstate seed; /* the one right after the first reset */
    cJSON *state;             /* its JSON, or NULL */
    char edition[16];         /* the edition found, restored at the end */
};

static void line(struct fx *x, bool ok, const char *name, const char *fmt, ...) AIPA_PRINTF(4, 5);

static void line(struct fx *x, bool ok, const char *name, const char *fmt, ...)
{
    char detail[MAX_DETAIL];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(detail, sizeof(detail), fmt, ap) < 0) {
        detail[0] = '\0';
    }
    va_end(ap);
    if (ok) {
        x->res->passed++;
    } else {
        x->res->failed++;
    }
    if (x->o->out != NULL) {
        fprintf(x->o->out, "%-5s %s: %s\n", ok ? "ok" : "FAIL", name, detail);
    }
}

/*
 * One call with token tok (NULL: none). false when no answer came: the run
 * stops there, marked unreachable.
 */
static bool call_tok(struct fx *x, const char *tok, const char *method, const char *path,
                     const char *json)
{
    x->fc.token = tok;
    if (aipa_fixture_call(&x->fc, method, path, json, &x->resp) != AIPA_OK) {
        snprintf(x->res->unreachable_why, sizeof(x->res->unreachable_why), "out of memory");
        x->res->unreachable = true;
        return false;
    }
    x->fc.token = x->o->token;
    if (x->resp.xerr != AIPA_XERR_NONE) {
        snprintf(x->res->unreachable_why, sizeof(x->res->unreachable_why),
                 "%.16s %.40s: %.80s (%.100s)", method, path, aipa_xerr_desc(x->resp.xerr),
                 x->resp.xerr_msg);
        x->res->unreachable = true;
        return false;
    }
    return true;
}

static bool call(struct fx *x, const char *method, const char *path, const char *json)
{
    return call_tok(x, x->o->token, method, path, json);
}

/* The answer's body as a JSON object (caller frees), or NULL. */
static cJSON *body_obj(const struct fx *x)
{
    cJSON *doc =
        cJSON_ParseWithLength(x->resp.body.ptr != NULL ? x->resp.body.ptr : "", x->resp.body.len);

    if (doc != NULL && !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

/* What is wrong with the answer's framing ("" when nothing): JSON type, request id. */
static const char *framing(const struct fx *x)
{
    if (strncmp(x->resp.content_type, "application/json", 16) != 0) {
        return "Content-Type is not application/json";
    }
    if (aipa_response_header(&x->resp, "x-acs-request-id") == NULL) {
        return "no x-acs-request-id header";
    }
    return "";
}

/* Checks an error answer: status want and {"ok": false, "error": "<reason>"}. */
static void expect_error(struct fx *x, const char *name, long want)
{
    cJSON *doc = body_obj(x);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(doc, "ok");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");

    if (x->resp.status != want) {
        line(x, false, name, "expected %ld, got %ld: %.200s", want, x->resp.status,
             x->resp.body.ptr != NULL ? x->resp.body.ptr : "");
    } else if (!cJSON_IsFalse(ok) || !cJSON_IsString(err)) {
        line(x, false, name, "%ld, but the body is not {\"ok\": false, \"error\": \"...\"}", want);
    } else if (framing(x)[0] != '\0') {
        line(x, false, name, "%ld, but %s", want, framing(x));
    } else {
        line(x, true, name, "%ld (%.120s)", want, err->valuestring);
    }
    cJSON_Delete(doc);
}

/* GET /_aipa/state into x->state and x->st; false (after a FAIL line) when unusable. */
static bool read_state(struct fx *x, const char *name)
{
    struct aipa_buf why;
    aipa_err e;

    cJSON_Delete(x->state);
    x->state = NULL;
    if (!call(x, "GET", "/_aipa/state", NULL)) {
        return false;
    }
    if (x->resp.status != 200) {
        line(x, false, name, "GET /_aipa/state: expected 200, got %ld", x->resp.status);
        return false;
    }
    aipa_buf_init(&why, 1024);
    e = aipa_fxstate_read(x->resp.body.ptr != NULL ? x->resp.body.ptr : "", x->resp.body.len,
                          &x->st, &why);
    if (e != AIPA_OK) {
        line(x, false, name, "GET /_aipa/state: %s", why.ptr != NULL ? why.ptr : aipa_strerror(e));
        aipa_buf_cleanup(&why);
        return false;
    }
    aipa_buf_cleanup(&why);
    x->state = body_obj(x);
    return x->state != NULL;
}

/* The state's instance with that ID, or NULL. */
static const cJSON *state_instance(const struct fx *x, const char *id)
{
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(x->state, "Instances");
    const cJSON *it;

    if (cJSON_IsObject(ins)) {
        ins = cJSON_GetObjectItemCaseSensitive(ins, "Instance");
    }
    cJSON_ArrayForEach(it, ins)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "InstanceId");

        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0) {
            return it;
        }
    }
    return NULL;
}

/*
 * want ⊆ got: objects member by member, arrays as sets of equal length,
 * scalars equal. On a difference, *where names the first member that differs.
 */
static bool subset(const cJSON *want, const cJSON *got, const char **where)
{
    const cJSON *w;

    if (cJSON_IsObject(want)) {
        if (!cJSON_IsObject(got)) {
            return false;
        }
        cJSON_ArrayForEach(w, want)
        {
            if (!subset(w, cJSON_GetObjectItemCaseSensitive(got, w->string), where)) {
                *where = w->string;
                return false;
            }
        }
        return true;
    }
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) {
            return false;
        }
        cJSON_ArrayForEach(w, want)
        {
            const cJSON *g;
            bool found = false;

            cJSON_ArrayForEach(g, got)
            {
                found = found || subset(w, g, where);
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }
    return got != NULL && cJSON_Compare(want, got, true);
}

static void check_token(struct fx *x)
{
    if (!call_tok(x, NULL, "GET", "/_aipa/info", NULL)) {
        return;
    }
    expect_error(x, "token (none)", 403);
    if (!call_tok(x, "aipa-fixcheck-wrong-token", "GET", "/_aipa/info", NULL)) {
        return;
    }
    expect_error(x, "token (wrong)", 403);
    if (!call_tok(x, NULL, "GET", "/_aipa/no-such-path", NULL)) {
        return;
    }
    expect_error(x, "token (unknown path, none)", 403);
}

static void check_info(struct fx *x)
{
    cJSON *doc;
    const cJSON *ed, *proto;

    if (!call(x, "GET", "/_aipa/info", NULL)) {
        return;
    }
    doc = body_obj(x);
    ed = cJSON_GetObjectItemCaseSensitive(doc, "Edition");
    proto = cJSON_GetObjectItemCaseSensitive(doc, "Protocol");
    if (x->resp.status != 200 || doc == NULL) {
        line(x, false, "info", "expected 200 and a JSON object, got %ld: %.200s", x->resp.status,
             x->resp.body.ptr != NULL ? x->resp.body.ptr : "");
    } else if (!cJSON_IsString(ed) || (strcmp(ed->valuestring, "2018-08-02") != 0 &&
                                       strcmp(ed->valuestring, "2024-12-20") != 0)) {
        line(x, false, "info", "Edition must be \"2018-08-02\" or \"2024-12-20\"");
    } else if (!cJSON_IsNumber(proto) || proto->valuedouble != 1.0) {
        line(x, false, "info", "Protocol must be the integer 1");
    } else if (framing(x)[0] != '\0') {
        line(x, false, "info", "%s", framing(x));
    } else {
        snprintf(x->edition, sizeof(x->edition), "%s", ed->valuestring);
        line(x, true, "info", "200 {\"Edition\": \"%s\", \"Protocol\": 1}", x->edition);
    }
    cJSON_Delete(doc);
}

static void check_paths(struct fx *x)
{
    if (!call(x, "GET", "/_aipa/no-such-path", NULL)) {
        return;
    }
    expect_error(x, "unknown path", 404);
    if (!call(x, "DELETE", "/_aipa/reset", NULL)) {
        return;
    }
    expect_error(x, "wrong method (DELETE /_aipa/reset)", 405);
}

static bool check_reset(struct fx *x, const char *name)
{
    cJSON *doc;
    bool ok;

    if (!call(x, "POST", "/_aipa/reset", NULL)) {
        return false;
    }
    doc = body_obj(x);
    ok = x->resp.status == 200 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "ok"));
    line(x, ok, name, ok ? "200 {\"ok\": true}" : "expected 200 {\"ok\": true}, got %ld: %.200s",
         x->resp.status, x->resp.body.ptr != NULL ? x->resp.body.ptr : "");
    cJSON_Delete(doc);
    return ok;
}

/* PUT /_aipa/edition to ed; then info and the state must say ed. */
static void set_edition(struct fx *x, const char *ed)
{
    char body[64], name[64];
    cJSON *doc;
    const cJSON *got;

    snprintf(body, sizeof(body), "{\"Edition\":\"%s\"}", ed);
    snprintf(name, sizeof(name), "edition (%s)", ed);
    if (!call(x, "PUT", "/_aipa/edition", body)) {
        return;
    }
    doc = body_obj(x);
    got = cJSON_GetObjectItemCaseSensitive(doc, "Edition");
    if (x->resp.status != 200 || !cJSON_IsString(got) || strcmp(got->valuestring, ed) != 0) {
        line(x, false, name, "expected 200 %s, got %ld: %.200s", body, x->resp.status,
             x->resp.body.ptr != NULL ? x->resp.body.ptr : "");
        cJSON_Delete(doc);
        return;
    }
    cJSON_Delete(doc);
    if (!call(x, "GET", "/_aipa/info", NULL)) {
        return;
    }
    doc = body_obj(x);
    got = cJSON_GetObjectItemCaseSensitive(doc, "Edition");
    if (!cJSON_IsString(got) || strcmp(got->valuestring, ed) != 0) {
        line(x, false, name, "PUT answered %s but GET /_aipa/info still says %.40s", ed,
             cJSON_IsString(got) ? got->valuestring : "nothing");
    } else if (read_state(x, name) && strcmp(x->st.edition, ed) != 0) {
        line(x, false, name, "GET /_aipa/state says Edition \"%s\"", x->st.edition);
    } else if (x->state != NULL) {
        line(x, true, name, "200, and info and state say %s", ed);
    }
    cJSON_Delete(doc);
}

static void check_edition(struct fx *x)
{
    const char *other = strcmp(x->edition, "2018-08-02") == 0 ? "2024-12-20" : "2018-08-02";

    set_edition(x, other);
    if (!x->res->unreachable && call(x, "PUT", "/_aipa/edition", "{\"Edition\":\"1999-01-01\"}")) {
        expect_error(x, "edition (bad value)", 400);
    }
    if (!x->res->unreachable) {
        set_edition(x, x->edition);
    }
}

/* POST body as an instance; expect 201 and the state to show want (NULL: body) for it. */
static void create_and_read(struct fx *x, const char *name, const char *body, const char *want)
{
    char id[64] = "";
    cJSON *w = NULL;
    const cJSON *inst;
    const char *where = "";

    if (!call(x, "POST", "/_aipa/instances", body)) {
        return;
    }
    if (x->resp.status != 201 ||
        aipa_fixture_instance_id(&x->resp.body, id, sizeof(id)) != AIPA_OK) {
        line(x, false, name, "POST %s: expected 201 {\"InstanceId\": ...}, got %ld: %.200s", body,
             x->resp.status, x->resp.body.ptr != NULL ? x->resp.body.ptr : "");
        return;
    }
    if (!read_state(x, name)) {
        return;
    }
    inst = state_instance(x, id);
    w = cJSON_Parse(want != NULL ? want : body);
    if (inst == NULL) {
        line(x, false, name, "%s is not in GET /_aipa/state", id);
    } else if (w == NULL) {
        line(x, false, name, "internal: bad expectation %s", want != NULL ? want : body);
    } else if (!subset(w, inst, &where)) {
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(inst, where);
        char *text = got != NULL ? cJSON_PrintUnformatted(got) : NULL;

        line(x, false, name, "sent %s; GET /_aipa/state shows %s as %.160s", body, where,
             text != NULL ? text : "absent");
        cJSON_free(text);
    } else {
        line(x, true, name, "201 %s, read back", id);
    }
    cJSON_Delete(w);
}

static void check_instance_fields(struct fx *x)
{
    static const struct {
        const char *name, *body, *want;
    } rows[] = {
        {"defaults", "{}",
         "{\"Status\":\"Running\",\"InstanceNetworkType\":\"classic\","
         "\"InternetMaxBandwidthOut\":5,\"RegionId\":\"cn-hangzhou\","
         "\"PublicIpAddress\":{\"IpAddress\":[]},\"OperationLocks\":{\"LockReason\":[]},"
         "\"AipaPublicIpEffective\":false,\"AipaExpired\":false,\"AipaCloudbox\":false,"
         "\"AipaDedicatedRegion\":false,\"AipaNextAllocateError\":\"\"}"},
        {"InstanceId", "{\"InstanceId\":\"" CHECK_ID "\"}", NULL},
        {"Status Pending", "{\"Status\":\"Pending\"}", NULL},
        {"Status Starting", "{\"Status\":\"Starting\"}", NULL},
        {"Status Stopping", "{\"Status\":\"Stopping\"}", NULL},
        {"Status Stopped", "{\"Status\":\"Stopped\"}", NULL},
        {"InstanceNetworkType", "{\"InstanceNetworkType\":\"vpc\"}", NULL},
        {"InternetMaxBandwidthOut", "{\"InternetMaxBandwidthOut\":0}", NULL},
        {"EipAddress",
         "{\"EipAddress\":{\"IpAddress\":\"47.100.1.1\",\"AllocationId\":\"eip-fx\"}}", NULL},
        {"OperationLocks",
         "{\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"security\"},"
         "{\"LockReason\":\"financial\"},{\"LockReason\":\"recycling\"},"
         "{\"LockReason\":\"dedicatedhostfinancial\"},{\"LockReason\":\"refunded\"}]}}",
         NULL},
        {"RegionId", "{\"RegionId\":\"cn-beijing\"}", NULL},
        {"VlanAttributes", "{\"VlanAttributes\":{\"VlanId\":\"" CHECK_VLAN "\"}}", NULL},
        {"AipaExpired", "{\"AipaExpired\":true}", NULL},
        {"AipaCloudbox", "{\"AipaCloudbox\":true}", NULL},
        {"AipaDedicatedRegion", "{\"AipaDedicatedRegion\":true}", NULL},
        {"AipaNextAllocateError", "{\"AipaNextAllocateError\":\"AllocateIp.Fail\"}", NULL},
        {"AipaNextReleaseError", "{\"AipaNextReleaseError\":\"OperationTimesOverLimit\"}", NULL},
        {"AipaOwnerId", "{\"AipaOwnerId\":\"1000000000000002\"}", NULL},
    };
    char name[96];

    for (size_t i = 0; i < AIPA_ARRAY_LEN(rows) && !x->res->unreachable; i++) {
        snprintf(name, sizeof(name), "instances (%s)", rows[i].name);
        create_and_read(x, name, rows[i].body, rows[i].want);
    }
    if (x->state != NULL && !x->res->unreachable) {
        const cJSON *vlans = cJSON_GetObjectItemCaseSensitive(x->state, "Vlans");
        const cJSON *v;
        bool found = false;

        cJSON_ArrayForEach(v, vlans)
        {
            found = found || (cJSON_IsString(v) && strcmp(v->valuestring, CHECK_VLAN) == 0);
        }
        line(x, found, "instances (VlanAttributes makes the VLAN known)",
             found ? "state.Vlans lists " CHECK_VLAN : "state.Vlans does not list " CHECK_VLAN);
    }
}

/* An instance holding a pool address: the free count drops by one, the address is held. */
static void check_instance_address(struct fx *x)
{
    char body[160], want[200], addr[AIPA_FXSTATE_IPV4_MAX];
    uint64_t free_before;

    if (!read_state(x, "instances (PublicIpAddress)") || x->st.pool_address[0] == '\0') {
        if (x->state != NULL) {
            line(x, false, "instances (PublicIpAddress)", "the pool has no address left to name");
        }
        return;
    }
    snprintf(addr, sizeof(addr), "%s", x->st.pool_address);
    free_before = x->st.free_count;
    snprintf(body, sizeof(body), "{\"PublicIpAddress\":{\"IpAddress\":[\"%s\"]}}", addr);
    snprintf(want, sizeof(want),
             "{\"PublicIpAddress\":{\"IpAddress\":[\"%s\"]},\"AipaPublicIpEffective\":true}", addr);
    create_and_read(x, "instances (PublicIpAddress)", body, want);
    if (x->state != NULL && x->st.free_count + 1 != free_before) {
        line(x, false, "instances (PublicIpAddress)",
             "Pool.FreeCount went from %llu to %llu; a free address that an instance takes "
             "is no longer free",
             (unsigned long long)free_before, (unsigned long long)x->st.free_count);
    }
    if (!x->res->unreachable && x->st.pool_address[0] != '\0') {
        snprintf(body, sizeof(body),
                 "{\"PublicIpAddress\":{\"IpAddress\":[\"%s\"]},\"AipaPublicIpEffective\":false}",
                 x->st.pool_address);
        create_and_read(x, "instances (AipaPublicIpEffective)", body, NULL);
    }
    /* the same address again: held by another instance */
    snprintf(body, sizeof(body), "{\"PublicIpAddress\":{\"IpAddress\":[\"%s\"]}}", addr);
    if (!x->res->unreachable && call(x, "POST", "/_aipa/instances", body)) {
        expect_error(x, "instances (address another instance holds)", 409);
    }
}

static void check_instance_refusals(struct fx *x)
{
    static const struct {
        const char *name, *body;
        long status;
    } rows[] = {
        {"not an object", "[]", 400},
        {"unknown field", "{\"Bogus\":1}", 400},
        {"bad Status", "{\"Status\":\"Bogus\"}", 400},
        {"Status of the wrong case", "{\"Status\":\"running\"}", 400},
        {"bad InstanceNetworkType", "{\"InstanceNetworkType\":\"lan\"}", 400},
        {"bandwidth not an integer", "{\"InternetMaxBandwidthOut\":1.5}", 400},
        {"bad lock reason", "{\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"x\"}]}}", 400},
        {"bad AipaNextAllocateError", "{\"AipaNextAllocateError\":\"Bogus\"}", 400},
        {"InstanceId with a space", "{\"InstanceId\":\"i- x\"}", 400},
        {"InstanceId of 32 characters", "{\"InstanceId\":\"i-234567890123456789012345678901\"}",
         400},
        {"effective without an address", "{\"AipaPublicIpEffective\":true}", 400},
        {"two addresses", "{\"PublicIpAddress\":{\"IpAddress\":[\"1.2.3.4\",\"1.2.3.5\"]}}", 400},
        {"existing InstanceId", "{\"InstanceId\":\"" CHECK_ID "\"}", 409},
    };
    char name[96], body[160];
    size_t before;

    if (!read_state(x, "instances (refusals)")) {
        return;
    }
    before = x->st.instance_count;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(rows) && !x->res->unreachable; i++) {
        snprintf(name, sizeof(name), "instances refused (%s)", rows[i].name);
        if (call(x, "POST", "/_aipa/instances", rows[i].body)) {
            expect_error(x, name, rows[i].status);
        }
    }
    if (!x->res->unreachable && x->st.pool_outside[0] != '\0') {
        snprintf(body, sizeof(body), "{\"PublicIpAddress\":{\"IpAddress\":[\"%s\"]}}",
                 x->st.pool_outside);
        if (call(x, "POST", "/_aipa/instances", body)) {
            expect_error(x, "instances refused (address outside the pool)", 400);
        }
    }
    if (!x->res->unreachable && read_state(x, "instances (refusals)")) {
        line(x, x->st.instance_count == before, "instances (refusals change nothing)",
             "%zu instances before, %zu after", before, x->st.instance_count);
    }
}

/* PUT /_aipa/pool {"Free": n}: the answer and the state's FreeCount must be want. */
static void pool_to(struct fx *x, const char *n, uint64_t want)
{
    char body[64], name[64];
    cJSON *doc;
    const cJSON *got;

    snprintf(body, sizeof(body), "{\"Free\":%s}", n);
    snprintf(name, sizeof(name), "pool (Free %s)", n);
    if (!call(x, "PUT", "/_aipa/pool", body)) {
        return;
    }
    doc = body_obj(x);
    got = cJSON_GetObjectItemCaseSensitive(doc, "Free");
    if (x->resp.status != 200 || !cJSON_IsNumber(got) || got->valuedouble != (double)want) {
        line(x, false, name, "expected 200 {\"Free\": %llu}, got %ld: %.200s",
             (unsigned long long)want, x->resp.status,
             x->resp.body.ptr != NULL ? x->resp.body.ptr : "");
    } else if (read_state(x, name)) {
        line(x, x->st.free_count == want, name,
             x->st.free_count == want ? "200, and the state's FreeCount is %llu"
                                      : "answered %llu, but the state's FreeCount is %llu",
             (unsigned long long)want, (unsigned long long)x->st.free_count);
    }
    cJSON_Delete(doc);
}

static void check_pool(struct fx *x)
{
    static const char *const bad[] = {"{\"Free\":-1}", "{\"Free\":1.5}", "{\"Free\":\"3\"}", "{}"};
    uint64_t unheld;

    if (!read_state(x, "pool")) {
        return;
    }
    unheld = x->st.pool_size - x->st.held_count;
    pool_to(x, "1", unheld >= 1 ? 1 : unheld);
    if (!x->res->unreachable) {
        pool_to(x, "0", 0);
    }
    if (!x->res->unreachable) {
        pool_to(x, "4000000000", unheld); /* more than the pool: all unheld addresses */
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad) && !x->res->unreachable; i++) {
        char name[64];

        snprintf(name, sizeof(name), "pool refused (%s)", bad[i]);
        if (call(x, "PUT", "/_aipa/pool", bad[i])) {
            expect_error(x, name, 400);
        }
    }
    if (!x->res->unreachable) {
        pool_to(x, "0", 0); /* left exhausted: the reset below must undo it */
    }
}

/* After the closing reset: the seed state again. */
static void check_reset_undoes(struct fx *x)
{
    if (!check_reset(x, "reset (again)") || !read_state(x, "reset undoes everything")) {
        return;
    }
    if (x->st.instance_count != x->seed.instance_count || state_instance(x, CHECK_ID) != NULL) {
        line(x, false, "reset undoes everything",
             "%zu instances after the reset, %zu in the seed state%s", x->st.instance_count,
             x->seed.instance_count,
             state_instance(x, CHECK_ID) != NULL ? "; " CHECK_ID " is still there" : "");
    } else if (x->st.free_count != x->seed.free_count) {
        line(x, false, "reset undoes everything",
             "Pool.FreeCount is %llu after the reset, %llu in the seed state",
             (unsigned long long)x->st.free_count, (unsigned long long)x->seed.free_count);
    } else {
        line(x, true, "reset undoes everything", "%zu instances, %llu free addresses",
             x->st.instance_count, (unsigned long long)x->st.free_count);
    }
}

/* ---- what the protocol promises of the API (with a key) ---- */

/*
 * One signed V1 request asking for JSON, params as name/value pairs, with
 * the given nonce (NULL: a fresh one), into x->resp; its body as JSON in
 * *body (caller frees; NULL if not an object). false when no answer came.
 */
static bool api_call(struct fx *x, const char *nonce, const char *const *kv, size_t n, cJSON **body)
{
    struct aipa_params params;
    struct aipa_request req;
    aipa_err e = AIPA_OK;

    *body = NULL;
    aipa_params_init(&params, NULL);
    for (size_t i = 0; i + 1 < n && e == AIPA_OK; i += 2) {
        e = aipa_params_add_cstr(&params, kv[i], kv[i + 1]);
    }
    aipa_request_init(&req);
    req.want = AIPA_WANT_JSON;
    req.params = &params;
    req.nonce = nonce;
    if (e == AIPA_OK) {
        e = aipa_client_call(x->cl, &req, NULL, &x->resp);
    }
    aipa_params_cleanup(&params);
    if (e != AIPA_OK || x->resp.xerr != AIPA_XERR_NONE) {
        snprintf(x->res->unreachable_why, sizeof(x->res->unreachable_why), "%.40s: %.200s", kv[1],
                 e != AIPA_OK ? aipa_strerror(e) : x->resp.xerr_msg);
        x->res->unreachable = true;
        return false;
    }
    *body = body_obj(x);
    return true;
}

static const char *code_of(const cJSON *body)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(body, "Code");

    return cJSON_IsString(c) ? c->valuestring : "";
}

/* The injected failure's answer: the named Code, or (2018-08-02) 500 InternalError. */
static bool injected_answer(const struct fx *x, const cJSON *body)
{
    const char *code = code_of(body);

    if (strcmp(code, "AllocateIp.Fail") == 0 && x->resp.status == 403) {
        return true;
    }
    return strcmp(x->edition, "2018-08-02") == 0 && x->resp.status == 500 &&
           strcmp(code, "InternalError") == 0;
}

static void check_next_error(struct fx *x)
{
    const char *const alloc[] = {"Action", "AllocatePublicIpAddress", "InstanceId", NULL};
    const char *kv[4];
    char id[64] = "";
    const cJSON *inst;
    cJSON *body = NULL;
    long first;
    const char *name = "API: AipaNextAllocateError fails one allocation";

    if (!call(x, "POST", "/_aipa/instances", "{\"AipaNextAllocateError\":\"AllocateIp.Fail\"}")) {
        return;
    }
    if (aipa_fixture_instance_id(&x->resp.body, id, sizeof(id)) != AIPA_OK) {
        line(x, false, name, "POST /_aipa/instances answered %ld", x->resp.status);
        return;
    }
    memcpy(kv, alloc, sizeof(kv));
    kv[3] = id;
    if (!api_call(x, NULL, kv, 4, &body)) {
        return;
    }
    first = x->resp.status;
    if (!injected_answer(x, body)) {
        line(x, false, name, "the first allocation answered %ld %s, not 403 AllocateIp.Fail%s",
             x->resp.status, code_of(body),
             strcmp(x->edition, "2018-08-02") == 0 ? " or 500 InternalError" : "");
    } else if (read_state(x, name) && (inst = state_instance(x, id)) != NULL &&
               (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(inst, "PublicIpAddress"), "IpAddress")) != 0 ||
                !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(inst, "AipaNextAllocateError")) ||
                cJSON_GetObjectItemCaseSensitive(inst, "AipaNextAllocateError")->valuestring[0] !=
                    '\0')) {
        line(x, false, name,
             "after the failed allocation the state must show no address and an empty "
             "AipaNextAllocateError");
    } else if (x->state != NULL) {
        cJSON_Delete(body);
        body = NULL;
        if (!api_call(x, NULL, kv, 4, &body)) {
            return;
        }
        if (x->resp.status == 200) {
            line(x, true, name, "%ld on the first allocation, then 200 on the retry", first);
        } else {
            line(x, false, name, "%ld on the first allocation, but %ld %s on the retry", first,
                 x->resp.status, code_of(body));
        }
    }
    cJSON_Delete(body);
}

/* A nonce used before a reset may be used again after it. */
static void check_nonce_reset(struct fx *x)
{
    const char *const kv[] = {"Action", "DescribeInstances", "RegionId", "cn-hangzhou"};
    const char *name = "API: reset clears the nonce cache";
    char nonce[33];
    cJSON *body = NULL;

    if (aipa_client_nonce(nonce) != AIPA_OK || !api_call(x, nonce, kv, 4, &body)) {
        return;
    }
    if (x->resp.status != 200) {
        line(x, false, name, "DescribeInstances answered %ld %s", x->resp.status, code_of(body));
    } else if (call(x, "POST", "/_aipa/reset", NULL)) {
        cJSON_Delete(body);
        body = NULL;
        if (!api_call(x, nonce, kv, 4, &body)) {
            return;
        }
        line(x, x->resp.status == 200, name,
             x->resp.status == 200 ? "the same nonce is accepted after a reset"
                                   : "after a reset the same nonce got %ld %s",
             x->resp.status, code_of(body));
    }
    cJSON_Delete(body);
}

static void run_checks(struct fx *x)
{
    check_token(x);
    if (!x->res->unreachable) {
        check_info(x);
    }
    if (!x->res->unreachable) {
        check_paths(x);
    }
    if (x->res->unreachable || !check_reset(x, "reset")) {
        return;
    }
    if (!read_state(x, "state (seed)")) {
        return;
    }
    x->seed = x->st;
    line(x, true, "state (seed)",
         "loads as aipa fuzz loads it: %zu instances, %llu addresses, %llu free; "
         "${pool.address} = %s, ${pool.outside} = %s",
         x->st.instance_count, (unsigned long long)x->st.pool_size,
         (unsigned long long)x->st.free_count, x->st.pool_address[0] ? x->st.pool_address : "-",
         x->st.pool_outside[0] ? x->st.pool_outside : "-");
    if (x->edition[0] != '\0') {
        check_edition(x);
    }
    if (!x->res->unreachable) {
        check_instance_fields(x);
    }
    if (!x->res->unreachable) {
        check_instance_address(x);
    }
    if (!x->res->unreachable) {
        check_instance_refusals(x);
    }
    if (!x->res->unreachable) {
        check_pool(x);
    }
    if (!x->res->unreachable) {
        check_reset_undoes(x);
    }
    if (x->cl != NULL && !x->res->unreachable) {
        check_next_error(x);
    }
    if (x->cl != NULL && !x->res->unreachable) {
        check_nonce_reset(x);
    }
}

/* "scheme://host[:port]" of a base URL. */
static aipa_err origin_of(const char *target, struct aipa_buf *out)
{
    struct aipa_url u;
    aipa_err err = aipa_url_parse(target, &u);

    if (err != AIPA_OK) {
        return err;
    }
    err = aipa_buf_printf(out, "%s://%s%s%s", u.scheme, u.host, u.port != NULL ? ":" : "",
                          u.port != NULL ? u.port : "");
    aipa_url_cleanup(&u);
    return err;
}

aipa_err aipa_fixcheck_run(const struct aipa_fixcheck_opts *o, struct aipa_fixcheck_result *res)
{
    struct aipa_tx_config cfg;
    struct aipa_buf origin;
    struct fx x;
    aipa_err err;

    memset(res, 0, sizeof(*res));
    memset(&x, 0, sizeof(x));
    x.o = o;
    x.res = res;
    aipa_buf_init(&origin, 4096);
    aipa_buf_init(&x.prefix, 4096);
    aipa_response_init(&x.resp);
    err = origin_of(o->target, &origin);
    if (err == AIPA_OK) {
        err = aipa_fixture_prefix(o->target, &x.prefix);
    }
    if (err == AIPA_OK) {
        aipa_tx_config_defaults(&cfg);
        cfg.origin = origin.ptr;
        cfg.timeout_ms = o->timeout_ms;
        cfg.max_response = STATE_MAX;
        err = aipa_tx_new(&x.tx, &cfg);
    }
    if (err != AIPA_OK) {
        goto out;
    }
    if (o->access_key_id != NULL && o->access_key_secret != NULL) {
        struct aipa_client_config cc;

        aipa_client_config_defaults(&cc);
        cc.target = o->target;
        cc.access_key_id = o->access_key_id;
        cc.access_key_secret = o->access_key_secret;
        if (o->timeout_ms > 0) {
            cc.timeout_ms = o->timeout_ms;
        }
        err = aipa_client_new(&x.cl, &cc);
        if (err != AIPA_OK) {
            goto out;
        }
    }
    aipa_fixture_conn_init(&x.fc, x.tx, x.prefix.ptr, NULL, o->token);
    run_checks(&x);
    /* Leave the target as found: reset, in its edition (best effort). */
    if (!res->unreachable && x.edition[0] != '\0') {
        char body[64];

        snprintf(body, sizeof(body), "{\"Edition\":\"%s\"}", x.edition);
        (void)call(&x, "POST", "/_aipa/reset", NULL);
        (void)call(&x, "PUT", "/_aipa/edition", body);
    }
    aipa_fixture_conn_cleanup(&x.fc);
out:
    cJSON_Delete(x.state);
    aipa_client_free(x.cl);
    aipa_tx_free(x.tx);
    aipa_response_cleanup(&x.resp);
    aipa_buf_cleanup(&origin);
    aipa_buf_cleanup(&x.prefix);
    return err;
}
