/*
 * aipa/model.h: instances, the public address pool, and the rules of
 * AllocatePublicIpAddress and the lifecycle actions that make them
 * observable (DescribeInstances, StartInstance, StopInstance, RebootInstance,
 * ReleasePublicIpAddress), for both doc editions.
 *
 * A model is thread-safe: every call takes its one lock. Allocation and
 * release are O(1). Under one seed every run gives the same instance IDs and
 * address choices.
 */
#ifndef AIPA_MODEL_H
#define AIPA_MODEL_H

#include "aipa/common.h"
#include "aipa/errors.h"
#include "aipa/latitude.h"

enum aipa_status {
    AIPA_ST_PENDING,
    AIPA_ST_RUNNING,
    AIPA_ST_STARTING,
    AIPA_ST_STOPPING,
    AIPA_ST_STOPPED,
};
AIPA_API const char *aipa_status_name(enum aipa_status s);
/* AIPA_EPARSE for a name that is not one of the five (case-sensitive). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_status_parse(const char *s, enum aipa_status *out);

/* OperationLocks reasons, as bits. */
#define AIPA_LOCK_FINANCIAL              0x01u
#define AIPA_LOCK_SECURITY               0x02u
#define AIPA_LOCK_RECYCLING              0x04u
#define AIPA_LOCK_DEDICATEDHOSTFINANCIAL 0x08u
#define AIPA_LOCK_REFUNDED               0x10u

#define AIPA_INSTANCE_ID_MAX 32 /* bytes including the NUL */

/* An InstanceId the model can hold: 1-31 characters of [A-Za-z0-9._:*-]. */
AIPA_API bool aipa_instance_id_valid(const char *s, size_t len);
#define AIPA_IPV4_MAX        16 /* "255.255.255.255" and a NUL */

/*
 * A copy of one instance, as DescribeInstances shows it. public_ip is the
 * allocated address ("" if none); public_ip_effective says whether a start
 * or reboot has happened since it was allocated (DescribeInstances lists it
 * only then).
 */
struct aipa_instance_view {
    char instance_id[AIPA_INSTANCE_ID_MAX];
    enum aipa_status status;
    bool vpc; /* InstanceNetworkType: vpc, else classic */
    int32_t internet_max_bandwidth_out;
    char public_ip[AIPA_IPV4_MAX];
    bool public_ip_effective;
    char eip_address[AIPA_IPV4_MAX]; /* "" if none */
    char eip_allocation_id[AIPA_INSTANCE_ID_MAX];
    unsigned locks; /* AIPA_LOCK_* */
    bool expired;   /* expired or in arrears without a financial lock */
    bool cloudbox;  /* instance in a Cloudbox */
    bool dedicated_region;
    char region_id[24];
    char vlan_id[16]; /* "" if none */
    char owner_id[AIPA_INSTANCE_ID_MAX]; /* the account; "" for the default account */
};

struct aipa_model_config {
    unsigned edition;              /* AIPA_ED_2018 or AIPA_ED_2024 */
    uint64_t seed;                 /* instance IDs and address choice */
    const char *const *pool_cidrs; /* e.g. "47.96.0.0/20"; NULL means a built-in default */
    size_t pool_cidr_count;
    size_t max_instances; /* 0 means 1,000,000 */
    /*
     * Take the documented alternative instead of the strict answer on every
     * model-level row of the latitude table (aipa/latitude.h) that has one.
     */
    bool latitude_alt;
};

struct aipa_model;

AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_new(struct aipa_model **out,
                                                 const struct aipa_model_config *cfg);
AIPA_API void aipa_model_free(struct aipa_model *m);
AIPA_API unsigned aipa_model_edition(const struct aipa_model *m);
AIPA_API void aipa_model_set_edition(struct aipa_model *m, unsigned edition);

/*
 * State files (docs/internals/model.md and conformance/FIXTURES.md give the
 * format): a JSON object whose instances are written with DescribeInstances
 * field names. load replaces the whole state and remembers it as the seed
 * state that reset returns to. On a bad document, AIPA_EPARSE with a
 * one-line reason in err (if non-NULL).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_load_json(struct aipa_model *m, const char *json,
                                                       size_t len, struct aipa_buf *err);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_reset(struct aipa_model *m);
/*
 * Creates one instance from a JSON object with DescribeInstances field names
 * (any field omitted takes its default: Running, classic, bandwidth 5, no
 * address). When InstanceId is absent one is generated. id_out receives it.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_create_instance_json(struct aipa_model *m,
                                                                  const char *json, size_t len,
                                                                  char id_out[AIPA_INSTANCE_ID_MAX],
                                                                  struct aipa_buf *err);
/* Creates n default instances (Running, classic, bandwidth 5) for benchmarks. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_populate(struct aipa_model *m, size_t n);
/*
 * Sets the number of free addresses left in the pool to at most free (the
 * rest are held back as if used elsewhere); SIZE_MAX restores them all.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_set_pool_free(struct aipa_model *m, size_t free);
AIPA_API size_t aipa_model_pool_free(const struct aipa_model *m);
AIPA_API size_t aipa_model_instance_count(const struct aipa_model *m);
/* The whole state as one JSON document (the same format load reads, plus counters). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_model_dump_json(struct aipa_model *m, struct aipa_buf *out);

/* ---- actions ---- */

struct aipa_alloc_req {
    const char *instance_id;
    const char *ip_address; /* NULL when the parameter is absent */
    const char *vlan_id;    /* NULL when absent */
    bool whitelisted;       /* the caller may name an IpAddress */
};

/*
 * The rules of AllocatePublicIpAddress, in the precedence order that
 * docs/internals/model.md documents. Returns AIPA_C_OK and writes the
 * address to ip_out, or the error to answer with.
 */
AIPA_API enum aipa_code aipa_model_allocate(struct aipa_model *m, const struct aipa_alloc_req *req,
                                            char ip_out[AIPA_IPV4_MAX]);
AIPA_API enum aipa_code aipa_model_release(struct aipa_model *m, const char *instance_id,
                                           const char *ip_address);
AIPA_API enum aipa_code aipa_model_start(struct aipa_model *m, const char *instance_id);
AIPA_API enum aipa_code aipa_model_stop(struct aipa_model *m, const char *instance_id);
AIPA_API enum aipa_code aipa_model_reboot(struct aipa_model *m, const char *instance_id);

/*
 * The same actions for a caller: who acts (an account) and whether it is a
 * dry run. An instance of another account is invisible: every action answers
 * InvalidInstanceId.NotFound for it and DescribeInstances leaves it out. A
 * dry run makes every check the action would make and then answers
 * DryRunOperation instead of acting; nothing changes (an injected failure is
 * not consumed). A NULL caller is the operator: every account, no dry run
 * (the functions above).
 */
struct aipa_caller {
    const char *owner_id; /* the account (OwnerId); NULL or "": the default account */
    bool dry_run;
};

AIPA_API enum aipa_code aipa_model_allocate_as(struct aipa_model *m, const struct aipa_caller *who,
                                               const struct aipa_alloc_req *req,
                                               char ip_out[AIPA_IPV4_MAX]);
/*
 * ReleasePublicIpAddress. instance_id may be NULL (the parameter is optional
 * in the metadata): the answer is then InvalidIpAddress.NeedInstanceId, so a
 * caller cannot learn which instance, or whose, holds an address.
 */
AIPA_API enum aipa_code aipa_model_release_as(struct aipa_model *m, const struct aipa_caller *who,
                                              const char *instance_id, const char *ip_address);
/*
 * The same, and adds to lat (if non-NULL) the latitude rows that applied
 * (aipa/latitude.h): the preconditions the instance also fails
 * (precedence), the 2024 already-allocated success, the classic-with-EIP and
 * zero-bandwidth rows, the IpAddress rows, the message variants and the 2018
 * transient mapping; for Release, the address the instance does not hold.
 */
AIPA_API enum aipa_code aipa_model_allocate_lat(struct aipa_model *m, const struct aipa_caller *who,
                                                const struct aipa_alloc_req *req,
                                                char ip_out[AIPA_IPV4_MAX],
                                                struct aipa_lat_set *lat);
AIPA_API enum aipa_code aipa_model_release_lat(struct aipa_model *m, const struct aipa_caller *who,
                                               const char *instance_id, const char *ip_address,
                                               struct aipa_lat_set *lat);
AIPA_API enum aipa_code aipa_model_start_as(struct aipa_model *m, const struct aipa_caller *who,
                                            const char *instance_id);
AIPA_API enum aipa_code aipa_model_stop_as(struct aipa_model *m, const struct aipa_caller *who,
                                           const char *instance_id);
AIPA_API enum aipa_code aipa_model_reboot_as(struct aipa_model *m, const struct aipa_caller *who,
                                             const char *instance_id);

/* DescribeInstances filters beyond InstanceIds (aipa_model_describe_as). */
struct aipa_describe_filter {
    const char *const *ids; /* InstanceIds, in that order; NULL or count 0: every instance */
    size_t id_count;
    bool has_status; /* Status given */
    enum aipa_status status;
};

/*
 * DescribeInstances. With ids (count > 0) only those instances, in that
 * order, unknown ones omitted; else every instance in creation order. The
 * page is page_number (1-based) of page_size; views receives at most cap;
 * *count how many were written, *total how many matched.
 */
AIPA_API enum aipa_code aipa_model_describe(struct aipa_model *m, const char *const *ids,
                                            size_t id_count, size_t page_number, size_t page_size,
                                            struct aipa_instance_view *views, size_t cap,
                                            size_t *count, size_t *total);
/* aipa_model_describe for a caller (who NULL: every account), with filters. */
AIPA_API enum aipa_code aipa_model_describe_as(struct aipa_model *m, const struct aipa_caller *who,
                                               const struct aipa_describe_filter *f,
                                               size_t page_number, size_t page_size,
                                               struct aipa_instance_view *views, size_t cap,
                                               size_t *count, size_t *total);
/* One instance; AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND if absent. */
AIPA_API enum aipa_code aipa_model_get(struct aipa_model *m, const char *instance_id,
                                       struct aipa_instance_view *out);

/*
 * Invariant check for tests and fuzzing: no address held by two instances,
 * the free count matches the pool, every held address is from the pool.
 * Returns AIPA_OK or AIPA_EINVAL with the reason in why (if non-NULL).
 */
AIPA_API aipa_err aipa_model_check(struct aipa_model *m, struct aipa_buf *why);

#endif /* AIPA_MODEL_H */
