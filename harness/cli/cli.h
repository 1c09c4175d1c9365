/*
 * cli.h: the subcommands of the `aipa` binary. Each takes the argv
 * that follows the subcommand name (argv[0] is the subcommand) and returns
 * the process exit status: 0 success, 1 findings (conformance failures,
 * fuzz findings), 2 usage, configuration or harness error.
 */
#ifndef AIPA_CLI_H
#define AIPA_CLI_H

#include "aipa/server.h" /* aipa_serve_main */

int aipa_conform_main(int argc, char **argv);  /* harness/cli/conform_main.c */
int aipa_fuzz_main(int argc, char **argv);     /* harness/cli/livefuzz_main.c */
int aipa_call_main(int argc, char **argv);     /* harness/cli/call_main.c */
int aipa_sign_main(int argc, char **argv);     /* harness/cli/call_main.c */
int aipa_latitude_main(int argc, char **argv); /* harness/cli/latitude_main.c */

#endif /* AIPA_CLI_H */
