/* ftps_session_int.h - session internals shared by the core (ftps_session.c),
 * the command table (ftps_cmdtab.c) and the command handlers
 * (ftps_commands.c). Nothing outside server/ includes this. */
#ifndef FTPS_SESSION_INT_H
#define FTPS_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ftps_buf.h"
#include "ftps_cmdline.h"
#include "ftps_path.h"
#include "ftps_session.h"

/* Security state of the control connection. */
typedef enum sec_state {
  SEC_PLAIN,      /* plaintext */
  SEC_HANDSHAKE,  /* 234 sent; every byte is TLS; no command is read */
  SEC_SECURE,     /* TLS established; commands and replies inside TLS */
  SEC_SHUTDOWN,   /* CCC/REIN answered; waiting for the client's close_notify */
} sec_state;

typedef enum login_state {
  LOGIN_NONE,
  LOGIN_USER_OK,  /* USER accepted, PASS expected */
  LOGIN_DONE,
} login_state;

#define FTPS_USER_MAX 64
#define FTPS_EVENT_RING 32

struct ftps_session {
  const ftps_server *srv;
  uint64_t now;

  /* Transport. */
  sec_state sec;
  bool closed;            /* no more input is taken */
  SSL *ssl;               /* non-NULL in HANDSHAKE, SECURE, SHUTDOWN */
  BIO *net_in;            /* ciphertext from the client, read by |ssl| */
  BIO *net_out;           /* ciphertext from |ssl|, drained into |out| */
  ftps_buf in;            /* bytes for the line framer: raw in PLAIN, decrypted in SECURE */
  ftps_linebuf lines;
  ftps_buf out;           /* bytes to send to the client */
  ftps_buf scratch;       /* one reply being formatted */

  /* A reply held back by the clock (failed login), emitted at |held_until|. */
  bool held;
  uint64_t held_until;
  ftps_buf held_reply;
  bool held_then_close;

  /* Protocol state. */
  login_state login;
  bool anonymous;                 /* logged in (or logging in) as anonymous */
  char user[FTPS_USER_MAX + 1];   /* "" when USER named nobody usable */
  unsigned login_failures;
  bool pbsz;                      /* PBSZ accepted since TLS started */
  char prot;                      /* 'C' or 'P' */
  bool ccc_done;                  /* CCC completed: PBSZ/PROT/AUTH refused */
  char type;                      /* 'A' or 'I' */
  char cwd[FTPS_PATH_MAX];
  bool rnfr_set;
  char rnfr[FTPS_PATH_MAX];

  /* Events not yet taken. */
  ftps_event events[FTPS_EVENT_RING];
  unsigned ev_head, ev_count;
};

/* session_reply formats and sends one reply (through TLS when the control
 * connection is secure). A failure to allocate closes the session. */
void session_reply(ftps_session *s, int code, const char *text);
void session_reply_lines(ftps_session *s, int code, const char *const *lines, size_t n);
/* session_reply_held formats a reply that is sent only at |now + delay_ms|;
 * no input is processed until then. |then_close| closes after sending. */
void session_reply_held(ftps_session *s, int code, const char *text, uint32_t delay_ms,
                        bool then_close);
/* session_start_tls switches the stream to TLS after a 234 was sent. */
void session_start_tls(ftps_session *s);
/* session_end_tls starts the return to plaintext after CCC/REIN was answered. */
void session_end_tls(ftps_session *s);
/* session_close closes after the pending output; |graceful| sends a TLS
 * close_notify first when TLS is up. */
void session_close(ftps_session *s, bool graceful);
void session_event(ftps_session *s, ftps_event_type type, const char *detail);
/* session_reset_login clears login, PBSZ/PROT, RNFR, TYPE and the cwd (REIN). */
void session_reset_login(ftps_session *s);

/* session_resolve resolves a command's path argument against the cwd. On
 * failure replies (501/553) and returns false. */
bool session_resolve(ftps_session *s, const ftps_cmd *cmd, char out[FTPS_PATH_MAX]);

#endif
