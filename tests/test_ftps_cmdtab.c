/* test_ftps_cmdtab.c - properties of the command table (the server's
 * policy), in the manner of s2n-tls's state-machine tests. */
#include <stdio.h>
#include <string.h>

#include "ftps_cmdtab.h"
#include "testlib.h"

static int has_flag(const char *verb, unsigned flag) {
  const ftps_cmd_def *d = ftps_cmdtab_find(verb);
  return d && (d->flags & flag);
}

int main(void) {
  /* Sorted and unique: the binary search depends on it. */
  for (size_t i = 1; i < ftps_cmdtab_len; i++)
    CHECK(strcmp(ftps_cmdtab[i - 1].verb, ftps_cmdtab[i].verb) < 0);

  /* Every row is found by its own verb; verbs are 3-4 upper-case letters. */
  for (size_t i = 0; i < ftps_cmdtab_len; i++) {
    const char *v = ftps_cmdtab[i].verb;
    CHECK(ftps_cmdtab_find(v) == &ftps_cmdtab[i]);
    size_t n = strlen(v);
    CHECK(n == 3 || n == 4);
    for (size_t j = 0; j < n; j++)
      CHECK(v[j] >= 'A' && v[j] <= 'Z');
  }

  /* Exact matching: no prefixes, no extensions of a verb. */
  CHECK(ftps_cmdtab_find("USE") == NULL);
  CHECK(ftps_cmdtab_find("USERX") == NULL);
  CHECK(ftps_cmdtab_find("user") == NULL); /* the parser upper-cases first */
  CHECK(ftps_cmdtab_find("") == NULL);

  /* QUIT is served in every state: before TLS, before login, with or
   * without an argument check that could refuse it. */
  CHECK(has_flag("QUIT", FTPS_CMD_PRE_TLS));
  CHECK(!has_flag("QUIT", FTPS_CMD_LOGIN));
  CHECK(ftps_cmdtab_find("QUIT")->handler != NULL);

  /* Under TLS-required, exactly AUTH FEAT QUIT NOOP SYST HELP OPTS are
   * served before TLS. */
  static const char *const pre_tls[] = {"AUTH", "FEAT", "HELP", "NOOP", "OPTS", "QUIT", "SYST"};
  size_t n_pre = 0;
  for (size_t i = 0; i < ftps_cmdtab_len; i++) {
    if (!(ftps_cmdtab[i].flags & FTPS_CMD_PRE_TLS))
      continue;
    int listed = 0;
    for (size_t j = 0; j < sizeof(pre_tls) / sizeof(pre_tls[0]); j++)
      listed |= !strcmp(ftps_cmdtab[i].verb, pre_tls[j]);
    if (!listed)
      fprintf(stderr, "unexpected pre-TLS verb %s\n", ftps_cmdtab[i].verb);
    CHECK(listed);
    n_pre++;
  }
  CHECK_EQ_INT(n_pre, sizeof(pre_tls) / sizeof(pre_tls[0]));

  /* USER and PASS are never served in plaintext when TLS is required, so
   * no login can happen in plaintext. */
  CHECK(!has_flag("USER", FTPS_CMD_PRE_TLS));
  CHECK(!has_flag("PASS", FTPS_CMD_PRE_TLS));

  /* Pre-TLS refusals of the security commands are ordering errors (RFC
   * 2228: 503), CCC's is "not protected" (533). */
  CHECK_EQ_INT(ftps_cmdtab_find("PBSZ")->refuse_plain, 503);
  CHECK_EQ_INT(ftps_cmdtab_find("PROT")->refuse_plain, 503);
  CHECK_EQ_INT(ftps_cmdtab_find("CCC")->refuse_plain, 533);

  /* Only RNTO (and NOOP) keep a pending RNFR. */
  for (size_t i = 0; i < ftps_cmdtab_len; i++)
    if (ftps_cmdtab[i].flags & FTPS_CMD_KEEP_RNFR)
      CHECK(!strcmp(ftps_cmdtab[i].verb, "RNTO") || !strcmp(ftps_cmdtab[i].verb, "NOOP"));

  /* Filesystem commands need a login. */
  static const char *const need_login[] = {"CWD", "CDUP", "PWD", "MKD", "RMD", "DELE",
                                           "RNFR", "RNTO", "SIZE", "MDTM", "RETR", "STOR",
                                           "LIST", "NLST", "PASV", "PORT", "TYPE"};
  for (size_t j = 0; j < sizeof(need_login) / sizeof(need_login[0]); j++)
    CHECK(has_flag(need_login[j], FTPS_CMD_LOGIN));

  return testlib_finish();
}
