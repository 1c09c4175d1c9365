/* PLACEHOLDER until the subcommand lands: replaced by its owner. */
#include <stdio.h>

#include "aipa/cli.h"

int aipa_fuzz_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "aipa %s: not built yet\n", argv[0]);
    return 2;
}
