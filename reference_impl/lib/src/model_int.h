/*
 * model_int.h: internals shared by model.c (instances, rules, lifecycle),
 * model_pool.c (IPv4 helpers and the address pool) and model_json.c (state
 * documents). Not installed; nothing outside reference_impl/lib/src/model*.c
 * includes it.
 */
#ifndef AIPA_MODEL_INT_H
#define AIPA_MODEL_INT_H

#include "aipa/model.h"

#include <pthread.h>

/* ---- IPv4 (model_pool.c) ---- */

/* Strict dotted quad (inet_pton rules: four decimal octets, no leading zeros).
 */
AIPA_MUST_CHECK aipa_err aipa__ipv4_parse(const char *s, size_t len, uint32_t *out);
void aipa__ipv4_format(uint32_t ip, char out[AIPA_IPV4_MAX]);
/* False for private, loopback, link-local, shared, documentation, multicast,
 * reserved. */
bool aipa__ipv4_is_public(uint32_t ip);
/* "a.b.c.d/n" with no host bits set. */
AIPA_MUST_CHECK aipa_err aipa__cidr_parse(const char *s, size_t len, uint32_t *base,
                                          unsigned *prefix);

/* ---- the address pool (model_pool.c) ---- */

#define AIPA_POOL_MAX_ADDRESSES (1u << 22)
#define AIPA_POOL_MAX_CIDRS     64

struct aipa_pool_block {
    uint32_t first;  /* first usable address */
    uint32_t count;  /* usable addresses */
    uint32_t offset; /* pool index of first */
    uint32_t base;   /* the CIDR as configured, for dumps */
    uint8_t prefix;
};

/*
 * Every usable address has a pool index (blocks concatenated in address
 * order). perm holds the pool indices by position in three zones:
 * [0, nback) held back by set_pool_free, [nback, nback + nfree) free,
 * [nback + nfree, size) held by an instance. pos is perm's inverse (pool
 * index -> position), so moving an address between zones is one swap.
 */
struct aipa_pool {
    struct aipa_pool_block *blocks;
    size_t block_count;
    uint32_t size;
    void *mem; /* the allocation perm and pos live in */
    uint32_t *perm;
    uint32_t *pos;
    uint32_t nback;
    uint32_t nfree;
};

enum aipa_pool_zone { AIPA_POOL_HELD_BACK, AIPA_POOL_FREE, AIPA_POOL_IN_USE };

/* cidrs NULL or count 0: the built-in default. why (if non-NULL) gets a reason.
 */
AIPA_MUST_CHECK aipa_err aipa__pool_init(struct aipa_pool *p, const char *const *cidrs,
                                         size_t count, struct aipa_buf *why);
void aipa__pool_cleanup(struct aipa_pool *p);
bool aipa__pool_index(const struct aipa_pool *p, uint32_t ip, uint32_t *idx);
uint32_t aipa__pool_addr(const struct aipa_pool *p, uint32_t idx);
enum aipa_pool_zone aipa__pool_zone(const struct aipa_pool *p, uint32_t idx);
uint32_t aipa__pool_in_use(const struct aipa_pool *p);
/* A uniformly random free address, moved to the in-use zone; false if none
 * free. */
bool aipa__pool_take_random(struct aipa_pool *p, struct aipa_rng *r, uint32_t *ip);
/*
 * take_random in two halves, so a caller can draw first and overlap the
 * pool's cache misses with its own work: pick draws the position from r
 * (pass a copy to commit only on success) and prefetches what take_at will
 * write; take_at moves that free position to the in-use zone and returns its
 * address. Nothing may change the pool in between.
 */
bool aipa__pool_pick(const struct aipa_pool *p, struct aipa_rng *r, uint32_t *at);
uint32_t aipa__pool_take_at(struct aipa_pool *p, uint32_t at);
/* Prefetches the lines a later aipa__pool_put(p, idx) writes. */
void aipa__pool_prefetch_put(const struct aipa_pool *p, uint32_t idx);
/* Moves idx (free or held back) to the in-use zone. */
void aipa__pool_take(struct aipa_pool *p, uint32_t idx);
/* Moves idx (in use) back to the free zone. */
void aipa__pool_put(struct aipa_pool *p, uint32_t idx);
/* Restores every held-back address, then holds back all but free of them. */
void aipa__pool_set_free(struct aipa_pool *p, size_t free);
/* perm/pos consistency and zone bounds; AIPA_EINVAL with a reason. */
aipa_err aipa__pool_check(const struct aipa_pool *p, struct aipa_buf *why);

/* ---- instances and the model (model.c) ---- */

#define AIPA_REGION_MAX                                                                            \
    24 /* bytes with the NUL (struct aipa_instance_view)                                           \
        */
#define AIPA_VLAN_MAX          16
#define AIPA_STRTAB_MAX        65535u
#define AIPA_DEFAULT_REGION    "cn-hangzhou"
#define AIPA_DEFAULT_BANDWIDTH 5

/* Instance flag bits. */
#define AIPA_IF_VPC       0x01u
#define AIPA_IF_EFFECTIVE 0x02u
#define AIPA_IF_EXPIRED   0x04u
#define AIPA_IF_CLOUDBOX  0x08u
#define AIPA_IF_DEDICATED 0x10u

/*
 * One instance: 64 bytes, one cache line, stored in the hash table's slot
 * itself so a look-up touches one line. Addresses are host-order IPv4, 0
 * for none.
 */
struct aipa_inst {
    char id[AIPA_INSTANCE_ID_MAX]; /* "" marks an empty slot */
    uint32_t hash;                 /* of id: cheap probing and rehashing */
    uint32_t public_ip;
    uint32_t eip;
    int32_t bandwidth;
    uint16_t region;    /* string table index */
    uint16_t vlan;      /* string table index, 0 for none */
    uint16_t eip_alloc; /* string table index, 0 for none */
    uint8_t status;     /* enum aipa_status */
    uint8_t locks;      /* AIPA_LOCK_* */
    uint8_t flags;      /* AIPA_IF_* */
    uint8_t inject;     /* enum aipa_code for the next allocation, 0 for none */
    uint16_t owner;     /* string table index of the account (OwnerId), 0: the default one */
    uint8_t inject_release; /* enum aipa_code for the next release, 0 for none */
    uint8_t reserved[3];
};
_Static_assert(sizeof(struct aipa_inst) == 64, "an instance is one cache line");

/* Interned short strings (regions, VLAN ids, EIP allocation ids); entry 0 is
 * "". */
#define AIPA_STR_REGION 0x01u
#define AIPA_STR_VLAN   0x02u /* a known VLAN: allocate accepts it as VlanId */
#define AIPA_STR_EIP    0x04u
#define AIPA_STR_OWNER  0x08u /* an account (OwnerId) */

struct aipa_strtab {
    char (*s)[AIPA_INSTANCE_ID_MAX];
    uint8_t *kind;
    uint32_t count;
    uint32_t cap;
    uint32_t *slots; /* open addressing over entry indices; 0 is empty */
    uint32_t slot_cap;
};

/* Everything a state document replaces, swapped in whole on load. */
struct aipa_model_state {
    struct aipa_inst *slots; /* open addressing, linear probing; 64-byte aligned in slots_mem */
    void *slots_mem;
    uint32_t slot_cap; /* a power of two; load at most 3/4 */
    uint32_t *order;   /* the slot of each instance, in creation order */
    uint32_t count;
    uint32_t order_cap;
    struct aipa_strtab strs;
    struct aipa_pool pool;
    uint64_t allocations;
    uint64_t releases;
    uint32_t owned; /* instances of an account other than the default one */
};

struct aipa_model {
    pthread_mutex_t *lock; /* a pointer so const accessors can take it */
    unsigned edition;
    uint64_t seed;
    size_t max_instances;
    bool latitude_alt; /* aipa_model_config.latitude_alt */
    char **cfg_cidrs;
    size_t cfg_cidr_count;
    char *seed_doc; /* the last loaded document, for reset; NULL: empty state */
    size_t seed_doc_len;
    struct aipa_rng id_rng;   /* instance IDs */
    struct aipa_rng pick_rng; /* address choice */
    struct aipa_model_state st;
};

static inline struct aipa_inst *aipa__inst_at(const struct aipa_model_state *st, uint32_t k)
{
    return &st->slots[st->order[k]];
}

aipa_err aipa__state_init(struct aipa_model_state *st, const char *const *cidrs, size_t count,
                          struct aipa_buf *why);
void aipa__state_cleanup(struct aipa_model_state *st);
struct aipa_inst *aipa__find(const struct aipa_model_state *st, const char *id, size_t len);
uint16_t aipa__str_find(const struct aipa_strtab *t, const char *s, size_t len);
AIPA_MUST_CHECK aipa_err aipa__str_intern(struct aipa_strtab *t, const char *s, size_t len,
                                          uint8_t kind, uint16_t *out);
/* ID syntax for instances, regions, VLANs and allocation ids:
 * [A-Za-z0-9._:*-]{1,max-1}. */
bool aipa__id_valid(const char *s, size_t len, size_t max);

/*
 * A parsed instance, before it enters a state. Strings borrow from the
 * parsed document; NULL means absent (defaults apply).
 */
struct aipa_inst_spec {
    const char *id;
    enum aipa_status status;
    bool vpc;
    int32_t bandwidth;
    uint32_t public_ip;
    bool effective;
    uint32_t eip;
    const char *eip_alloc;
    unsigned locks;
    bool expired;
    bool cloudbox;
    bool dedicated;
    const char *region;
    const char *vlan;
    const char *owner; /* AipaOwnerId; NULL: the default account */
    enum aipa_code inject;
    enum aipa_code inject_release;
};

void aipa__spec_defaults(struct aipa_inst_spec *s);
/*
 * Adds spec to st: checks the ID is new, claims the address from the pool,
 * generates an ID when spec->id is NULL. All-or-nothing except that
 * interned strings stay. On failure why gets a reason.
 */
AIPA_MUST_CHECK aipa_err aipa__state_add(struct aipa_model *m, struct aipa_model_state *st,
                                         const struct aipa_inst_spec *spec,
                                         char id_out[AIPA_INSTANCE_ID_MAX], struct aipa_buf *why);
void aipa__gen_id(struct aipa_rng *r, char out[AIPA_INSTANCE_ID_MAX]);
const char *aipa__lock_name(unsigned bit);
/* The injectable allocation failures, by wire Code. */
enum aipa_code aipa__inject_parse(const char *s);
const char *aipa__inject_name(enum aipa_code c);
/* The injectable release failures (OperationTimesOverLimit, Forbidden.ExceedDuration). */
enum aipa_code aipa__inject_release_parse(const char *s);
void aipa__why(struct aipa_buf *why, const char *fmt, ...) AIPA_PRINTF(2, 3);

/*
 * Snapshots: a deep copy of the state and of both generators, and a restore
 * that makes the model exactly as it was when the copy was taken (the
 * edition is left as it is). A fuzz target takes one right after
 * aipa_model_reset and restores it before each input instead of reparsing
 * the seed document. Restoring reuses the model's arrays when their sizes
 * have not changed since.
 */
struct aipa_model_snapshot;
AIPA_MUST_CHECK aipa_err aipa__model_snapshot(struct aipa_model *m,
                                              struct aipa_model_snapshot **out);
AIPA_MUST_CHECK aipa_err aipa__model_restore(struct aipa_model *m,
                                             const struct aipa_model_snapshot *s);
void aipa__model_snapshot_free(struct aipa_model_snapshot *s);

#endif /* AIPA_MODEL_INT_H */
