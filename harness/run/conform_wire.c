/*
 * conform_wire.c: wire steps (conformance/FORMAT.md "Wire steps"), the
 * checks of a target's HTTP layer: bytes sent as they are on a new
 * connection (harness/transport/raw.c), the answers read back with
 * picohttpparser, the first final answer matched like any response, and
 * what the connection did (answer count, close, cut-off) checked as the
 * step says.
 */
#include "aipa/parse.h"
#include "aipa/phr.h"
#include "conform_int.h"
#include "raw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_GOT     (4u * 1024u * 1024u)
#define MAX_HEADERS 100
#define SHOWN       4096 /* transcript bytes per side */

struct answers {
    size_t finals;        /* final (non-1xx) answers */
    int status;           /* of the first final answer; 0: none */
    char ct[128];         /* its Content-Type */
    struct aipa_buf body; /* its body */
    bool garbage;         /* bytes that are no HTTP/1.x answer */
    bool cut;             /* the last answer is incomplete */
};

static bool header_is(const struct phr_header *h, const char *name)
{
    size_t n = strlen(name);

    return h->name != NULL && h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

/*
 * The body of an answer whose head ends at p: its framing and how many bytes
 * it took. chunked bodies are decoded into scratch.
 */
static size_t body_of(const struct phr_header *hs, size_t nh, int status, const char *p, size_t n,
                      struct aipa_buf *scratch, struct answers *a, const char **body,
                      size_t *body_len)
{
    unsigned long long cl = 0;
    bool has_cl = false, chunked = false;

    for (size_t i = 0; i < nh; i++) {
        if (header_is(&hs[i], "Content-Length")) {
            char tmp[32];
            size_t k = hs[i].value_len < sizeof(tmp) - 1 ? hs[i].value_len : sizeof(tmp) - 1;

            memcpy(tmp, hs[i].value, k);
            tmp[k] = '\0';
            cl = strtoull(tmp, NULL, 10);
            has_cl = true;
        } else if (header_is(&hs[i], "Transfer-Encoding")) {
            chunked = hs[i].value_len >= 7 &&
                      strncasecmp(hs[i].value + hs[i].value_len - 7, "chunked", 7) == 0;
        }
    }
    *body = p;
    *body_len = 0;
    if (status == 204 || status == 304) {
        *body_len = 0;
        return 0;
    }
    if (chunked) {
        struct phr_chunked_decoder dec;
        size_t sz = n;
        ssize_t r;

        memset(&dec, 0, sizeof(dec));
        dec.consume_trailer = 1;
        aipa_buf_reset(scratch);
        if (aipa_buf_append(scratch, p, n) != AIPA_OK) {
            a->garbage = true;
            return n;
        }
        r = phr_decode_chunked(&dec, scratch->ptr, &sz);
        *body = scratch->ptr;
        *body_len = sz;
        a->cut = a->cut || r == -2;
        a->garbage = a->garbage || r == -1;
        return r >= 0 ? n - (size_t)r : n;
    }
    if (has_cl) {
        *body_len = cl <= n ? (size_t)cl : n;
        a->cut = a->cut || cl > n;
        return *body_len;
    }
    *body_len = n; /* delimited by the close */
    return n;
}

static void read_answers(const char *p, size_t n, struct answers *a)
{
    struct aipa_buf scratch;
    size_t off = 0;

    aipa_buf_init(&scratch, MAX_GOT);
    while (off < n) {
        struct phr_header hs[MAX_HEADERS];
        size_t nh = MAX_HEADERS, body_len = 0, used;
        const char *msg, *body;
        size_t msg_len;
        int minor, status;
        int r = phr_parse_response(p + off, n - off, &minor, &status, &msg, &msg_len, hs, &nh, 0);

        if (r == -2) {
            a->cut = true;
            break;
        }
        if (r < 0) {
            a->garbage = true;
            break;
        }
        off += (size_t)r;
        if (status >= 100 && status < 200 && status != 101) {
            continue; /* interim: 100 Continue */
        }
        used = body_of(hs, nh, status, p + off, n - off, &scratch, a, &body, &body_len);
        if (a->finals++ == 0) {
            a->status = status;
            for (size_t i = 0; i < nh; i++) {
                if (header_is(&hs[i], "Content-Type")) {
                    size_t k =
                        hs[i].value_len < sizeof(a->ct) - 1 ? hs[i].value_len : sizeof(a->ct) - 1;

                    memcpy(a->ct, hs[i].value, k);
                    a->ct[k] = '\0';
                }
            }
            if (aipa_buf_append(&a->body, body, body_len) != AIPA_OK) {
                a->garbage = true;
            }
        }
        off += used;
    }
    aipa_buf_cleanup(&scratch);
}

/* Bytes as a transcript: printable ASCII kept, CR and LF as \r \n (a line break after \n). */
static char *show(const char *p, size_t n)
{
    struct aipa_buf b;

    aipa_buf_init(&b, 8 * SHOWN + 256);
    for (size_t i = 0; i < n && i < SHOWN; i++) {
        unsigned char ch = (unsigned char)p[i];

        if (ch == '\r') {
            aipa__note(&b, "\\r");
        } else if (ch == '\n') {
            aipa__note(&b, "\\n\n");
        } else if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            aipa__note(&b, "%c", ch);
        } else {
            aipa__note(&b, "\\x%02x", ch);
        }
    }
    if (n > SHOWN) {
        aipa__note(&b, "... (%zu bytes in all)", n);
    }
    return b.ptr != NULL ? aipa_buf_steal(&b, NULL) : aipa_strdup("");
}

/* The connection checks of the step; appends what differs to reason. */
static bool connection_ok(const struct aipa_wire *w, const struct answers *a,
                          const struct aipa_raw_result *res, struct aipa_buf *reason)
{
    bool ok = reason->len == 0; /* "ok" below only picks the separator */

    bool pass = true;

    if (w->answers >= 0 && a->finals != (size_t)w->answers) {
        aipa__note(reason, "%s%d answer(s) expected, %zu sent", ok ? "" : "; ", w->answers,
                   a->finals);
        ok = pass = false;
    }
    if (w->closed >= 0 && res->closed != (w->closed == 1)) {
        aipa__note(reason, "%sthe connection was %s", ok ? "" : "; ",
                   res->closed ? "closed (expected open)" : "left open (expected closed)");
        ok = pass = false;
    }
    if (w->cut_off >= 0 && res->sent_all == (w->cut_off == 1)) {
        aipa__note(reason, "%s%s", ok ? "" : "; ",
                   res->sent_all ? "every byte was accepted (expected a cut-off before the end)"
                                 : "the connection was cut before everything was sent");
        ok = pass = false;
    }
    if (a->garbage) {
        aipa__note(reason, "%sbytes that are no HTTP/1.x answer", ok ? "" : "; ");
        ok = pass = false;
    }
    return pass;
}

enum aipa_verdict aipa__run_wire(const char *target, const struct aipa_step *s, unsigned edition,
                                 const struct aipa_run_env *env, struct aipa_buf *reason,
                                 char **req_text, char **resp_text)
{
    const struct aipa_wire *w = s->wire;
    struct aipa_buf bytes, why;
    struct aipa_raw_result res;
    struct answers a;
    struct aipa_observed obs;
    struct aipa_doc doc;
    enum aipa_verdict v = AIPA_V_ERROR;
    aipa_err e;

    *req_text = *resp_text = NULL;
    aipa_buf_init(&bytes, AIPA_CASE_MAX_EXPANDED + 1024);
    aipa_buf_init(&why, 4096);
    aipa_raw_result_init(&res, MAX_GOT);
    memset(&a, 0, sizeof(a));
    aipa_buf_init(&a.body, MAX_GOT);
    aipa_doc_init(&doc);
    if (aipa_run_env_expand(env, w->send, true, &bytes, &why) != AIPA_OK) {
        aipa__note(reason, "%s", why.ptr != NULL ? why.ptr : "bad substitution");
        goto out;
    }
    *req_text = show(bytes.ptr != NULL ? bytes.ptr : "", bytes.len);
    e = aipa_raw_exchange(target, (const uint8_t *)(bytes.ptr != NULL ? bytes.ptr : ""), bytes.len,
                          w->drip_ms, w->wait_ms, &res);
    if (e != AIPA_OK) {
        aipa__note(reason, "%s", res.error);
        v = e == AIPA_EINVAL ? AIPA_V_SKIP : AIPA_V_ERROR;
        goto out;
    }
    *resp_text = show(res.got.ptr != NULL ? res.got.ptr : "", res.got.len);
    read_answers(res.got.ptr != NULL ? res.got.ptr : "", res.got.len, &a);

    memset(&obs, 0, sizeof(obs));
    obs.status = a.status;
    if (a.status != 0) {
        obs.want_fmt = w->want_fmt;
        obs.content_type = a.ct;
        if (a.body.len > 0 &&
            aipa_parse_body(AIPA_BODY_UNKNOWN, a.ct[0] != '\0' ? a.ct : NULL,
                            (const uint8_t *)a.body.ptr, a.body.len, NULL, &doc, &why) == AIPA_OK) {
            obs.root = doc.root;
            obs.root_name = doc.format == AIPA_BODY_XML ? doc.root_name : NULL;
            obs.body_fmt = doc.format == AIPA_BODY_XML    ? AIPA_VFMT_XML
                           : doc.format == AIPA_BODY_JSON ? AIPA_VFMT_JSON
                                                          : 0;
        } else {
            obs.parse_error = a.body.len == 0 ? "empty body" : "unparseable body";
        }
    }
    v = aipa_match_response(s, edition, &obs, env, reason);
    if (v != AIPA_V_ERROR && !connection_ok(w, &a, &res, reason)) {
        v = AIPA_V_FAIL;
    }
out:
    aipa_doc_cleanup(&doc);
    aipa_buf_cleanup(&a.body);
    aipa_raw_result_cleanup(&res);
    aipa_buf_cleanup(&bytes);
    aipa_buf_cleanup(&why);
    return v;
}
