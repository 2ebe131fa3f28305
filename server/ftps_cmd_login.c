/* ftps_cmd_login.c - USER, PASS, QUIT. */
#include <string.h>

#include <openssl/mem.h>

#include "ftps_alloc.h"
#include "ftps_cmd_util.h"
#include "ftps_commands.h"
#include "ftps_session_int.h"

/* cert_login_matches: under the cert_login policy, the control connection's
 * verified client certificate names (subject CN, exactly) the known user
 * that USER just named. Only while the control connection is TLS. */
static bool cert_login_matches(const ftps_session *s) {
  const ftps_policy *p = &s->srv->policy;
  char id[FTPS_TLS_IDENTITY_MAX + 1];
  if (!p->cert_login || p->client_cert == FTPS_CLIENT_CERT_OFF || s->sec != SEC_SECURE ||
      !s->ssl || !s->srv->users || !s->user[0])
    return false;
  if (ftps_tls_peer_identity(s->ssl, id, sizeof(id)) != 0 || !ftps_users_name_valid(id))
    return false;
  return strcmp(id, s->user) == 0 && ftps_users_exists(s->srv->users, s->user);
}

static bool is_anonymous_name(const ftps_cmd *cmd) {
  return cmd_arg_is(cmd, "anonymous") || cmd_arg_is(cmd, "ftp");
}

void ftps_cmd_user(ftps_session *s, const ftps_cmd *cmd) {
  /* A refused USER changes nothing (the model's ANON_ERR row; vsftpd keeps
   * the login too): a logged-in session stays logged in. */
  if (is_anonymous_name(cmd) && !s->srv->policy.anonymous) {
    session_event(s, FTPS_EV_LOGIN_FAILED, "anonymous");
    session_reply(s, 530, "Anonymous login is not allowed.");
    return;
  }
  /* An accepted USER at any time starts a new login (RFC 959 4.1.1);
   * protection state is kept. */
  s->login = LOGIN_NONE;
  s->anonymous = false;
  s->user[0] = '\0';
  if (is_anonymous_name(cmd)) {
    s->anonymous = true;
    s->login = LOGIN_USER_OK;
    session_reply(s, 331, "Anonymous login: send your e-mail address as password.");
    return;
  }
  /* A name that cannot exist is not refused here, so the reply does not tell
   * which names are valid; its PASS simply fails. The name is never echoed. */
  if (cmd->arg_len >= 1 && cmd->arg_len <= FTPS_USER_MAX && !memchr(cmd->arg, '\0', cmd->arg_len)) {
    memcpy(s->user, cmd->arg, cmd->arg_len);
    s->user[cmd->arg_len] = '\0';
  }
  /* RFC 2228 section 4 (USER): "232 User logged in, authorized by security
   * data exchange." The certificate stands in for the password. */
  if (cert_login_matches(s)) {
    s->login = LOGIN_DONE;
    s->login_failures = 0;
    memcpy(s->cwd, "/", 2);
    session_event(s, FTPS_EV_LOGIN, s->user);
    session_reply(s, 232, "User logged in, authorized by security data exchange.");
    return;
  }
  s->login = LOGIN_USER_OK;
  session_reply(s, 331, "Password required.");
}

/* pass_verdict ends a PASS for a named user, checked inline or by the
 * transport: the same replies and events either way. */
static void pass_verdict(ftps_session *s, bool ok) {
  if (ok) {
    s->login = LOGIN_DONE;
    s->login_failures = 0;
    memcpy(s->cwd, "/", 2);
    session_event(s, FTPS_EV_LOGIN, s->user);
    session_reply(s, 230, "User logged in.");
    return;
  }
  /* The operator's log gets the name (fail2ban needs the attempt), never
   * the password nor whether the name exists; the reply says neither. */
  session_event(s, FTPS_EV_LOGIN_FAILED, s->user);
  s->login = LOGIN_NONE;
  s->user[0] = '\0';
  s->login_failures++;
  /* Failed logins are slowed through the session clock, never by sleeping,
   * and the session ends after max_login_failures. */
  const ftps_policy *p = &s->srv->policy;
  bool last = p->max_login_failures && s->login_failures >= p->max_login_failures;
  int code = last ? 421 : 530;
  const char *text = last ? "Too many failed logins, closing." : "Login incorrect.";
  if (p->login_fail_delay_ms == 0) {
    session_reply(s, code, text);
    if (last)
      session_close(s, true);
    return;
  }
  session_reply_held(s, code, text, p->login_fail_delay_ms, last);
}

void ftps_cmd_pass(ftps_session *s, const ftps_cmd *cmd) {
  if (s->login == LOGIN_DONE) {
    session_reply(s, 503, "Already logged in.");
    return;
  }
  if (s->login != LOGIN_USER_OK) {
    session_reply(s, 503, "Send USER first.");
    return;
  }
  if (s->anonymous) {
    s->login = LOGIN_DONE;
    memcpy(s->cwd, "/", 2);
    session_event(s, FTPS_EV_LOGIN, "anonymous");
    session_reply(s, 230, "Anonymous access granted, read-only.");
    return;
  }
  const char *pw = cmd->arg ? (const char *)cmd->arg : "";
  size_t pw_len = cmd->arg ? cmd->arg_len : 0;
  if (s->srv->login_async && s->srv->users) {
    /* The transport checks it (off its event loop) and answers through
     * ftps_session_login_result(); process() waits for that. */
    s->pass_pw = ftps_malloc(pw_len ? pw_len : 1);
    if (!s->pass_pw) {
      session_close(s, false);
      return;
    }
    memcpy(s->pass_pw, pw, pw_len);
    s->pass_pw_len = pw_len;
    s->pass_pending = true;
    session_event(s, FTPS_EV_LOGIN_CHECK, NULL);
    return;
  }
  bool ok = s->srv->users && ftps_users_check(s->srv->users, s->user, pw, pw_len) && s->user[0];
  pass_verdict(s, ok);
}

bool ftps_session_login_pending(const ftps_session *s, const char **out_user,
                                const uint8_t **out_pw, size_t *out_pw_len) {
  if (!s->pass_pending || s->closed)
    return false;
  *out_user = s->user;
  *out_pw = s->pass_pw;
  *out_pw_len = s->pass_pw_len;
  return true;
}

void ftps_session_login_result(ftps_session *s, bool ok) {
  if (!s->pass_pending || s->closed)
    return;
  session_pass_release(s);
  pass_verdict(s, ok && s->user[0]);
  /* Input waited for the verdict. */
  size_t used;
  ftps_session_feed(s, NULL, 0, &used);
}

void session_pass_release(ftps_session *s) {
  if (s->pass_pw) {
    OPENSSL_cleanse(s->pass_pw, s->pass_pw_len);
    ftps_free(s->pass_pw);
  }
  s->pass_pw = NULL;
  s->pass_pw_len = 0;
  s->pass_pending = false;
}

void ftps_cmd_quit(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  session_reply(s, 221, "Goodbye.");
  session_close(s, true);
}
