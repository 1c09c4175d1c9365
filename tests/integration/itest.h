/*
 * itest.h: helpers for the integration tests. Each test starts the reference
 * server in-process on 127.0.0.1 with an ephemeral port and talks to it over
 * HTTP with libcurl; requests are signed with libaipa's own signers.
 */
#ifndef AIPA_ITEST_H
#define AIPA_ITEST_H

#include "aipa/server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IT_TOKEN  "it-fixture-token"
#define IT_SECRET AIPA_DEMO_ACCESS_KEY_SECRET

struct it_server {
    struct aipa_srv *srv;
    uint16_t port;
    char base[64]; /* "http://127.0.0.1:PORT" */
};

/*
 * Starts a server with the defaults, fixtures on (token IT_TOKEN), seed 7,
 * four credentials (testid Active, wl Active+Whitelisted, off Inactive,
 * plus the demo secret for testid), after tweak (may be NULL) edits cfg.
 * Aborts the test on failure.
 */
void it_start(struct it_server *s, void (*tweak)(struct aipa_srv_config *cfg));
void it_stop(struct it_server *s);

/*
 * The server a whole suite shares: it_suite_setup starts it_srv with the
 * defaults of it_start (tweak NULL), it_suite_teardown stops it. Pass both to
 * cmocka_run_group_tests.
 */
extern struct it_server it_srv;
int it_suite_setup(void **state);
int it_suite_teardown(void **state);

/* A NULL-terminated list of strings in place: kv pairs for it_v1, header lines for it_http. */
#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

struct it_resp {
    long status;        /* 0 when the transfer failed (connection closed, timeout) */
    int curl_code;      /* CURLcode */
    char body[1 << 16]; /* truncated, NUL-terminated */
    size_t body_len;    /* full length received */
    char content_type[128];
    char request_id[64];  /* x-acs-request-id header */
    char retry_after[32]; /* x-acs-retry-after header, "" if none */
};

/*
 * One HTTP request. headers: NULL-terminated "Name: value" strings. body may
 * be NULL. timeout_ms bounds the whole transfer (0: 5000).
 */
void it_http(const char *method, const char *url, const char *const *headers, const void *body,
             size_t body_len, long timeout_ms, struct it_resp *r);

/*
 * A V1 request (spec/wire.md §2.2): the common parameters (AccessKeyId testid, Format
 * only if given in kv, SignatureMethod, SignatureVersion, a unique
 * SignatureNonce, Timestamp now, Version) plus kv ("Name", "Value" pairs,
 * NULL-terminated). A pair whose value is NULL removes that parameter; a
 * pair naming a common parameter replaces it. Signed with secret for
 * method unless sign is false; form puts everything in a form body.
 */
void it_v1(const struct it_server *s, const char *method, bool form, const char *secret,
           const char *const *kv, struct it_resp *r);

/*
 * A V3 request (spec/wire.md §2.3), the Node SDK's default shape: POST (or method) with
 * the operation parameters kv in the query, an empty body unless body is
 * given, headers x-acs-action (action), x-acs-version, x-acs-date (now),
 * x-acs-signature-nonce (unique), x-acs-content-sha256, host, all signed.
 * hdr_kv ("name", "value" pairs, NULL-terminated) overrides or (value NULL)
 * removes headers before signing; unsigned_kv adds headers after signing.
 */
void it_v3(const struct it_server *s, const char *method, const char *action, const char *secret,
           const char *const *kv, const char *const *hdr_kv, const char *const *unsigned_kv,
           const char *body, struct it_resp *r);

/* A fixture request with the right token. */
void it_fixture(const struct it_server *s, const char *method, const char *path,
                const char *json_body, struct it_resp *r);

/* The Code of an error body (JSON or XML) into out ("" if none). */
void it_code(const struct it_resp *r, char *out, size_t cap);
/* Asserts the status and the error Code ("" for a success); prints both sides when they differ. */
void it_expect(const struct it_resp *r, long status, const char *code);
/* A top-level string field of a JSON body or element text of XML; "" if none. */
void it_field(const struct it_resp *r, const char *name, char *out, size_t cap);

/* A unique nonce for this process. */
void it_nonce(char out[48]);

#endif /* AIPA_ITEST_H */
