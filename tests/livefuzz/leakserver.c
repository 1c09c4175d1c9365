/*
 * leakserver: the reference handler behind a libmicrohttpd front end that
 * leaks a stack trace, for testing the live fuzzer's leak oracle.
 *
 * Every API error whose Code ends in ".NotFound" (an unknown InstanceId,
 * Action or AccessKeyId) gets a Java stack trace appended to its Message,
 * in XML and in JSON; everything else, the fixture protocol included, is
 * the reference server's answer unchanged. It binds 127.0.0.1 on an
 * ephemeral port, prints the port on the first line of stdout, and stops
 * after --max-seconds (default 300) or on SIGTERM/SIGINT.
 *
 *   leakserver [--token T] [--max-seconds N]
 */
#include "aipa/render.h"
#include "aipa/server.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY    (1024u * 1024u)
#define MAX_HEADERS 64

static const char trace[] =
    "java.lang.NullPointerException\n\tat "
    "com.example.ecs.AllocateHandler.handle(AllocateHandler.java:142)\n\tat "
    "com.example.gateway.Dispatcher.dispatch(Dispatcher.java:77)";

static volatile sig_atomic_t stopping;
static struct aipa_srv *srv;

struct conn {
    char *uri; /* the request target as received (path and raw query) */
    struct aipa_buf body;
    struct aipa_header headers[MAX_HEADERS];
    size_t header_count;
    bool started; /* the first call (headers only) has been seen */
};

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct conn *x = calloc(1, sizeof(*x));

    (void)cls;
    (void)c;
    if (x == NULL) {
        return NULL;
    }
    x->uri = strdup(uri != NULL ? uri : "/");
    aipa_buf_init(&x->body, MAX_BODY);
    return x;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
                    enum MHD_RequestTerminationCode toe)
{
    struct conn *x = *ctx;

    (void)cls;
    (void)c;
    (void)toe;
    if (x != NULL) {
        free(x->uri);
        aipa_buf_cleanup(&x->body);
        free(x);
        *ctx = NULL;
    }
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct conn *x = cls;

    (void)kind;
    if (x->header_count < MAX_HEADERS) {
        x->headers[x->header_count].name = aipa_slice_cstr(key);
        x->headers[x->header_count].value = aipa_slice_cstr(value != NULL ? value : "");
        x->header_count++;
    }
    return MHD_YES;
}

/* Appends the trace to the Message of an error body. */
static void leak(struct aipa_srv_response *r)
{
    struct aipa_buf out;
    const char *body = r->body.ptr != NULL ? r->body.ptr : "";

    aipa_buf_init(&out, 2 * MAX_BODY);
    if (strcmp(r->content_type, AIPA_CT_JSON) == 0) {
        cJSON *doc = cJSON_ParseWithLength(body, r->body.len);
        cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "Message");
        if (cJSON_IsString(m)) {
            char *text = NULL;
            struct aipa_buf msg;
            aipa_buf_init(&msg, MAX_BODY);
            if (aipa_buf_printf(&msg, "%s %s", m->valuestring, trace) == AIPA_OK &&
                cJSON_ReplaceItemInObjectCaseSensitive(doc, "Message",
                                                       cJSON_CreateString(msg.ptr)) &&
                (text = cJSON_PrintUnformatted(doc)) != NULL &&
                aipa_buf_puts(&out, text) == AIPA_OK) {
                aipa_buf_reset(&r->body);
                if (aipa_buf_append(&r->body, out.ptr, out.len) != AIPA_OK) {
                    r->status = 500; /* cannot happen: the body shrank to 0 first */
                }
            }
            cJSON_free(text);
            aipa_buf_cleanup(&msg);
        }
        cJSON_Delete(doc);
    } else {
        const char *end = strstr(body, "</Message>");
        if (end != NULL && aipa_buf_append(&out, body, (size_t)(end - body)) == AIPA_OK &&
            aipa_buf_putc(&out, ' ') == AIPA_OK && aipa_buf_puts(&out, trace) == AIPA_OK &&
            aipa_buf_puts(&out, end) == AIPA_OK) {
            aipa_buf_reset(&r->body);
            if (aipa_buf_append(&r->body, out.ptr, out.len) != AIPA_OK) {
                r->status = 500;
            }
        }
    }
    aipa_buf_cleanup(&out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **ctx)
{
    struct conn *x = *ctx;
    struct aipa_srv_request req;
    struct aipa_srv_response resp;
    struct MHD_Response *mr;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)version;
    if (x == NULL) {
        return MHD_NO;
    }
    if (!x->started) {
        x->started = true; /* the body, if any, comes in the next calls */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (aipa_buf_append(&x->body, upload, *upload_size) != AIPA_OK) {
            return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    x->header_count = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, x);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.target = x->uri;
    req.target_len = strlen(x->uri);
    req.headers = x->headers;
    req.header_count = x->header_count;
    req.body = (const uint8_t *)(x->body.ptr != NULL ? x->body.ptr : "");
    req.body_len = x->body.len;
    aipa_srv_response_init(&resp);
    if (aipa_srv_handle(srv, &req, &resp) != AIPA_OK) {
        aipa_srv_response_cleanup(&resp);
        return MHD_NO;
    }
    if (resp.status >= 400 && strncmp(x->uri, "/_aipa", 6) != 0) {
        size_t cl = strlen(resp.code);
        if (cl > 9 && strcmp(resp.code + cl - 9, ".NotFound") == 0) {
            leak(&resp);
        }
    }
    mr = MHD_create_response_from_buffer(
        resp.body.len, (void *)(uintptr_t)(resp.body.ptr != NULL ? resp.body.ptr : ""),
        MHD_RESPMEM_MUST_COPY);
    if (mr == NULL) {
        aipa_srv_response_cleanup(&resp);
        return MHD_NO;
    }
    if (resp.content_type != NULL) {
        MHD_add_response_header(mr, "Content-Type", resp.content_type);
    }
    ret = MHD_queue_response(c, resp.status, mr);
    MHD_destroy_response(mr);
    aipa_srv_response_cleanup(&resp);
    return ret;
}

int main(int argc, char **argv)
{
    struct aipa_srv_config cfg;
    const char *token = "aipa-leak";
    unsigned max_seconds = 300;
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    time_t start = time(NULL);

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--token") == 0) {
            token = argv[i + 1];
        } else if (strcmp(argv[i], "--max-seconds") == 0) {
            max_seconds = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else {
            fprintf(stderr, "leakserver: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    aipa_srv_config_defaults(&cfg);
    cfg.fixtures = true;
    cfg.fixture_token = token;
    cfg.seed = 11;
    if (aipa_srv_new(&srv, &cfg) != AIPA_OK) {
        fprintf(stderr, "leakserver: cannot create the handler\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                         on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "leakserver: cannot listen\n");
        aipa_srv_free(srv);
        return 2;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("%u\n", info != NULL ? (unsigned)info->port : 0u);
    fflush(stdout);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stopping && (unsigned)(time(NULL) - start) < max_seconds) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
    aipa_srv_free(srv);
    return 0;
}
