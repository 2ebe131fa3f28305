/* ftps_cmd_security.c - AUTH, PBSZ, PROT, CCC, REIN (RFC 2228, RFC 4217). */
#include <stdint.h>

#include "ftps_cmd_util.h"
#include "ftps_commands.h"
#include "ftps_session_int.h"

/* RFC 4217 section 4: "AUTH TLS"; "TLS-C" is its older name; "SSL" and
 * "TLS-P" come from draft-murray. All four start TLS on the control
 * connection; none changes the data protection level by itself (only PROT
 * does: the oracle's PROT_LEVEL_KEPT). */
static bool known_mechanism(const ftps_cmd *cmd) {
  return cmd_arg_is(cmd, "TLS") || cmd_arg_is(cmd, "TLS-C") || cmd_arg_is(cmd, "SSL") ||
         cmd_arg_is(cmd, "TLS-P");
}

void ftps_cmd_auth(ftps_session *s, const ftps_cmd *cmd) {
  if (!cmd->arg || cmd->arg_len == 0) {
    session_reply(s, 501, "AUTH needs a mechanism: AUTH TLS.");
    return;
  }
  /* RFC 2228 AUTH replies: 234, 334, 502, 504, 534, 431, 500, 501, 421. A
   * second AUTH must never be answered 234 (the oracle's NO_SECOND_234). */
  if (s->sec != SEC_PLAIN) {
    session_reply(s, 534, "Already using TLS.");
    return;
  }
  if (s->ccc_done) {
    session_reply(s, 534, "TLS cannot be restarted after CCC; use REIN first.");
    return;
  }
  if (!known_mechanism(cmd)) {
    session_reply(s, 504, "Unsupported security mechanism: use AUTH TLS.");
    return;
  }
  if (!s->srv->tls_ctx) {
    session_reply(s, 431, "TLS is not configured on this server.");
    return;
  }
  session_reply(s, 234, "Proceed with TLS negotiation.");
  /* RFC 2228 AUTH: accepting it "removes any state associated with prior
   * FTP Security commands", and "the server must also require that the
   * user reauthorize": a USER (or a whole login) sent before it counts for
   * nothing, PBSZ/PROT start over and no PASV/PORT offer survives. */
  session_forget_login(s);
  data_forget_mode(s, "AUTH");
  if (!s->closed)
    session_start_tls(s);
}

/* RFC 2228: PBSZ <decimal-integer>, a 32-bit value. */
static bool parse_pbsz(const ftps_cmd *cmd) {
  if (!cmd->arg || cmd->arg_len == 0 || cmd->arg_len > 10)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < cmd->arg_len; i++) {
    if (cmd->arg[i] < '0' || cmd->arg[i] > '9')
      return false;
    v = v * 10 + (uint64_t)(cmd->arg[i] - '0');
  }
  return v <= UINT32_MAX;
}

void ftps_cmd_pbsz(ftps_session *s, const ftps_cmd *cmd) {
  /* RFC 2228 section 3: PBSZ "must be preceded by a successful security
   * data exchange" - here, a completed TLS handshake. */
  if (s->sec != SEC_SECURE) {
    session_reply(s, 503, "PBSZ needs a protected control connection: AUTH TLS first.");
    return;
  }
  if (!parse_pbsz(cmd)) {
    session_reply(s, 501, "PBSZ needs a decimal buffer size: PBSZ 0.");
    return;
  }
  /* RFC 4217 section 8: TLS needs no buffer; a server answers any size with
   * "200 PBSZ=0". */
  s->pbsz = true;
  session_reply(s, 200, "PBSZ=0");
}

void ftps_cmd_prot(ftps_session *s, const ftps_cmd *cmd) {
  if (s->sec != SEC_SECURE) {
    session_reply(s, 503, "PROT needs a protected control connection: AUTH TLS first.");
    return;
  }
  /* RFC 2228 section 3: "The PROT command must be preceded by a successful
   * protection buffer size negotiation." */
  if (!s->pbsz) {
    session_reply(s, 503, "PBSZ must come before PROT.");
    return;
  }
  if (!cmd->arg || cmd->arg_len == 0) {
    session_reply(s, 501, "PROT needs a level: C or P.");
    return;
  }
  if (cmd_arg_is(cmd, "C") || cmd_arg_is(cmd, "P")) {
    s->prot = (cmd->arg[0] == 'c' || cmd->arg[0] == 'C') ? 'C' : 'P';
    session_reply(s, 200, s->prot == 'P' ? "Protection level set to P." : "Protection level set to C.");
    return;
  }
  /* A refused level leaves the current one in force (PROT_LEVEL_KEPT). */
  if (cmd_arg_is(cmd, "S") || cmd_arg_is(cmd, "E")) {
    session_reply(s, 536, "Protection level not supported with TLS: use C or P.");
    return;
  }
  session_reply(s, 504, "Unknown protection level: use C or P.");
}

void ftps_cmd_ccc(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  /* A policy that requires TLS never lets the control connection return to
   * plaintext (TLS_REQUIRED_STAYS_TLS), whatever ccc_allowed says. */
  if (!s->srv->policy.ccc_allowed || s->srv->policy.tls_required_login) {
    session_reply(s, 534, "CCC is refused by this server's policy.");
    return;
  }
  if (s->sec != SEC_SECURE) {
    session_reply(s, 533, "The control connection is not protected.");
    return;
  }
  if (s->login != LOGIN_DONE) {
    session_reply(s, 530, "Please log in before CCC.");
    return;
  }
  /* RFC 4217 section 12.4: reply 200 inside TLS; the client then sends
   * close_notify and the server answers with its own. */
  session_reply(s, 200, "CCC OK: send close_notify, then plaintext.");
  if (s->closed)
    return;
  s->ccc_done = true;
  s->pbsz = false;
  session_end_tls(s);
}

void ftps_cmd_rein(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  bool was_secure = s->sec == SEC_SECURE;
  /* The failure count survives REIN, or REIN would reset the brute-force
   * limit. */
  session_reset_login(s);
  session_reply(s, 220, "Service ready for new user.");
  /* RFC 4217 section 13: REIN resets the security state too; the reply goes
   * out protected, then TLS ends as after CCC. */
  if (was_secure && !s->closed)
    session_end_tls(s);
}
