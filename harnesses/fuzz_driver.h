/* fuzz_driver.h - what every harness shares: the libFuzzer entry points, the
 * built-in test configuration built once per process, and the one way a
 * harness reports a finding.
 *
 * Harnesses are thin: one file per target, each defining
 * LLVMFuzzerTestOneInput (always returning 0) over these helpers. A finding
 * (a broken invariant, a mismatch between two code paths) calls fuzz_finding(),
 * which prints the violation and the transcript and abort()s, so libFuzzer,
 * AFL++ and the replay main all record it as a crash. */
#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "test_config.h"
#include "transcript.h"

/* The libFuzzer interface (prototypes for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* fuzz_config returns the process-wide built-in test configuration (DESIGN
 * section 7), building it on the first call, and gives it a fresh in-memory
 * tree (test_config_reset) so every input starts from the same files. The
 * users, policy and SSL_CTX are built only once. Aborts with a message if the
 * configuration cannot be built: a harness cannot run without it. */
test_config *fuzz_config(void);

/* fuzz_fast_tls makes this process's TLS handshakes cheap and keeps them
 * real: the built-in configuration's server takes one set of ticket keys
 * for every connection (ftps_server.ticket_keys) and the TLS client offers
 * the newest session of the process on every control connection, capped at
 * TLS 1.2 (tls_client_share_sessions), so after the process's first
 * handshake nearly all are abbreviated TLS 1.2 resumptions (no key exchange,
 * no signature). What changes for the input: TLS 1.2 instead of 1.3 (a data
 * connection has a session to offer right after the control handshake) and
 * "resume the control session" on a data connection means "a session of
 * this server" - fuzz_data_tls keeps per-connection keys and TLS 1.3, and
 * fuzz_tls_server / fuzz_tls_mitm the full handshake. Call it once from
 * LLVMFuzzerInitialize. FTPSFUZZ_FULL_HANDSHAKES=1 in the environment turns
 * it into a no-op (full TLS 1.3 handshakes, per-connection keys), for
 * comparison (bench/bench_harnesses.c). Aborts with a message on failure. */
void fuzz_fast_tls(void);

/* fuzz_finding prints "FINDING <invariant>: <why>" and then |t| (may be NULL)
 * as .fts text to stderr, and aborts. |why| may be NULL. */
void fuzz_finding(const char *invariant, const char *why, const transcript *t)
    __attribute__((noreturn));

/* fuzz_findingf is fuzz_finding with a formatted reason (cut at 512 bytes). */
void fuzz_findingf(const char *invariant, const transcript *t, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* fuzz_hex writes up to |max| bytes of |p| as lower-case hex (with "..." if
 * cut) into |out| (always NUL-terminated), for messages. */
void fuzz_hex(char *out, size_t out_len, const uint8_t *p, size_t len, size_t max);

#endif
