/*
 * Shared helpers of the test drivers that run the aipa programs as child
 * processes (tests/conform/fault_check.c, tests/livefuzz/livefuzz_check.c):
 *
 * - a check line ("ok: ..." or "FAIL: ...") and a count of the failed ones;
 * - a monotonic clock in seconds and an EINTR-proof sleep;
 * - spawning a program, waiting for it with a time bound (SIGKILL past it),
 *   and starting a server whose first stdout line names its port;
 * - loading a JSON file with cJSON, and getters for object members.
 *
 * Unlike testutil.h these do not use cmocka: a failed check is counted, and
 * the driver's exit status reports it.
 */
#ifndef AIPA_TEST_PROC_H
#define AIPA_TEST_PROC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

/* Prints "ok: " or "FAIL: " and the message on one line, flushes stdout; counts a failure. */
void aipa_test_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The number of failed checks so far. */
int aipa_test_failures(void);

/* CLOCK_MONOTONIC in seconds. */
double aipa_test_now_s(void);
/* Sleeps ms milliseconds, resuming after a signal. */
void aipa_test_sleep_ms(long ms);

/*
 * Spawns argv[0] (a path, not searched in PATH) with argv and the current
 * environment; argv ends with NULL. Returns the pid, or -1 if it did not start.
 */
pid_t aipa_test_spawn(const char *const *argv);
/*
 * Waits at most timeout_s for pid. Returns its exit status, or 128 + the
 * signal with *signalled set when a signal ended it; -1 if it was still
 * running (it is then killed with SIGKILL and reaped); -2 if waitpid failed.
 */
int aipa_test_wait_bounded(pid_t pid, double timeout_s, bool *signalled);
/* aipa_test_spawn, then aipa_test_wait_bounded; -2 also when it did not start. */
int aipa_test_run(const char *const *argv, double timeout_s, bool *signalled);
/*
 * Spawns argv[0] with its stdout on a pipe and reads the first line within
 * 10 s: the port, alone ("33673") or after the last colon
 * ("listening on http://127.0.0.1:33673"), goes to *port. Returns the pid, or
 * -1 when the server did not start or named no port (it is then killed and
 * reaped). The pipe is closed afterwards: later writes to stdout get EPIPE.
 */
pid_t aipa_test_start_server(const char *const *argv, unsigned *port);

/* Parses the file at path (at most max bytes); NULL if it cannot be read or parsed. */
cJSON *aipa_test_load_json(const char *path, long max);
/* The member's value if it is a string, else NULL (also for o == NULL). */
const char *aipa_test_jstr(const cJSON *o, const char *name);
/* The member's value if it is a number, else -1. */
double aipa_test_jnum(const cJSON *o, const char *name);
/* True if the member is the literal true. */
bool aipa_test_jtrue(const cJSON *o, const char *name);

#endif
