/*
 * call_main.c: `aipa call` (one request, like curl for this API) and
 * `aipa sign` (StringToSign and signature, for debugging). docs/call.md.
 */
#define _GNU_SOURCE /* strcasestr */
#include "aipa/client.h"
#include "aipa/parse.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LIST            64    /* each repeatable option */
#define SECRET_FILE_MAX     4096u /* bytes read from --secret-file */
#define DEFAULT_SIGN_TARGET "https://ecs.aliyuncs.com"

enum {
    OPT_TARGET = 256,
    OPT_SIG,
    OPT_METHOD,
    OPT_FORM,
    OPT_FORMAT,
    OPT_AKID,
    OPT_SECRET_FILE,
    OPT_SECRET_ENV,
    OPT_TIMESTAMP,
    OPT_NONCE,
    OPT_SIGN_METHOD,
    OPT_OMIT,
    OPT_REMOVE_HEADER,
    OPT_INSECURE,
    OPT_CACERT,
    OPT_CONNECT_TIMEOUT,
    OPT_TIMEOUT,
    OPT_MAX_RESPONSE,
    OPT_RAW_METHOD,
    OPT_RAW_TARGET,
    OPT_RAW_HEADER,
    OPT_RAW_BODY,
    OPT_SHOW_REQUEST,
    OPT_BODY_ONLY,
    OPT_REPRO,
    OPT_VERSION_PARAM,
};

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"target", required_argument, NULL, OPT_TARGET},
    {"sig", required_argument, NULL, OPT_SIG},
    {"method", required_argument, NULL, OPT_METHOD},
    {"form", no_argument, NULL, OPT_FORM},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"access-key-id", required_argument, NULL, OPT_AKID},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"secret-env", required_argument, NULL, OPT_SECRET_ENV},
    {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
    {"nonce", required_argument, NULL, OPT_NONCE},
    {"sign-method", required_argument, NULL, OPT_SIGN_METHOD},
    {"omit", required_argument, NULL, OPT_OMIT},
    {"header", required_argument, NULL, 'H'},
    {"remove-header", required_argument, NULL, OPT_REMOVE_HEADER},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"max-response", required_argument, NULL, OPT_MAX_RESPONSE},
    {"raw-method", required_argument, NULL, OPT_RAW_METHOD},
    {"raw-target", required_argument, NULL, OPT_RAW_TARGET},
    {"raw-header", required_argument, NULL, OPT_RAW_HEADER},
    {"raw-body", required_argument, NULL, OPT_RAW_BODY},
    {"show-request", no_argument, NULL, OPT_SHOW_REQUEST},
    {"body-only", no_argument, NULL, OPT_BODY_ONLY},
    {"repro", no_argument, NULL, OPT_REPRO},
    {"api-version", required_argument, NULL, OPT_VERSION_PARAM},
    {NULL, 0, NULL, 0},
};

static const char call_usage[] =
    "usage: aipa call --target URL [options] Name=Value ...\n"
    "\n"
    "Sends one request to an Alibaba Cloud RPC endpoint and prints the status line,\n"
    "the response headers and the body. Exit status: 0 on a 2xx response whose body\n"
    "parses as the XML or JSON its Content-Type declares; 1 on any other HTTP status\n"
    "(an API error) or a 2xx answer that is not one (a reason on stderr: a body that\n"
    "does not parse, an HTML page, a Content-Encoding nobody asked for, another format\n"
    "than --format asked for); 2 on a usage or transport error.\n"
    "\n"
    "Request:\n"
    "  --target URL            base URL (http or https; its path is the RPC path, default /)\n"
    "  --sig v1|v3|none        signature: V1 HMAC-SHA1 (default), V3 ACS3-HMAC-SHA256, none\n"
    "  --method M              HTTP method (default GET); POST keeps params in the query\n"
    "  --form                  POST the parameters as a form body (V1 and none only)\n"
    "  --format json|xml       ask for a format (V1: Format param; V3: Accept or Format=XML)\n"
    "  --api-version V         Version (default 2014-05-26)\n"
    "  Name=Value              operation parameters, e.g. Action=AllocatePublicIpAddress\n"
    "\n"
    "Credentials (never printed):\n"
    "  --access-key-id ID      default: $AIPA_ACCESS_KEY_ID\n"
    "  --secret-file FILE      the secret is the file's first line; default: "
    "$AIPA_ACCESS_KEY_SECRET\n"
    "  --secret-env NAME       read the secret from environment variable NAME\n"
    "  $AIPA_SECURITY_TOKEN    an STS token: sent as SecurityToken (V1) or the signed\n"
    "                          x-acs-security-token header (V3)\n"
    "\n"
    "Negative cases:\n"
    "  --timestamp T           Timestamp / x-acs-date, verbatim\n"
    "  --nonce N               SignatureNonce / x-acs-signature-nonce, verbatim\n"
    "  --sign-method M         sign as if the method were M\n"
    "  --omit NAME             leave out a common parameter or header (repeatable)\n"
    "  -H, --header 'N: V'     add a header before signing (repeatable)\n"
    "  --remove-header NAME    remove a header after signing (repeatable)\n"
    "  --raw-target BYTES      raw mode: send this request target as is, unsigned\n"
    "  --raw-method M          raw mode method (default GET)\n"
    "  --raw-header 'N: V'     raw mode header line (repeatable)\n"
    "  --raw-body BYTES        raw mode body\n"
    "\n"
    "Transport:\n"
    "  --insecure              do not verify the TLS certificate (explicit only)\n"
    "  --cacert FILE           verify the target with this CA bundle\n"
    "  --connect-timeout-ms N  default 5000\n"
    "  --timeout-ms N          whole request, default 30000\n"
    "  --max-response BYTES    body cap, default 8388608\n"
    "\n"
    "Output:\n"
    "  --show-request          print the request (and StringToSign) to stderr first\n"
    "  --body-only             print only the body\n"
    "  --repro                 print the command line that reproduces the request, and exit\n"
    "  -h, --help              this text\n";

static const char sign_usage[] =
    "usage: aipa sign [options] Name=Value ...\n"
    "\n"
    "Prints the StringToSign (for V3 also the canonical request and the\n"
    "Authorization header) and the signature of a request, without sending it.\n"
    "Give --timestamp and --nonce for reproducible output.\n"
    "\n"
    "  --sig v1|v3             signature version (default v1)\n"
    "  --method M              HTTP method that is signed (default GET)\n"
    "  --form                  V1 form body shape (the StringToSign is the same)\n"
    "  --format json|xml       adds Format (V1) or Accept/Format (V3) as aipa call would\n"
    "  --target URL            the host that V3 signs (default " DEFAULT_SIGN_TARGET ")\n"
    "  --access-key-id ID      default: $AIPA_ACCESS_KEY_ID\n"
    "  --secret-file FILE      default: $AIPA_ACCESS_KEY_SECRET\n"
    "  --secret-env NAME       read the secret from environment variable NAME\n"
    "  $AIPA_SECURITY_TOKEN    an STS token: sent as SecurityToken (V1) or the signed\n"
    "                          x-acs-security-token header (V3)\n"
    "  --timestamp T           fixed Timestamp / x-acs-date\n"
    "  --nonce N               fixed SignatureNonce / x-acs-signature-nonce\n"
    "  --api-version V         Version (default 2014-05-26)\n"
    "  -H, --header 'N: V'     extra header (V3 signs x-acs-* headers)\n"
    "  --omit NAME             leave out a common parameter or header\n"
    "  -h, --help              this text\n";

struct cli {
    const char *target;
    enum aipa_sig sig;
    const char *method;
    bool form;
    enum aipa_want want;
    const char *akid;
    const char *secret_file;
    const char *secret_env;
    const char *timestamp;
    const char *nonce;
    const char *sign_method;
    const char *api_version;
    const char *omit[MAX_LIST];
    size_t omit_count;
    struct aipa_kv headers[MAX_LIST];
    char *header_store[MAX_LIST];
    size_t header_count;
    const char *remove[MAX_LIST];
    size_t remove_count;
    bool insecure;
    const char *cacert;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response;
    bool raw;
    const char *raw_method;
    const char *raw_target;
    const char *raw_headers[MAX_LIST];
    size_t raw_header_count;
    const char *raw_body;
    bool show_request;
    bool body_only;
    bool repro;
    struct aipa_params params;
};

static void cli_cleanup(struct cli *c)
{
    for (size_t i = 0; i < c->header_count; i++) {
        aipa_free(c->header_store[i]);
    }
    aipa_params_cleanup(&c->params);
}

static bool push(const char **list, size_t *count, const char *v)
{
    if (*count >= MAX_LIST) {
        return false;
    }
    list[(*count)++] = v;
    return true;
}

static bool parse_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0) {
        return false;
    }
    *out = v;
    return true;
}

/* "Name: value" into a header (split at the first ':', value's leading blanks dropped). */
static bool add_header_opt(struct cli *c, const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL || colon == line || c->header_count >= MAX_LIST) {
        return false;
    }
    char *name = aipa_strndup(line, (size_t)(colon - line));
    if (name == NULL) {
        return false;
    }
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    c->header_store[c->header_count] = name;
    c->headers[c->header_count].name = name;
    c->headers[c->header_count].value = v;
    c->header_count++;
    return true;
}

/*
 * STS: with $AIPA_SECURITY_TOKEN set, the request carries it as the SDKs
 * send it: V1 (and unsigned) the SecurityToken parameter, V3 the
 * x-acs-security-token header, signed. A SecurityToken parameter or header
 * given on the command line wins. False when it could not be added.
 */
static bool add_security_token(struct cli *c)
{
    const char *tok = getenv("AIPA_SECURITY_TOKEN");
    char *name;

    if (tok == NULL || tok[0] == '\0' || c->raw ||
        aipa_params_get(&c->params, "SecurityToken") != NULL) {
        return true;
    }
    if (c->sig != AIPA_SIG_V3) {
        return aipa_params_add_cstr(&c->params, "SecurityToken", tok) == AIPA_OK;
    }
    for (size_t i = 0; i < c->header_count; i++) {
        if (strcasecmp(c->headers[i].name, "x-acs-security-token") == 0) {
            return true;
        }
    }
    if (c->header_count >= MAX_LIST || (name = aipa_strdup("x-acs-security-token")) == NULL) {
        return false;
    }
    c->header_store[c->header_count] = name;
    c->headers[c->header_count].name = name;
    c->headers[c->header_count].value = tok;
    c->header_count++;
    return true;
}

/* Parses the options shared by call and sign; returns 0 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct cli *c, const char *usage, const char *cmd)
{
    int ch;

    memset(c, 0, sizeof(*c));
    c->sig = AIPA_SIG_V1;
    aipa_params_init(&c->params, NULL);
    optind = 0; /* glibc: full reinitialisation, so the parser can run twice in a process */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "hH:", long_opts, NULL)) != -1) {
        bool ok = true;
        switch (ch) {
        case 'h':
            fputs(usage, stdout);
            return -1;
        case OPT_TARGET:
            c->target = optarg;
            break;
        case OPT_SIG:
            if (strcmp(optarg, "v1") == 0) {
                c->sig = AIPA_SIG_V1;
            } else if (strcmp(optarg, "v3") == 0) {
                c->sig = AIPA_SIG_V3;
            } else if (strcmp(optarg, "none") == 0) {
                c->sig = AIPA_SIG_NONE;
            } else {
                ok = false;
            }
            break;
        case OPT_METHOD:
            c->method = optarg;
            ok = optarg[0] != '\0';
            break;
        case OPT_FORM:
            c->form = true;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0) {
                c->want = AIPA_WANT_JSON;
            } else if (strcmp(optarg, "xml") == 0) {
                c->want = AIPA_WANT_XML;
            } else {
                ok = false;
            }
            break;
        case OPT_AKID:
            c->akid = optarg;
            break;
        case OPT_SECRET_FILE:
            c->secret_file = optarg;
            break;
        case OPT_SECRET_ENV:
            c->secret_env = optarg;
            break;
        case OPT_TIMESTAMP:
            c->timestamp = optarg;
            break;
        case OPT_NONCE:
            c->nonce = optarg;
            break;
        case OPT_SIGN_METHOD:
            c->sign_method = optarg;
            break;
        case OPT_VERSION_PARAM:
            c->api_version = optarg;
            break;
        case OPT_OMIT:
            ok = push(c->omit, &c->omit_count, optarg);
            break;
        case 'H':
            ok = add_header_opt(c, optarg);
            break;
        case OPT_REMOVE_HEADER:
            ok = push(c->remove, &c->remove_count, optarg);
            break;
        case OPT_INSECURE:
            c->insecure = true;
            break;
        case OPT_CACERT:
            c->cacert = optarg;
            break;
        case OPT_CONNECT_TIMEOUT:
            ok = parse_long(optarg, &c->connect_timeout_ms);
            break;
        case OPT_TIMEOUT:
            ok = parse_long(optarg, &c->timeout_ms);
            break;
        case OPT_MAX_RESPONSE: {
            long v = 0;
            ok = parse_long(optarg, &v);
            c->max_response = (size_t)v;
            break;
        }
        case OPT_RAW_METHOD:
            c->raw_method = optarg;
            c->raw = true;
            break;
        case OPT_RAW_TARGET:
            c->raw_target = optarg;
            c->raw = true;
            break;
        case OPT_RAW_HEADER:
            ok = push(c->raw_headers, &c->raw_header_count, optarg);
            c->raw = true;
            break;
        case OPT_RAW_BODY:
            c->raw_body = optarg;
            c->raw = true;
            break;
        case OPT_SHOW_REQUEST:
            c->show_request = true;
            break;
        case OPT_BODY_ONLY:
            c->body_only = true;
            break;
        case OPT_REPRO:
            c->repro = true;
            break;
        default:
            fprintf(stderr, "aipa %s: unknown option or missing argument: %s\n", cmd,
                    argv[optind - 1]);
            fprintf(stderr, "'aipa %s --help' lists the options.\n", cmd);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "aipa %s: bad value for %s: '%s'\n", cmd, argv[optind - 1],
                    optarg != NULL ? optarg : "");
            return 2;
        }
    }
    for (int i = optind; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || eq == argv[i]) {
            fprintf(stderr, "aipa %s: expected Name=Value, got '%s'\n", cmd, argv[i]);
            return 2;
        }
        aipa_err e = aipa_params_add(&c->params, argv[i], (size_t)(eq - argv[i]), eq + 1,
                                     strlen(eq + 1), AIPA_PARAM_BUILT);
        if (e != AIPA_OK) {
            fprintf(stderr, "aipa %s: parameter '%.*s': %s\n", cmd, (int)(eq - argv[i]), argv[i],
                    aipa_strerror(e));
            return 2;
        }
    }
    if (c->form && c->sig == AIPA_SIG_V3) {
        fprintf(stderr, "aipa %s: --form needs --sig v1 or none (V3 keeps params in the query)\n",
                cmd);
        return 2;
    }
    return 0;
}

/* The secret from --secret-file, --secret-env or $AIPA_ACCESS_KEY_SECRET; NULL if none. */
static char *load_secret(const struct cli *c, const char *cmd)
{
    if (c->secret_file != NULL) {
        FILE *f = fopen(c->secret_file, "r");
        if (f == NULL) {
            fprintf(stderr, "aipa %s: cannot read --secret-file %s: %s\n", cmd, c->secret_file,
                    strerror(errno));
            return NULL;
        }
        char buf[SECRET_FILE_MAX + 1];
        size_t n = fread(buf, 1, SECRET_FILE_MAX, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        char *s = aipa_strdup(buf);
        aipa_memzero(buf, sizeof(buf));
        return s;
    }
    const char *env = c->secret_env != NULL ? c->secret_env : "AIPA_ACCESS_KEY_SECRET";
    const char *v = getenv(env);
    if (v == NULL) {
        fprintf(stderr, "aipa %s: no secret: set $%s or give --secret-file\n", cmd, env);
        return NULL;
    }
    return aipa_strdup(v);
}

static void free_secret(char *s)
{
    if (s != NULL) {
        aipa_memzero(s, strlen(s));
        aipa_free(s);
    }
}

static void fill_request(const struct cli *c, struct aipa_request *req)
{
    aipa_request_init(req);
    req->sig = c->sig;
    const char *m = c->method != NULL ? c->method : "GET";
    if (c->form) {
        req->shape = AIPA_SHAPE_POST_FORM;
    } else {
        req->shape = strcmp(m, "GET") == 0 ? AIPA_SHAPE_GET : AIPA_SHAPE_POST_QUERY;
    }
    if (c->method != NULL && strcmp(c->method, "GET") != 0 && strcmp(c->method, "POST") != 0) {
        req->method = c->method;
    }
    req->want = c->want;
    req->params = &c->params;
    req->timestamp = c->timestamp;
    req->nonce = c->nonce;
    req->sign_method = c->sign_method;
    req->omit = c->omit;
    req->omit_count = c->omit_count;
    req->extra_headers = c->headers;
    req->extra_header_count = c->header_count;
    req->remove_headers = c->remove;
    req->remove_header_count = c->remove_count;
    if (c->raw) {
        req->raw = true;
        req->raw_method = c->raw_method;
        req->raw_target = (const uint8_t *)(c->raw_target != NULL ? c->raw_target : "/");
        req->raw_target_len = strlen((const char *)req->raw_target);
        req->raw_headers = c->raw_headers;
        req->raw_header_count = c->raw_header_count;
        req->raw_body = (const uint8_t *)c->raw_body;
        req->raw_body_len = c->raw_body != NULL ? strlen(c->raw_body) : 0;
    }
}

static void print_built(FILE *f, const struct aipa_built *b)
{
    fprintf(f, "> %s %s\n", b->method.ptr, b->target.ptr);
    for (size_t i = 0; i < b->header_count; i++) {
        if (b->headers[i].value != NULL) {
            fprintf(f, "> %s: %s\n", b->headers[i].name, b->headers[i].value);
        } else {
            fprintf(f, "> %s\n", b->headers[i].name);
        }
    }
    if (b->body.len > 0) {
        fprintf(f, ">\n> %.*s\n", (int)b->body.len, b->body.ptr);
    }
    if (b->trace.canonical_request.len > 0) {
        fprintf(f, "CanonicalRequest:\n%s\n", b->trace.canonical_request.ptr);
    }
    if (b->trace.string_to_sign.len > 0) {
        fprintf(f, "StringToSign:\n%s\n", b->trace.string_to_sign.ptr);
    }
}

/*
 * The verdict on a 2xx answer: NULL when its body is an API answer, else a
 * reason in why. The request never offers an encoding (no Accept-Encoding),
 * so any Content-Encoding but identity is one nobody asked for; the body
 * must parse, bounded (no DTD or entity, a depth limit), as the format its
 * Content-Type declares, and be the format --format asked for.
 */
static const char *judge_2xx(const struct cli *c, const struct aipa_response *r,
                             struct aipa_buf *why)
{
    const char *enc = aipa_response_header(r, "Content-Encoding");
    const char *ct = r->content_type;
    enum aipa_body_format declared = AIPA_BODY_UNKNOWN;
    struct aipa_doc doc;
    struct aipa_buf parse_why;
    aipa_err e;

    if (enc != NULL && enc[0] != '\0' && strcasecmp(enc, "identity") != 0) {
        return aipa_buf_printf(why,
                               "the answer carries Content-Encoding: %s, which the request did "
                               "not ask for (it sent no Accept-Encoding)",
                               enc) == AIPA_OK
                   ? why->ptr
                   : "(out of memory)";
    }
    if (strcasestr(ct, "json") != NULL) {
        declared = AIPA_BODY_JSON;
    } else if (strcasestr(ct, "xml") != NULL) {
        declared = AIPA_BODY_XML;
    }
    if (declared == AIPA_BODY_UNKNOWN) {
        enum aipa_body_format held =
            aipa_detect_format(NULL, (const uint8_t *)r->body.ptr, r->body.len);
        bool html = r->body.ptr != NULL && strcasestr(r->body.ptr, "<html") != NULL;

        return aipa_buf_printf(
                   why, "a %ld answer labelled \"%s\": neither XML nor JSON%s", r->status,
                   ct[0] != '\0' ? ct : "(no Content-Type)",
                   html                     ? " (an HTML page, not an API answer)"
                   : held == AIPA_BODY_XML  ? " (the body looks like XML: the label is wrong)"
                   : held == AIPA_BODY_JSON ? " (the body looks like JSON: the label is wrong)"
                                            : "") == AIPA_OK
                   ? why->ptr
                   : "(out of memory)";
    }
    if ((c->want == AIPA_WANT_JSON && declared != AIPA_BODY_JSON) ||
        (c->want == AIPA_WANT_XML && declared != AIPA_BODY_XML)) {
        return aipa_buf_printf(why, "asked for %s, the answer is labelled %s",
                               c->want == AIPA_WANT_JSON ? "JSON" : "XML", ct) == AIPA_OK
                   ? why->ptr
                   : "(out of memory)";
    }
    aipa_buf_init(&parse_why, 4096);
    aipa_doc_init(&doc);
    e = aipa_parse_body(declared, ct, (const uint8_t *)r->body.ptr, r->body.len, NULL, &doc,
                        &parse_why);
    aipa_doc_cleanup(&doc);
    if (e != AIPA_OK) {
        if (aipa_buf_printf(why, "the body does not parse as the %s its Content-Type declares: %s",
                            declared == AIPA_BODY_JSON ? "JSON" : "XML",
                            parse_why.ptr != NULL ? parse_why.ptr : aipa_strerror(e)) != AIPA_OK) {
            aipa_buf_reset(why);
        }
    }
    aipa_buf_cleanup(&parse_why);
    return e != AIPA_OK ? (why->len > 0 ? why->ptr : aipa_strerror(e)) : NULL;
}

static struct aipa_client *make_client(const struct cli *c, const char *target, const char *akid,
                                       const char *secret, const char *cmd)
{
    struct aipa_client_config cfg;
    struct aipa_client *client = NULL;

    aipa_client_config_defaults(&cfg);
    cfg.target = target;
    cfg.access_key_id = akid;
    cfg.access_key_secret = secret;
    cfg.version = c->api_version;
    cfg.insecure = c->insecure;
    cfg.ca_file = c->cacert;
    if (c->connect_timeout_ms > 0) {
        cfg.connect_timeout_ms = c->connect_timeout_ms;
    }
    if (c->timeout_ms > 0) {
        cfg.timeout_ms = c->timeout_ms;
    }
    if (c->max_response > 0) {
        cfg.max_response = c->max_response;
    }
    aipa_err e = aipa_client_new(&client, &cfg);
    if (e != AIPA_OK) {
        fprintf(stderr, "aipa %s: %s: %s\n", cmd,
                e == AIPA_EINVAL ? "--target must be an http:// or https:// URL" : "client",
                e == AIPA_EINVAL ? target : aipa_strerror(e));
        return NULL;
    }
    return client;
}

int aipa_call_main(int argc, char **argv)
{
    struct cli c;
    int rc = parse_args(argc, argv, &c, call_usage, "call");
    char *secret = NULL;
    struct aipa_client *client = NULL;
    struct aipa_request req;
    struct aipa_built b;
    struct aipa_response r;

    aipa_built_init(&b);
    aipa_response_init(&r);
    if (rc != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    rc = 2;
    if (c.target == NULL) {
        fprintf(stderr, "aipa call: --target URL is required\n");
        goto out;
    }
    if (!c.raw && c.params.count == 0) {
        fprintf(stderr, "aipa call: give at least one Name=Value (e.g. Action=...)\n");
        goto out;
    }
    const char *akid = c.akid != NULL ? c.akid : getenv("AIPA_ACCESS_KEY_ID");
    bool needs_key = !c.raw && c.sig != AIPA_SIG_NONE && !c.repro;
    if (needs_key) {
        if (akid == NULL) {
            fprintf(stderr, "aipa call: no AccessKeyId: give --access-key-id or set "
                            "$AIPA_ACCESS_KEY_ID\n");
            goto out;
        }
        secret = load_secret(&c, "call");
        if (secret == NULL) {
            goto out;
        }
    }
    client = make_client(&c, c.target, akid, secret, "call");
    if (client == NULL) {
        goto out;
    }
    if (!add_security_token(&c)) {
        fprintf(stderr, "aipa call: cannot add $AIPA_SECURITY_TOKEN\n");
        goto out;
    }
    fill_request(&c, &req);
    if (c.repro) {
        struct aipa_buf line;
        aipa_buf_init(&line, 1u << 24);
        if (aipa_client_repro(client, &req, &line) == AIPA_OK) {
            printf("%s\n", line.ptr);
            rc = 0;
        }
        aipa_buf_cleanup(&line);
        goto out;
    }
    aipa_err e = aipa_client_build(client, &req, &b);
    if (e != AIPA_OK) {
        fprintf(stderr, "aipa call: cannot build the request: %s\n", aipa_strerror(e));
        goto out;
    }
    if (c.show_request) {
        print_built(stderr, &b);
    }
    e = aipa_client_send(client, &b, &r);
    if (e != AIPA_OK) {
        fprintf(stderr, "aipa call: %s\n", aipa_strerror(e));
        goto out;
    }
    if (r.xerr != AIPA_XERR_NONE) {
        fprintf(stderr, "aipa call: transport error (%s): %s\n", aipa_xerr_name(r.xerr),
                r.xerr_msg);
        goto out;
    }
    if (!c.body_only) {
        printf("HTTP %ld\n", r.status);
        for (size_t i = 0; i < r.header_count; i++) {
            printf("%s: %s\n", r.headers[i].name, r.headers[i].value);
        }
        printf("\n");
    }
    if (r.body.len > 0) {
        fwrite(r.body.ptr, 1, r.body.len, stdout);
        if (r.body.ptr[r.body.len - 1] != '\n') {
            putchar('\n');
        }
    }
    fflush(stdout);
    fprintf(stderr, "aipa call: HTTP %ld in %.1f ms\n", r.status, r.elapsed_ms);
    rc = (r.status >= 200 && r.status < 300) ? 0 : 1;
    if (rc == 0) {
        struct aipa_buf why;
        const char *bad;

        aipa_buf_init(&why, 64 * 1024);
        bad = judge_2xx(&c, &r, &why);
        if (bad != NULL) {
            fprintf(stderr, "aipa call: not an API answer: %s\n", bad);
            rc = 1;
        }
        aipa_buf_cleanup(&why);
    }
out:
    aipa_response_cleanup(&r);
    aipa_built_cleanup(&b);
    aipa_client_free(client);
    free_secret(secret);
    cli_cleanup(&c);
    return rc;
}

int aipa_sign_main(int argc, char **argv)
{
    struct cli c;
    int rc = parse_args(argc, argv, &c, sign_usage, "sign");
    char *secret = NULL;
    struct aipa_client *client = NULL;
    struct aipa_request req;
    struct aipa_built b;

    aipa_built_init(&b);
    if (rc != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    rc = 2;
    if (c.sig == AIPA_SIG_NONE || c.raw) {
        fprintf(stderr, "aipa sign: needs --sig v1 or v3, and no raw options\n");
        goto out;
    }
    const char *akid = c.akid != NULL ? c.akid : getenv("AIPA_ACCESS_KEY_ID");
    if (akid == NULL) {
        fprintf(stderr, "aipa sign: no AccessKeyId: give --access-key-id or set "
                        "$AIPA_ACCESS_KEY_ID\n");
        goto out;
    }
    secret = load_secret(&c, "sign");
    if (secret == NULL) {
        goto out;
    }
    client =
        make_client(&c, c.target != NULL ? c.target : DEFAULT_SIGN_TARGET, akid, secret, "sign");
    if (!add_security_token(&c)) {
        fprintf(stderr, "aipa sign: cannot add $AIPA_SECURITY_TOKEN\n");
        goto out;
    }
    if (client == NULL) {
        goto out;
    }
    fill_request(&c, &req);
    aipa_err e = aipa_client_build(client, &req, &b);
    if (e != AIPA_OK) {
        fprintf(stderr, "aipa sign: cannot build the request: %s\n", aipa_strerror(e));
        goto out;
    }
    if (c.sig == AIPA_SIG_V3) {
        printf("CanonicalRequest:\n%s\n\n", b.trace.canonical_request.ptr);
    }
    printf("StringToSign:\n%s\n\n", b.trace.string_to_sign.ptr);
    if (c.sig == AIPA_SIG_V3) {
        const char *auth = aipa_built_header(&b, "Authorization");
        printf("Authorization: %s\n", auth != NULL ? auth : "(omitted)");
    }
    printf("Signature: %s\n", b.trace.signature);
    rc = 0;
out:
    aipa_built_cleanup(&b);
    aipa_client_free(client);
    free_secret(secret);
    cli_cleanup(&c);
    return rc;
}
