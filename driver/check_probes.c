/* check_probes.c - targeted probe scripts `ftpsfuzz check` always plays.
 *
 * A cover set takes every transition of the model against OUR server; a
 * live server may need a specific sequence before it shows a behaviour the
 * oracle judges. Each probe is written for the built-in test configuration
 * (alice / wonderland, /pub, /upload) and adapted like every other script. */
#include "check.h"

#include <string.h>

typedef struct probe {
  const char *name;
  const char *text;
} probe;

/* An overlong line: longer than MODEL_LINE_MAX, followed in the same write by
 * NOOP and QUIT so a server that drops it silently still answers and closes
 * (no timeout needed to see it). */
#define LONG_X                                                                                     \
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG_X8 LONG_X LONG_X LONG_X LONG_X LONG_X LONG_X LONG_X LONG_X
#define LONG_LINE LONG_X8 LONG_X8 LONG_X8 LONG_X LONG_X LONG_X /* 5130 bytes */

#define LOGIN "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\n"

static const probe probes[] = {
    /* NO_SECOND_234: AUTH once SECURE must be refused (RFC 2228 refusals) */
    {"probe-second-auth", "C: AUTH TLS\nT: handshake\nC: AUTH TLS\nC: NOOP\n"},
    {"probe-second-auth-logged-in", LOGIN "C: AUTH TLS\nC: NOOP\n"},
    /* PROT_LEVEL_KEPT / PROT_P_DATA_IS_TLS: a refused PROT keeps P */
    {"probe-prot-x-after-prot-p",
     LOGIN "C: PBSZ 0\nC: PROT P\nC: PROT X\nC: PASV\nD: open\nC: LIST /pub\n"},
    /* TLS_REQUIRED_STAYS_TLS: CCC while logged in */
    {"probe-ccc-logged-in", LOGIN "C: CCC\nT: close_notify\nC: PWD\n"},
    /* TLS_REQUIRED_LOGIN / REPLY_421_CLOSES: login attempt in plaintext
     * (never with the real password, see check_adapt) */
    {"probe-plaintext-user", "C: USER alice\nC: PASS bad0\nC: NOOP\n"},
    /* PBSZ_BEFORE_PROT: PROT without PBSZ, then a transfer */
    {"probe-prot-without-pbsz", LOGIN "C: PROT P\nC: PASV\nD: open\nC: LIST /pub\n"},
    /* NO_PLAINTEXT_AFTER_234 / HANDSHAKE_FAIL_CLOSES: no TLS after 234 */
    {"probe-garbage-after-234", "C: AUTH TLS\nR: GET / HTTP/1.0\\r\\n\\r\\n\nT: handshake\n"},
    /* The data protection level after AUTH SSL / AUTH TLS-P without PROT:
     * C by the model (RFC 4217 section 9: PROT decides; AUTH resets it). */
    {"probe-auth-ssl-list",
     "C: AUTH SSL\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: PASV\nD: open\n"
     "C: LIST /pub\n"},
    {"probe-auth-ssl-stor",
     "C: AUTH SSL\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: PASV\nD: open\n"
     "C: STOR /upload/new.txt\nD: send hello\\n\nD: close\n"},
    {"probe-auth-tls-p-stor",
     "C: AUTH TLS-P\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: PASV\nD: open\n"
     "C: STOR /upload/new.txt\nD: send hello\\n\nD: close\n"},
    /* PROT_LEVEL_KEPT: the same without PROT, but the client tries TLS on
     * the data connection ("# client: data_prot=tls", runner.h). A server
     * that keeps C sends the listing in clear and the client's data
     * handshake fails (no violation); one that turned protection on by
     * itself (vsftpd, ProFTPD) delivers it over TLS. A plain "D: open" only
     * shows such a server as a timeout or a 425, which no invariant names. */
    {"probe-auth-ssl-list-tls",
     "# client: data_prot=tls\nC: AUTH SSL\nT: handshake\nC: USER alice\nC: PASS wonderland\n"
     "C: PASV\nD: open\nC: LIST /pub\n"},
    {"probe-auth-tls-p-list-tls",
     "# client: data_prot=tls\nC: AUTH TLS-P\nT: handshake\nC: USER alice\nC: PASS wonderland\n"
     "C: PASV\nD: open\nC: LIST /pub\n"},
    /* NO_PIPELINED_INJECTION (CVE-2011-1575 class): lines in the same write
     * as AUTH are the start of the TLS stream and must never run. A server
     * that runs them answers in plaintext before the handshake, or inside
     * TLS after it with no command due (the runner handshakes at once and
     * then listens for a quiet wait, runner.h). Harmless commands first,
     * then a login: PWD over TLS answered 257 with no login sent over TLS
     * (when TLS is required for login the pipelined PASS carries a wrong
     * password, check_adapt; the replies inside TLS still show it). */
    {"probe-pipelined-behind-auth", "C: AUTH TLS\\r\\nSYST\nT: handshake\nC: NOOP\n"},
    {"probe-pipelined-noop-feat-behind-auth",
     "C: AUTH TLS\\r\\nNOOP\\r\\nFEAT\nT: handshake\nC: NOOP\n"},
    {"probe-pipelined-user-behind-auth", "C: AUTH TLS\\r\\nUSER alice\nT: handshake\nC: NOOP\n"},
    {"probe-pipelined-login-behind-auth",
     "C: AUTH TLS\\r\\nUSER alice\\r\\nPASS wonderland\nT: handshake\nC: PWD\n"},
    /* ... behind AUTH SSL, with the data protection set up behind AUTH, and
     * on the upgrade after CCC (a second code path in some servers; the
     * wait lets the server's close_notify arrive before the next AUTH) */
    {"probe-pipelined-behind-auth-ssl", "C: AUTH SSL\\r\\nUSER alice\nT: handshake\nC: NOOP\n"},
    {"probe-pipelined-prot-behind-auth",
     "C: AUTH TLS\\r\\nPBSZ 0\\r\\nPROT P\nT: handshake\nC: NOOP\n"},
    {"probe-pipelined-behind-auth-after-ccc",
     "C: AUTH TLS\nT: handshake\nC: CCC\nT: close_notify\nW: 200\nC: AUTH TLS\\r\\nUSER alice\n"
     "T: handshake\nC: NOOP\n"},
    /* a line longer than any limit (BADLINE: 500/501 expected) */
    {"probe-overlong-line", "R: NOOP " LONG_LINE "\\r\\nNOOP\\r\\nQUIT\\r\\n\n"},
    /* PROT_P_DATA_IS_TLS on an upload and a download */
    {"probe-prot-p-retr", LOGIN "C: PBSZ 0\nC: PROT P\nC: PASV\nD: open\nC: RETR /pub/hello.txt\n"},
    /* PROT_NEEDS_TLS: PBSZ/PROT before any TLS */
    {"probe-pbsz-prot-plaintext", "C: PBSZ 0\nC: PROT P\nC: PROT C\nC: NOOP\n"},
};

long check_probes(gen_set *out, const char **names) {
  size_t n = sizeof(probes) / sizeof(probes[0]);
  char err[256];
  for (size_t i = 0; i < n && i < CHECK_PROBES_MAX; i++) {
    transcript t;
    transcript_init(&t);
    if (transcript_parse_text(&t, probes[i].text, strlen(probes[i].text), probes[i].name, err,
                              sizeof(err)) != 0 ||
        gen_set_add(out, &t) != 0) {
      transcript_cleanup(&t);
      return -1;
    }
    transcript_cleanup(&t);
    names[i] = probes[i].name;
  }
  return (long)n;
}
