/* aipa: conformance and fuzzing for Alibaba Cloud ECS AllocatePublicIpAddress. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"serve", aipa_serve_main, "run the reference server (loopback by default)"},
    {"conform", aipa_conform_main,
     "run the conformance suites against --target URL, or the embedded reference server"},
    {"fuzz", aipa_fuzz_main, "live and differential fuzzing of an endpoint"},
    {"call", aipa_call_main, "send one signed request and print the response"},
    {"sign", aipa_sign_main, "print the StringToSign and signature of a request"},
    {"latitude", aipa_latitude_main, "print the table of points the documents leave open"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: aipa <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    fprintf(f, "\n'aipa <command> --help' describes each command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("aipa 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0) {
            return subcommands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "aipa: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
