/* transport_inproc.c - the runner's transport to an in-process ftps_session:
 * it feeds the session (at most opt->chunk bytes per call), drains its
 * output, and answers its data-connection events as the client's network
 * would (runner.h: "Data connections in-process"). Deterministic: no clock
 * but the runner's virtual one, no sockets. */
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "ftps_session.h"
#include "runner_int.h"

/* First virtual passive port; the n-th listener gets base + n. */
#define INPROC_PORT_BASE 50000u
#define INPROC_PORT_SPAN 10000u
/* The client's address and data port, as the session sees them. */
#define INPROC_CLIENT_PORT 40000u

typedef struct inproc {
  runner_transport base;
  ftps_session *s;
  unsigned listens;       /* listeners opened so far */
  bool listening;         /* a virtual passive listener is open */
  bool connect_held;      /* the server asked to connect; the client did not D: open yet */
  ftps_addr connect_addr;
  bool pending;           /* D: open in active mode waits for the server's connect */
  bool attached;          /* the client's data connection is attached */
} inproc;

static ftps_addr client_addr(void) {
  ftps_addr a;
  memset(&a, 0, sizeof(a));
  a.family = 4;
  a.ip[0] = 127;
  a.ip[3] = 1;
  a.port = INPROC_CLIENT_PORT;
  return a;
}

/* drain_data hands the session's data output to the client. */
static void drain_data(inproc *t, runner *r) {
  for (unsigned rounds = 0; rounds < 1024 && !runner_stopped(r); rounds++) {
    size_t n = 0;
    const uint8_t *o = ftps_session_data_output(t->s, &n);
    if (n == 0)
      return;
    runner_on_data(r, o, n);
    ftps_session_data_output_consume(t->s, n); /* may make the next chunk */
  }
}

static void attach(inproc *t, runner *r, const ftps_addr *peer) {
  if (ftps_session_data_attach(t->s, peer) != 0) {
    runner_rec_event(r, TRANSCRIPT_EV_DATA_FAILED, "refused");
    return;
  }
  t->attached = true;
  runner_on_data_connected(r);
}

static void take_events(inproc *t, runner *r) {
  ftps_event ev;
  while (!runner_stopped(r) && ftps_session_next_event(t->s, &ev)) {
    r->moved++;
    if (++r->res->events > RUNNER_EVENTS_MAX) {
      runner_give_up_limit(r, "events");
      return;
    }
    if (r->opt->on_event != NULL)
      r->opt->on_event(r->opt->event_ctx, &ev, r->out->n);
    switch (ev.type) {
    case FTPS_EV_DATA_LISTEN:
      /* A virtual listener: nothing can fail, the port is deterministic. */
      t->listening = true;
      ftps_session_data_listening(t->s, 0,
                                  (uint16_t)(INPROC_PORT_BASE + t->listens++ % INPROC_PORT_SPAN));
      break;
    case FTPS_EV_DATA_CONNECT:
      if (t->pending) {
        t->pending = false;
        attach(t, r, &ev.addr);
      } else {
        t->connect_held = true;
        t->connect_addr = ev.addr;
      }
      break;
    case FTPS_EV_DATA_CLOSE:
      drain_data(t, r);
      if (t->attached || t->pending)
        runner_on_data_closed(r);
      t->attached = t->pending = t->listening = t->connect_held = false;
      ftps_session_data_closed(t->s);
      break;
    default:
      break;
    }
  }
}

/* settle moves bytes both ways until nothing more happens. */
static void inproc_settle(runner_transport *base, runner *r) {
  inproc *t = (inproc *)base;
  unsigned idle = 0, wakes = 0;
  while (!runner_stopped(r)) {
    uint64_t before = r->moved;
    bool fed = false;
    runner_client_output(r);
    if (runner_stopped(r))
      return;
    if (!ftps_session_is_closed(t->s)) {
      size_t n = r->tx.len, used = 0;
      if (r->opt->chunk > 0 && n > r->opt->chunk)
        n = r->opt->chunk;
      /* With nothing to feed, feed(NULL, 0) lets the session continue
       * with input it queued while its output was full. */
      ftps_session_feed(t->s, n > 0 ? r->tx.data : NULL, n, &used);
      if (used > n)
        used = n;
      ftps_buf_consume(&r->tx, used);
      r->moved += used;
      fed = used > 0;
      if (t->attached && r->dtx.len > 0) {
        n = r->dtx.len;
        used = 0;
        if (r->opt->chunk > 0 && n > r->opt->chunk)
          n = r->opt->chunk;
        ftps_session_data_feed(t->s, r->dtx.data, n, &used);
        if (used > n)
          used = n;
        ftps_buf_consume(&r->dtx, used);
        r->moved += used;
        fed = fed || used > 0;
      }
    } else {
      ftps_buf_reset(&r->tx); /* a closed session takes nothing more */
      ftps_buf_reset(&r->dtx);
    }
    size_t olen = 0;
    const uint8_t *o = ftps_session_output(t->s, &olen);
    if (olen > 0) {
      runner_on_ctl(r, o, olen);
      ftps_session_output_consume(t->s, olen);
      if (runner_stopped(r))
        return;
    }
    drain_data(t, r);
    take_events(t, r);
    if (r->moved != before) {
      if (!fed && ++idle > RUNNER_IDLE_MAX) {
        runner_give_up_limit(r, "pump");
        return;
      }
      continue;
    }
    /* Quiescent. A client waiting for a reply lets time pass until the
     * session's delayed work (a held failed-login reply) is due. */
    uint64_t wake = ftps_session_wake_time(t->s);
    if (wake == UINT64_MAX || ftps_session_is_closed(t->s))
      return;
    if (++wakes > RUNNER_WAKE_MAX) {
      runner_give_up_limit(r, "wake");
      return;
    }
    if (wake > r->now)
      r->now = wake;
    ftps_session_advance(t->s, r->now);
    r->moved++;
  }
}

static void inproc_sleep(runner_transport *base, runner *r, uint64_t ms) {
  inproc *t = (inproc *)base;
  r->now += ms;
  ftps_session_advance(t->s, r->now);
}

static int inproc_data_open(runner_transport *base, runner *r, const char **why) {
  inproc *t = (inproc *)base;
  if (r->offer == OFFER_PASSIVE) {
    if (!t->listening) {
      *why = "no listener";
      return TRANSPORT_DATA_FAILED;
    }
    ftps_addr peer = client_addr();
    if (ftps_session_data_attach(t->s, &peer) != 0) {
      *why = "refused";
      return TRANSPORT_DATA_FAILED;
    }
    t->attached = true;
    return TRANSPORT_DATA_OPEN;
  }
  /* Active mode: the server connects when a transfer starts. */
  if (t->connect_held) {
    t->connect_held = false;
    if (ftps_session_data_attach(t->s, &t->connect_addr) != 0) {
      *why = "refused";
      return TRANSPORT_DATA_FAILED;
    }
    t->attached = true;
    return TRANSPORT_DATA_OPEN;
  }
  t->pending = true;
  return TRANSPORT_DATA_PENDING;
}

static void inproc_data_eof(runner_transport *base, runner *r) {
  inproc *t = (inproc *)base;
  (void)r;
  if (t->attached)
    ftps_session_data_eof(t->s);
}

static bool inproc_closed(const runner_transport *base) {
  const inproc *t = (const inproc *)base;
  size_t olen = 0;
  if (!ftps_session_is_closed(t->s))
    return false;
  ftps_session_output(t->s, &olen);
  return olen == 0;
}

static void inproc_free(runner_transport *base) {
  inproc *t = (inproc *)base;
  if (t == NULL)
    return;
  ftps_session_free(t->s);
  free(t);
}

static const runner_transport_ops inproc_ops = {
    .settle = inproc_settle,
    .sleep = inproc_sleep,
    .data_open = inproc_data_open,
    .data_eof = inproc_data_eof,
    .closed = inproc_closed,
    .free = inproc_free,
};

runner_transport *runner_transport_inproc_new(const ftps_server *server, runner *r) {
  inproc *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->base.ops = &inproc_ops;
  t->s = ftps_session_new(server, r->now);
  if (t->s == NULL) {
    free(t);
    return NULL;
  }
  return &t->base;
}
