/* cmd_serve.c - `ftpsfuzz serve`: serve a directory over FTPS (RFC 4217)
 * with the TCP front end (server/ftps_serve.h) around the sans-IO core. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cli.h"
#include "cli_atomic.h"
#include "ftps_err.h"
#include "ftps_serve.h"
#include "ftps_session.h"
#include "ftps_tls.h"
#include "ftps_users.h"
#include "ftps_vfs.h"
#include "serve_privs.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz serve --root DIR (--cert PEM --key PEM | --self-signed) [options]\n"
          "\n"
          "Serve DIR over FTPS (explicit TLS, AUTH TLS, RFC 4217). One process, one event\n"
          "loop. SIGTERM or SIGINT: stop accepting, let transfers in flight finish (see\n"
          "--drain), then exit; a second one exits at once. SIGHUP reopens --log FILE.\n"
          "Log lines (TIMESTAMP #SESSION CLIENT MESSAGE, UTC) go to standard error.\n"
          "  --listen HOST:PORT   address to listen on (default 127.0.0.1:2121; port 0\n"
          "                       picks a free port; [::1]:PORT for IPv6)\n"
          "  --root DIR           the directory served; nothing outside it is reachable\n"
          "  --cert PEM --key PEM certificate chain and private key (PEM files)\n"
          "  --self-signed        an ephemeral self-signed certificate (quick starts, tests)\n"
          "  --users FILE         users who may log in (format below); without it nobody\n"
          "                       can log in unless --anonymous is given\n"
          "  --anonymous          let 'anonymous'/'ftp' log in, read-only\n"
          "  --ccc                accept CCC (clear the control channel after login)\n"
          "  --tls-login on|off   TLS required before USER/PASS (default on)\n"
          "  --tls-data on|off    PROT P required for transfers (default on)\n"
          "  --tls-reuse on|off   PROT P data connections must resume the control\n"
          "                       connection's TLS session (default on, like vsftpd's\n"
          "                       require_ssl_reuse)\n"
          "  --pasv-ports A-B     passive data port range (default 61000-61999, above\n"
          "                       Linux's ephemeral ports; a warning names an overlap)\n"
          "  --max-sessions N     concurrent sessions (default 200)\n"
          "  --max-per-ip N       concurrent sessions per client address (default 20)\n"
          "  --idle-timeout S     close a session idle for S seconds (default 300; 0 = never)\n"
          "  --max-unauth N       concurrent connections not yet logged in (default 50)\n"
          "  --max-unauth-per-ip N  the same, per client address (default 10)\n"
          "  --login-timeout S    close a connection not logged in S seconds after it\n"
          "                       was accepted, TLS handshake included (default 60; 0 = never)\n"
          "  --data-timeout S     drop a passive port nobody connects to, or a data\n"
          "                       connection with no transfer started, after S seconds\n"
          "                       (default 30; 0 = never)\n"
          "  --login-workers N    threads checking passwords (default 2; 0 = on the\n"
          "                       event loop)\n"
          "  --login-backoff-max S  after failed logins from an address or on an\n"
          "                       account, delay its next check 0.1 s, doubling, up to\n"
          "                       S seconds (default 10; 0 = no back-off)\n"
          "  --port-file FILE     write the bound port number to FILE once listening\n"
          "  --drain S            on SIGTERM/SIGINT, transfers in flight get S seconds\n"
          "                       to finish (default 10; 0 = stop at once)\n"
          "  --log FILE           append log lines to FILE instead of standard error\n"
          "                       (reopened on SIGHUP, for log rotation)\n"
          "  --umask MASK         octal bits taken from new files (0666) and directories\n"
          "                       (0777) (default 022); a replaced file keeps its mode\n"
          "                       and owner\n"
          "  --run-as USER        once the listener is bound and the key, users file and\n"
          "                       root are open, become USER (its groups, group and\n"
          "                       uid) for good; the way to serve port 21\n"
          "  --allow-root         serve as root without --run-as (root overrides file\n"
          "                       permissions: clients could overwrite read-only files)\n"
          "  --client-ca FILE     verify TLS client certificates against the CA\n"
          "                       certificates in FILE (PEM); a certificate that does\n"
          "                       not verify fails the handshake\n"
          "  --client-cert MODE   off, request or require a client certificate (default\n"
          "                       require with --client-ca, off without)\n"
          "  --cert-login         USER <name>, where <name> is the verified certificate's\n"
          "                       subject CN and a user in --users, logs in without PASS\n"
          "                       (232); needs --client-ca\n"
          "\n"
          "Users file: one entry per line, '#' comments and blank lines ignored:\n"
          "  name:pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>\n"
          "Names are 1..64 bytes of [A-Za-z0-9._@-]. Create or replace an entry with\n"
          "  ftpsfuzz passwd --file FILE USER   (the password is read from standard input)\n"
          "\n"
          "Exit status: 0 after a clean shutdown, 2 for a bad option or configuration\n"
          "(also: running as root without --run-as or --allow-root).\n");
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0' || errno != 0 || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int parse_onoff(const char *s, bool *out) {
  if (!strcmp(s, "on")) {
    *out = true;
    return 0;
  }
  if (!strcmp(s, "off")) {
    *out = false;
    return 0;
  }
  return -1;
}

static int parse_range(const char *s, uint16_t *lo, uint16_t *hi) {
  char buf[16];
  const char *dash = strchr(s, '-');
  unsigned long a, b;
  if (!dash || (size_t)(dash - s) >= sizeof(buf))
    return -1;
  memcpy(buf, s, (size_t)(dash - s));
  buf[dash - s] = '\0';
  if (parse_uint(buf, 1, 65535, &a) != 0 || parse_uint(dash + 1, 1, 65535, &b) != 0 || a > b)
    return -1;
  *lo = (uint16_t)a;
  *hi = (uint16_t)b;
  return 0;
}

static int write_port_file(const char *path, uint16_t port) {
  cli_atomic a;
  char err[512];
  if (cli_atomic_open(&a, path, err, sizeof(err)) != 0) {
    fprintf(stderr, "serve: %s\n", err);
    return -1;
  }
  fprintf(a.f, "%u\n", (unsigned)port);
  if (cli_atomic_commit(&a, err, sizeof(err)) != 0) {
    fprintf(stderr, "serve: %s\n", err);
    return -1;
  }
  return 0;
}

int cmd_serve(int argc, char **argv) {
  ftps_serve_config cfg = ftps_serve_config_default();
  ftps_server server;
  const char *root = NULL, *cert = NULL, *key = NULL, *users_path = NULL, *port_file = NULL;
  const char *client_ca = NULL, *client_cert = NULL, *run_as = NULL;
  bool self_signed = false, allow_root = false;
  unsigned long umask_bits = 022;
  ftps_users *users = NULL;
  ftps_vfs *vfs = NULL;
  SSL_CTX *ctx = NULL;
  ftps_serve *srv = NULL;
  int status = CLI_USAGE;
  char err[600];

  memset(&server, 0, sizeof(server));
  server.policy = ftps_policy_default();
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    unsigned long n = 0;
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(o, "--self-signed")) {
      self_signed = true;
    } else if (!strcmp(o, "--anonymous")) {
      server.policy.anonymous = true;
    } else if (!strcmp(o, "--ccc")) {
      server.policy.ccc_allowed = true;
    } else if (!strcmp(o, "--cert-login")) {
      server.policy.cert_login = true;
    } else if (!strcmp(o, "--allow-root")) {
      allow_root = true;
    } else if (v == NULL) {
      fprintf(stderr, "serve: unknown option or missing value: '%s'\n", o);
      usage(stderr);
      return CLI_USAGE;
    } else {
      i++;
      bool ok = true;
      if (!strcmp(o, "--listen"))
        cfg.listen = v;
      else if (!strcmp(o, "--root"))
        root = v;
      else if (!strcmp(o, "--cert"))
        cert = v;
      else if (!strcmp(o, "--key"))
        key = v;
      else if (!strcmp(o, "--users"))
        users_path = v;
      else if (!strcmp(o, "--port-file"))
        port_file = v;
      else if (!strcmp(o, "--client-ca"))
        client_ca = v;
      else if (!strcmp(o, "--client-cert")) {
        client_cert = v;
        ok = !strcmp(v, "off") || !strcmp(v, "request") || !strcmp(v, "require");
      }
      else if (!strcmp(o, "--tls-login"))
        ok = parse_onoff(v, &server.policy.tls_required_login) == 0;
      else if (!strcmp(o, "--tls-data"))
        ok = parse_onoff(v, &server.policy.tls_required_data) == 0;
      else if (!strcmp(o, "--tls-reuse"))
        ok = parse_onoff(v, &server.policy.require_tls_reuse) == 0;
      else if (!strcmp(o, "--pasv-ports"))
        ok = parse_range(v, &cfg.pasv_min, &cfg.pasv_max) == 0;
      else if (!strcmp(o, "--max-sessions")) {
        ok = parse_uint(v, 1, 100000, &n) == 0;
        cfg.max_sessions = (unsigned)n;
      } else if (!strcmp(o, "--max-per-ip")) {
        ok = parse_uint(v, 1, 100000, &n) == 0;
        cfg.max_per_ip = (unsigned)n;
      } else if (!strcmp(o, "--idle-timeout")) {
        ok = parse_uint(v, 0, 86400 * 7, &n) == 0;
        cfg.idle_timeout_s = (uint32_t)n;
      } else if (!strcmp(o, "--max-unauth")) {
        ok = parse_uint(v, 1, 100000, &n) == 0;
        cfg.max_unauth = (unsigned)n;
      } else if (!strcmp(o, "--max-unauth-per-ip")) {
        ok = parse_uint(v, 1, 100000, &n) == 0;
        cfg.max_unauth_per_ip = (unsigned)n;
      } else if (!strcmp(o, "--login-timeout")) {
        ok = parse_uint(v, 0, 86400 * 7, &n) == 0;
        cfg.login_timeout_s = (uint32_t)n;
      } else if (!strcmp(o, "--data-timeout")) {
        ok = parse_uint(v, 0, 86400 * 7, &n) == 0;
        cfg.data_timeout_s = (uint32_t)n;
      } else if (!strcmp(o, "--login-workers")) {
        ok = parse_uint(v, 0, 64, &n) == 0;
        cfg.login_workers = (unsigned)n;
      } else if (!strcmp(o, "--login-backoff-max")) {
        ok = parse_uint(v, 0, 3600, &n) == 0;
        cfg.login_backoff_max_ms = (uint32_t)n * 1000u;
      } else if (!strcmp(o, "--drain")) {
        ok = parse_uint(v, 0, 3600, &n) == 0;
        cfg.drain_s = (uint32_t)n;
      } else if (!strcmp(o, "--log"))
        cfg.log_path = v;
      else if (!strcmp(o, "--run-as"))
        run_as = v;
      else if (!strcmp(o, "--umask")) {
        char *end = NULL;
        umask_bits = strtoul(v, &end, 8);
        ok = v[0] >= '0' && v[0] <= '7' && *end == '\0' && umask_bits <= 0777;
      } else {
        fprintf(stderr, "serve: unknown option '%s'\n", o);
        usage(stderr);
        return CLI_USAGE;
      }
      if (!ok) {
        fprintf(stderr, "serve: %s '%s': expected %s\n", o, v,
                !strncmp(o, "--tls", 5)        ? "on or off"
                : !strcmp(o, "--pasv-ports")   ? "A-B with 1 <= A <= B <= 65535"
                : strstr(o, "-timeout")        ? "seconds, 0..604800"
                : !strcmp(o, "--login-workers") ? "a number, 0..64"
                : !strcmp(o, "--login-backoff-max") ? "seconds, 0..3600"
                : !strcmp(o, "--drain")        ? "seconds, 0..3600"
                : !strcmp(o, "--umask")        ? "an octal mask, 0..777"
                : !strcmp(o, "--client-cert")  ? "off, request or require"
                                               : "a number, 1..100000");
        return CLI_USAGE;
      }
    }
  }
  if (!root) {
    fprintf(stderr, "serve: --root DIR is required\n");
    usage(stderr);
    return CLI_USAGE;
  }
  if (self_signed == (cert != NULL || key != NULL) || (!self_signed && (!cert || !key))) {
    fprintf(stderr, "serve: expected either --cert PEM --key PEM or --self-signed\n");
    return CLI_USAGE;
  }
  if (client_cert && !client_ca && strcmp(client_cert, "off")) {
    fprintf(stderr, "serve: --client-cert %s needs --client-ca FILE\n", client_cert);
    return CLI_USAGE;
  }
  if (client_ca && client_cert && !strcmp(client_cert, "off")) {
    fprintf(stderr, "serve: --client-ca FILE contradicts --client-cert off\n");
    return CLI_USAGE;
  }
  server.policy.client_cert = !client_ca                        ? FTPS_CLIENT_CERT_OFF
                              : client_cert && !strcmp(client_cert, "request")
                                  ? FTPS_CLIENT_CERT_REQUEST
                                  : FTPS_CLIENT_CERT_REQUIRE;
  if (server.policy.cert_login && server.policy.client_cert == FTPS_CLIENT_CERT_OFF) {
    fprintf(stderr, "serve: --cert-login needs --client-ca FILE\n");
    return CLI_USAGE;
  }

  /* Root overrides file permissions: a client could overwrite a read-only
   * file. Serving as root must be asked for. */
  if (geteuid() == 0 && !run_as && !allow_root) {
    fprintf(stderr, "serve: refusing to serve as root: root overrides file permissions, so "
                    "clients could overwrite read-only files; give --run-as USER (privileges "
                    "are dropped once the port is bound) or --allow-root\n");
    return CLI_USAGE;
  }
  /* Until the loop reads signals, a hang-up must not kill a starting server. */
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  sigprocmask(SIG_BLOCK, &hup, NULL);

  int verr = 0;
  vfs = ftps_vfs_posix_new(root, &verr);
  if (!vfs) {
    fprintf(stderr, "serve: %s: %s\n", root,
            verr == FTPS_ERR_NOTDIR   ? "not a directory"
            : verr == FTPS_ERR_NOENT  ? "no such directory"
            : verr == FTPS_ERR_PERM   ? "permission denied"
                                      : ftps_strerror(verr));
    goto out;
  }
  users = ftps_users_new();
  if (!users) {
    fprintf(stderr, "serve: out of memory\n");
    goto out;
  }
  if (users_path) {
    int rc = ftps_users_load(users, users_path, err, sizeof(err));
    if (rc == FTPS_ERR_IO) {
      fprintf(stderr, "serve: %s: cannot read the users file: %s\n", users_path,
              strerror(errno));
      goto out;
    }
    if (rc != 0) {
      fprintf(stderr, "serve: %s\n", err);
      goto out;
    }
  }
  if (self_signed) {
    ctx = ftps_tls_server_ctx_new_self_signed("localhost");
    if (!ctx) {
      fprintf(stderr, "serve: cannot make a self-signed certificate\n");
      goto out;
    }
  } else {
    ctx = ftps_tls_server_ctx_new(cert, key, err, sizeof(err));
    if (!ctx) {
      fprintf(stderr, "serve: %s\n", err);
      goto out;
    }
  }
  if (client_ca && ftps_tls_server_ctx_set_client_ca(
                       ctx, client_ca, server.policy.client_cert == FTPS_CLIENT_CERT_REQUIRE,
                       err, sizeof(err)) != 0) {
    fprintf(stderr, "serve: %s\n", err);
    goto out;
  }
  server.tls_ctx = ctx;
  server.users = users;
  server.vfs = vfs;
  server.login_async = true; /* passwords are checked off the event loop */
  cfg.server = &server;
  if (ftps_serve_new(&cfg, &srv, err, sizeof(err)) != 0) {
    fprintf(stderr, "serve: %s\n", err);
    goto out;
  }
  if (port_file && write_port_file(port_file, ftps_serve_port(srv)) != 0)
    goto out;
  if (run_as) {
    if (serve_privs_drop(run_as, err, sizeof(err)) != 0) {
      fprintf(stderr, "serve: %s\n", err);
      goto out;
    }
    ftps_serve_note(srv, "running as %s (uid %u, gid %u)", run_as, (unsigned)getuid(),
                    (unsigned)getgid());
  }
  ftps_vfs_posix_set_umask(vfs, (unsigned)umask_bits);
  /* Uploads a crash or kill -9 cut short left their temporary files. */
  unsigned long swept = 0;
  if (ftps_vfs_posix_sweep(vfs, &swept) != 0)
    ftps_serve_note(srv, "cannot sweep %s for stale temporary files", root);
  else
    ftps_serve_note(srv, "removed %lu stale temporary upload file(s) under %s", swept, root);
  /* A client that vanishes mid-send must not kill the server; the front end
   * also sends with MSG_NOSIGNAL. */
  signal(SIGPIPE, SIG_IGN);
  status = ftps_serve_run(srv) == 0 ? CLI_OK : CLI_FINDING;
out:
  ftps_serve_free(srv);
  SSL_CTX_free(ctx);
  ftps_users_free(users);
  ftps_vfs_free(vfs);
  return status;
}
