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
#include "ftps_tls.h"

/* Security state of the control connection. */
typedef enum sec_state {
  SEC_PLAIN,      /* plaintext */
  SEC_HANDSHAKE,  /* 234 sent; every byte is TLS; no command is read */
  SEC_SECURE,     /* TLS established; commands and replies inside TLS */
  SEC_SHUTDOWN,   /* CCC/REIN answered and our close_notify sent; waiting for
                     the client's close_notify or its first plaintext byte */
} sec_state;

typedef enum login_state {
  LOGIN_NONE,
  LOGIN_USER_OK,  /* USER accepted, PASS expected */
  LOGIN_DONE,
} login_state;

#define FTPS_USER_MAX 64
#define FTPS_DATA_OUT_MAX (256 * 1024)   /* data bytes queued for the transport */
#define FTPS_DATA_IN_MAX (64 * 1024)     /* data bytes held before they are used */
#define FTPS_LISTING_MAX (4u << 20)      /* a LIST/NLST/MLSD listing */

typedef enum data_mode {
  DATA_NONE,       /* no PASV/PORT since the last transfer */
  DATA_PASV_WAIT,  /* FTPS_EV_DATA_LISTEN sent, waiting for data_listening() */
  DATA_PASSIVE,    /* listening; the client connects */
  DATA_ACTIVE,     /* PORT/EPRT given; we connect at the transfer */
} data_mode;

typedef enum xfer_kind {
  XFER_NONE,
  XFER_SEND,       /* RETR, LIST, NLST, MLSD */
  XFER_RECV,       /* STOR, APPE, STOU */
} xfer_kind;

typedef enum xfer_phase {
  PHASE_IDLE,
  PHASE_CONNECT,   /* 150 sent; waiting for the data connection */
  PHASE_TLS,       /* PROT P: data-channel handshake */
  PHASE_MOVING,    /* bytes flowing */
  PHASE_CLOSING,   /* FTPS_EV_DATA_CLOSE sent; the reply follows the close */
} xfer_phase;

/* The one data connection and the transfer on it. */
typedef struct ftps_data {
  data_mode mode;
  bool epsv_all;           /* RFC 2428: only EPSV from now on */
  bool extended;           /* the listener was asked for by EPSV (229 reply) */
  ftps_addr active;        /* PORT/EPRT target */
  bool attached;           /* a data connection is established */
  ftps_buf in;             /* bytes received, not yet used */
  ftps_buf out;            /* bytes for the transport to send, from out_off */
  size_t out_off;          /* sent bytes at the front of |out| (compacted lazily) */
  SSL *ssl;
  BIO *net_in, *net_out;
  xfer_kind kind;
  xfer_phase phase;
  bool ascii;              /* TYPE A conversion */
  bool cr_pending;         /* ASCII upload: a CR waits for its LF */
  ftps_vfs_file *file;     /* RETR source or STOR/APPE/STOU sink */
  ftps_buf listing;        /* LIST/NLST/MLSD text */
  size_t listing_off;
  bool source_done;        /* download: everything queued */
  bool peer_eof;           /* upload: the client closed its side */
  bool peer_close_notify;  /* upload under TLS: close_notify seen */
  uint64_t bytes;          /* payload bytes moved */
  int final_code;          /* reply after the close (226, 426, 451, ...) */
  char final_text[160];
  bool rest_set;
  uint64_t rest;
  /* For FTPS_EV_TRANSFER: what the transfer command was, and when. */
  char xfer_verb[5];
  char xfer_path[FTPS_PATH_MAX];
  uint64_t xfer_started;
} ftps_data;
#define FTPS_EVENT_RING 32

struct ftps_session {
  const ftps_server *srv;
  uint64_t now;

  /* Transport. */
  sec_state sec;
  bool closed;            /* no more input is taken */
  SSL *ssl;               /* non-NULL in HANDSHAKE, SECURE, SHUTDOWN */
  bool shutdown_is_tls;   /* SHUTDOWN: the client's next bytes are a TLS record */
  BIO *net_in;            /* ciphertext from the client, read by |ssl| */
  BIO *net_out;           /* ciphertext from |ssl|, drained into |out| */
  ftps_buf in;            /* bytes for the line framer: raw in PLAIN, decrypted in SECURE */
  ftps_linebuf lines;
  ftps_buf out;           /* bytes to send to the client */
  ftps_buf scratch;       /* one reply being formatted */

  /* A command that arrived during a transfer, run once the transfer's final
   * reply is out (replies stay in command order, RFC 959 section 4.2).
   * |deferred_status| is the framer's verdict (FTPS_LINE_OK, _TOO_LONG,
   * _HAS_NUL); FTPS_LINE_NONE when nothing waits. */
  ftps_line_status deferred_status;
  uint8_t deferred[FTPS_LINE_MAX];
  size_t deferred_len;

  /* A reply held back by the clock (failed login), emitted at |held_until|. */
  bool held;
  uint64_t held_until;
  ftps_buf held_reply;
  bool held_then_close;

  /* A PASS waiting for the transport's verdict (login_async); no input is
   * processed meanwhile. |pass_pw| is a wiped-on-release copy. */
  bool pass_pending;
  uint8_t *pass_pw;
  size_t pass_pw_len;

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

  /* Addresses (RFC 2577 checks, PASV reply). */
  ftps_addr peer, local;
  ftps_tls_ticket_keys ticket_keys;
  ftps_data data;
  unsigned stou_counter;

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
/* session_forget_login clears the login (a pending USER too) and PBSZ/PROT:
 * what an accepted AUTH resets (RFC 2228: the user must reauthorize). */
void session_forget_login(ftps_session *s);
/* session_pass_release wipes and frees a pending PASS's password copy. */
void session_pass_release(ftps_session *s);
/* session_reset_login clears login, PBSZ/PROT, RNFR, TYPE and the cwd (REIN). */
void session_reset_login(ftps_session *s);

/* session_event_addr queues an event carrying an address. */
void session_event_addr(ftps_session *s, ftps_event_type type, const ftps_addr *addr);

/* Data connections (ftps_data.c). */
void data_init(ftps_session *s);
void data_cleanup(ftps_session *s);
/* data_start begins a transfer whose source or sink is ready: 150, then the
 * data connection (and TLS under PROT P), then the bytes. */
void data_start(ftps_session *s, xfer_kind kind, const char *preliminary_text);
/* data_describe names the transfer that data_start will begin (its verb and
 * resolved path), for the FTPS_EV_TRANSFER record at its end. */
void data_describe(ftps_session *s, const char *verb, const char *path);
/* data_abort ends any transfer without storing anything; replies |code|
 * (0: no reply) to the transfer command. */
void data_abort(ftps_session *s, int code, const char *text);
/* data_busy: a transfer is in progress. */
bool data_busy(const ftps_session *s);
/* data_forget_mode drops PASV/PORT state (closing a passive listener or an
 * attached connection); |why| is the text of the close event. */
void data_forget_mode(ftps_session *s, const char *why);

/* session_resolve resolves a command's path argument against the cwd. On
 * failure replies (501/553) and returns false. */
bool session_resolve(ftps_session *s, const ftps_cmd *cmd, char out[FTPS_PATH_MAX]);

#endif
