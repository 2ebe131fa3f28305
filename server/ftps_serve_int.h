/* ftps_serve_int.h - internals of the TCP front end (ftps_serve*.c only). */
#ifndef FTPS_SERVE_INT_H
#define FTPS_SERVE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ftps_serve.h"
#include "ftps_session.h"

/* One read from a socket; bytes the core did not take wait in a buffer of
 * this size and the socket is not read again until they are taken. */
#define SERVE_CTL_READ (16 * 1024)
#define SERVE_DATA_READ (64 * 1024)
/* Bytes moved on one data connection per pump before other sessions get a
 * turn (fairness; the session is pumped again on the next loop turn). */
#define SERVE_PUMP_BUDGET (1024 * 1024)
/* How long a closed data connection is drained before it is dropped. */
#define SERVE_LINGER_MS 5000

typedef enum serve_kind {
  SK_LISTEN,     /* the control listener */
  SK_SIGNAL,     /* the signalfd */
  SK_CTL,        /* a control connection */
  SK_DLISTEN,    /* a passive data listener */
  SK_DATA,       /* the data connection (or an active connect in progress) */
  SK_LINGER,     /* a data connection shut down, drained until the peer closes */
  SK_LOGIN,      /* the login workers' eventfd: verdicts are ready */
} serve_kind;

typedef struct serve_login_job serve_login_job;
typedef struct serve_login serve_login;

typedef struct serve_conn serve_conn;

/* What epoll's data.ptr points at. */
typedef struct serve_handle {
  serve_kind kind;
  serve_conn *conn;
  int fd;
  uint32_t mask;        /* the events registered; (uint32_t)-1 = not registered */
} serve_handle;

struct serve_conn {
  ftps_serve *srv;
  serve_conn *prev, *next;     /* all live connections */
  serve_conn *run_next;        /* pending a pump on the next loop turn */
  bool on_run_list;
  bool dead;                   /* closed; freed at the end of the loop turn */
  serve_conn *dead_next;
  unsigned long id;
  ftps_session *sess;
  ftps_addr peer, local;
  struct sockaddr_storage local_sa;  /* the control connection's local address */
  socklen_t local_sa_len;
  char peer_str[64];           /* "ADDR:PORT" for log lines */
  uint64_t started, last_active;

  serve_handle ctl;
  uint8_t *ctl_in;             /* bytes read, not yet taken by the core */
  size_t ctl_in_len;
  bool ctl_eof;                /* the client closed its side */
  bool tls;                    /* control connection inside TLS (from events) */

  serve_handle dlisten;        /* passive listener, fd -1 when none */
  serve_handle data;           /* data connection, fd -1 when none */
  bool d_connecting;           /* active connect in progress */
  bool d_attached;             /* the core accepted it */
  bool d_eof_seen, d_eof_told; /* the peer closed its side; data_eof() called */
  bool d_closing;              /* FTPS_EV_DATA_CLOSE: flush, then close */
  uint8_t *d_in;
  size_t d_in_len;
  serve_handle linger;         /* a closed data connection being drained */
  uint64_t linger_until;
  uint64_t bytes_ctl, bytes_data;

  bool authed;                 /* FTPS_EV_LOGIN seen: out of the unauthenticated caps */
  uint64_t dwait_since;        /* data side waiting for the client since; 0 = not */
  serve_login_job *login_job;  /* a password check in a worker's hands */
  bool login_waiting;          /* on the login wait list (back-off, queue full) */
  serve_conn *login_next;
};

struct ftps_serve {
  ftps_serve_config cfg;
  int epfd;
  serve_handle listener;
  serve_handle sig;
  uint16_t port;
  serve_conn *conns;
  unsigned nconns;
  serve_conn *run_list;        /* sessions to pump again (budget spent) */
  serve_conn *dead_list;       /* freed at the end of a loop turn */
  unsigned long next_id;
  uint16_t pasv_cursor;        /* next passive port to try */
  uint64_t next_timer;         /* earliest idle deadline / wake time / linger end */
  uint64_t accept_paused_until; /* out of file descriptors: accept again then */
  bool accept_pause_logged;     /* one log line per episode */
  bool stopping;
  unsigned nunauth;            /* connections not yet logged in */
  int spare_fd;                /* kept open to accept-and-refuse at EMFILE; -1 = none */
  serve_login *login;          /* password checks, back-off (ftps_serve_login.c) */
  /* SIGTERM/SIGINT: no new sessions; the loop ends once no transfer is in
   * flight or at drain_until; a second signal ends it at once. */
  bool draining;
  uint64_t drain_until;
  FILE *log_own;               /* cfg.log_path opened by us (reopened on SIGHUP) */
};

/* ftps_serve.c */
uint64_t serve_now_ms(void);

/* ftps_serve_log.c: serve_log writes one line "TIMESTAMP SESSION CLIENT
 * MESSAGE"; a message that starts with "#<id> <client> " fills the SESSION
 * and CLIENT columns, any other gets "- -" (a line about the server). */
void serve_log(ftps_serve *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* serve_log_quote writes |in| double-quoted into |out| (|cap| >= 3 bytes),
 * escaping '"', '\' and bytes outside printable ASCII; cut to fit. */
void serve_log_quote(const char *in, char *out, size_t cap);
/* serve_log_event logs a core event meant for the operator (login, failed
 * login, transfer, TLS); others are ignored. */
void serve_log_event(serve_conn *c, const ftps_event *ev);
FILE *serve_log_file(const ftps_serve *srv);
/* serve_watch registers or modifies |h| in epoll for |mask| (0 removes it). */
int serve_watch(ftps_serve *srv, serve_handle *h, uint32_t mask);
void serve_close_handle(ftps_serve *srv, serve_handle *h);
void serve_timer_at(ftps_serve *srv, uint64_t when);
void serve_addr_from_sa(const struct sockaddr *sa, ftps_addr *out);
void serve_sa_to_string(const struct sockaddr *sa, char *out, size_t out_len);
/* serve_refuse writes a plaintext "421 Too many connections." before any
 * core or TLS is involved (best effort), closes |fd| and logs why. */
void serve_refuse(ftps_serve *srv, int fd, const char *who, const char *why);

/* ftps_serve_signal.c: the signalfd (SIGINT, SIGTERM, SIGHUP blocked and
 * read in the loop), and the drain after the first SIGTERM/SIGINT. */
int serve_signal_open(ftps_serve *srv, sigset_t *old);
void serve_signal_read(ftps_serve *srv);
/* serve_drain_step ends the sessions that are done; sets |stopping| when
 * none is left or the drain time is over. */
void serve_drain_step(ftps_serve *srv);

/* ftps_serve_conn.c */
void serve_conn_accept(ftps_serve *srv, int fd, const struct sockaddr_storage *peer,
                       socklen_t peer_len);
void serve_conn_event(serve_conn *c, serve_handle *h, uint32_t events);
void serve_conn_pump(serve_conn *c);
/* serve_conn_timer handles idle timeouts, held replies and lingering
 * sockets; returns the next time it needs to be called. */
uint64_t serve_conn_timer(serve_conn *c, uint64_t now);
void serve_conn_kill(serve_conn *c, const char *why);
void serve_conn_free(serve_conn *c);
void serve_conn_schedule(serve_conn *c);

/* ftps_serve_admit.c: admission and descriptors. serve_admit_start raises
 * RLIMIT_NOFILE, opens the spare descriptor and warns about a passive range
 * that is short or overlaps the kernel's ephemeral ports; serve_admit_stop
 * closes the spare. serve_admit_why_not returns why a new connection from
 * |peer| is refused (NULL: admitted); when the unauthenticated slots are
 * full it may close the oldest one of the address holding the most.
 * serve_admit_at_fd_limit answers one
 * pending connection 421 after accept failed with EMFILE/ENFILE; false when
 * it could not (the caller pauses accepting). */
void serve_admit_start(ftps_serve *srv);
void serve_admit_stop(ftps_serve *srv);
const char *serve_admit_why_not(ftps_serve *srv, const ftps_addr *peer);
bool serve_admit_at_fd_limit(ftps_serve *srv);
/* serve_admit_authed: the session logged in (leaves the unauthenticated
 * count); serve_admit_gone: it ended. */
void serve_admit_authed(serve_conn *c);
void serve_admit_gone(serve_conn *c);

/* ftps_serve_deadline.c: the login and data deadlines. serve_deadline_check
 * kills or acts on |c| when a deadline has passed and returns the next one
 * (UINT64_MAX: none); serve_deadline_track notes after a pump whether the
 * data side is waiting. */
uint64_t serve_deadline_check(serve_conn *c, uint64_t now);
void serve_deadline_track(serve_conn *c, uint64_t now);
/* serve_conn_say421 writes a plaintext 421 |text| when the control
 * connection is not inside TLS and no reply is half sent (best effort). */
void serve_conn_say421(serve_conn *c, const char *text);

/* ftps_serve_login.c: password checks off the event loop and the back-off.
 * serve_login_new returns FTPS_ERR_* (threads or eventfd failed). */
int serve_login_new(ftps_serve *srv);
void serve_login_free(ftps_serve *srv);
/* serve_login_request: the core asked (FTPS_EV_LOGIN_CHECK). */
void serve_login_request(serve_conn *c);
/* serve_login_event: the eventfd is readable; hand verdicts to sessions. */
void serve_login_event(ftps_serve *srv);
/* serve_login_timer dispatches checks whose back-off is over; returns the
 * next time it needs to run. */
uint64_t serve_login_timer(ftps_serve *srv, uint64_t now);
/* serve_login_forget: |c| is ending; drop its pending check. */
void serve_login_forget(serve_conn *c);

/* ftps_serve_backoff.c: the back-off after failed logins, per address and
 * per account name. serve_backoff_new returns NULL when out of memory;
 * |cap_ms| 0 turns the back-off off. serve_backoff_due: the earliest time
 * a check for |user| from |peer| may start; serve_backoff_space: one starts
 * now (the next of the same keys waits); serve_backoff_record: its
 * verdict; serve_backoff_addr_failed: |peer| has failures on record. */
typedef struct serve_backoff serve_backoff;
serve_backoff *serve_backoff_new(uint32_t cap_ms);
void serve_backoff_free(serve_backoff *b);
uint64_t serve_backoff_due(serve_backoff *b, const ftps_addr *peer, const char *user,
                           uint64_t now);
void serve_backoff_space(serve_backoff *b, const ftps_addr *peer, const char *user,
                         uint64_t now);
void serve_backoff_record(serve_backoff *b, const ftps_addr *peer, const char *user, bool ok,
                          uint64_t now);
bool serve_backoff_addr_failed(serve_backoff *b, const ftps_addr *peer, uint64_t now);

/* ftps_serve_data.c: the data connection of one session. serve_data_step
 * moves bytes both ways and finishes a requested close; it returns true
 * when it made progress. */
void serve_data_listen(serve_conn *c);
void serve_data_connect(serve_conn *c, const ftps_addr *to);
void serve_data_close_requested(serve_conn *c);
void serve_data_event(serve_conn *c, serve_handle *h, uint32_t events);
bool serve_data_step(serve_conn *c, size_t *budget);
void serve_data_update_watch(serve_conn *c);
void serve_data_release(serve_conn *c);
bool serve_data_busy(const serve_conn *c);
/* serve_data_timeout: the data side waited too long for the client: drop
 * the listener and connection; a transfer waiting for them fails (425, or
 * 426 in its data TLS handshake). */
void serve_data_timeout(serve_conn *c);

#endif
