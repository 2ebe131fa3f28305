/* runner_transport.h - how the runner reaches a server (private to driver/).
 *
 * The runner (runner.c, runner_data.c) is the client: it owns the client's
 * TLS, the S:/E: recording and the script. A transport carries bytes to and
 * from a server and reports what happened on the wire:
 *   - transport_inproc.c: an in-process ftps_session (sans-IO; deterministic;
 *     the transport also answers the session's data-connection events);
 *   - transport_tcp.c: a live server over TCP (`ftpsfuzz run --connect`).
 *
 * A transport takes client bytes from r->tx (control) and r->dtx (data),
 * consuming what it sent, and hands received bytes to runner_on_ctl() /
 * runner_on_data(). It calls runner_client_output() before it sends, so
 * ciphertext the client TLS engines produced is in the buffers. */
#ifndef RUNNER_TRANSPORT_H
#define RUNNER_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct runner runner;
typedef struct runner_transport runner_transport;

/* What the client's data connection open found. */
enum {
  TRANSPORT_DATA_OPEN = 0,      /* established now */
  TRANSPORT_DATA_PENDING = 1,   /* active mode: established when the server connects */
  TRANSPORT_DATA_FAILED = -1,   /* not established; *why says why */
};

typedef struct runner_transport_ops {
  /* settle moves bytes until nothing more happens (in-process) or until
   * runner_waiting() is false (TCP, bounded by the step timeout). */
  void (*settle)(runner_transport *t, runner *r);
  /* sleep lets |ms| of time pass (a W: step) while still moving bytes. */
  void (*sleep)(runner_transport *t, runner *r, uint64_t ms);
  /* listen moves bytes for the quiet wait after a handshake (TCP, runner.h)
   * without touching the script's clock; NULL where settle already waits
   * for everything (in-process). */
  void (*listen)(runner_transport *t, runner *r);
  /* data_open opens the client's data connection to the offer the client
   * last saw (runner.h). Returns a TRANSPORT_DATA_* value; on failure |*why|
   * points to a static reason. */
  int (*data_open)(runner_transport *t, runner *r, const char **why);
  /* data_eof: the client has nothing more to send on the data connection
   * (called once r->dtx is empty): half-close it. */
  void (*data_eof)(runner_transport *t, runner *r);
  /* closed: the control connection is closed and all its bytes delivered. */
  bool (*closed)(const runner_transport *t);
  void (*free)(runner_transport *t);
} runner_transport_ops;

struct runner_transport {
  const runner_transport_ops *ops;
};

#endif
