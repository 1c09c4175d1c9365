/*
 * server_fixtures.c: the test-only fixture protocol under /_aipa/
 * (conformance/FIXTURES.md is its specification).
 */
#include "aipa/model.h"
#include "aipa/sign.h"
#include "server_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define FIXTURE_PROTOCOL 1
#define MAX_REASON       512u

static const char *edition_name(unsigned ed)
{
    return aipa_edition_name(ed == AIPA_ED_2018 ? AIPA_ED_2018 : AIPA_ED_2024);
}

/* {"ok":false,"error":reason} with status. */
static void fail(struct aipa_srv_response *resp, unsigned status, const char *code,
                 const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;

    if (o != NULL && cJSON_AddBoolToObject(o, "ok", 0) != NULL &&
        cJSON_AddStringToObject(o, "error", reason) != NULL) {
        text = cJSON_PrintUnformatted(o);
    }
    snprintf(resp->code, sizeof(resp->code), "%s", code);
    if (text != NULL) {
        aipa__srv_json_reply(resp, status, text, strlen(text));
    } else {
        aipa__srv_json_reply(resp, 500, "{\"ok\":false,\"error\":\"out of memory\"}", 36);
    }
    cJSON_free(text);
    cJSON_Delete(o);
}

static void reply_obj(struct aipa_srv_response *resp, unsigned status, cJSON *o)
{
    char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

    if (text == NULL) {
        fail(resp, 500, "OutOfMemory", "out of memory");
    } else {
        aipa__srv_json_reply(resp, status, text, strlen(text));
    }
    cJSON_free(text);
    cJSON_Delete(o);
}

/* The body as a JSON document, or NULL after answering 400. */
static cJSON *parse_body(const struct aipa_srv_request *req, struct aipa_srv_response *resp)
{
    cJSON *doc = cJSON_ParseWithLength((const char *)req->body, req->body_len);

    if (doc == NULL || !cJSON_IsObject(doc)) {
        fail(resp, 400, "BadBody", "the body must be one JSON object");
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static void do_reset(struct aipa_srv *srv, struct aipa_srv_response *resp)
{
    if (aipa_model_reset(srv->model) != AIPA_OK) {
        fail(resp, 500, "ResetFailed", "the model could not return to its seed state");
        return;
    }
    aipa__nonce_cache_clear(srv->nonces);
    aipa__srv_probe_nonce_clear(srv);
    aipa__throttle_reset(srv->throttle);
    aipa__srv_json_reply(resp, 200, "{\"ok\":true}", 11);
}

static void do_instance(struct aipa_srv *srv, const struct aipa_srv_request *req,
                        struct aipa_srv_response *resp)
{
    char id[AIPA_INSTANCE_ID_MAX] = "";
    struct aipa_buf why;
    aipa_err err;
    cJSON *o;

    aipa_buf_init(&why, MAX_REASON);
    err = aipa_model_create_instance_json(srv->model, (const char *)req->body, req->body_len, id,
                                          &why);
    if (err == AIPA_OK) {
        o = cJSON_CreateObject();
        if (o != NULL && cJSON_AddStringToObject(o, "InstanceId", id) == NULL) {
            cJSON_Delete(o);
            o = NULL;
        }
        reply_obj(resp, 201, o);
    } else if (err == AIPA_ENOMEM) {
        fail(resp, 500, "OutOfMemory", "out of memory");
    } else {
        const char *reason = why.len > 0 ? why.ptr : aipa_strerror(err);

        fail(resp, err == AIPA_EEXIST ? 409 : 400, "BadInstance", reason);
    }
    aipa_buf_cleanup(&why);
}

static void do_pool(struct aipa_srv *srv, const struct aipa_srv_request *req,
                    struct aipa_srv_response *resp)
{
    cJSON *doc = parse_body(req, resp);
    const cJSON *free_n;
    cJSON *o;

    if (doc == NULL) {
        return;
    }
    free_n = cJSON_GetObjectItemCaseSensitive(doc, "Free");
    if (!cJSON_IsNumber(free_n) || free_n->valuedouble < 0 || free_n->valuedouble > 1e15 ||
        free_n->valuedouble != (double)(int64_t)free_n->valuedouble) {
        fail(resp, 400, "BadPool", "Free must be a non-negative integer");
    } else if (aipa_model_set_pool_free(srv->model, (size_t)free_n->valuedouble) != AIPA_OK) {
        fail(resp, 400, "BadPool", "the pool cannot be set to that size");
    } else {
        o = cJSON_CreateObject();
        if (o != NULL &&
            cJSON_AddNumberToObject(o, "Free", (double)aipa_model_pool_free(srv->model)) == NULL) {
            cJSON_Delete(o);
            o = NULL;
        }
        reply_obj(resp, 200, o);
    }
    cJSON_Delete(doc);
}

static void do_state(struct aipa_srv *srv, struct aipa_srv_response *resp)
{
    aipa_buf_reset(&resp->body);
    if (aipa_model_dump_json(srv->model, &resp->body) != AIPA_OK) {
        fail(resp, 500, "DumpFailed", "the state could not be written");
        return;
    }
    resp->status = 200;
    resp->content_type = AIPA_CT_JSON;
}

static void reply_edition(struct aipa_srv *srv, struct aipa_srv_response *resp, bool info)
{
    cJSON *o = cJSON_CreateObject();

    if (o != NULL && (cJSON_AddStringToObject(
                          o, "Edition", edition_name(aipa_model_edition(srv->model))) == NULL ||
                      (info && cJSON_AddNumberToObject(o, "Protocol", FIXTURE_PROTOCOL) == NULL))) {
        cJSON_Delete(o);
        o = NULL;
    }
    reply_obj(resp, 200, o);
}

static void do_edition(struct aipa_srv *srv, const struct aipa_srv_request *req,
                       struct aipa_srv_response *resp)
{
    cJSON *doc = parse_body(req, resp);
    const cJSON *ed;

    if (doc == NULL) {
        return;
    }
    ed = cJSON_GetObjectItemCaseSensitive(doc, "Edition");
    if (cJSON_IsString(ed) && aipa_edition_parse(ed->valuestring) == AIPA_ED_2018) {
        aipa_model_set_edition(srv->model, AIPA_ED_2018);
        reply_edition(srv, resp, false);
    } else if (cJSON_IsString(ed) && aipa_edition_parse(ed->valuestring) == AIPA_ED_2024) {
        aipa_model_set_edition(srv->model, AIPA_ED_2024);
        reply_edition(srv, resp, false);
    } else {
        fail(resp, 400, "BadEdition", "Edition must be \"2018-08-02\" or \"2024-12-20\"");
    }
    cJSON_Delete(doc);
}

struct route {
    const char *path;
    const char *method;
    int id;
};

enum { R_RESET, R_INSTANCES, R_POOL, R_STATE, R_INFO, R_EDITION };

static const struct route routes[] = {
    {"/_aipa/reset", "POST", R_RESET}, {"/_aipa/instances", "POST", R_INSTANCES},
    {"/_aipa/pool", "PUT", R_POOL},    {"/_aipa/state", "GET", R_STATE},
    {"/_aipa/info", "GET", R_INFO},    {"/_aipa/edition", "PUT", R_EDITION},
};

void aipa__srv_fixture(struct aipa_srv *srv, const struct aipa_srv_request *req,
                       struct aipa_slice path, struct aipa_srv_response *resp)
{
    const struct aipa_header *tok = aipa__srv_header(req, "X-Aipa-Token");
    const struct route *r = NULL;
    bool path_known = false;

    aipa__srv_printable(resp->action, sizeof(resp->action), (const char *)path.ptr, path.len);
    if (tok == NULL || !aipa_ct_equal(tok->value.ptr, tok->value.len, srv->fixture_token,
                                      strlen(srv->fixture_token))) {
        fail(resp, 403, "BadToken", "missing or wrong X-Aipa-Token");
        return;
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(routes); i++) {
        if (aipa_slice_eq(path, routes[i].path)) {
            path_known = true;
            if (strcmp(req->method, routes[i].method) == 0) {
                r = &routes[i];
            }
        }
    }
    if (r == NULL) {
        if (path_known) {
            fail(resp, 405, "MethodNotAllowed", "wrong method for this fixture path");
        } else {
            fail(resp, 404, "NotFound", "no such fixture path");
        }
        return;
    }
    switch (r->id) {
    case R_RESET:
        do_reset(srv, resp);
        break;
    case R_INSTANCES:
        do_instance(srv, req, resp);
        break;
    case R_POOL:
        do_pool(srv, req, resp);
        break;
    case R_STATE:
        do_state(srv, resp);
        break;
    case R_INFO:
        reply_edition(srv, resp, true);
        break;
    case R_EDITION:
        do_edition(srv, req, resp);
        break;
    default:
        fail(resp, 500, "Internal", "unhandled route");
        break;
    }
}
