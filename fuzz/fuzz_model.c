/*
 * Target: the model (reference_impl/lib/src/model*.c): instances, the address
 * pool, AllocatePublicIpAddress and the lifecycle actions, state documents.
 *
 * Input: byte 0 picks the edition; every following group of bytes is one
 * operation on one model with an 8-address pool (47.96.0.0/29 and
 * 47.97.0.0/31): create an instance from a template, allocate, release,
 * start, stop, reboot, set the free pool size, dump and reload, reset,
 * switch edition. Oracles, after every operation:
 *   - aipa_model_check passes;
 *   - every answer is the one the precedence table of
 *     docs/internals/model.md gives for the instance as it was just before
 *     (read with aipa_model_get), so each error happens only when its
 *     precondition holds and success only when none does;
 *   - on an error nothing visible changes; on success exactly the
 *     documented change happens (the address is held, the free count moves
 *     by one, the status changes);
 *   - dump, load into a fresh model and dump again give the same document
 *     (counters aside). The round trip runs at most once per input (a load
 *     costs far more than an action); the two documents are compared as
 *     text every time, and also as parsed trees one round trip in 16.
 * A first byte of 0xf0 or above selects the state-document mode instead:
 * bit 0 the edition, bit 1 allocation-failure injection (fuzz_oom.h; the
 * next two bytes pick which allocation fails), and the rest of the input is
 * a state document for aipa_model_load_json. Oracles: a loaded document
 * passes aipa_model_check, round-trips as above, and reset returns to it; a
 * refused one is refused with AIPA_EPARSE (AIPA_ENOMEM only when a failure
 * was injected) and a one-line reason, and changes nothing (the dump is the
 * same before and after).
 */
#include "aipa/model.h"
#include "fuzz_common.h"
#include "fuzz_oom.h"

#include <cjson/cJSON.h>

#define MAX_INST  8
#define POOL_SIZE 8

static const char *const pool_cidrs[] = {"47.96.0.0/29", "47.97.0.0/31"};
static const char *const pool_addrs[POOL_SIZE] = {"47.96.0.1", "47.96.0.2", "47.96.0.3",
                                                  "47.96.0.4", "47.96.0.5", "47.96.0.6",
                                                  "47.97.0.0", "47.97.0.1"};

struct shadow {
    char id[MAX_INST][AIPA_INSTANCE_ID_MAX];
    bool next_error[MAX_INST]; /* AipaNextAllocateError pending (not visible in views) */
    size_t count;
    bool vlan_known; /* "vlan-a" exists once an instance carried it */
    unsigned edition;
};

static void check_model(struct aipa_model *m)
{
    struct aipa_buf why;

    aipa_buf_init(&why, 4096);
    FUZZ_CHECK(aipa_model_check(m, &why) == AIPA_OK, "invariant: %s", why.ptr ? why.ptr : "");
    aipa_buf_cleanup(&why);
}

static bool in_pool(const char *ip)
{
    for (size_t i = 0; i < POOL_SIZE; i++) {
        if (strcmp(ip, pool_addrs[i]) == 0) {
            return true;
        }
    }
    return false;
}

static size_t in_use(struct aipa_model *m, const struct shadow *s, const char *ip)
{
    size_t n = 0;

    for (size_t i = 0; i < s->count; i++) {
        struct aipa_instance_view v;
        FUZZ_CHECK(aipa_model_get(m, s->id[i], &v) == AIPA_C_OK, "instance %s vanished", s->id[i]);
        if (v.public_ip[0] != '\0' && (ip == NULL || strcmp(v.public_ip, ip) == 0)) {
            n++;
        }
    }
    return n;
}

static bool same_view(const struct aipa_instance_view *a, const struct aipa_instance_view *b)
{
    return strcmp(a->instance_id, b->instance_id) == 0 && a->status == b->status &&
           a->vpc == b->vpc && a->internet_max_bandwidth_out == b->internet_max_bandwidth_out &&
           strcmp(a->public_ip, b->public_ip) == 0 &&
           a->public_ip_effective == b->public_ip_effective &&
           strcmp(a->eip_address, b->eip_address) == 0 && a->locks == b->locks &&
           a->expired == b->expired && a->cloudbox == b->cloudbox &&
           a->dedicated_region == b->dedicated_region && strcmp(a->vlan_id, b->vlan_id) == 0;
}

static const char *code_name(enum aipa_code c)
{
    return c == AIPA_C_OK ? "OK" : aipa_code_info(c) ? aipa_code_info(c)->code : "?";
}

static void op_create(struct aipa_model *m, struct shadow *s, struct fz *f)
{
    static const char *const status[] = {"Running", "Stopped", "Starting", "Stopping", "Pending"};
    static const char *const locks[] = {
        "", "security", "financial", "recycling", "dedicatedhostfinancial", "refunded"};
    uint8_t a = fz_u8(f), b = fz_u8(f), c = fz_u8(f);
    char json[1024], id[AIPA_INSTANCE_ID_MAX];
    struct aipa_buf err;
    aipa_err e;
    int n;

    if (s->count == MAX_INST) {
        return;
    }
    n = snprintf(json, sizeof(json),
                 "{\"Status\":\"%s\",\"InstanceNetworkType\":\"%s\","
                 "\"InternetMaxBandwidthOut\":%d%s%s%s%s%s%s%s}",
                 status[(a & 7u) % 5], (a & 8u) ? "vpc" : "classic",
                 (b & 3u) == 0   ? 0
                 : (b & 3u) == 1 ? -1
                                 : 5,
                 (a & 16u) ? ",\"EipAddress\":{\"IpAddress\":\"47.100.1.1\","
                             "\"AllocationId\":\"eip-x\"}"
                           : "",
                 locks[(b >> 2) % 6][0] ? ",\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\""
                                        : "",
                 locks[(b >> 2) % 6], locks[(b >> 2) % 6][0] ? "\"}]}" : "",
                 (a & 32u) ? ",\"VlanAttributes\":{\"VlanId\":\"vlan-a\"}" : "",
                 (c & 1u) ? ",\"AipaNextAllocateError\":\"AllocateIp.Fail\"" : "",
                 (c & 6u) == 2   ? ",\"AipaExpired\":true"
                 : (c & 6u) == 4 ? ",\"AipaCloudbox\":true"
                 : (c & 6u) == 6 ? ",\"AipaDedicatedRegion\":true"
                                 : "");
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(json), "template too long");
    aipa_buf_init(&err, 4096);
    e = aipa_model_create_instance_json(m, json, (size_t)n, id, &err);
    FUZZ_CHECK(e == AIPA_OK, "create %s: %s %s", json, aipa_errname(e), err.ptr ? err.ptr : "");
    aipa_buf_cleanup(&err);
    for (size_t i = 0; i < s->count; i++) {
        FUZZ_CHECK(strcmp(s->id[i], id) != 0, "instance ID %s given twice", id);
    }
    snprintf(s->id[s->count], sizeof(s->id[s->count]), "%s", id);
    s->next_error[s->count] = (c & 1u) != 0;
    s->count++;
    s->vlan_known = s->vlan_known || (a & 32u);
}

/* The documented answer of AllocatePublicIpAddress (docs/internals/model.md). */
static enum aipa_code expect_allocate(struct aipa_model *m, const struct shadow *s, size_t idx,
                                      const struct aipa_instance_view *v, const char *ip,
                                      const char *vlan, bool whitelisted, bool *maybe_in_use)
{
    bool ed24 = s->edition == AIPA_ED_2024;
    size_t free_n = aipa_model_pool_free(m);

    *maybe_in_use = false;
    if (ed24 && ip != NULL) {
        if (!whitelisted || strcmp(ip, "1.2.3") == 0) {
            return AIPA_C_INVALID_IP_ADDRESS_MALFORMED;
        }
        if (strcmp(ip, "10.0.0.1") == 0) {
            return AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC;
        }
    }
    if (v == NULL) {
        return AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND;
    }
    if (v->locks & AIPA_LOCK_SECURITY) {
        return AIPA_C_INSTANCE_LOCKED_FOR_SECURITY;
    }
    if ((v->locks &
         (AIPA_LOCK_FINANCIAL | AIPA_LOCK_DEDICATEDHOSTFINANCIAL | AIPA_LOCK_REFUNDED)) ||
        v->expired) {
        return AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS;
    }
    if ((v->locks & AIPA_LOCK_RECYCLING) ||
        (v->status != AIPA_ST_RUNNING && v->status != AIPA_ST_STOPPED)) {
        return AIPA_C_INCORRECT_INSTANCE_STATUS;
    }
    if (ed24 && v->cloudbox) {
        return AIPA_C_OPERATION_DENIED_CLOUDBOX;
    }
    if (ed24 && v->dedicated_region) {
        return AIPA_C_OPERATION_DENIED_DEDICATED_REGION;
    }
    if (v->eip_address[0] != '\0') {
        if (v->vpc) {
            return AIPA_C_OPERATION_DENIED_VPC_EIP;
        }
        if (ed24) {
            return AIPA_C_OPERATION_DENIED_HAS_PUBLIC_IP;
        }
    }
    if (ed24 && v->internet_max_bandwidth_out <= 0) {
        return AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH;
    }
    if (v->public_ip[0] != '\0') {
        if (!ed24) {
            return AIPA_C_ALLOCATED_ALREADY;
        }
        if (ip != NULL && strcmp(ip, v->public_ip) != 0) {
            return AIPA_C_ALLOCATED_ALREADY_2;
        }
        return AIPA_C_OK;
    }
    if (ed24 && vlan != NULL) {
        if (strcmp(vlan, "vlan-a") != 0 || !s->vlan_known) {
            return AIPA_C_INVALID_VLAN_ID_NOT_FOUND;
        }
        if (strcmp(v->vlan_id, vlan) != 0) {
            return AIPA_C_OPERATION_DENIED_VLAN;
        }
    }
    if (ed24 && ip != NULL) {
        if (!in_pool(ip)) {
            return AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND;
        }
        if (in_use(m, s, ip) > 0) {
            return AIPA_C_IP_IN_USE;
        }
        /* held back addresses answer IpInUse too; which ones is not visible */
        *maybe_in_use = in_use(m, s, NULL) + free_n < POOL_SIZE;
    }
    if (s->next_error[idx]) {
        return ed24 ? AIPA_C_ALLOCATE_IP_FAIL : AIPA_C_INTERNAL_ERROR;
    }
    if (free_n == 0 && !(ed24 && ip != NULL)) {
        if (!ed24) {
            return AIPA_C_INSUFFICIENT_PUBLIC_IP;
        }
        return vlan != NULL ? AIPA_C_OPERATION_DENIED_VLAN : AIPA_C_INSUFFICIENT_PUBLIC_IP_2024;
    }
    return AIPA_C_OK;
}

static const char *pick_ip(uint8_t b, const struct aipa_instance_view *v)
{
    switch (b % 6) {
    case 0:
        return NULL;
    case 1:
        return pool_addrs[(b >> 3) % POOL_SIZE];
    case 2:
        return "10.0.0.1";
    case 3:
        return "1.2.3";
    case 4:
        return "8.8.8.8";
    default:
        return v != NULL && v->public_ip[0] != '\0' ? v->public_ip : pool_addrs[0];
    }
}

static void op_allocate(struct aipa_model *m, struct shadow *s, struct fz *f)
{
    uint8_t who = fz_u8(f), ipb = fz_u8(f), misc = fz_u8(f);
    size_t idx = s->count > 0 ? who % (s->count + 1) : 0;
    const char *id = idx < s->count ? s->id[idx] : "i-nonexistent";
    struct aipa_instance_view before, after, *vb = NULL;
    char ip_buf[AIPA_IPV4_MAX], ip_out[AIPA_IPV4_MAX];
    const char *ip;
    struct aipa_alloc_req req;
    size_t free_before = aipa_model_pool_free(m);
    enum aipa_code want, got;
    bool maybe_in_use;

    if (idx < s->count) {
        FUZZ_CHECK(aipa_model_get(m, id, &before) == AIPA_C_OK, "get %s", id);
        vb = &before;
    }
    ip = pick_ip(ipb, vb);
    if (ip != NULL) {
        snprintf(ip_buf, sizeof(ip_buf), "%s", ip); /* the view is not borrowed */
        ip = ip_buf;
    }
    req.instance_id = id;
    req.ip_address = ip;
    req.vlan_id = (misc & 3u) == 1 ? "vlan-a" : (misc & 3u) == 2 ? "vlan-b" : NULL;
    req.whitelisted = (misc & 4u) != 0;
    want = expect_allocate(m, s, idx, vb, ip, req.vlan_id, req.whitelisted, &maybe_in_use);
    memset(ip_out, 0x5a, sizeof(ip_out));
    got = aipa_model_allocate(m, &req, ip_out);
    if (maybe_in_use && got == AIPA_C_IP_IN_USE) {
        want = got;
    }
    FUZZ_CHECK(got == want, "allocate %s ip=%s vlan=%s wl=%d ed=%u: %s, documented %s", id,
               ip ? ip : "-", req.vlan_id ? req.vlan_id : "-", req.whitelisted, s->edition,
               code_name(got), code_name(want));
    if (want == AIPA_C_ALLOCATE_IP_FAIL || want == AIPA_C_INTERNAL_ERROR) {
        s->next_error[idx] = false; /* one-shot */
    }
    if (vb == NULL) {
        return;
    }
    FUZZ_CHECK(aipa_model_get(m, id, &after) == AIPA_C_OK, "get %s", id);
    if (got != AIPA_C_OK) {
        FUZZ_CHECK(same_view(&before, &after), "a failed allocation (%s) changed %s",
                   code_name(got), id);
        FUZZ_CHECK(aipa_model_pool_free(m) == free_before, "a failed allocation moved the pool");
        return;
    }
    FUZZ_CHECK(memchr(ip_out, 0, sizeof(ip_out)) != NULL && in_pool(ip_out),
               "allocated address %.16s is not from the pool", ip_out);
    FUZZ_CHECK(strcmp(after.public_ip, ip_out) == 0, "instance holds %s, answer was %s",
               after.public_ip, ip_out);
    if (before.public_ip[0] != '\0') {
        FUZZ_CHECK(strcmp(before.public_ip, ip_out) == 0, "a second allocation changed address");
        FUZZ_CHECK(aipa_model_pool_free(m) == free_before, "a repeated allocation moved the pool");
    } else {
        FUZZ_CHECK(ip == NULL || s->edition != AIPA_ED_2024 || strcmp(ip, ip_out) == 0,
                   "asked for %s, got %s", ip, ip_out);
        /* a named address may come from the held-back zone: the free count may stay */
        FUZZ_CHECK(aipa_model_pool_free(m) == free_before - 1 ||
                       (ip != NULL && s->edition == AIPA_ED_2024 &&
                        aipa_model_pool_free(m) == free_before),
                   "free count %zu after allocating from %zu", aipa_model_pool_free(m),
                   free_before);
        FUZZ_CHECK(!after.public_ip_effective, "a new address is effective at once");
    }
}

static void op_release(struct aipa_model *m, struct shadow *s, struct fz *f)
{
    uint8_t who = fz_u8(f), ipb = fz_u8(f);
    size_t idx = s->count > 0 ? who % (s->count + 1) : 0;
    const char *id = idx < s->count ? s->id[idx] : "i-nonexistent";
    struct aipa_instance_view before, after;
    char ip_buf[AIPA_IPV4_MAX];
    const char *ip;
    size_t free_before = aipa_model_pool_free(m);
    enum aipa_code want, got;

    if (idx >= s->count) {
        got = aipa_model_release(m, id, "47.96.0.1");
        FUZZ_CHECK(got == AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, "release of no instance: %s",
                   code_name(got));
        return;
    }
    FUZZ_CHECK(aipa_model_get(m, id, &before) == AIPA_C_OK, "get %s", id);
    ip = pick_ip(ipb, &before);
    if (ip != NULL) {
        snprintf(ip_buf, sizeof(ip_buf), "%s", ip);
        ip = ip_buf;
    }
    if (before.locks & AIPA_LOCK_SECURITY) {
        want = AIPA_C_INSTANCE_LOCKED_FOR_SECURITY;
    } else if (before.status != AIPA_ST_RUNNING && before.status != AIPA_ST_STOPPED) {
        want = AIPA_C_INCORRECT_INSTANCE_STATUS;
    } else if (ip == NULL || strcmp(ip, "1.2.3") == 0 || before.public_ip[0] == '\0' ||
               strcmp(before.public_ip, ip) != 0) {
        want = AIPA_C_RELEASE_IP_NOT_FOUND;
    } else {
        want = AIPA_C_OK;
    }
    got = aipa_model_release(m, id, ip);
    FUZZ_CHECK(got == want, "release %s ip=%s: %s, documented %s", id, ip ? ip : "-",
               code_name(got), code_name(want));
    FUZZ_CHECK(aipa_model_get(m, id, &after) == AIPA_C_OK, "get %s", id);
    if (got != AIPA_C_OK) {
        FUZZ_CHECK(same_view(&before, &after), "a failed release changed %s", id);
        FUZZ_CHECK(aipa_model_pool_free(m) == free_before, "a failed release moved the pool");
    } else {
        FUZZ_CHECK(after.public_ip[0] == '\0' && !after.public_ip_effective,
                   "released instance still holds %s", after.public_ip);
        FUZZ_CHECK(aipa_model_pool_free(m) == free_before + 1, "release did not free an address");
    }
}

static void op_lifecycle(struct aipa_model *m, struct shadow *s, struct fz *f, int which)
{
    uint8_t who = fz_u8(f);
    size_t idx = s->count > 0 ? who % (s->count + 1) : 0;
    const char *id = idx < s->count ? s->id[idx] : "i-nonexistent";
    struct aipa_instance_view before, after;
    enum aipa_code want, got;
    enum aipa_status need = which == 0 ? AIPA_ST_STOPPED : AIPA_ST_RUNNING;

    if (idx >= s->count) {
        got = which == 0   ? aipa_model_start(m, id)
              : which == 1 ? aipa_model_stop(m, id)
                           : aipa_model_reboot(m, id);
        FUZZ_CHECK(got == AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, "lifecycle of no instance: %s",
                   code_name(got));
        return;
    }
    FUZZ_CHECK(aipa_model_get(m, id, &before) == AIPA_C_OK, "get %s", id);
    if (before.locks & AIPA_LOCK_SECURITY) {
        want = AIPA_C_INSTANCE_LOCKED_FOR_SECURITY;
    } else if ((before.locks & (AIPA_LOCK_FINANCIAL | AIPA_LOCK_DEDICATEDHOSTFINANCIAL |
                                AIPA_LOCK_REFUNDED)) != 0 ||
               before.expired) {
        want = which == 0 ? AIPA_C_INSTANCE_EXPIRED : AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS;
    } else {
        want = before.status == need ? AIPA_C_OK : AIPA_C_INCORRECT_INSTANCE_STATUS;
    }
    got = which == 0   ? aipa_model_start(m, id)
          : which == 1 ? aipa_model_stop(m, id)
                       : aipa_model_reboot(m, id);
    FUZZ_CHECK(got == want, "%s %s in %s: %s, documented %s",
               which == 0   ? "start"
               : which == 1 ? "stop"
                            : "reboot",
               id, aipa_status_name(before.status), code_name(got), code_name(want));
    FUZZ_CHECK(aipa_model_get(m, id, &after) == AIPA_C_OK, "get %s", id);
    if (got != AIPA_C_OK) {
        FUZZ_CHECK(same_view(&before, &after), "a refused lifecycle action changed %s", id);
        return;
    }
    FUZZ_CHECK(after.status == (which == 1 ? AIPA_ST_STOPPED : AIPA_ST_RUNNING),
               "status %s after the action", aipa_status_name(after.status));
    FUZZ_CHECK(strcmp(after.public_ip, before.public_ip) == 0, "the action moved the address");
    if (which != 1) {
        FUZZ_CHECK(after.public_ip_effective == (after.public_ip[0] != '\0'),
                   "a start or reboot did not make the address effective");
    } else {
        FUZZ_CHECK(after.public_ip_effective == before.public_ip_effective,
                   "a stop changed effectiveness");
    }
}

/* Where the Counters member of a dump starts (the end if it has none). */
static const char *last_counters(const struct aipa_buf *d)
{
    static const char key[] = "\n\"Counters\":";
    const char *at = d->ptr + d->len;

    for (size_t i = d->len; i >= sizeof(key) - 1; i--) {
        if (memcmp(d->ptr + i - (sizeof(key) - 1), key, sizeof(key) - 1) == 0) {
            at = d->ptr + i - (sizeof(key) - 1);
            break;
        }
    }
    return at;
}

/* dump -> load into a fresh model -> dump: the same document, counters aside */
static void op_roundtrip(struct aipa_model *m, const struct aipa_model_config *cfg)
{
    struct aipa_model *m2 = NULL;
    struct aipa_buf d1, d2, err;
    cJSON *j1, *j2;

    aipa_buf_init(&d1, 1u << 24);
    aipa_buf_init(&d2, 1u << 24);
    aipa_buf_init(&err, 4096);
    FUZZ_CHECK(aipa_model_dump_json(m, &d1) == AIPA_OK, "dump");
    FUZZ_CHECK(aipa_model_new(&m2, cfg) == AIPA_OK, "model_new");
    FUZZ_CHECK(aipa_model_load_json(m2, d1.ptr, d1.len, &err) == AIPA_OK,
               "the model does not load its own dump: %s\n%s", err.ptr ? err.ptr : "", d1.ptr);
    check_model(m2);
    FUZZ_CHECK(aipa_model_dump_json(m2, &d2) == AIPA_OK, "dump");
    /*
     * The two documents are equal as text up to the Counters member (the
     * last one, by construction of the dump). That is at least as strict as
     * comparing the parsed trees with Counters removed, and much cheaper;
     * d1 is JSON since it loaded, and once every 16 round trips both
     * documents are still parsed and compared as trees.
     */
    {
        const char *c1 = last_counters(&d1), *c2 = last_counters(&d2);
        size_t n1 = (size_t)(c1 - d1.ptr), n2 = (size_t)(c2 - d2.ptr);
        FUZZ_CHECK(n1 == n2 && memcmp(d1.ptr, d2.ptr, n1) == 0,
                   "dump/load/dump differs:\n%s\n---\n%s", d1.ptr, d2.ptr);
    }
    if ((d1.len & 15u) == 0) {
        j1 = cJSON_ParseWithLength(d1.ptr, d1.len);
        j2 = cJSON_ParseWithLength(d2.ptr, d2.len);
        FUZZ_CHECK(j1 != NULL && j2 != NULL, "a dump is not JSON");
        cJSON_DeleteItemFromObjectCaseSensitive(j1, "Counters");
        cJSON_DeleteItemFromObjectCaseSensitive(j2, "Counters");
        FUZZ_CHECK(cJSON_Compare(j1, j2, 1), "dump/load/dump differs:\n%s\n---\n%s", d1.ptr,
                   d2.ptr);
        cJSON_Delete(j1);
        cJSON_Delete(j2);
    }
    FUZZ_CHECK(aipa_model_pool_free(m2) == aipa_model_pool_free(m), "free count not restored");
    aipa_model_free(m2);
    aipa_buf_cleanup(&err);
    aipa_buf_cleanup(&d2);
    aipa_buf_cleanup(&d1);
}

/* The dump of m (which must succeed). */
static void dump(struct aipa_model *m, struct aipa_buf *out)
{
    aipa_buf_init(out, 1u << 24);
    FUZZ_CHECK(aipa_model_dump_json(m, out) == AIPA_OK, "dump");
}

static bool same_but_counters(const struct aipa_buf *a, const struct aipa_buf *b)
{
    size_t na = (size_t)(last_counters(a) - a->ptr), nb = (size_t)(last_counters(b) - b->ptr);

    return na == nb && memcmp(a->ptr, b->ptr, na) == 0;
}

static void run_document(uint8_t b0, struct fz *f)
{
    struct aipa_model_config cfg = {0};
    struct aipa_model *m = NULL;
    struct aipa_buf before, after, why;
    long oom_at = (b0 & 2u) ? (long)(fz_u16(f) % 1024u) : -1;
    bool injected;
    aipa_err err;

    cfg.edition = (b0 & 1u) ? AIPA_ED_2024 : AIPA_ED_2018;
    cfg.seed = 1;
    cfg.pool_cidrs = pool_cidrs;
    cfg.pool_cidr_count = AIPA_ARRAY_LEN(pool_cidrs);
    cfg.max_instances = 64;
    FUZZ_CHECK(aipa_model_new(&m, &cfg) == AIPA_OK, "model_new");
    dump(m, &before);
    aipa_buf_init(&why, 4096);
    fz_oom_arm(oom_at);
    err = aipa_model_load_json(m, (const char *)f->p, f->n, &why);
    injected = fz_oom_disarm();
    if (getenv("AIPA_FUZZ_VERBOSE") != NULL) {
        fprintf(stderr, "  load: %s %s\n", aipa_errname(err), why.ptr != NULL ? why.ptr : "");
    }
    if (err == AIPA_OK) {
        check_model(m);
        dump(m, &after);
        op_roundtrip(m, &cfg);
        FUZZ_CHECK(aipa_model_reset(m) == AIPA_OK, "reset");
        aipa_buf_cleanup(&before);
        dump(m, &before);
        FUZZ_CHECK(same_but_counters(&before, &after),
                   "reset does not return to the document:\n%s\n--\n%s", before.ptr, after.ptr);
    } else {
        FUZZ_CHECK(err == AIPA_EPARSE || (injected && err == AIPA_ENOMEM), "load returned %s",
                   aipa_errname(err));
        /* (writing the reason may itself be the allocation that failed) */
        FUZZ_CHECK((why.len > 0 || injected) && (why.ptr == NULL || strchr(why.ptr, '\n') == NULL),
                   "refused without a one-line reason: %s", why.ptr != NULL ? why.ptr : "(none)");
        check_model(m);
        dump(m, &after);
        FUZZ_CHECK(before.len == after.len && memcmp(before.ptr, after.ptr, after.len) == 0,
                   "a refused document changed the model:\n%s\n--\n%s", before.ptr, after.ptr);
    }
    aipa_buf_cleanup(&after);
    aipa_buf_cleanup(&before);
    aipa_buf_cleanup(&why);
    aipa_model_free(m);
}

/*
 * Once, at start-up: aipa_model_new refuses bad pools, and with each of its
 * allocations failing in turn (and then aipa_model_populate's) it fails
 * with AIPA_ENOMEM and frees everything (LSan checks at exit), or succeeds
 * with a model that passes aipa_model_check.
 */
static void check_new(void)
{
    static const char *const bad[] = {"47.96.0.0/33", "300.1.2.3/24", "47.96.0.0", "10.0.0.0/8x"};
    struct aipa_model_config cfg = {0};
    struct aipa_model *m = NULL;

    cfg.edition = AIPA_ED_2024;
    cfg.seed = 1;
    cfg.max_instances = 64;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
        cfg.pool_cidrs = &bad[i];
        cfg.pool_cidr_count = 1;
        FUZZ_CHECK(aipa_model_new(&m, &cfg) != AIPA_OK && m == NULL, "pool %s accepted", bad[i]);
    }
    cfg.pool_cidrs = pool_cidrs;
    cfg.pool_cidr_count = AIPA_ARRAY_LEN(pool_cidrs);
    for (long n = 0; n < 10000; n++) {
        bool injected;
        aipa_err err;

        m = NULL;
        fz_oom_arm(n);
        err = aipa_model_new(&m, &cfg);
        if (err == AIPA_OK) {
            err = aipa_model_populate(m, 40);
        }
        injected = fz_oom_disarm();
        FUZZ_CHECK(err == AIPA_OK || (injected && err == AIPA_ENOMEM),
                   "model_new/populate with allocation %ld failing: %s", n, aipa_errname(err));
        if (m != NULL) {
            check_model(m);
            FUZZ_CHECK(err != AIPA_OK || aipa_model_instance_count(m) == 40, "%zu instances",
                       aipa_model_instance_count(m));
            aipa_model_free(m);
        }
        if (!injected) {
            break;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_oom_install();
    check_new();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct aipa_model_config cfg = {0};
    struct aipa_model *m = NULL;
    struct shadow s = {0};
    size_t steps = 0;
    bool round_tripped = false;

    uint8_t b0 = fz_u8(&f);

    if (b0 >= 0xf0) {
        run_document(b0, &f);
        return 0;
    }
    cfg.edition = (b0 & 1u) ? AIPA_ED_2024 : AIPA_ED_2018;
    cfg.seed = 1;
    cfg.pool_cidrs = pool_cidrs;
    cfg.pool_cidr_count = AIPA_ARRAY_LEN(pool_cidrs);
    cfg.max_instances = 64;
    s.edition = cfg.edition;
    FUZZ_CHECK(aipa_model_new(&m, &cfg) == AIPA_OK, "model_new");
    FUZZ_CHECK(aipa_model_pool_free(m) == POOL_SIZE, "pool of %zu, expected %d",
               aipa_model_pool_free(m), POOL_SIZE);
    while (f.n > 0 && steps++ < 64) {
        uint8_t op = fz_u8(&f);
        switch (op % 12) {
        case 0:
        case 1:
            op_create(m, &s, &f);
            break;
        case 2:
        case 3:
            op_allocate(m, &s, &f);
            break;
        case 4:
            op_release(m, &s, &f);
            break;
        case 5:
        case 6:
        case 7:
            op_lifecycle(m, &s, &f, op % 12 - 5);
            break;
        case 8: {
            uint8_t n = fz_u8(&f);
            size_t want = n == 255 ? SIZE_MAX : n % 10u;
            size_t held = in_use(m, &s, NULL);
            FUZZ_CHECK(aipa_model_set_pool_free(m, want) == AIPA_OK, "set_pool_free");
            want = want > POOL_SIZE - held ? POOL_SIZE - held : want;
            FUZZ_CHECK(aipa_model_pool_free(m) == want, "free %zu after set_pool_free(%zu)",
                       aipa_model_pool_free(m), want);
            break;
        }
        case 9:
            /* once per input: loading a document costs far more than an action */
            if (!round_tripped) {
                op_roundtrip(m, &cfg);
                round_tripped = true;
            }
            break;
        case 10:
            FUZZ_CHECK(aipa_model_reset(m) == AIPA_OK, "reset");
            FUZZ_CHECK(aipa_model_instance_count(m) == 0 && aipa_model_pool_free(m) == POOL_SIZE,
                       "reset left %zu instances, %zu free", aipa_model_instance_count(m),
                       aipa_model_pool_free(m));
            memset(&s.id, 0, sizeof(s.id));
            s.count = 0;
            s.vlan_known = false;
            s.edition = aipa_model_edition(m);
            break;
        default:
            s.edition = s.edition == AIPA_ED_2018 ? AIPA_ED_2024 : AIPA_ED_2018;
            aipa_model_set_edition(m, s.edition);
            break;
        }
        check_model(m);
        FUZZ_CHECK(aipa_model_instance_count(m) == s.count, "%zu instances, expected %zu",
                   aipa_model_instance_count(m), s.count);
    }
    aipa_model_free(m);
    return 0;
}
