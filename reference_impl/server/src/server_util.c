/*
 * server_util.c: the helpers the handler (server.c), auth (server_auth.c)
 * and the fixture protocol (server_fixtures.c) share. It calls none of
 * them, so those files only point down to this one.
 */
#include "server_int.h"

#include <string.h>
#include <strings.h>
#include <time.h>

int64_t aipa__srv_now(const struct aipa_srv *srv)
{
    if (srv->cfg.now != NULL) {
        return srv->cfg.now(srv->cfg.now_ctx);
    }
    return (int64_t)time(NULL);
}

void aipa__srv_request_id(struct aipa_srv *srv, char out[37])
{
    pthread_mutex_lock(&srv->rng_lock);
    aipa_rng_uuid(&srv->rng, out);
    pthread_mutex_unlock(&srv->rng_lock);
}

const struct aipa_header *aipa__srv_header(const struct aipa_srv_request *req, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < req->header_count; i++) {
        const struct aipa_header *h = &req->headers[i];

        if (h->name.len == n && strncasecmp((const char *)h->name.ptr, name, n) == 0) {
            return h;
        }
    }
    return NULL;
}

void aipa__srv_json_reply(struct aipa_srv_response *resp, unsigned status, const char *body,
                          size_t len)
{
    aipa_buf_reset(&resp->body);
    resp->content_type = AIPA_CT_JSON;
    resp->status = status;
    if (aipa_buf_append(&resp->body, body, len) != AIPA_OK) {
        aipa_buf_reset(&resp->body);
        resp->status = 500;
        best_effort(aipa_buf_puts(&resp->body, "{\"ok\":false,\"error\":\"out of memory\"}"));
    }
}

void aipa__srv_printable(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];

        dst[i] = c > 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[n] = '\0';
}
