/*
 * server_mhd.c: the libmicrohttpd front end of the reference server.
 *
 * Per-request state is created by the URI log callback (the first callback
 * MHD makes for a request, and the only one that sees the raw request
 * target with its query string undecoded) and freed only in the
 * NOTIFY_COMPLETED callback. The body is accumulated up to max_body_len.
 */
#include "server_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Room in the per-connection pool beyond the URL and header limits. A
 * request line has to fit in the pool for the server to answer it itself
 * (414 with an error body, the connection kept); past the pool libmicrohttpd
 * reads the rest 128 bytes at a time, rescanning the line after each read,
 * then sends its own bodyless 414 and closes: ~3 ms of CPU and a reconnect
 * for a 70 KB line, against ~0.1 ms once it fits. This much room takes lines
 * of a few times the URL limit (fuzzers send them); the pool's pages are
 * only touched as far as a request fills them.
 */
#define POOL_MARGIN (224u * 1024u)
#define MAX_PEM     (1024u * 1024u)
/*
 * Worker stacks: the deepest path is cJSON parsing a hostile InstanceIds or
 * fixture body (nesting limit 1000, a few hundred bytes a level).
 */
#define THREAD_STACK (1024u * 1024u)

struct conn_req {
    struct aipa_srv *srv;
    char *target;
    size_t target_len;
    struct aipa_buf body;
    bool started;
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct aipa_srv *srv = cls;
    struct conn_req *r = aipa_calloc(1, sizeof(*r));

    (void)conn;
    if (r == NULL) {
        return NULL;
    }
    r->srv = srv;
    r->target_len = strlen(uri);
    r->target = aipa_strndup(uri, r->target_len);
    if (r->target == NULL) {
        aipa_free(r);
        return NULL;
    }
    aipa_buf_init(&r->body, srv->cfg.max_body_len);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_req *r = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (r == NULL) {
        return;
    }
    aipa_buf_cleanup(&r->body);
    aipa_free(r->target);
    aipa_free(r);
    *con_cls = NULL;
}

struct header_list {
    struct aipa_header items[AIPA_SRV_MAX_HEADERS + 1];
    size_t count;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct header_list *l = cls;

    (void)kind;
    if (l->count == AIPA_ARRAY_LEN(l->items)) {
        return MHD_NO; /* one past the limit is enough for the handler to refuse */
    }
    l->items[l->count].name = aipa_slice_cstr(key);
    l->items[l->count].value = aipa_slice_cstr(value != NULL ? value : "");
    l->count++;
    return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct aipa_srv_response *resp)
{
    size_t len = 0;
    char *body = aipa_buf_steal(&resp->body, &len);
    struct MHD_Response *mr;
    enum MHD_Result ret;

    if (body == NULL) {
        return MHD_NO;
    }
    mr = MHD_create_response_from_buffer_with_free_callback(len, body, aipa_free);
    if (mr == NULL) {
        aipa_free(body);
        return MHD_NO;
    }
    if (MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type) != MHD_YES ||
        MHD_add_response_header(mr, "x-acs-request-id", resp->request_id) != MHD_YES) {
        MHD_destroy_response(mr);
        return MHD_NO;
    }
    if (resp->retry_after_ms != 0) {
        char ms[16];

        snprintf(ms, sizeof(ms), "%u", resp->retry_after_ms);
        if (MHD_add_response_header(mr, "x-acs-retry-after", ms) != MHD_YES) {
            MHD_destroy_response(mr);
            return MHD_NO;
        }
    }
    ret = MHD_queue_response(conn, resp->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result answer(struct conn_req *r, struct MHD_Connection *conn, const char *method,
                              size_t declared_body_len)
{
    struct header_list hl;
    struct aipa_srv_request req;
    struct aipa_srv_response resp;
    enum MHD_Result ret = MHD_NO;

    hl.count = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hl);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.target = r->target;
    req.target_len = r->target_len;
    req.headers = hl.items;
    req.header_count = hl.count;
    req.body = (const uint8_t *)(r->body.ptr != NULL ? r->body.ptr : "");
    req.body_len = r->body.len;
    aipa_srv_response_init(&resp);
    if (aipa__srv_handle_declared(r->srv, &req, declared_body_len, &resp) == AIPA_OK) {
        ret = send_response(conn, &resp);
    }
    aipa_srv_response_cleanup(&resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct conn_req *r = *con_cls;
    struct aipa_srv *srv = cls;

    (void)url;
    (void)version;
    if (r == NULL) {
        return MHD_NO; /* the URI callback ran out of memory: drop the connection */
    }
    if (!r->started) {
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long declared = 0;

        r->started = true;
        if (cl != NULL) {
            char *end = NULL;

            declared = strtoull(cl, &end, 10);
            if (declared > srv->cfg.max_body_len) {
                /* Refused before the body is read; MHD then closes the connection. */
                return answer(r, conn, method, (size_t)declared);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (aipa_buf_append(&r->body, upload_data, *upload_data_size) != AIPA_OK) {
            /* A chunked body past the limit (no Content-Length to refuse early): close. */
            return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(r, conn, method, 0);
}

static char *read_file(const char *path, struct aipa_buf *err)
{
    char *out = NULL;
    size_t len = 0;

    if (aipa_read_file(path, MAX_PEM, &out, &len, NULL) != AIPA_OK) {
        if (err != NULL) {
            aipa_buf_reset(err);
            best_effort(aipa_buf_printf(err, "cannot open %s", path));
        }
        return NULL;
    }
    if (len > MAX_PEM) {
        aipa_free(out);
        return NULL;
    }
    return out;
}

static void fail_msg(struct aipa_buf *err, const char *msg)
{
    if (err != NULL) {
        aipa_buf_reset(err);
        best_effort(aipa_buf_puts(err, msg));
    }
}

/*
 * external: no listen socket and no thread of MHD's own; the caller hands
 * connections in with MHD_add_connection and drives them with MHD_run
 * (aipa__srv_start_external, for the fuzz target fuzz_http).
 */
static aipa_err start_daemon(struct aipa_srv *srv, bool external)
{
    struct aipa_buf *err = srv->cfg.error;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    unsigned threads = srv->cfg.threads;
    struct MHD_OptionItem opts[16];
    size_t n = 0;
    const union MHD_DaemonInfo *info;
    size_t pool = srv->cfg.max_url_len + srv->cfg.max_header_bytes + POOL_MARGIN;

    AIPA_ENSURE(srv->daemon == NULL, AIPA_EINVAL);
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, srv->listen_addr, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(srv->cfg.port);
        sa = (const struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, srv->listen_addr, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(srv->cfg.port);
        sa = (const struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        fail_msg(err, "the listen address must be a numeric IPv4 or IPv6 address");
        return AIPA_EINVAL;
    }
    if (srv->cfg.thread_per_connection) {
        flags = (flags & MHD_USE_IPv6) | MHD_USE_THREAD_PER_CONNECTION |
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    } else {
        flags |= MHD_USE_EPOLL | MHD_USE_TURBO;
        if (threads == 0) {
            long nproc = sysconf(_SC_NPROCESSORS_ONLN);

            threads = nproc > 0 ? (unsigned)nproc : 1u;
        }
    }
    if ((srv->tls_cert_file != NULL) != (srv->tls_key_file != NULL)) {
        fail_msg(err, "TLS needs both a certificate and a key");
        return AIPA_EINVAL;
    }
    if (srv->tls_cert_file != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            fail_msg(err, "this libmicrohttpd was built without TLS");
            return AIPA_EINVAL;
        }
        srv->tls_cert_pem = read_file(srv->tls_cert_file, err);
        srv->tls_key_pem = read_file(srv->tls_key_file, err);
        if (srv->tls_cert_pem == NULL || srv->tls_key_pem == NULL) {
            aipa_free(srv->tls_cert_pem);
            aipa_free(srv->tls_key_pem);
            srv->tls_cert_pem = srv->tls_key_pem = NULL;
            return AIPA_EIO;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem};
    }
    if (external) {
        flags = (flags & MHD_USE_TLS) | MHD_USE_NO_LISTEN_SOCKET;
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                        (intptr_t)srv->cfg.max_connections, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                        (intptr_t)srv->cfg.connection_timeout_s, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)pool, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, THREAD_STACK, NULL};
    if (!external && !srv->cfg.thread_per_connection && threads > 1) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    srv->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, sa,
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, srv, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        fail_msg(err, "libmicrohttpd could not start (address in use or not available?)");
        aipa_free(srv->tls_cert_pem);
        aipa_free(srv->tls_key_pem);
        srv->tls_cert_pem = srv->tls_key_pem = NULL;
        return AIPA_EIO;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->bound_port = info != NULL ? info->port : srv->cfg.port;
    return AIPA_OK;
}

aipa_err aipa_srv_start(struct aipa_srv *srv)
{
    return start_daemon(srv, false);
}

aipa_err aipa__srv_start_external(struct aipa_srv *srv)
{
    return start_daemon(srv, true);
}

uint16_t aipa_srv_port(const struct aipa_srv *srv)
{
    return srv->bound_port;
}

void aipa_srv_stop(struct aipa_srv *srv)
{
    if (srv == NULL || srv->daemon == NULL) {
        return;
    }
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    srv->bound_port = 0;
    if (srv->tls_key_pem != NULL) {
        aipa_memzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
    }
    aipa_free(srv->tls_cert_pem);
    aipa_free(srv->tls_key_pem);
    srv->tls_cert_pem = srv->tls_key_pem = NULL;
}
