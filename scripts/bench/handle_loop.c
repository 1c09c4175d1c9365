/*
 * The reference handler alone, no network: aipa_srv_handle on the benchmark's
 * AllocatePublicIpAddress request (auth off, JSON), cycling over the
 * instances of the state file given, for a number of seconds. Built and run
 * by scripts/bench_server.sh; prints "requests/s N".
 */
#include "aipa/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct aipa_srv_config cfg;
    struct aipa_srv *srv = NULL;
    struct aipa_srv_response resp;
    struct aipa_header h[3] = {
        {AIPA_SLICE_STR("Host"), AIPA_SLICE_STR("127.0.0.1:8080")},
        {AIPA_SLICE_STR("User-Agent"), AIPA_SLICE_STR("wrk")},
        {AIPA_SLICE_STR("Accept"), AIPA_SLICE_STR("*/*")},
    };
    FILE *f;
    char *state;
    long len;
    double secs, t0, t;
    unsigned long n = 0, instances;

    if (argc != 4) {
        fprintf(stderr, "usage: handle_loop STATE.json INSTANCES SECONDS\n");
        return 2;
    }
    instances = strtoul(argv[2], NULL, 10);
    secs = atof(argv[3]);
    f = fopen(argv[1], "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "handle_loop: cannot read %s\n", argv[1]);
        return 2;
    }
    state = malloc((size_t)len);
    if (state == NULL || fread(state, 1, (size_t)len, f) != (size_t)len) {
        return 2;
    }
    fclose(f);
    aipa_srv_config_defaults(&cfg);
    cfg.auth_off = true;
    cfg.state_json = state;
    cfg.state_json_len = (size_t)len;
    if (aipa_srv_new(&srv, &cfg) != AIPA_OK) {
        fprintf(stderr, "handle_loop: cannot create the server\n");
        return 2;
    }
    aipa_srv_response_init(&resp);
    t0 = now_s();
    do {
        for (int k = 0; k < 1000; k++, n++) {
            char target[160];
            struct aipa_srv_request req;

            snprintf(target, sizeof(target),
                     "/?Action=AllocatePublicIpAddress&Version=2014-05-26&Format=JSON"
                     "&RegionId=cn-hangzhou&InstanceId=i-bench%06lu",
                     n % instances + 1);
            memset(&req, 0, sizeof(req));
            req.method = "GET";
            req.target = target;
            req.target_len = strlen(target);
            req.headers = h;
            req.header_count = 3;
            if (aipa_srv_handle(srv, &req, &resp) != AIPA_OK || resp.status != 200) {
                fprintf(stderr, "handle_loop: status %u: %s\n", resp.status, resp.body.ptr);
                return 1;
            }
        }
        t = now_s() - t0;
    } while (t < secs);
    printf("requests/s %.0f\n", (double)n / t);
    aipa_srv_response_cleanup(&resp);
    aipa_srv_free(srv);
    free(state);
    return 0;
}
