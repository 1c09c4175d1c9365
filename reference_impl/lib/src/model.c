/*
 * The instance model: instances in a hash table, the allocation rules of
 * AllocatePublicIpAddress for both doc editions, and the lifecycle actions
 * that make them observable. docs/internals/model.md documents the rules
 * and their precedence.
 */
#include "model_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- names ---- */

static const char *const status_names[] = {
    [AIPA_ST_PENDING] = "Pending",   [AIPA_ST_RUNNING] = "Running", [AIPA_ST_STARTING] = "Starting",
    [AIPA_ST_STOPPING] = "Stopping", [AIPA_ST_STOPPED] = "Stopped",
};

const char *aipa_status_name(enum aipa_status s)
{
    if ((size_t)s >= AIPA_ARRAY_LEN(status_names)) {
        return "Unknown";
    }
    return status_names[s];
}

aipa_err aipa_status_parse(const char *s, enum aipa_status *out)
{
    if (s == NULL) {
        return AIPA_EPARSE;
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum aipa_status)i;
            return AIPA_OK;
        }
    }
    return AIPA_EPARSE;
}

const char *aipa__lock_name(unsigned bit)
{
    switch (bit) {
    case AIPA_LOCK_FINANCIAL:
        return "financial";
    case AIPA_LOCK_SECURITY:
        return "security";
    case AIPA_LOCK_RECYCLING:
        return "recycling";
    case AIPA_LOCK_DEDICATEDHOSTFINANCIAL:
        return "dedicatedhostfinancial";
    case AIPA_LOCK_REFUNDED:
        return "refunded";
    default:
        return NULL;
    }
}

static const enum aipa_code injectable[] = {
    AIPA_C_ALLOCATE_IP_FAIL,
    AIPA_C_INVALID_OPERATION_ALLOCATE_FAILED,
    AIPA_C_NAT_PUBLIC_IP_BINDING_FAILED,
    AIPA_C_NAT_PUBLIC_IP_ALLOCATE_FAILED,
    AIPA_C_INTERNAL_ERROR_ACTION,
};

enum aipa_code aipa__inject_parse(const char *s)
{
    for (size_t i = 0; i < AIPA_ARRAY_LEN(injectable); i++) {
        if (strcmp(s, aipa_code_info(injectable[i])->code) == 0) {
            return injectable[i];
        }
    }
    return AIPA_C_OK;
}

enum aipa_code aipa__inject_release_parse(const char *s)
{
    if (strcmp(s, "OperationTimesOverLimit") == 0) {
        return AIPA_C_OPERATION_TIMES_OVER_LIMIT;
    }
    if (strcmp(s, "Forbidden.ExceedDuration") == 0) {
        return AIPA_C_FORBIDDEN_EXCEED_DURATION;
    }
    return AIPA_C_OK;
}

const char *aipa__inject_name(enum aipa_code c)
{
    const struct aipa_api_error *e = aipa_code_info(c);

    return e == NULL ? "" : e->code;
}

bool aipa__id_valid(const char *s, size_t len, size_t max)
{
    if (len == 0 || len >= max) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '*')) {
            return false;
        }
    }
    return true;
}

bool aipa_instance_id_valid(const char *s, size_t len)
{
    return aipa__id_valid(s, len, AIPA_INSTANCE_ID_MAX);
}

/* ---- hashing ---- */

static uint32_t hash_bytes(const char *s, size_t len)
{
    /* FNV-1a, then a murmur3 finaliser for the low bits */
    uint32_t h = aipa_fnv1a32(AIPA_FNV1A32_BASIS, s, len);

    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* ---- string table ---- */

static void strtab_cleanup(struct aipa_strtab *t)
{
    aipa_free(t->s);
    aipa_free(t->kind);
    aipa_free(t->slots);
    memset(t, 0, sizeof(*t));
}

uint16_t aipa__str_find(const struct aipa_strtab *t, const char *s, size_t len)
{
    uint32_t mask;
    uint32_t i;

    if (len == 0 || t->slot_cap == 0 || len >= AIPA_INSTANCE_ID_MAX) {
        return 0;
    }
    mask = t->slot_cap - 1;
    for (i = hash_bytes(s, len) & mask; t->slots[i] != 0; i = (i + 1) & mask) {
        const char *e = t->s[t->slots[i]];

        if (strncmp(e, s, len) == 0 && e[len] == '\0') {
            return (uint16_t)t->slots[i];
        }
    }
    return 0;
}

static aipa_err strtab_grow(struct aipa_strtab *t)
{
    uint32_t ncap = t->cap == 0 ? 16 : t->cap * 2;
    uint32_t nslots = ncap * 2;
    char(*ns)[AIPA_INSTANCE_ID_MAX];
    uint8_t *nk;
    uint32_t *nsl;

    ns = aipa_realloc(t->s, (size_t)ncap * sizeof(*t->s));
    if (ns == NULL) {
        return AIPA_ENOMEM;
    }
    t->s = ns;
    nk = aipa_realloc(t->kind, ncap);
    if (nk == NULL) {
        return AIPA_ENOMEM;
    }
    t->kind = nk;
    nsl = aipa_calloc(nslots, sizeof(*nsl));
    if (nsl == NULL) {
        return AIPA_ENOMEM;
    }
    if (t->count == 0) {
        t->s[0][0] = '\0'; /* entry 0 is "" */
        t->kind[0] = 0;
        t->count = 1;
    }
    for (uint32_t k = 1; k < t->count; k++) {
        uint32_t i = hash_bytes(t->s[k], strlen(t->s[k])) & (nslots - 1);

        while (nsl[i] != 0) {
            i = (i + 1) & (nslots - 1);
        }
        nsl[i] = k;
    }
    aipa_free(t->slots);
    t->slots = nsl;
    t->slot_cap = nslots;
    t->cap = ncap;
    return AIPA_OK;
}

aipa_err aipa__str_intern(struct aipa_strtab *t, const char *s, size_t len, uint8_t kind,
                          uint16_t *out)
{
    uint16_t found;
    uint32_t i;

    if (len == 0) {
        *out = 0;
        return AIPA_OK;
    }
    if (len >= AIPA_INSTANCE_ID_MAX) {
        return AIPA_EINVAL;
    }
    found = aipa__str_find(t, s, len);
    if (found != 0) {
        t->kind[found] |= kind;
        *out = found;
        return AIPA_OK;
    }
    if (t->count >= AIPA_STRTAB_MAX) {
        return AIPA_ETOOBIG;
    }
    if (t->count + 1 > t->cap) {
        AIPA_TRY(strtab_grow(t));
    }
    memcpy(t->s[t->count], s, len);
    t->s[t->count][len] = '\0';
    t->kind[t->count] = kind;
    for (i = hash_bytes(s, len) & (t->slot_cap - 1); t->slots[i] != 0;
         i = (i + 1) & (t->slot_cap - 1)) {
    }
    t->slots[i] = t->count;
    *out = (uint16_t)t->count;
    t->count++;
    return AIPA_OK;
}

/* ---- state ---- */

aipa_err aipa__state_init(struct aipa_model_state *st, const char *const *cidrs, size_t count,
                          struct aipa_buf *why)
{
    uint16_t region;
    aipa_err err;

    memset(st, 0, sizeof(*st));
    err = aipa__pool_init(&st->pool, cidrs, count, why);
    if (err == AIPA_OK) {
        /* The default region is entry 1, so a zeroed instance has a region. */
        err = aipa__str_intern(&st->strs, AIPA_DEFAULT_REGION, strlen(AIPA_DEFAULT_REGION),
                               AIPA_STR_REGION, &region);
    }
    if (err != AIPA_OK) {
        aipa__state_cleanup(st);
    }
    return err;
}

void aipa__state_cleanup(struct aipa_model_state *st)
{
    aipa_free(st->slots_mem);
    aipa_free(st->order);
    strtab_cleanup(&st->strs);
    aipa__pool_cleanup(&st->pool);
    memset(st, 0, sizeof(*st));
}

struct aipa_inst *aipa__find(const struct aipa_model_state *st, const char *id, size_t len)
{
    uint32_t mask;
    uint32_t h;

    if (st->slot_cap == 0 || len == 0 || len >= AIPA_INSTANCE_ID_MAX) {
        return NULL;
    }
    mask = st->slot_cap - 1;
    h = hash_bytes(id, len);
    for (uint32_t i = h & mask; st->slots[i].id[0] != '\0'; i = (i + 1) & mask) {
        struct aipa_inst *in = &st->slots[i];

        if (in->hash == h && strncmp(in->id, id, len) == 0 && in->id[len] == '\0') {
            return in;
        }
    }
    return NULL;
}

/* The empty slot where an instance with hash h goes. */
static uint32_t free_slot(const struct aipa_inst *slots, uint32_t cap, uint32_t h)
{
    uint32_t i = h & (cap - 1);

    while (slots[i].id[0] != '\0') {
        i = (i + 1) & (cap - 1);
    }
    return i;
}

/* Room for one more instance in the order array and the slots (load at most 3/4). */
static aipa_err reserve_one(struct aipa_model_state *st)
{
    if (st->count + 1 > st->order_cap) {
        uint32_t ncap = st->order_cap == 0 ? 16 : st->order_cap * 2;
        uint32_t *n;

        if (st->order_cap > UINT32_MAX / 8) {
            return AIPA_ETOOBIG;
        }
        n = aipa_realloc(st->order, (size_t)ncap * sizeof(*n));
        if (n == NULL) {
            return AIPA_ENOMEM;
        }
        st->order = n;
        st->order_cap = ncap;
    }
    if ((uint64_t)(st->count + 1) * 4 > (uint64_t)st->slot_cap * 3) {
        uint32_t ncap = st->slot_cap == 0 ? 32 : st->slot_cap * 2;
        size_t bytes = (size_t)ncap * sizeof(struct aipa_inst);
        void *mem;
        struct aipa_inst *slots;

        if (st->slot_cap > UINT32_MAX / 4) {
            return AIPA_ETOOBIG;
        }
        /* calloc: every slot starts empty; 64 spare bytes to align to a cache line. */
        mem = aipa_calloc(bytes + 64, 1);
        if (mem == NULL) {
            return AIPA_ENOMEM;
        }
        slots = (struct aipa_inst *)(void *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
        for (uint32_t k = 0; k < st->count; k++) {
            const struct aipa_inst *in = aipa__inst_at(st, k);
            uint32_t at = free_slot(slots, ncap, in->hash);

            slots[at] = *in;
            st->order[k] = at;
        }
        aipa_free(st->slots_mem);
        st->slots_mem = mem;
        st->slots = slots;
        st->slot_cap = ncap;
    }
    return AIPA_OK;
}

void aipa__gen_id(struct aipa_rng *r, char out[AIPA_INSTANCE_ID_MAX])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint64_t a = aipa_rng_next(r);
    uint64_t b = aipa_rng_next(r);

    out[0] = 'i';
    out[1] = '-';
    /* 20 base-36 digits: 10 from each 64-bit draw (36^10 < 2^52). */
    for (int i = 0; i < 10; i++) {
        out[2 + i] = digits[a % 36];
        a /= 36;
        out[12 + i] = digits[b % 36];
        b /= 36;
    }
    out[22] = '\0';
}

void aipa__spec_defaults(struct aipa_inst_spec *s)
{
    memset(s, 0, sizeof(*s));
    s->status = AIPA_ST_RUNNING;
    s->bandwidth = AIPA_DEFAULT_BANDWIDTH;
    s->effective = true;
    s->inject = AIPA_C_OK;
    s->inject_release = AIPA_C_OK;
}

aipa_err aipa__state_add(struct aipa_model *m, struct aipa_model_state *st,
                         const struct aipa_inst_spec *spec, char id_out[AIPA_INSTANCE_ID_MAX],
                         struct aipa_buf *why)
{
    struct aipa_inst in;
    uint32_t pool_idx = 0;
    uint32_t at;
    aipa_err err;
    const char *region = spec->region != NULL ? spec->region : AIPA_DEFAULT_REGION;

    memset(&in, 0, sizeof(in));
    if ((size_t)st->count >= m->max_instances) {
        aipa__why(why, "more than %zu instances", m->max_instances);
        return AIPA_ETOOBIG;
    }
    if (spec->id != NULL) {
        size_t len = strlen(spec->id);

        if (!aipa_instance_id_valid(spec->id, len)) {
            aipa__why(why, "InstanceId \"%.40s\" is not 1-31 characters of [A-Za-z0-9._:*-]",
                      spec->id);
            return AIPA_EPARSE;
        }
        if (aipa__find(st, spec->id, len) != NULL) {
            aipa__why(why, "InstanceId %s already exists", spec->id);
            return AIPA_EEXIST;
        }
        memcpy(in.id, spec->id, len + 1);
    } else {
        /* A collision is astronomically rare; retry a bounded number of times. */
        int tries = 0;

        do {
            aipa__gen_id(&m->id_rng, in.id);
        } while (aipa__find(st, in.id, strlen(in.id)) != NULL && ++tries < 8);
        if (tries == 8) {
            aipa__why(why, "could not generate a fresh InstanceId");
            return AIPA_EEXIST;
        }
    }
    if (spec->public_ip != 0) {
        char ip[AIPA_IPV4_MAX];

        aipa__ipv4_format(spec->public_ip, ip);
        if (!aipa__pool_index(&st->pool, spec->public_ip, &pool_idx)) {
            aipa__why(why, "PublicIpAddress %s of %s is not in the address pool", ip, in.id);
            return AIPA_EPARSE;
        }
        if (aipa__pool_zone(&st->pool, pool_idx) == AIPA_POOL_IN_USE) {
            aipa__why(why, "PublicIpAddress %s of %s is held by another instance", ip, in.id);
            return AIPA_EEXIST;
        }
    }
    err = reserve_one(st);
    if (err == AIPA_OK) {
        err = aipa__str_intern(&st->strs, region, strlen(region), AIPA_STR_REGION, &in.region);
    }
    if (err == AIPA_OK && spec->vlan != NULL) {
        err = aipa__str_intern(&st->strs, spec->vlan, strlen(spec->vlan), AIPA_STR_VLAN, &in.vlan);
    }
    if (err == AIPA_OK && spec->owner != NULL && spec->owner[0] != '\0') {
        err = aipa__str_intern(&st->strs, spec->owner, strlen(spec->owner), AIPA_STR_OWNER,
                               &in.owner);
    }
    if (err == AIPA_OK && spec->eip_alloc != NULL) {
        err = aipa__str_intern(&st->strs, spec->eip_alloc, strlen(spec->eip_alloc), AIPA_STR_EIP,
                               &in.eip_alloc);
    }
    if (err != AIPA_OK) {
        aipa__why(why, "%s",
                  err == AIPA_ETOOBIG ? "too many distinct RegionId, VlanId, "
                                        "AllocationId and AipaOwnerId values (at most 65534)"
                                      : aipa_strerror(err));
        return err;
    }
    in.status = (uint8_t)spec->status;
    in.bandwidth = spec->bandwidth;
    in.eip = spec->eip;
    in.locks = (uint8_t)spec->locks;
    in.inject = (uint8_t)spec->inject;
    in.inject_release = (uint8_t)spec->inject_release;
    in.flags = (uint8_t)((spec->vpc ? AIPA_IF_VPC : 0u) | (spec->expired ? AIPA_IF_EXPIRED : 0u) |
                         (spec->cloudbox ? AIPA_IF_CLOUDBOX : 0u) |
                         (spec->dedicated ? AIPA_IF_DEDICATED : 0u));
    if (spec->public_ip != 0) {
        aipa__pool_take(&st->pool, pool_idx);
        in.public_ip = spec->public_ip;
        if (spec->effective) {
            in.flags |= AIPA_IF_EFFECTIVE;
        }
    }
    in.hash = hash_bytes(in.id, strlen(in.id));
    at = free_slot(st->slots, st->slot_cap, in.hash);
    st->slots[at] = in;
    st->order[st->count] = at;
    st->count++;
    if (in.owner != 0) {
        st->owned++;
    }
    if (id_out != NULL) {
        memcpy(id_out, in.id, sizeof(in.id));
    }
    return AIPA_OK;
}

/* ---- model ---- */

static void reseed(struct aipa_model *m)
{
    aipa_rng_seed(&m->pick_rng, m->seed);
    aipa_rng_seed(&m->id_rng, m->seed ^ 0x9e3779b97f4a7c15u);
}

void aipa_model_free(struct aipa_model *m)
{
    if (m == NULL) {
        return;
    }
    aipa__state_cleanup(&m->st);
    for (size_t i = 0; i < m->cfg_cidr_count; i++) {
        aipa_free(m->cfg_cidrs[i]);
    }
    aipa_free(m->cfg_cidrs);
    aipa_free(m->seed_doc);
    if (m->lock != NULL) {
        pthread_mutex_destroy(m->lock);
        aipa_free(m->lock);
    }
    aipa_free(m);
}

aipa_err aipa_model_new(struct aipa_model **out, const struct aipa_model_config *cfg)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa_model *m = aipa_calloc(1, sizeof(*m));

    if (m == NULL) {
        goto out;
    }
    m->lock = aipa_malloc(sizeof(*m->lock));
    if (m->lock == NULL) {
        goto out;
    }
    if (pthread_mutex_init(m->lock, NULL) != 0) {
        aipa_free(m->lock);
        m->lock = NULL;
        goto out;
    }
    m->edition = AIPA_ED_2024;
    m->max_instances = 1000000;
    if (cfg != NULL) {
        if (cfg->edition == AIPA_ED_2018 || cfg->edition == AIPA_ED_2024) {
            m->edition = cfg->edition;
        } else if (cfg->edition != 0) {
            err = AIPA_EINVAL;
            goto out;
        }
        m->seed = cfg->seed;
        m->latitude_alt = cfg->latitude_alt;
        if (cfg->max_instances != 0) {
            m->max_instances =
                cfg->max_instances < UINT32_MAX / 4 ? cfg->max_instances : UINT32_MAX / 4;
        }
        if (cfg->pool_cidrs != NULL && cfg->pool_cidr_count > 0) {
            m->cfg_cidrs = aipa_calloc(cfg->pool_cidr_count, sizeof(char *));
            if (m->cfg_cidrs == NULL) {
                goto out;
            }
            for (size_t i = 0; i < cfg->pool_cidr_count; i++) {
                const char *c = cfg->pool_cidrs[i] != NULL ? cfg->pool_cidrs[i] : "";

                m->cfg_cidrs[i] = aipa_strdup(c);
                if (m->cfg_cidrs[i] == NULL) {
                    goto out;
                }
                m->cfg_cidr_count = i + 1;
            }
        }
    }
    reseed(m);
    err = aipa__state_init(&m->st, (const char *const *)m->cfg_cidrs, m->cfg_cidr_count, NULL);
    if (err == AIPA_EPARSE) {
        err = AIPA_EINVAL; /* a bad configured CIDR is the caller's */
    }
out:
    if (err != AIPA_OK) {
        aipa_model_free(m);
        m = NULL;
    }
    *out = m;
    return err;
}

unsigned aipa_model_edition(const struct aipa_model *m)
{
    unsigned e;

    pthread_mutex_lock(m->lock);
    e = m->edition;
    pthread_mutex_unlock(m->lock);
    return e;
}

void aipa_model_set_edition(struct aipa_model *m, unsigned edition)
{
    if (edition != AIPA_ED_2018 && edition != AIPA_ED_2024) {
        return;
    }
    pthread_mutex_lock(m->lock);
    m->edition = edition;
    pthread_mutex_unlock(m->lock);
}

aipa_err aipa_model_populate(struct aipa_model *m, size_t n)
{
    aipa_err err = AIPA_OK;
    struct aipa_inst_spec spec;

    aipa__spec_defaults(&spec);
    pthread_mutex_lock(m->lock);
    for (size_t i = 0; i < n && err == AIPA_OK; i++) {
        err = aipa__state_add(m, &m->st, &spec, NULL, NULL);
    }
    pthread_mutex_unlock(m->lock);
    return err;
}

aipa_err aipa_model_set_pool_free(struct aipa_model *m, size_t free)
{
    pthread_mutex_lock(m->lock);
    aipa__pool_set_free(&m->st.pool, free);
    pthread_mutex_unlock(m->lock);
    return AIPA_OK;
}

size_t aipa_model_pool_free(const struct aipa_model *m)
{
    size_t n;

    pthread_mutex_lock(m->lock);
    n = m->st.pool.nfree;
    pthread_mutex_unlock(m->lock);
    return n;
}

size_t aipa_model_instance_count(const struct aipa_model *m)
{
    size_t n;

    pthread_mutex_lock(m->lock);
    n = m->st.count;
    pthread_mutex_unlock(m->lock);
    return n;
}

/* ---- the rules ---- */

static struct aipa_inst *lookup(struct aipa_model *m, const char *id)
{
    return id == NULL ? NULL : aipa__find(&m->st, id, strnlen(id, AIPA_INSTANCE_ID_MAX));
}

/*
 * The string-table index of who's account: OWNER_ALL for the operator (who
 * NULL), OWNER_NONE for an account that owns no instance.
 */
#define OWNER_ALL  (-1)
#define OWNER_NONE (-2)

static int32_t owner_of(const struct aipa_model *m, const struct aipa_caller *who)
{
    uint16_t k;

    if (who == NULL) {
        return OWNER_ALL;
    }
    if (who->owner_id == NULL || who->owner_id[0] == '\0') {
        return 0;
    }
    k = aipa__str_find(&m->st.strs, who->owner_id, strnlen(who->owner_id, AIPA_INSTANCE_ID_MAX));
    return k == 0 || (m->st.strs.kind[k] & AIPA_STR_OWNER) == 0 ? OWNER_NONE : (int32_t)k;
}

static bool visible(const struct aipa_inst *in, int32_t owner)
{
    return owner == OWNER_ALL || (int32_t)in->owner == owner;
}

/* The instance if who may see it: another account's instance does not exist for who. */
static struct aipa_inst *lookup_as(struct aipa_model *m, const struct aipa_caller *who,
                                   const char *id)
{
    struct aipa_inst *in = lookup(m, id);

    return in != NULL && visible(in, owner_of(m, who)) ? in : NULL;
}

static bool dry(const struct aipa_caller *who)
{
    return who != NULL && who->dry_run;
}

/* Checks that depend on the IpAddress value alone (see model.md, step 1). */
static enum aipa_code check_ip_value(const struct aipa_model *m, const struct aipa_alloc_req *req,
                                     uint32_t *ip, struct aipa_lat_set *lat)
{
    if (!req->whitelisted) {
        aipa_lat_set_add(lat, AIPA_LAT_WHITELIST_CODE);
        return m->latitude_alt ? AIPA_C_OPERATION_DENIED_VPC_EIP
                               : AIPA_C_INVALID_IP_ADDRESS_MALFORMED;
    }
    if (aipa__ipv4_parse(req->ip_address, strlen(req->ip_address), ip) != AIPA_OK) {
        return AIPA_C_INVALID_IP_ADDRESS_MALFORMED;
    }
    if (!aipa__ipv4_is_public(*ip)) {
        aipa_lat_set_add(lat, AIPA_LAT_IP_NOT_PUBLIC);
        return m->latitude_alt ? AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND
                               : AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC;
    }
    return AIPA_C_OK;
}

/* The reasons to refuse one allocation, in model.md's order. */
struct faults {
    enum aipa_code c[AIPA_LAT_MAX_ALSO];
    size_t n;
};

static void fault_add(struct faults *f, enum aipa_code c)
{
    if (f->n < AIPA_ARRAY_LEN(f->c)) {
        f->c[f->n++] = c;
    }
}

/*
 * Steps 3-8 of model.md: locks, status, placement, EIP, bandwidth; every
 * one that applies. A row whose choice decides the answer is marked only
 * when no earlier step refuses.
 */
static void instance_faults(const struct aipa_model *m, const struct aipa_inst *in,
                            struct faults *f, struct aipa_lat_set *lat)
{
    unsigned ed = m->edition;
    bool alt = m->latitude_alt;

    if (in->locks & AIPA_LOCK_SECURITY) {
        fault_add(f, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    }
    if ((in->locks &
         (AIPA_LOCK_FINANCIAL | AIPA_LOCK_DEDICATEDHOSTFINANCIAL | AIPA_LOCK_REFUNDED)) != 0 ||
        (in->flags & AIPA_IF_EXPIRED) != 0) {
        fault_add(f, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS);
    }
    if ((in->locks & AIPA_LOCK_RECYCLING) != 0 ||
        (in->status != AIPA_ST_RUNNING && in->status != AIPA_ST_STOPPED)) {
        fault_add(f, AIPA_C_INCORRECT_INSTANCE_STATUS);
    }
    if (ed == AIPA_ED_2024 && (in->flags & AIPA_IF_CLOUDBOX) != 0) {
        fault_add(f, AIPA_C_OPERATION_DENIED_CLOUDBOX);
    }
    if (ed == AIPA_ED_2024 && (in->flags & AIPA_IF_DEDICATED) != 0) {
        fault_add(f, AIPA_C_OPERATION_DENIED_DEDICATED_REGION);
    }
    if (in->eip != 0 && (in->flags & AIPA_IF_VPC) != 0) {
        fault_add(f, AIPA_C_OPERATION_DENIED_VPC_EIP);
    } else if (in->eip != 0) {
        if (f->n == 0) {
            aipa_lat_set_add(lat, ed == AIPA_ED_2024 ? AIPA_LAT_CLASSIC_EIP_2024
                                                     : AIPA_LAT_CLASSIC_EIP_2018);
        }
        if (ed == AIPA_ED_2024 && !alt) {
            fault_add(f, AIPA_C_OPERATION_DENIED_HAS_PUBLIC_IP);
        } else if (ed == AIPA_ED_2018 && alt) {
            fault_add(f, AIPA_C_OPERATION_DENIED_VPC_EIP);
        }
    }
    if (in->bandwidth <= 0) {
        if (ed == AIPA_ED_2018 && f->n == 0) {
            aipa_lat_set_add(lat, AIPA_LAT_ZERO_BANDWIDTH_2018);
        }
        if (ed == AIPA_ED_2024 || alt) {
            fault_add(f, AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH);
        }
    }
}

static enum aipa_code insufficient(const struct aipa_model *m, struct aipa_lat_set *lat)
{
    bool period = m->edition == AIPA_ED_2024;

    aipa_lat_set_add(lat, AIPA_LAT_INSUFFICIENT_MESSAGE);
    if (m->latitude_alt) {
        period = !period;
    }
    return period ? AIPA_C_INSUFFICIENT_PUBLIC_IP_2024 : AIPA_C_INSUFFICIENT_PUBLIC_IP;
}

/*
 * The answer when some precondition fails: the first in model.md's order
 * (the last with latitude_alt); the others are the precedence row's.
 */
static enum aipa_code choose_fault(const struct aipa_model *m, const struct faults *f,
                                   struct aipa_lat_set *lat)
{
    size_t k = m->latitude_alt ? f->n - 1 : 0;
    enum aipa_code c = f->c[k];

    for (size_t i = 0; i < f->n; i++) {
        if (i != k && lat != NULL) {
            aipa_lat_set_also(lat, AIPA_LAT_PRECEDENCE, f->c[i]);
        }
    }
    if (c == AIPA_C_ALLOCATED_ALREADY || c == AIPA_C_ALLOCATED_ALREADY_2) {
        aipa_lat_set_add(lat, AIPA_LAT_ALLOCATED_MESSAGE);
    }
    if (c == AIPA_C_INSUFFICIENT_PUBLIC_IP || c == AIPA_C_INSUFFICIENT_PUBLIC_IP_2024) {
        c = insufficient(m, lat);
    }
    return c;
}

/* Steps 10-12: VlanId, IpAddress against the pool, an injected failure. */
static enum aipa_code late_checks(struct aipa_model *m, const struct aipa_caller *who,
                                  const struct aipa_alloc_req *req, struct aipa_inst *in,
                                  uint32_t ip, uint32_t *idx, struct aipa_lat_set *lat)
{
    struct aipa_model_state *st = &m->st;
    unsigned ed = m->edition;
    enum aipa_code c;

    if (ed == AIPA_ED_2024 && req->vlan_id != NULL) {
        uint16_t v = aipa__str_find(&st->strs, req->vlan_id, strnlen(req->vlan_id, AIPA_VLAN_MAX));

        if (v == 0 || (st->strs.kind[v] & AIPA_STR_VLAN) == 0) {
            return AIPA_C_INVALID_VLAN_ID_NOT_FOUND;
        }
        if (in->vlan != v) {
            return AIPA_C_OPERATION_DENIED_VLAN;
        }
    }
    if (ed == AIPA_ED_2024 && req->ip_address != NULL) {
        if (!aipa__pool_index(&st->pool, ip, idx)) {
            aipa_lat_set_add(lat, AIPA_LAT_IP_NOT_IN_POOL);
            return m->latitude_alt ? insufficient(m, NULL) : AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND;
        }
        if (aipa__pool_zone(&st->pool, *idx) != AIPA_POOL_FREE) {
            return AIPA_C_IP_IN_USE;
        }
    }
    /* consumed by this attempt (not by a dry run) */
    if (in->inject != AIPA_C_OK && !dry(who)) {
        c = (enum aipa_code)in->inject;
        if (ed == AIPA_ED_2018) {
            if (lat != NULL) {
                aipa_lat_set_also(lat, AIPA_LAT_TRANSIENT_2018, c);
            }
            c = m->latitude_alt ? c : AIPA_C_INTERNAL_ERROR;
        }
        in->inject = AIPA_C_OK;
        return c;
    }
    return AIPA_C_OK;
}

static enum aipa_code allocate_locked(struct aipa_model *m, const struct aipa_caller *who,
                                      const struct aipa_alloc_req *req, char ip_out[AIPA_IPV4_MAX],
                                      struct aipa_lat_set *lat)
{
    struct aipa_model_state *st = &m->st;
    unsigned ed = m->edition;
    bool want_ip = ed == AIPA_ED_2024 && req->ip_address != NULL;
    uint32_t ip = 0;
    uint32_t idx = 0;
    uint32_t at = 0;
    bool have_pick = false;
    struct aipa_rng pick;
    struct aipa_inst *in;
    struct faults f;
    enum aipa_code c;

    /* 1. IpAddress by value (2024). */
    if (want_ip) {
        c = check_ip_value(m, req, &ip, lat);
        if (c != AIPA_C_OK) {
            return c;
        }
    }
    /*
     * Draw the address now, on a copy of the generator committed only on
     * success, so the pool's cache misses overlap the instance look-up's.
     */
    if (!want_ip) {
        pick = m->pick_rng;
        have_pick = aipa__pool_pick(&st->pool, &pick, &at);
    }
    /* 2. The instance (another account's is not there for this caller). */
    in = lookup_as(m, who, req->instance_id);
    if (in == NULL) {
        if (!want_ip && !have_pick && lat != NULL) {
            aipa_lat_set_also(lat, AIPA_LAT_PRECEDENCE, insufficient(m, NULL));
        }
        return AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND;
    }
    /* 3-8, and 9 (already allocated) where it refuses. */
    memset(&f, 0, sizeof(f));
    instance_faults(m, in, &f, lat);
    if (in->public_ip != 0 && (ed == AIPA_ED_2018 || m->latitude_alt)) {
        if (ed == AIPA_ED_2024 && f.n == 0) {
            aipa_lat_set_add(lat, AIPA_LAT_ALREADY_ALLOCATED);
        }
        fault_add(&f, AIPA_C_ALLOCATED_ALREADY);
    }
    if (f.n > 0 && !want_ip && !have_pick) {
        fault_add(&f, AIPA_C_INSUFFICIENT_PUBLIC_IP);
    }
    if (f.n > 0) {
        return choose_fault(m, &f, lat);
    }
    /* 9. Already allocated (2024): the existing address, with 200. */
    if (in->public_ip != 0) {
        if (want_ip && ip != in->public_ip) {
            /* The 2024 table's own message, so both AllocatedAlready rows are reachable. */
            aipa_lat_set_add(lat, AIPA_LAT_ALLOCATED_MESSAGE);
            return AIPA_C_ALLOCATED_ALREADY_2;
        }
        aipa_lat_set_add(lat, AIPA_LAT_ALREADY_ALLOCATED);
        if (!want_ip && !have_pick && lat != NULL) {
            /* a refusal may as well come from the empty pool */
            aipa_lat_set_also(lat, AIPA_LAT_PRECEDENCE, insufficient(m, NULL));
        }
        if (dry(who)) {
            return AIPA_C_DRY_RUN_OPERATION;
        }
        aipa__ipv4_format(in->public_ip, ip_out);
        return AIPA_C_OK;
    }
    /* 10-12. */
    c = late_checks(m, who, req, in, ip, &idx, lat);
    if (c != AIPA_C_OK) {
        return c;
    }
    /* 13. Exhaustion, then the allocation. */
    if (dry(who) && (want_ip || have_pick)) {
        return AIPA_C_DRY_RUN_OPERATION;
    }
    if (want_ip) {
        aipa__pool_take(&st->pool, idx);
    } else if (have_pick) {
        ip = aipa__pool_take_at(&st->pool, at);
        m->pick_rng = pick;
    } else {
        if (ed == AIPA_ED_2024 && req->vlan_id != NULL) {
            return AIPA_C_OPERATION_DENIED_VLAN;
        }
        return insufficient(m, lat);
    }
    in->public_ip = ip;
    in->flags &= (uint8_t)~AIPA_IF_EFFECTIVE;
    st->allocations++;
    aipa__ipv4_format(ip, ip_out);
    return AIPA_C_OK;
}

enum aipa_code aipa_model_allocate(struct aipa_model *m, const struct aipa_alloc_req *req,
                                   char ip_out[AIPA_IPV4_MAX])
{
    return aipa_model_allocate_lat(m, NULL, req, ip_out, NULL);
}

enum aipa_code aipa_model_allocate_as(struct aipa_model *m, const struct aipa_caller *who,
                                      const struct aipa_alloc_req *req, char ip_out[AIPA_IPV4_MAX])
{
    return aipa_model_allocate_lat(m, who, req, ip_out, NULL);
}

enum aipa_code aipa_model_allocate_lat(struct aipa_model *m, const struct aipa_caller *who,
                                       const struct aipa_alloc_req *req,
                                       char ip_out[AIPA_IPV4_MAX], struct aipa_lat_set *lat)
{
    enum aipa_code c;

    ip_out[0] = '\0';
    if (req == NULL) {
        return AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND;
    }
    pthread_mutex_lock(m->lock);
    c = allocate_locked(m, who, req, ip_out, lat);
    pthread_mutex_unlock(m->lock);
    return c;
}

/*
 * ReleasePublicIpAddress (model.md, Lifecycle actions). The metadata's
 * Release table answers an address that is not the instance's with 400
 * InvalidIpAddress.NotFound and its own message; a value that is not an
 * address is not in the caller's records either.
 */
static enum aipa_code release_locked(struct aipa_model *m, const struct aipa_caller *who,
                                     const char *instance_id, const char *ip_address,
                                     struct aipa_lat_set *lat)
{
    struct aipa_inst *in;
    uint32_t ip = 0;
    uint32_t idx = 0;
    bool ip_ok =
        ip_address != NULL && aipa__ipv4_parse(ip_address, strlen(ip_address), &ip) == AIPA_OK;
    bool in_pool = ip_ok && aipa__pool_index(&m->st.pool, ip, &idx);

    if (instance_id == NULL) {
        return AIPA_C_INVALID_IP_ADDRESS_NEED_INSTANCE_ID;
    }
    /* Start the pool's misses before the instance look-up's (a prefetch changes nothing). */
    if (in_pool) {
        aipa__pool_prefetch_put(&m->st.pool, idx);
    }
    in = lookup_as(m, who, instance_id);
    if (in == NULL) {
        return AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND;
    }
    if (in->locks & AIPA_LOCK_SECURITY) {
        return AIPA_C_INSTANCE_LOCKED_FOR_SECURITY;
    }
    if (in->status != AIPA_ST_RUNNING && in->status != AIPA_ST_STOPPED) {
        return AIPA_C_INCORRECT_INSTANCE_STATUS;
    }
    if (!ip_ok || in->public_ip == 0 || in->public_ip != ip) {
        aipa_lat_set_add(lat, AIPA_LAT_RELEASE_BAD_ADDRESS);
        return AIPA_C_RELEASE_IP_NOT_FOUND;
    }
    if (in->inject_release != AIPA_C_OK) {
        enum aipa_code c = (enum aipa_code)in->inject_release;

        if (!dry(who)) {
            in->inject_release = AIPA_C_OK;
        }
        return c;
    }
    if (dry(who)) {
        return AIPA_C_DRY_RUN_OPERATION;
    }
    if (in_pool) {
        aipa__pool_put(&m->st.pool, idx);
    }
    in->public_ip = 0;
    in->flags &= (uint8_t)~AIPA_IF_EFFECTIVE;
    m->st.releases++;
    return AIPA_C_OK;
}

enum aipa_code aipa_model_release(struct aipa_model *m, const char *instance_id,
                                  const char *ip_address)
{
    return aipa_model_release_lat(m, NULL, instance_id, ip_address, NULL);
}

enum aipa_code aipa_model_release_as(struct aipa_model *m, const struct aipa_caller *who,
                                     const char *instance_id, const char *ip_address)
{
    return aipa_model_release_lat(m, who, instance_id, ip_address, NULL);
}

enum aipa_code aipa_model_release_lat(struct aipa_model *m, const struct aipa_caller *who,
                                      const char *instance_id, const char *ip_address,
                                      struct aipa_lat_set *lat)
{
    enum aipa_code c;

    pthread_mutex_lock(m->lock);
    c = release_locked(m, who, instance_id, ip_address, lat);
    pthread_mutex_unlock(m->lock);
    return c;
}

enum lifecycle { LC_START, LC_STOP, LC_REBOOT };

/* Locks before status, as for an allocation; Start has its own expiry Code (M1-start). */
static enum aipa_code lifecycle_check(const struct aipa_inst *in, enum lifecycle op)
{
    if (in->locks & AIPA_LOCK_SECURITY) {
        return AIPA_C_INSTANCE_LOCKED_FOR_SECURITY;
    }
    if ((in->locks &
         (AIPA_LOCK_FINANCIAL | AIPA_LOCK_DEDICATEDHOSTFINANCIAL | AIPA_LOCK_REFUNDED)) != 0 ||
        (in->flags & AIPA_IF_EXPIRED) != 0) {
        return op == LC_START ? AIPA_C_INSTANCE_EXPIRED : AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS;
    }
    if (in->status != (op == LC_START ? AIPA_ST_STOPPED : AIPA_ST_RUNNING)) {
        return AIPA_C_INCORRECT_INSTANCE_STATUS;
    }
    return AIPA_C_OK;
}

static enum aipa_code lifecycle(struct aipa_model *m, const struct aipa_caller *who,
                                const char *instance_id, enum lifecycle op)
{
    struct aipa_inst *in;
    enum aipa_code c = AIPA_C_OK;

    pthread_mutex_lock(m->lock);
    in = lookup_as(m, who, instance_id);
    if (in == NULL) {
        c = AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND;
        goto out;
    }
    c = lifecycle_check(in, op);
    if (c == AIPA_C_OK && dry(who)) {
        c = AIPA_C_DRY_RUN_OPERATION;
    }
    if (c != AIPA_C_OK) {
        goto out;
    }
    switch (op) {
    case LC_START:
        in->status = AIPA_ST_RUNNING;
        break;
    case LC_STOP:
        in->status = AIPA_ST_STOPPED;
        goto out; /* a stop does not make a new address effective */
    case LC_REBOOT:
        break;
    }
    if (in->public_ip != 0) {
        in->flags |= AIPA_IF_EFFECTIVE;
    }
out:
    pthread_mutex_unlock(m->lock);
    return c;
}

enum aipa_code aipa_model_start(struct aipa_model *m, const char *instance_id)
{
    return lifecycle(m, NULL, instance_id, LC_START);
}

enum aipa_code aipa_model_stop(struct aipa_model *m, const char *instance_id)
{
    return lifecycle(m, NULL, instance_id, LC_STOP);
}

enum aipa_code aipa_model_reboot(struct aipa_model *m, const char *instance_id)
{
    return lifecycle(m, NULL, instance_id, LC_REBOOT);
}

enum aipa_code aipa_model_start_as(struct aipa_model *m, const struct aipa_caller *who,
                                   const char *instance_id)
{
    return lifecycle(m, who, instance_id, LC_START);
}

enum aipa_code aipa_model_stop_as(struct aipa_model *m, const struct aipa_caller *who,
                                  const char *instance_id)
{
    return lifecycle(m, who, instance_id, LC_STOP);
}

enum aipa_code aipa_model_reboot_as(struct aipa_model *m, const struct aipa_caller *who,
                                    const char *instance_id)
{
    return lifecycle(m, who, instance_id, LC_REBOOT);
}

/* ---- views ---- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void make_view(const struct aipa_model_state *st, const struct aipa_inst *in,
                      struct aipa_instance_view *v)
{
    memset(v, 0, sizeof(*v));
    copy_str(v->instance_id, sizeof(v->instance_id), in->id);
    v->status = (enum aipa_status)in->status;
    v->vpc = (in->flags & AIPA_IF_VPC) != 0;
    v->internet_max_bandwidth_out = in->bandwidth;
    if (in->public_ip != 0) {
        aipa__ipv4_format(in->public_ip, v->public_ip);
    }
    v->public_ip_effective = in->public_ip != 0 && (in->flags & AIPA_IF_EFFECTIVE) != 0;
    if (in->eip != 0) {
        aipa__ipv4_format(in->eip, v->eip_address);
    }
    copy_str(v->eip_allocation_id, sizeof(v->eip_allocation_id), st->strs.s[in->eip_alloc]);
    v->locks = in->locks;
    v->expired = (in->flags & AIPA_IF_EXPIRED) != 0;
    v->cloudbox = (in->flags & AIPA_IF_CLOUDBOX) != 0;
    v->dedicated_region = (in->flags & AIPA_IF_DEDICATED) != 0;
    copy_str(v->region_id, sizeof(v->region_id), st->strs.s[in->region]);
    copy_str(v->vlan_id, sizeof(v->vlan_id), st->strs.s[in->vlan]);
    copy_str(v->owner_id, sizeof(v->owner_id), st->strs.s[in->owner]);
}

enum aipa_code aipa_model_get(struct aipa_model *m, const char *instance_id,
                              struct aipa_instance_view *out)
{
    struct aipa_inst *in;
    enum aipa_code c = AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND;

    pthread_mutex_lock(m->lock);
    in = lookup(m, instance_id);
    if (in != NULL) {
        make_view(&m->st, in, out);
        c = AIPA_C_OK;
    }
    pthread_mutex_unlock(m->lock);
    return c;
}

enum aipa_code aipa_model_describe(struct aipa_model *m, const char *const *ids, size_t id_count,
                                   size_t page_number, size_t page_size,
                                   struct aipa_instance_view *views, size_t cap, size_t *count,
                                   size_t *total)
{
    struct aipa_describe_filter f;

    memset(&f, 0, sizeof(f));
    f.ids = ids;
    f.id_count = id_count;
    return aipa_model_describe_as(m, NULL, &f, page_number, page_size, views, cap, count, total);
}

static bool matches(const struct aipa_inst *in, int32_t owner, const struct aipa_describe_filter *f)
{
    return visible(in, owner) && (!f->has_status || in->status == (uint8_t)f->status);
}

enum aipa_code aipa_model_describe_as(struct aipa_model *m, const struct aipa_caller *who,
                                      const struct aipa_describe_filter *f, size_t page_number,
                                      size_t page_size, struct aipa_instance_view *views,
                                      size_t cap, size_t *count, size_t *total)
{
    size_t matched = 0;
    size_t written = 0;
    size_t skip;
    int32_t owner;
    size_t limit = page_size < cap ? page_size : cap;

    if (page_number == 0) {
        page_number = 1;
    }
    if (page_size == 0) {
        page_size = 10;
        limit = page_size < cap ? page_size : cap;
    }
    skip = (page_number - 1) > SIZE_MAX / page_size ? SIZE_MAX : (page_number - 1) * page_size;
    pthread_mutex_lock(m->lock);
    owner = owner_of(m, who);
    if (f->id_count > 0) {
        for (size_t i = 0; i < f->id_count; i++) {
            const struct aipa_inst *in = lookup(m, f->ids[i]);

            if (in == NULL || !matches(in, owner, f)) {
                continue;
            }
            if (matched >= skip && written < limit) {
                make_view(&m->st, in, &views[written++]);
            }
            matched++;
        }
    } else if (!f->has_status && (owner == OWNER_ALL || (owner == 0 && m->st.owned == 0))) {
        /* Everything is visible: a page is an index range (no scan). */
        matched = m->st.count;
        for (size_t k = skip; k < m->st.count && written < limit; k++) {
            make_view(&m->st, aipa__inst_at(&m->st, (uint32_t)k), &views[written++]);
        }
    } else {
        for (uint32_t k = 0; k < m->st.count; k++) {
            const struct aipa_inst *in = aipa__inst_at(&m->st, k);

            if (!matches(in, owner, f)) {
                continue;
            }
            if (matched >= skip && written < limit) {
                make_view(&m->st, in, &views[written++]);
            }
            matched++;
        }
    }
    pthread_mutex_unlock(m->lock);
    *count = written;
    *total = matched;
    return AIPA_C_OK;
}

/* ---- invariants ---- */

static aipa_err check_locked(struct aipa_model *m, struct aipa_buf *why)
{
    const struct aipa_model_state *st = &m->st;
    const struct aipa_pool *p = &st->pool;
    uint8_t *seen = NULL;
    uint32_t held = 0;
    aipa_err err = aipa__pool_check(p, why);

    if (err != AIPA_OK) {
        goto out;
    }
    err = AIPA_ENOMEM;
    seen = aipa_calloc((size_t)p->size / 8 + 1, 1);
    if (seen == NULL) {
        goto out;
    }
    err = AIPA_EINVAL;
    for (uint32_t k = 0; k < st->count; k++) {
        const struct aipa_inst *in = aipa__inst_at(st, k);
        char ip[AIPA_IPV4_MAX];
        uint32_t idx;

        if (aipa__find(st, in->id, strlen(in->id)) != in) {
            aipa__why(why, "instance %s is not found by its id", in->id);
            goto out;
        }
        if (in->status > AIPA_ST_STOPPED || in->region >= st->strs.count ||
            in->vlan >= st->strs.count || in->eip_alloc >= st->strs.count) {
            aipa__why(why, "instance %s has an out-of-range field", in->id);
            goto out;
        }
        if (in->public_ip == 0) {
            if (in->flags & AIPA_IF_EFFECTIVE) {
                aipa__why(why, "instance %s is effective without an address", in->id);
                goto out;
            }
            continue;
        }
        aipa__ipv4_format(in->public_ip, ip);
        if (!aipa__pool_index(p, in->public_ip, &idx)) {
            aipa__why(why, "%s holds %s, which is not from the pool", in->id, ip);
            goto out;
        }
        if (seen[idx / 8] & (1u << (idx % 8))) {
            aipa__why(why, "%s is held by two instances (one is %s)", ip, in->id);
            goto out;
        }
        seen[idx / 8] = (uint8_t)(seen[idx / 8] | (1u << (idx % 8)));
        if (aipa__pool_zone(p, idx) != AIPA_POOL_IN_USE) {
            aipa__why(why, "%s is held by %s but is not in the pool's in-use zone", ip, in->id);
            goto out;
        }
        held++;
    }
    if (held != aipa__pool_in_use(p)) {
        aipa__why(why, "instances hold %u addresses, the pool counts %u in use", held,
                  aipa__pool_in_use(p));
        goto out;
    }
    err = AIPA_OK;
out:
    if (err == AIPA_ENOMEM) {
        aipa__why(why, "out of memory");
    }
    aipa_free(seen);
    return err;
}

aipa_err aipa_model_check(struct aipa_model *m, struct aipa_buf *why)
{
    aipa_err err;

    pthread_mutex_lock(m->lock);
    err = check_locked(m, why);
    pthread_mutex_unlock(m->lock);
    return err;
}

/* ---- snapshots (model_int.h) ---- */

struct aipa_model_snapshot {
    struct aipa_model_state st;
    struct aipa_rng id_rng;
    struct aipa_rng pick_rng;
};

/* n bytes of src in a new allocation; NULL with *ok untouched when n is 0. */
static void *copy_bytes(const void *src, size_t n, bool *ok)
{
    void *p;

    if (n == 0 || src == NULL) {
        return NULL;
    }
    p = aipa_malloc(n);
    if (p == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(p, src, n);
    return p;
}

/* A deep copy of src into dst (dst's old contents are not freed). */
static aipa_err state_copy(struct aipa_model_state *dst, const struct aipa_model_state *src)
{
    bool ok = true;

    *dst = *src;
    dst->slots_mem = NULL;
    dst->slots = NULL;
    if (src->slot_cap > 0) {
        size_t bytes = (size_t)src->slot_cap * sizeof(struct aipa_inst);

        dst->slots_mem = aipa_malloc(bytes + 64);
        if (dst->slots_mem == NULL) {
            ok = false;
        } else {
            dst->slots =
                (struct aipa_inst *)(void *)(((uintptr_t)dst->slots_mem + 63) & ~(uintptr_t)63);
            memcpy(dst->slots, src->slots, bytes);
        }
    }
    dst->order = copy_bytes(src->order, (size_t)src->order_cap * sizeof(*src->order), &ok);
    dst->strs.s = copy_bytes(src->strs.s, (size_t)src->strs.cap * sizeof(*src->strs.s), &ok);
    dst->strs.kind = copy_bytes(src->strs.kind, src->strs.cap, &ok);
    dst->strs.slots =
        copy_bytes(src->strs.slots, (size_t)src->strs.slot_cap * sizeof(*src->strs.slots), &ok);
    dst->pool.blocks =
        copy_bytes(src->pool.blocks, src->pool.block_count * sizeof(*src->pool.blocks), &ok);
    dst->pool.mem = copy_bytes(src->pool.mem, (size_t)src->pool.size * 2 * sizeof(uint32_t), &ok);
    dst->pool.perm = dst->pool.mem;
    dst->pool.pos = dst->pool.perm != NULL ? dst->pool.perm + src->pool.size : NULL;
    if (!ok) {
        aipa__state_cleanup(dst);
        return AIPA_ENOMEM;
    }
    return AIPA_OK;
}

aipa_err aipa__model_snapshot(struct aipa_model *m, struct aipa_model_snapshot **out)
{
    struct aipa_model_snapshot *s = aipa_calloc(1, sizeof(*s));
    aipa_err err = AIPA_ENOMEM;

    *out = NULL;
    if (s == NULL) {
        return err;
    }
    pthread_mutex_lock(m->lock);
    err = state_copy(&s->st, &m->st);
    s->id_rng = m->id_rng;
    s->pick_rng = m->pick_rng;
    pthread_mutex_unlock(m->lock);
    if (err != AIPA_OK) {
        aipa_free(s);
        return err;
    }
    *out = s;
    return AIPA_OK;
}

/* Copies src over dst in place when every array has the same capacity. */
static bool state_copy_in_place(struct aipa_model_state *dst, const struct aipa_model_state *src)
{
    struct aipa_model_state keep = *dst;

    if (dst->slot_cap != src->slot_cap || dst->order_cap != src->order_cap ||
        dst->strs.cap != src->strs.cap || dst->strs.slot_cap != src->strs.slot_cap ||
        dst->pool.block_count != src->pool.block_count || dst->pool.size != src->pool.size) {
        return false;
    }
    *dst = *src;
    dst->slots_mem = keep.slots_mem;
    dst->slots = keep.slots;
    dst->order = keep.order;
    dst->strs.s = keep.strs.s;
    dst->strs.kind = keep.strs.kind;
    dst->strs.slots = keep.strs.slots;
    dst->pool.blocks = keep.pool.blocks;
    dst->pool.mem = keep.pool.mem;
    dst->pool.perm = keep.pool.perm;
    dst->pool.pos = keep.pool.pos;
    if (src->slot_cap > 0) {
        memcpy(dst->slots, src->slots, (size_t)src->slot_cap * sizeof(*src->slots));
    }
    if (src->order_cap > 0) {
        memcpy(dst->order, src->order, (size_t)src->order_cap * sizeof(*src->order));
    }
    if (src->strs.cap > 0) {
        memcpy(dst->strs.s, src->strs.s, (size_t)src->strs.cap * sizeof(*src->strs.s));
        memcpy(dst->strs.kind, src->strs.kind, src->strs.cap);
    }
    if (src->strs.slot_cap > 0) {
        memcpy(dst->strs.slots, src->strs.slots,
               (size_t)src->strs.slot_cap * sizeof(*src->strs.slots));
    }
    if (src->pool.block_count > 0) {
        memcpy(dst->pool.blocks, src->pool.blocks,
               src->pool.block_count * sizeof(*src->pool.blocks));
    }
    if (src->pool.size > 0) {
        memcpy(dst->pool.perm, src->pool.perm, (size_t)src->pool.size * sizeof(uint32_t));
        memcpy(dst->pool.pos, src->pool.pos, (size_t)src->pool.size * sizeof(uint32_t));
    }
    return true;
}

aipa_err aipa__model_restore(struct aipa_model *m, const struct aipa_model_snapshot *s)
{
    struct aipa_model_state st;
    aipa_err err;

    pthread_mutex_lock(m->lock);
    if (state_copy_in_place(&m->st, &s->st)) {
        m->id_rng = s->id_rng;
        m->pick_rng = s->pick_rng;
        pthread_mutex_unlock(m->lock);
        return AIPA_OK;
    }
    pthread_mutex_unlock(m->lock);
    err = state_copy(&st, &s->st);
    if (err != AIPA_OK) {
        return err;
    }
    pthread_mutex_lock(m->lock);
    aipa__state_cleanup(&m->st);
    m->st = st;
    m->id_rng = s->id_rng;
    m->pick_rng = s->pick_rng;
    pthread_mutex_unlock(m->lock);
    return AIPA_OK;
}

void aipa__model_snapshot_free(struct aipa_model_snapshot *s)
{
    if (s != NULL) {
        aipa__state_cleanup(&s->st);
        aipa_free(s);
    }
}
