/* ftps_serve_admit.c - who gets a session: the caps on connections not yet
 * logged in, the descriptor limit, and the start-up checks of the limits
 * the kernel sets (RLIMIT_NOFILE, the ephemeral port range).
 *
 * Why separate caps for unauthenticated connections: a slowloris holds a
 * connection without ever logging in; if those could take every slot, no
 * user could log in. With max_unauth well below max_sessions, logged-in
 * users always have room, and max_unauth_per_ip keeps a few addresses from
 * taking all of max_unauth. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ftps_serve_int.h"

static bool same_ip(const ftps_addr *a, const ftps_addr *b) {
  return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}

static unsigned unauth_from(const ftps_serve *srv, const ftps_addr *ip) {
  unsigned n = 0;
  for (const serve_conn *c = srv->conns; c; c = c->next)
    n += !c->dead && !c->authed && same_ip(&c->peer, ip);
  return n;
}

/* All unauthenticated slots are taken: if one address holds more of them
 * than the newcomer's would after admission, close that address's oldest
 * one (the list is newest first). Many addresses trickling bytes then share
 * the slots instead of keeping every newcomer out. */
static bool evict_for(ftps_serve *srv, unsigned newcomer_holds) {
  serve_conn *victim = NULL;
  unsigned most = 0;
  for (serve_conn *c = srv->conns; c; c = c->next) {
    if (c->dead || c->authed)
      continue;
    unsigned n = unauth_from(srv, &c->peer);
    if (n > most) {
      most = n;
      victim = c;
    } else if (n == most && same_ip(&victim->peer, &c->peer)) {
      victim = c; /* older */
    }
  }
  if (!victim || most <= newcomer_holds + 1)
    return false;
  serve_conn_say421(victim, "Too many connections not logged in; closing.");
  serve_conn_kill(victim, "evicted: not logged in, its address holds the most such slots");
  return true;
}

const char *serve_admit_why_not(ftps_serve *srv, const ftps_addr *peer) {
  unsigned from = 0, unauth = 0;
  for (const serve_conn *c = srv->conns; c; c = c->next) {
    if (c->dead || !same_ip(&c->peer, peer))
      continue;
    from++;
    unauth += !c->authed;
  }
  if (srv->nconns >= srv->cfg.max_sessions)
    return "max sessions reached";
  if (from >= srv->cfg.max_per_ip)
    return "max sessions per address reached";
  if (unauth >= srv->cfg.max_unauth_per_ip)
    return "max connections not logged in per address reached";
  if (srv->nunauth >= srv->cfg.max_unauth && !evict_for(srv, unauth))
    return "max connections not logged in reached";
  return NULL;
}

void serve_admit_authed(serve_conn *c) {
  if (c->authed)
    return;
  c->authed = true;
  c->srv->nunauth--;
}

void serve_admit_gone(serve_conn *c) {
  if (!c->authed)
    c->srv->nunauth--;
  c->authed = true; /* counted out once */
}

bool serve_admit_at_fd_limit(ftps_serve *srv) {
  if (srv->spare_fd < 0)
    return false;
  /* The spare descriptor makes room for exactly one accept: answer that
   * client instead of leaving it hanging without a greeting. */
  close(srv->spare_fd);
  srv->spare_fd = -1;
  struct sockaddr_storage peer;
  socklen_t plen = sizeof(peer);
  int fd = accept4(srv->listener.fd, (struct sockaddr *)&peer, &plen,
                   SOCK_NONBLOCK | SOCK_CLOEXEC);
  bool answered = fd >= 0;
  if (answered) {
    char who[64];
    serve_sa_to_string((struct sockaddr *)&peer, who, sizeof(who));
    serve_refuse(srv, fd, who, "out of file descriptors");
  }
  srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  return answered && srv->spare_fd >= 0;
}

/* Raises the soft descriptor limit to the hard one: each session may need
 * four descriptors (control, passive listener, data, a lingering close). */
static void raise_nofile(ftps_serve *srv) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t want = rl.rlim_max;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      getrlimit(RLIMIT_NOFILE, &rl);
  }
  rlim_t need = (rlim_t)srv->cfg.max_sessions * 4 + 16;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
    serve_log(srv,
              "warning: %llu file descriptors allowed, %llu needed for %u sessions; "
              "clients past the limit get 421",
              (unsigned long long)rl.rlim_cur, (unsigned long long)need,
              srv->cfg.max_sessions);
}

/* Passive ports inside the ephemeral range collide with the kernel's own
 * choice of source ports for outgoing connections (busy ports, 425s). */
static void check_pasv_range(ftps_serve *srv) {
  unsigned lo = srv->cfg.pasv_min, hi = srv->cfg.pasv_max;
  if (hi - lo + 1 < srv->cfg.max_sessions)
    serve_log(srv, "warning: passive ports %u-%u are fewer than --max-sessions %u", lo, hi,
              srv->cfg.max_sessions);
  FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
  if (!f)
    return;
  unsigned elo = 0, ehi = 0;
  if (fscanf(f, "%u %u", &elo, &ehi) == 2 && elo <= ehi && lo <= ehi && elo <= hi)
    serve_log(srv,
              "warning: passive ports %u-%u overlap the kernel's ephemeral ports %u-%u "
              "(/proc/sys/net/ipv4/ip_local_port_range)",
              lo, hi, elo, ehi);
  fclose(f);
}

void serve_admit_start(ftps_serve *srv) {
  raise_nofile(srv);
  check_pasv_range(srv);
  srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void serve_admit_stop(ftps_serve *srv) {
  if (srv->spare_fd >= 0)
    close(srv->spare_fd);
  srv->spare_fd = -1;
}
