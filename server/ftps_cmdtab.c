/* ftps_cmdtab.c - the command table (see ftps_cmdtab.h). Handlers live in
 * ftps_cmd_*.c. A NULL handler is a verb we recognise but do not implement. */
#include "ftps_cmdtab.h"

#include <string.h>

#include "ftps_commands.h"

#define PRE FTPS_CMD_PRE_TLS
#define LOG FTPS_CMD_LOGIN
#define ARG FTPS_CMD_ARG
#define NOA FTPS_CMD_NOARG
#define KREST FTPS_CMD_KEEP_REST
#define XFER FTPS_CMD_XFER

/* Sorted by verb: ftps_cmdtab_find uses binary search, and a unit test checks
 * the order. */
const ftps_cmd_def ftps_cmdtab[] = {
    {"ABOR", ftps_cmd_abor, LOG | NOA, 0},
    {"ACCT", NULL, 0, 0},
    {"ADAT", NULL, 0, 503},
    {"ALLO", ftps_cmd_allo, LOG, 0},
    {"APPE", ftps_cmd_appe, LOG | ARG | KREST | XFER, 0},
    {"AUTH", ftps_cmd_auth, PRE, 0},
    {"CCC", ftps_cmd_ccc, NOA, 533},
    {"CDUP", ftps_cmd_cdup, LOG | NOA, 0},
    {"CONF", NULL, 0, 503},
    {"CWD", ftps_cmd_cwd, LOG | ARG, 0},
    {"DELE", ftps_cmd_dele, LOG | ARG, 0},
    {"ENC", NULL, 0, 503},
    {"EPRT", ftps_cmd_eprt, LOG | ARG | KREST, 0},
    {"EPSV", ftps_cmd_epsv, LOG | KREST, 0},
    {"FEAT", ftps_cmd_feat, PRE | NOA, 0},
    {"HELP", ftps_cmd_help, PRE, 0},
    {"LIST", ftps_cmd_list, LOG | XFER, 0},
    {"MDTM", ftps_cmd_mdtm, LOG | ARG, 0},
    {"MIC", NULL, 0, 503},
    {"MKD", ftps_cmd_mkd, LOG | ARG, 0},
    {"MLSD", ftps_cmd_mlsd, LOG | XFER, 0},
    {"MLST", ftps_cmd_mlst, LOG, 0},
    {"MODE", ftps_cmd_mode, LOG | ARG, 0},
    {"NLST", ftps_cmd_nlst, LOG | XFER, 0},
    {"NOOP", ftps_cmd_noop, PRE, 0},
    {"OPTS", ftps_cmd_opts, PRE | ARG, 0},
    {"PASS", ftps_cmd_pass, 0, 0},
    {"PASV", ftps_cmd_pasv, LOG | NOA | KREST, 0},
    {"PBSZ", ftps_cmd_pbsz, 0, 503},
    {"PORT", ftps_cmd_port, LOG | ARG | KREST, 0},
    {"PROT", ftps_cmd_prot, 0, 503},
    {"PWD", ftps_cmd_pwd, LOG | NOA, 0},
    {"QUIT", ftps_cmd_quit, PRE, 0},
    {"REIN", ftps_cmd_rein, NOA, 0},
    {"REST", ftps_cmd_rest, LOG | ARG | KREST, 0},
    {"RETR", ftps_cmd_retr, LOG | ARG | KREST | XFER, 0},
    {"RMD", ftps_cmd_rmd, LOG | ARG, 0},
    {"RNFR", ftps_cmd_rnfr, LOG | ARG, 0},
    {"RNTO", ftps_cmd_rnto, LOG | ARG | FTPS_CMD_KEEP_RNFR, 0},
    {"SITE", NULL, LOG, 0},
    {"SIZE", ftps_cmd_size, LOG | ARG, 0},
    {"SMNT", NULL, LOG, 0},
    {"STAT", ftps_cmd_stat, 0, 0},
    {"STOR", ftps_cmd_stor, LOG | ARG | KREST | XFER, 0},
    {"STOU", ftps_cmd_stou, LOG | KREST | XFER, 0},
    {"STRU", ftps_cmd_stru, LOG | ARG, 0},
    {"SYST", ftps_cmd_syst, PRE | NOA, 0},
    {"TYPE", ftps_cmd_type, LOG | ARG, 0},
    {"USER", ftps_cmd_user, ARG, 0},
    {"XCUP", ftps_cmd_cdup, LOG | NOA, 0},
    {"XCWD", ftps_cmd_cwd, LOG | ARG, 0},
    {"XMKD", ftps_cmd_mkd, LOG | ARG, 0},
    {"XPWD", ftps_cmd_pwd, LOG | NOA, 0},
    {"XRMD", ftps_cmd_rmd, LOG | ARG, 0},
};
const size_t ftps_cmdtab_len = sizeof(ftps_cmdtab) / sizeof(ftps_cmdtab[0]);

const ftps_cmd_def *ftps_cmdtab_find(const char *verb) {
  size_t lo = 0, hi = ftps_cmdtab_len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(verb, ftps_cmdtab[mid].verb);
    if (c == 0)
      return &ftps_cmdtab[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}
