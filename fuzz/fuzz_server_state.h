/*
 * fuzz/fuzz_server_state.h: returning a server to its seed state between
 * inputs, for fuzz_server and fuzz_http.
 *
 * Reparsing the seed state document (aipa_model_reset) took about half of
 * each input's time. Instead, a snapshot is taken once, right after a reset,
 * and restored before each input (aipa__model_restore, model_int.h). That
 * the two give the same model is itself checked: for one input in 64 (chosen
 * by a hash of the input, so a finding reproduces), after the input has run,
 * the model is restored and dumped, reset and dumped, and the two documents
 * must be equal.
 */
#ifndef AIPA_FUZZ_SERVER_STATE_H
#define AIPA_FUZZ_SERVER_STATE_H

#include "fuzz_common.h"
#include "model_int.h"
#include "server_int.h"

struct fz_seed {
    struct aipa_srv *srv;
    struct aipa_model_snapshot *snap;
};

static inline void fz_seed_check(struct fz_seed *s);

/*
 * The configuration both server targets build on, from the low mode bits:
 * bit 0 auth off, bit 1 edition 2018-08-02 (else 2024-12-20), bit 2 the
 * fixture protocol with token "t". Keys: the demo testid/testsecret
 * (whitelisted), an inactive one, "other" of account 1002, and the STS key
 * STS.fz with token CAIStoken; seed 42; the pool 47.96.0.0/28, small
 * enough to run out; the clock now (fixed by the caller).
 */
static inline void fz_server_config(struct aipa_srv_config *cfg, unsigned mode,
                                    int64_t (*now)(void *))
{
    static const struct aipa_srv_credential creds[] = {
        {AIPA_DEMO_ACCESS_KEY_ID, AIPA_DEMO_ACCESS_KEY_SECRET, true, true, NULL, NULL, 0},
        {"inactive", "inactivesecret", false, false, NULL, NULL, 0},
        {"other", "othersecret", true, false, "1002", NULL, 0},
        {"STS.fz", "stssecret", true, false, NULL, "CAIStoken", 0},
    };
    static const char *const pool[] = {"47.96.0.0/28"};

    aipa_srv_config_defaults(cfg);
    cfg->credentials = creds;
    cfg->credential_count = AIPA_ARRAY_LEN(creds);
    cfg->auth_off = (mode & 1u) != 0;
    cfg->edition = (mode & 2u) ? AIPA_ED_2018 : AIPA_ED_2024;
    cfg->fixtures = (mode & 4u) != 0;
    cfg->fixture_token = "t";
    cfg->now = now;
    cfg->seed = 42;
    cfg->pool_cidrs = pool;
    cfg->pool_cidr_count = AIPA_ARRAY_LEN(pool);
}

/*
 * Takes the snapshot of a new server's seed state, and checks once that a
 * restore after the model's tables have grown (200 more instances: restore
 * then copies instead of writing in place) also equals a reset.
 */
static inline void fz_seed_init(struct fz_seed *s, struct aipa_srv *srv)
{
    aipa_err err = aipa_model_reset(srv->model);

    FUZZ_CHECK(err == AIPA_OK, "model_reset: %s", aipa_errname(err));
    err = aipa__model_snapshot(srv->model, &s->snap);
    FUZZ_CHECK(err == AIPA_OK, "model_snapshot: %s", aipa_errname(err));
    s->srv = srv;
    err = aipa_model_populate(srv->model, 200);
    FUZZ_CHECK(err == AIPA_OK, "model_populate: %s", aipa_errname(err));
    fz_seed_check(s);
}

/* Returns the server to its seed state: model, edition, nonces, throttle buckets, RequestIds. */
static inline void fz_seed_restore(struct fz_seed *s)
{
    struct aipa_srv *srv = s->srv;
    aipa_err err = aipa__model_restore(srv->model, s->snap);

    FUZZ_CHECK(err == AIPA_OK, "model_restore: %s", aipa_errname(err));
    aipa_model_set_edition(srv->model, srv->cfg.edition);
    aipa__nonce_cache_clear(srv->nonces);
    aipa__throttle_reset(srv->throttle);
    aipa_rng_seed(&srv->rng, srv->cfg.seed);
}

/* FNV-1a of the input: picks the inputs that check restore against reset. */
static inline bool fz_seed_check_due(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < size; i++) {
        h = (h ^ data[i]) * 16777619u;
    }
    return (h & 63u) == 0;
}

/* After an input: restore and reset must give the same model. */
static inline void fz_seed_check(struct fz_seed *s)
{
    struct aipa_buf a, b;
    aipa_err err;

    aipa_buf_init(&a, SIZE_MAX / 2);
    aipa_buf_init(&b, SIZE_MAX / 2);
    err = aipa__model_restore(s->srv->model, s->snap);
    FUZZ_CHECK(err == AIPA_OK, "model_restore: %s", aipa_errname(err));
    err = aipa_model_dump_json(s->srv->model, &a);
    FUZZ_CHECK(err == AIPA_OK, "dump: %s", aipa_errname(err));
    err = aipa_model_reset(s->srv->model);
    FUZZ_CHECK(err == AIPA_OK, "model_reset: %s", aipa_errname(err));
    err = aipa_model_dump_json(s->srv->model, &b);
    FUZZ_CHECK(err == AIPA_OK, "dump: %s", aipa_errname(err));
    FUZZ_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0,
               "restored model differs from a reset one:\n%s\n--\n%s", a.ptr, b.ptr);
    aipa_buf_cleanup(&a);
    aipa_buf_cleanup(&b);
}

#endif /* AIPA_FUZZ_SERVER_STATE_H */
