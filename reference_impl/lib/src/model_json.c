/*
 * State documents: load, reset, create one instance, dump. The format is
 * documented field by field in docs/internals/model.md. Every field is
 * checked; an unknown field, a duplicate field or a bad value fails the
 * whole document with AIPA_EPARSE and a one-line reason naming its path.
 */
#include "model_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define ED_2018_NAME "2018-08-02"
#define ED_2024_NAME "2024-12-20"

/* ---- field helpers ---- */

/*
 * Matches each member of obj against names (at most 32), rejecting unknown
 * and repeated ones. found[i] receives the member named names[i] or NULL.
 */
static aipa_err members(const cJSON *obj, const char *path, const char *const *names, size_t n,
                        const cJSON **found, struct aipa_buf *why)
{
    if (!cJSON_IsObject(obj)) {
        aipa__why(why, "%s: expected an object", path);
        return AIPA_EPARSE;
    }
    for (size_t i = 0; i < n; i++) {
        found[i] = NULL;
    }
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        size_t i;

        for (i = 0; i < n; i++) {
            if (c->string != NULL && strcmp(c->string, names[i]) == 0) {
                break;
            }
        }
        if (i == n) {
            aipa__why(why, "%s: unknown field \"%.40s\"", path, c->string ? c->string : "");
            return AIPA_EPARSE;
        }
        if (found[i] != NULL) {
            aipa__why(why, "%s: field \"%s\" appears twice", path, names[i]);
            return AIPA_EPARSE;
        }
        found[i] = c;
    }
    return AIPA_OK;
}

static aipa_err get_string(const cJSON *v, const char *path, const char *field, const char **out,
                           struct aipa_buf *why)
{
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        aipa__why(why, "%s.%s: expected a string", path, field);
        return AIPA_EPARSE;
    }
    *out = v->valuestring;
    return AIPA_OK;
}

static aipa_err get_bool(const cJSON *v, const char *path, const char *field, bool *out,
                         struct aipa_buf *why)
{
    if (!cJSON_IsBool(v)) {
        aipa__why(why, "%s.%s: expected true or false", path, field);
        return AIPA_EPARSE;
    }
    *out = cJSON_IsTrue(v);
    return AIPA_OK;
}

static aipa_err get_int(const cJSON *v, const char *path, const char *field, double lo, double hi,
                        double *out, struct aipa_buf *why)
{
    double d;

    if (!cJSON_IsNumber(v)) {
        aipa__why(why, "%s.%s: expected an integer", path, field);
        return AIPA_EPARSE;
    }
    d = v->valuedouble;
    /* NaN fails both comparisons; the range check comes before the integer cast. */
    if (!(d >= lo && d <= hi) || (double)(long long)d != d) {
        aipa__why(why, "%s.%s: expected an integer from %.0f to %.0f", path, field, lo, hi);
        return AIPA_EPARSE;
    }
    *out = d;
    return AIPA_OK;
}

/* A string of [A-Za-z0-9._:*-], shorter than max; "" allowed when empty_ok
 * (then *out NULL). */
static aipa_err get_id(const cJSON *v, const char *path, const char *field, size_t max,
                       bool empty_ok, const char **out, struct aipa_buf *why)
{
    const char *s;

    AIPA_TRY(get_string(v, path, field, &s, why));
    if (s[0] == '\0' && empty_ok) {
        *out = NULL;
        return AIPA_OK;
    }
    if (!aipa__id_valid(s, strlen(s), max)) {
        aipa__why(why, "%s.%s: \"%.40s\" is not 1-%zu characters of [A-Za-z0-9._:*-]", path, field,
                  s, max - 1);
        return AIPA_EPARSE;
    }
    *out = s;
    return AIPA_OK;
}

static aipa_err get_ipv4(const cJSON *v, const char *path, const char *field, uint32_t *out,
                         struct aipa_buf *why)
{
    const char *s;

    AIPA_TRY(get_string(v, path, field, &s, why));
    if (aipa__ipv4_parse(s, strlen(s), out) != AIPA_OK || *out == 0) {
        aipa__why(why, "%s.%s: \"%.40s\" is not a dotted-quad IPv4 address", path, field, s);
        return AIPA_EPARSE;
    }
    return AIPA_OK;
}

/* ---- one instance ---- */

enum {
    F_ID,
    F_STATUS,
    F_NET,
    F_BW,
    F_PUB,
    F_EIP,
    F_LOCKS,
    F_REGION,
    F_VLAN,
    F_EFFECTIVE,
    F_EXPIRED,
    F_CLOUDBOX,
    F_DEDICATED,
    F_INJECT,
    F_OWNER,
    F_INJECT_RELEASE,
    F_COUNT_
};

static const char *const inst_fields[F_COUNT_] = {
    [F_ID] = "InstanceId",
    [F_STATUS] = "Status",
    [F_NET] = "InstanceNetworkType",
    [F_BW] = "InternetMaxBandwidthOut",
    [F_PUB] = "PublicIpAddress",
    [F_EIP] = "EipAddress",
    [F_LOCKS] = "OperationLocks",
    [F_REGION] = "RegionId",
    [F_VLAN] = "VlanAttributes",
    [F_EFFECTIVE] = "AipaPublicIpEffective",
    [F_EXPIRED] = "AipaExpired",
    [F_CLOUDBOX] = "AipaCloudbox",
    [F_DEDICATED] = "AipaDedicatedRegion",
    [F_INJECT] = "AipaNextAllocateError",
    [F_OWNER] = "AipaOwnerId",
    [F_INJECT_RELEASE] = "AipaNextReleaseError",
};

static aipa_err parse_public_ip(const cJSON *v, const char *path, struct aipa_inst_spec *s,
                                struct aipa_buf *why)
{
    static const char *const names[] = {"IpAddress"};
    const cJSON *f[1];
    char p[96];
    const cJSON *list;

    (void)snprintf(p, sizeof(p), "%s.PublicIpAddress", path);
    AIPA_TRY(members(v, p, names, 1, f, why));
    list = f[0];
    if (list == NULL) {
        return AIPA_OK;
    }
    if (!cJSON_IsArray(list)) {
        aipa__why(why, "%s.IpAddress: expected an array", p);
        return AIPA_EPARSE;
    }
    if (cJSON_GetArraySize(list) > 1) {
        aipa__why(why, "%s.IpAddress: an instance holds at most one public address", p);
        return AIPA_EPARSE;
    }
    if (list->child != NULL) {
        AIPA_TRY(get_ipv4(list->child, p, "IpAddress[0]", &s->public_ip, why));
    }
    return AIPA_OK;
}

static aipa_err parse_eip(const cJSON *v, const char *path, struct aipa_inst_spec *s,
                          struct aipa_buf *why)
{
    /* The last three are DescribeInstances fields the model does not keep: type-checked only. */
    static const char *const names[] = {"IpAddress", "AllocationId", "InternetChargeType",
                                        "Bandwidth", "IsSupportUnassociate"};
    const cJSON *f[5];
    char p[96];
    const char *ignored_s;
    double ignored_d;
    bool ignored_b;

    (void)snprintf(p, sizeof(p), "%s.EipAddress", path);
    AIPA_TRY(members(v, p, names, 5, f, why));
    if (f[2] != NULL) {
        AIPA_TRY(get_string(f[2], p, "InternetChargeType", &ignored_s, why));
    }
    if (f[3] != NULL) {
        AIPA_TRY(get_int(f[3], p, "Bandwidth", 0, 2147483647.0, &ignored_d, why));
    }
    if (f[4] != NULL) {
        AIPA_TRY(get_bool(f[4], p, "IsSupportUnassociate", &ignored_b, why));
    }
    if (f[0] != NULL) {
        const char *ip;

        AIPA_TRY(get_string(f[0], p, "IpAddress", &ip, why));
        if (ip[0] != '\0') {
            AIPA_TRY(get_ipv4(f[0], p, "IpAddress", &s->eip, why));
        }
    }
    if (f[1] != NULL) {
        AIPA_TRY(get_id(f[1], p, "AllocationId", AIPA_INSTANCE_ID_MAX, true, &s->eip_alloc, why));
    }
    if (s->eip_alloc != NULL && s->eip == 0) {
        aipa__why(why, "%s: AllocationId without IpAddress", p);
        return AIPA_EPARSE;
    }
    return AIPA_OK;
}

static aipa_err parse_locks(const cJSON *v, const char *path, struct aipa_inst_spec *s,
                            struct aipa_buf *why)
{
    static const char *const names[] = {"LockReason"};
    static const char *const item_names[] = {"LockReason", "LockMsg"};
    const cJSON *f[1];
    char p[96];
    int i = 0;

    (void)snprintf(p, sizeof(p), "%s.OperationLocks", path);
    AIPA_TRY(members(v, p, names, 1, f, why));
    if (f[0] == NULL) {
        return AIPA_OK;
    }
    if (!cJSON_IsArray(f[0])) {
        aipa__why(why, "%s.LockReason: expected an array", p);
        return AIPA_EPARSE;
    }
    for (const cJSON *item = f[0]->child; item != NULL; item = item->next, i++) {
        const cJSON *g[2];
        char ip[128];
        const char *reason;
        const char *msg;
        unsigned bit;

        (void)snprintf(ip, sizeof(ip), "%s.LockReason[%d]", p, i);
        AIPA_TRY(members(item, ip, item_names, 2, g, why));
        if (g[0] == NULL) {
            aipa__why(why, "%s: LockReason is required", ip);
            return AIPA_EPARSE;
        }
        AIPA_TRY(get_string(g[0], ip, "LockReason", &reason, why));
        if (g[1] != NULL) {
            AIPA_TRY(get_string(g[1], ip, "LockMsg", &msg, why));
        }
        for (bit = 1; bit <= AIPA_LOCK_REFUNDED; bit <<= 1) {
            if (strcmp(reason, aipa__lock_name(bit)) == 0) {
                break;
            }
        }
        if (bit > AIPA_LOCK_REFUNDED) {
            aipa__why(why,
                      "%s.LockReason: \"%.40s\" is not one of financial, security, "
                      "recycling, "
                      "dedicatedhostfinancial, refunded",
                      ip, reason);
            return AIPA_EPARSE;
        }
        s->locks |= bit;
    }
    return AIPA_OK;
}

static aipa_err parse_instance(const cJSON *obj, const char *path, struct aipa_inst_spec *s,
                               struct aipa_buf *why)
{
    const cJSON *f[F_COUNT_];
    const char *str;
    double d;
    bool effective_set = false;

    aipa__spec_defaults(s);
    AIPA_TRY(members(obj, path, inst_fields, F_COUNT_, f, why));
    if (f[F_ID] != NULL) {
        AIPA_TRY(get_id(f[F_ID], path, "InstanceId", AIPA_INSTANCE_ID_MAX, false, &s->id, why));
    }
    if (f[F_STATUS] != NULL) {
        AIPA_TRY(get_string(f[F_STATUS], path, "Status", &str, why));
        if (aipa_status_parse(str, &s->status) != AIPA_OK) {
            aipa__why(why,
                      "%s.Status: \"%.40s\" is not one of Pending, Running, "
                      "Starting, Stopping, "
                      "Stopped",
                      path, str);
            return AIPA_EPARSE;
        }
    }
    if (f[F_NET] != NULL) {
        AIPA_TRY(get_string(f[F_NET], path, "InstanceNetworkType", &str, why));
        if (strcmp(str, "vpc") != 0 && strcmp(str, "classic") != 0) {
            aipa__why(why, "%s.InstanceNetworkType: \"%.40s\" is not classic or vpc", path, str);
            return AIPA_EPARSE;
        }
        s->vpc = str[0] == 'v';
    }
    if (f[F_BW] != NULL) {
        AIPA_TRY(get_int(f[F_BW], path, "InternetMaxBandwidthOut", -2147483648.0, 2147483647.0, &d,
                         why));
        s->bandwidth = (int32_t)d;
    }
    if (f[F_PUB] != NULL) {
        AIPA_TRY(parse_public_ip(f[F_PUB], path, s, why));
    }
    if (f[F_EIP] != NULL) {
        AIPA_TRY(parse_eip(f[F_EIP], path, s, why));
    }
    if (f[F_LOCKS] != NULL) {
        AIPA_TRY(parse_locks(f[F_LOCKS], path, s, why));
    }
    if (f[F_REGION] != NULL) {
        AIPA_TRY(get_id(f[F_REGION], path, "RegionId", AIPA_REGION_MAX, false, &s->region, why));
    }
    if (f[F_VLAN] != NULL) {
        static const char *const names[] = {"VlanId"};
        const cJSON *g[1];
        char p[96];

        (void)snprintf(p, sizeof(p), "%s.VlanAttributes", path);
        AIPA_TRY(members(f[F_VLAN], p, names, 1, g, why));
        if (g[0] != NULL) {
            AIPA_TRY(get_id(g[0], p, "VlanId", AIPA_VLAN_MAX, true, &s->vlan, why));
        }
    }
    if (f[F_EFFECTIVE] != NULL) {
        AIPA_TRY(get_bool(f[F_EFFECTIVE], path, "AipaPublicIpEffective", &s->effective, why));
        effective_set = true;
    }
    if (f[F_EXPIRED] != NULL) {
        AIPA_TRY(get_bool(f[F_EXPIRED], path, "AipaExpired", &s->expired, why));
    }
    if (f[F_CLOUDBOX] != NULL) {
        AIPA_TRY(get_bool(f[F_CLOUDBOX], path, "AipaCloudbox", &s->cloudbox, why));
    }
    if (f[F_DEDICATED] != NULL) {
        AIPA_TRY(get_bool(f[F_DEDICATED], path, "AipaDedicatedRegion", &s->dedicated, why));
    }
    if (f[F_INJECT] != NULL) {
        AIPA_TRY(get_string(f[F_INJECT], path, "AipaNextAllocateError", &str, why));
        if (str[0] != '\0') {
            s->inject = aipa__inject_parse(str);
            if (s->inject == AIPA_C_OK) {
                aipa__why(why,
                          "%s.AipaNextAllocateError: \"%.40s\" is not one of "
                          "AllocateIp.Fail, "
                          "InvalidOperation.AllocateFailed, NAT_PUBLIC_IP_BINDING_FAILED, "
                          "NAT_PUBLIC_IP_ALLOCATE_FAILED, InternalError",
                          path, str);
                return AIPA_EPARSE;
            }
        }
    }
    if (f[F_OWNER] != NULL) {
        AIPA_TRY(
            get_id(f[F_OWNER], path, "AipaOwnerId", AIPA_INSTANCE_ID_MAX, true, &s->owner, why));
    }
    if (f[F_INJECT_RELEASE] != NULL) {
        AIPA_TRY(get_string(f[F_INJECT_RELEASE], path, "AipaNextReleaseError", &str, why));
        if (str[0] != '\0') {
            s->inject_release = aipa__inject_release_parse(str);
            if (s->inject_release == AIPA_C_OK) {
                aipa__why(why,
                          "%s.AipaNextReleaseError: \"%.40s\" is not one of "
                          "OperationTimesOverLimit, Forbidden.ExceedDuration",
                          path, str);
                return AIPA_EPARSE;
            }
        }
    }
    if (s->public_ip == 0 && effective_set && s->effective) {
        aipa__why(why, "%s: AipaPublicIpEffective is true without a PublicIpAddress", path);
        return AIPA_EPARSE;
    }
    return AIPA_OK;
}

/* ---- whole documents ---- */

static aipa_err parse_doc(const char *json, size_t len, cJSON **out, struct aipa_buf *why)
{
    const char *end = NULL;
    cJSON *root;

    *out = NULL;
    if (json == NULL) {
        aipa__why(why, "no document");
        return AIPA_EPARSE;
    }
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at != NULL && at >= json && at <= json + len ? (size_t)(at - json) : 0;

        aipa__why(why, "not valid JSON (near byte %zu)", off);
        return AIPA_EPARSE;
    }
    while (end != NULL && end < json + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) {
        end++;
    }
    if (end == NULL || end != json + len) {
        cJSON_Delete(root);
        aipa__why(why, "trailing bytes after the JSON value");
        return AIPA_EPARSE;
    }
    *out = root;
    return AIPA_OK;
}

enum { T_EDITION, T_POOL, T_VLANS, T_INSTANCES, T_COUNTERS, T_COUNT_ };

static const char *const top_fields[T_COUNT_] = {
    [T_EDITION] = "Edition",     [T_POOL] = "Pool",         [T_VLANS] = "Vlans",
    [T_INSTANCES] = "Instances", [T_COUNTERS] = "Counters",
};

#define MAX_CIDR_TEXT 24

/* Builds a state from root into st (initialised here). */
static aipa_err build_state(struct aipa_model *m, const cJSON *root, struct aipa_model_state *st,
                            unsigned *edition, struct aipa_buf *why)
{
    const cJSON *f[T_COUNT_];
    const cJSON *pool_f[2] = {NULL, NULL};
    const char *cidrs[AIPA_POOL_MAX_CIDRS];
    size_t cidr_count = 0;
    const cJSON *list;
    double free_count = -1;
    aipa_err err;
    int i;

    memset(st, 0, sizeof(*st));
    *edition = 0;
    AIPA_TRY(members(root, "state", top_fields, T_COUNT_, f, why));
    if (f[T_EDITION] != NULL) {
        const char *s;

        AIPA_TRY(get_string(f[T_EDITION], "state", "Edition", &s, why));
        if (strcmp(s, ED_2018_NAME) == 0) {
            *edition = AIPA_ED_2018;
        } else if (strcmp(s, ED_2024_NAME) == 0) {
            *edition = AIPA_ED_2024;
        } else {
            aipa__why(why, "state.Edition: \"%.40s\" is not " ED_2018_NAME " or " ED_2024_NAME, s);
            return AIPA_EPARSE;
        }
    }
    if (f[T_POOL] != NULL) {
        static const char *const names[] = {"Cidrs", "FreeCount"};

        AIPA_TRY(members(f[T_POOL], "state.Pool", names, 2, pool_f, why));
        if (pool_f[0] != NULL) {
            if (!cJSON_IsArray(pool_f[0]) || pool_f[0]->child == NULL) {
                aipa__why(why, "state.Pool.Cidrs: expected a non-empty array of strings");
                return AIPA_EPARSE;
            }
            for (const cJSON *c = pool_f[0]->child; c != NULL; c = c->next) {
                if (cidr_count == AIPA_POOL_MAX_CIDRS) {
                    aipa__why(why, "state.Pool.Cidrs: more than %d blocks", AIPA_POOL_MAX_CIDRS);
                    return AIPA_EPARSE;
                }
                AIPA_TRY(get_string(c, "state.Pool", "Cidrs[]", &cidrs[cidr_count], why));
                cidr_count++;
            }
        }
        if (pool_f[1] != NULL) {
            AIPA_TRY(
                get_int(pool_f[1], "state.Pool", "FreeCount", 0, 4294967295.0, &free_count, why));
        }
    }
    if (f[T_COUNTERS] != NULL && !cJSON_IsObject(f[T_COUNTERS])) {
        aipa__why(why, "state.Counters: expected an object");
        return AIPA_EPARSE;
    }
    if (cidr_count > 0) {
        err = aipa__state_init(st, cidrs, cidr_count, why);
    } else {
        err = aipa__state_init(st, (const char *const *)m->cfg_cidrs, m->cfg_cidr_count, why);
    }
    if (err != AIPA_OK) {
        return err == AIPA_ENOMEM ? err : AIPA_EPARSE;
    }
    if (f[T_VLANS] != NULL) {
        if (!cJSON_IsArray(f[T_VLANS])) {
            aipa__why(why, "state.Vlans: expected an array of strings");
            return AIPA_EPARSE;
        }
        for (const cJSON *c = f[T_VLANS]->child; c != NULL; c = c->next) {
            const char *v;
            uint16_t idx;

            AIPA_TRY(get_id(c, "state", "Vlans[]", AIPA_VLAN_MAX, false, &v, why));
            err = aipa__str_intern(&st->strs, v, strlen(v), AIPA_STR_VLAN, &idx);
            if (err != AIPA_OK) {
                aipa__why(why, "state.Vlans: %s", aipa_strerror(err));
                return err;
            }
        }
    }
    list = f[T_INSTANCES];
    if (cJSON_IsObject(list)) {
        /* The DescribeInstances shape: {"Instance": [...]}. */
        static const char *const names[] = {"Instance"};
        const cJSON *g[1];

        AIPA_TRY(members(list, "state.Instances", names, 1, g, why));
        list = g[0];
    }
    if (list != NULL && !cJSON_IsArray(list)) {
        aipa__why(why, "state.Instances: expected an array of instances");
        return AIPA_EPARSE;
    }
    i = 0;
    for (const cJSON *c = list != NULL ? list->child : NULL; c != NULL; c = c->next, i++) {
        struct aipa_inst_spec spec;
        char path[48];

        (void)snprintf(path, sizeof(path), "state.Instances[%d]", i);
        AIPA_TRY(parse_instance(c, path, &spec, why));
        err = aipa__state_add(m, st, &spec, NULL, why);
        if (err != AIPA_OK) {
            if (err == AIPA_EPARSE || err == AIPA_EEXIST) {
                /* Prefix the path to the reason the model gave. */
                char reason[160];

                (void)snprintf(reason, sizeof(reason), "%s",
                               why != NULL && why->ptr ? why->ptr : "");
                aipa__why(why, "%s: %s", path, reason);
                err = AIPA_EPARSE;
            }
            return err;
        }
    }
    if (free_count >= 0) {
        aipa__pool_set_free(&st->pool, (size_t)free_count);
    }
    return AIPA_OK;
}

/* Replaces m's state with the document's; on failure m is unchanged. Lock held.
 */
static aipa_err load_locked(struct aipa_model *m, const char *json, size_t len, bool remember,
                            struct aipa_buf *why)
{
    aipa_err err;
    cJSON *root = NULL;
    struct aipa_model_state st;
    struct aipa_rng saved_id = m->id_rng;
    struct aipa_rng saved_pick = m->pick_rng;
    unsigned edition = 0;
    char *copy = NULL;

    memset(&st, 0, sizeof(st));
    err = parse_doc(json, len, &root, why);
    if (err != AIPA_OK) {
        goto out;
    }
    if (remember) {
        err = AIPA_ENOMEM;
        copy = aipa_strndup(json, len);
        if (copy == NULL) {
            goto out;
        }
    }
    aipa_rng_seed(&m->pick_rng, m->seed);
    aipa_rng_seed(&m->id_rng, m->seed ^ 0x9e3779b97f4a7c15u);
    err = build_state(m, root, &st, &edition, why);
    if (err != AIPA_OK) {
        goto out;
    }
    aipa__state_cleanup(&m->st);
    m->st = st;
    memset(&st, 0, sizeof(st));
    if (edition != 0) {
        m->edition = edition;
    }
    if (remember) {
        aipa_free(m->seed_doc);
        m->seed_doc = copy;
        m->seed_doc_len = len;
        copy = NULL;
    }
out:
    if (err != AIPA_OK) {
        if (err == AIPA_ENOMEM) {
            aipa__why(why, "out of memory");
        }
        m->id_rng = saved_id;
        m->pick_rng = saved_pick;
    }
    aipa__state_cleanup(&st);
    aipa_free(copy);
    cJSON_Delete(root);
    return err;
}

aipa_err aipa_model_load_json(struct aipa_model *m, const char *json, size_t len,
                              struct aipa_buf *err_out)
{
    aipa_err err;

    pthread_mutex_lock(m->lock);
    err = load_locked(m, json, len, true, err_out);
    pthread_mutex_unlock(m->lock);
    return err;
}

aipa_err aipa_model_reset(struct aipa_model *m)
{
    aipa_err err;

    pthread_mutex_lock(m->lock);
    if (m->seed_doc != NULL) {
        err = load_locked(m, m->seed_doc, m->seed_doc_len, false, NULL);
    } else {
        struct aipa_model_state st;

        err = aipa__state_init(&st, (const char *const *)m->cfg_cidrs, m->cfg_cidr_count, NULL);
        if (err == AIPA_OK) {
            aipa__state_cleanup(&m->st);
            m->st = st;
            aipa_rng_seed(&m->pick_rng, m->seed);
            aipa_rng_seed(&m->id_rng, m->seed ^ 0x9e3779b97f4a7c15u);
        }
    }
    pthread_mutex_unlock(m->lock);
    return err;
}

aipa_err aipa_model_create_instance_json(struct aipa_model *m, const char *json, size_t len,
                                         char id_out[AIPA_INSTANCE_ID_MAX], struct aipa_buf *why)
{
    cJSON *root = NULL;
    struct aipa_inst_spec spec;
    aipa_err err;

    if (id_out != NULL) {
        id_out[0] = '\0';
    }
    err = parse_doc(json, len, &root, why);
    if (err != AIPA_OK) {
        return err;
    }
    err = parse_instance(root, "instance", &spec, why);
    if (err == AIPA_OK) {
        pthread_mutex_lock(m->lock);
        err = aipa__state_add(m, &m->st, &spec, id_out, why);
        pthread_mutex_unlock(m->lock);
    }
    cJSON_Delete(root);
    return err;
}

/* ---- dump ---- */

static aipa_err dump_instance(const struct aipa_model_state *st, const struct aipa_inst *in,
                              struct aipa_buf *out)
{
    char pub[AIPA_IPV4_MAX] = "";
    char eip[AIPA_IPV4_MAX] = "";
    bool first = true;

    if (in->public_ip != 0) {
        aipa__ipv4_format(in->public_ip, pub);
    }
    if (in->eip != 0) {
        aipa__ipv4_format(in->eip, eip);
    }
    /* Every string written here passed aipa__id_valid or is fixed text: no
     * escaping needed. */
    AIPA_TRY(aipa_buf_printf(
        out,
        "{\"InstanceId\":\"%s\",\"RegionId\":\"%s\",\"Status\":\"%s\","
        "\"InstanceNetworkType\":\"%s\",\"InternetMaxBandwidthOut\":%d,"
        "\"PublicIpAddress\":{\"IpAddress\":[%s%s%s]},"
        "\"EipAddress\":{\"IpAddress\":\"%s\",\"AllocationId\":\"%s\"},"
        "\"OperationLocks\":{\"LockReason\":[",
        in->id, st->strs.s[in->region], aipa_status_name((enum aipa_status)in->status),
        (in->flags & AIPA_IF_VPC) ? "vpc" : "classic", in->bandwidth, pub[0] ? "\"" : "", pub,
        pub[0] ? "\"" : "", eip, st->strs.s[in->eip_alloc]));
    for (unsigned bit = 1; bit <= AIPA_LOCK_REFUNDED; bit <<= 1) {
        if (in->locks & bit) {
            AIPA_TRY(aipa_buf_printf(out, "%s{\"LockReason\":\"%s\"}", first ? "" : ",",
                                     aipa__lock_name(bit)));
            first = false;
        }
    }
    return aipa_buf_printf(
        out,
        "]},\"VlanAttributes\":{\"VlanId\":\"%s\"},\"AipaPublicIpEffective\":%s,"
        "\"AipaExpired\":%s,\"AipaCloudbox\":%s,\"AipaDedicatedRegion\":%s,"
        "\"AipaNextAllocateError\":\"%s\",\"AipaOwnerId\":\"%s\","
        "\"AipaNextReleaseError\":\"%s\"}",
        st->strs.s[in->vlan], (in->flags & AIPA_IF_EFFECTIVE) ? "true" : "false",
        (in->flags & AIPA_IF_EXPIRED) ? "true" : "false",
        (in->flags & AIPA_IF_CLOUDBOX) ? "true" : "false",
        (in->flags & AIPA_IF_DEDICATED) ? "true" : "false",
        in->inject != AIPA_C_OK ? aipa__inject_name((enum aipa_code)in->inject) : "",
        st->strs.s[in->owner],
        in->inject_release != AIPA_C_OK ? aipa__inject_name((enum aipa_code)in->inject_release)
                                        : "");
}

static aipa_err dump_locked(struct aipa_model *m, struct aipa_buf *out)
{
    const struct aipa_model_state *st = &m->st;
    const struct aipa_pool *p = &st->pool;
    bool first = true;

    AIPA_TRY(aipa_buf_printf(out, "{\"Edition\":\"%s\",\n\"Pool\":{\"Cidrs\":[",
                             m->edition == AIPA_ED_2018 ? ED_2018_NAME : ED_2024_NAME));
    for (size_t i = 0; i < p->block_count; i++) {
        char base[AIPA_IPV4_MAX];

        aipa__ipv4_format(p->blocks[i].base, base);
        AIPA_TRY(aipa_buf_printf(out, "%s\"%s/%u\"", i ? "," : "", base, p->blocks[i].prefix));
    }
    AIPA_TRY(aipa_buf_printf(out, "],\"FreeCount\":%u},\n\"Vlans\":[", p->nfree));
    for (uint32_t k = 1; k < st->strs.count; k++) {
        if (st->strs.kind[k] & AIPA_STR_VLAN) {
            AIPA_TRY(aipa_buf_printf(out, "%s\"%s\"", first ? "" : ",", st->strs.s[k]));
            first = false;
        }
    }
    AIPA_TRY(aipa_buf_puts(out, "],\n\"Instances\":["));
    for (uint32_t k = 0; k < st->count; k++) {
        AIPA_TRY(aipa_buf_puts(out, k ? ",\n" : "\n"));
        AIPA_TRY(dump_instance(st, aipa__inst_at(st, k), out));
    }
    return aipa_buf_printf(out,
                           "],\n\"Counters\":{\"InstanceCount\":%u,\"PoolSize\":%u,"
                           "\"PoolFree\":%u,\"PoolHeldBack\":%u,\"PoolInUse\":%u,"
                           "\"Allocations\":%llu,\"Releases\":%llu}}\n",
                           st->count, p->size, p->nfree, p->nback, aipa__pool_in_use(p),
                           (unsigned long long)st->allocations, (unsigned long long)st->releases);
}

aipa_err aipa_model_dump_json(struct aipa_model *m, struct aipa_buf *out)
{
    aipa_err err;
    size_t mark = out->len;

    pthread_mutex_lock(m->lock);
    err = dump_locked(m, out);
    pthread_mutex_unlock(m->lock);
    if (err != AIPA_OK && out->ptr != NULL) {
        out->len = mark; /* all or nothing */
        out->ptr[mark] = '\0';
    }
    return err;
}
