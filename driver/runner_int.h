/* runner_int.h - the runner's state, shared by runner.c (script, control
 * connection, recording), runner_data.c (the client's data connection and
 * reply tracking) and the transports. Private to driver/. */
#ifndef RUNNER_INT_H
#define RUNNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "ftps_buf.h"
#include "runner.h"
#include "runner_transport.h"
#include "tls_client.h"
#include "transcript_event.h"

/* Commands whose replies the client tracks; more pipelined ones are counted
 * but not told apart. */
#define RUNNER_CMDS_MAX 256
/* Bytes of a client command line kept to tell its verb and argument. */
#define RUNNER_CMDLINE_MAX 64

typedef enum rx_mode {
  RX_PLAIN,       /* server bytes are reply lines */
  RX_SWITCHING,   /* after 234: TLS records or plaintext lines */
  RX_TLS,         /* handshake done: every byte belongs to a record */
  RX_CLOSING,     /* the client sent its close_notify: records until the
                     server's close_notify, or plaintext from its first
                     byte that is not a record */
} rx_mode;

/* The data connection offer the client last saw in a reply. */
typedef enum runner_offer {
  OFFER_NONE,
  OFFER_PASSIVE,  /* 227/229: connect to offer_port */
  OFFER_ACTIVE,   /* 200 to PORT/EPRT: the server connects to the client */
} runner_offer;

typedef enum dc_state {
  DC_NONE,        /* no data connection */
  DC_PENDING,     /* D: open in active mode, the server has not connected yet */
  DC_OPEN,        /* established (the client may have half-closed it) */
} dc_state;

/* How the client protects its data connections ("# client: data_prot="). */
typedef enum runner_data_prot {
  DATA_PROT_AUTO,  /* TLS under the protection level P the client tracked */
  DATA_PROT_TLS,   /* always TLS, whatever the level */
  DATA_PROT_CLEAR, /* never TLS */
} runner_data_prot;

/* One command the client sent, waiting for its final reply. */
typedef struct runner_cmd {
  char verb[5];           /* upper case, NUL-terminated; "" for the greeting or unknown */
  char arg;               /* first argument byte, upper case (PROT level) */
  bool prelim;            /* a 1xx reply came */
  bool data_done;         /* a data connection closed since the 1xx reply */
  bool tls_stream;        /* pipelined behind an AUTH that got 234 (runner.h): not due */
} runner_cmd;

struct runner {
  const runner_options *opt;
  runner_result *res;
  transcript *out;
  runner_transport *t;
  bool tcp;               /* live server: waiting is by time, not quiescence */
  bool write_next;        /* the next client step writes a command (C:/R:), or
                             settle_every_step: the TCP settle wait applies
                             (runner_options.settle_ms) */
  uint64_t now;           /* in-process virtual clock (ms) */
  ftps_buf tx;            /* client control bytes not yet taken by the server */
  ftps_buf rx;            /* server bytes not yet framed (a partial record) */
  ftps_buf line;          /* the S: line being assembled */
  ftps_buf held;          /* records after 234, before T: handshake */
  rx_mode mode;
  /* Server bytes that are not a TLS record, handed to the TLS client while
   * it runs on them (set only during that call): if it fails, they say
   * whether the server wrote a reply in plaintext. */
  const uint8_t *not_record;
  size_t not_record_len;
  bool drop_records;      /* after a failed handshake: records are discarded */
  bool await_close;       /* after a failed handshake: the server must close */
  bool await_data_end;    /* TCP: a reply that ends the open data connection came
                             (runner.h "Over TCP"): its close is read before the
                             next step, within the quiet wait */
  bool saw_234;           /* a 234 came since the last handshake began */
  /* Command lines pipelined behind an AUTH that got 234 (the start of the
   * TLS stream, runner.h) since the last handshake began: after the
   * handshake the TCP client listens for a quiet wait, so a reply to one of
   * them (an injection) is recorded. */
  size_t pipelined_tls;
  bool hs_after_234;      /* the current handshake answers a 234 */
  tls_client *tls;        /* exists from T: handshake until TLS ends or fails */
  bool tls_after_close;   /* "E: tls after close_notify" recorded */
  SSL_SESSION *ctl_session; /* newest control-connection session (owned) */
  bool closed_recorded;
  bool gave_up;
  bool stop_comment_done;
  int err;                /* sticky RUNNER_ERR_* */
  uint64_t moved;         /* progress counter: bytes and events moved */

  /* client behaviour ("# client:" directives, runner.h) */
  bool data_tls_reuse;
  bool data_close_notify;
  runner_data_prot data_prot;
  bool data_hs_late;      /* data_handshake=late: data TLS starts after the 1xx */

  /* what the client knows from its commands and the replies */
  uint8_t cmdline[RUNNER_CMDLINE_MAX];
  size_t cmdline_len;
  runner_cmd cmds[RUNNER_CMDS_MAX];
  size_t cmd_head, cmd_n;
  size_t cmd_untracked;   /* commands beyond RUNNER_CMDS_MAX, oldest last */
  char reply_code[3];
  bool in_multi;          /* inside a multi-line reply */
  char prot;              /* 'C' or 'P': the last PROT answered 200 */
  bool expect_close;      /* 221 to QUIT or a 421: the server closes next */
  runner_offer offer;
  uint16_t offer_port;

  /* the client's side of the data connection */
  dc_state dc;
  tls_client *dtls;       /* under PROT P */
  bool dtls_wanted;       /* data_handshake=late: TLS waits for the transfer's 1xx */
  bool dfailed;           /* its TLS failed ("E: data failed" recorded) */
  bool drx_seen;          /* bytes came from the server on this connection */
  bool dclear;            /* the client wanted TLS, the server sent clear bytes */
  bool dpeer_closed;      /* the server's close_notify on it: the data has ended */
  bool dclose_wanted;     /* D: close played */
  bool deof_wanted;       /* everything queued; half-close once dtx is sent */
  bool deof_sent;
  ftps_buf dplain;        /* D: send bytes waiting for the TLS handshake */
  ftps_buf dtx;           /* bytes for the server's data connection */
  SHA256_CTX dhash;       /* over the plaintext received */
  uint64_t dbytes;
  uint64_t data_total;    /* all data bytes received, for RUNNER_DATA_MAX */

  /* a final reply to a started transfer waits for the data connection's
   * close, so "E: data" always precedes it (runner.h) */
  bool hold;
  transcript held_out;
};

/* recording (runner.c) */
bool runner_stopped(const runner *r);
void runner_rec(runner *r, transcript_kind kind, const void *data, size_t len);
/* runner_rec_event records an E: line of |kind| (transcript_event.h) whose
 * rest is |fmt| formatted (NULL: the name alone), in stream order: behind
 * replies held for a data connection's close. runner_rec_event_now records
 * it ahead of them (what happened on the data connection). */
void runner_rec_event(runner *r, transcript_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void runner_rec_event_now(runner *r, transcript_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void runner_rec_comment(runner *r, const char *text);
void runner_give_up_limit(runner *r, const char *what);
/* runner_timeout records "E: timeout" and gives up (TCP). */
void runner_timeout(runner *r);

/* for transports (runner.c / runner_data.c) */
void runner_client_output(runner *r);
void runner_on_ctl(runner *r, const uint8_t *p, size_t n);
void runner_on_data(runner *r, const uint8_t *p, size_t n);
void runner_on_data_connected(runner *r);
void runner_on_data_closed(runner *r);
/* runner_waiting: the client expects something from the server now (TCP). */
bool runner_waiting(const runner *r);
/* runner_ctl_session: the control connection's newest session (borrowed),
 * or NULL. */
SSL_SESSION *runner_ctl_session(runner *r);
/* runner_tls_new makes a TLS client with the options' version bounds,
 * offering |resume| (may be NULL); NULL on allocation failure. */
tls_client *runner_tls_new(runner *r, SSL_SESSION *resume);
/* runner_count_handshake counts |c|'s finished handshake in the result. */
void runner_count_handshake(runner *r, const tls_client *c);
/* runner_release_hold records the reply lines held for a data close. */
void runner_release_hold(runner *r);

/* the client's data connection and command tracking (runner_data.c) */
void runner_data_init(runner *r);
void runner_data_cleanup(runner *r);
void runner_play_data(runner *r, const uint8_t *p, size_t n);
/* runner_data_output moves D: bytes into r->dtx as far as the data
 * connection allows, and half-closes it once a D: close is all sent. */
void runner_data_output(runner *r);
/* runner_replies_due: a command still waits for a reply the server should
 * send without further client action. */
bool runner_replies_due(const runner *r);
void runner_track_client(runner *r, const uint8_t *p, size_t n);
/* runner_drop_tls_stream forgets the lines pipelined behind an AUTH that
 * got 234 (the handshake starts now; they must never get a reply). */
void runner_drop_tls_stream(runner *r);
/* runner_track_reply follows one recorded S: line; runner_reply_held says
 * whether that line must wait for the data connection's close. */
void runner_track_reply(runner *r, const uint8_t *p, size_t n);
bool runner_reply_held(const runner *r, const uint8_t *p, size_t n);
/* runner_client_directive applies a "# client: key=value ..." comment (the
 * payload after '#'); returns false and fills |err| if it is malformed. */
bool runner_client_directive(runner *r, const uint8_t *p, size_t n, char *err, size_t err_len);

/* transports */
runner_transport *runner_transport_inproc_new(const ftps_server *server, runner *r);
runner_transport *runner_transport_tcp_new(const char *host, const char *port, runner *r,
                                           char *err, size_t err_len);

#endif
