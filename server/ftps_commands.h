/* ftps_commands.h - one handler per verb (ftps_commands.c). The command
 * table has already checked the verb's state and argument rules. */
#ifndef FTPS_COMMANDS_H
#define FTPS_COMMANDS_H

#include "ftps_cmdline.h"

struct ftps_session;

#define FTPS_HANDLER(name) void ftps_cmd_##name(struct ftps_session *s, const ftps_cmd *cmd)
FTPS_HANDLER(abor);
FTPS_HANDLER(allo);
FTPS_HANDLER(appe);
FTPS_HANDLER(auth);
FTPS_HANDLER(ccc);
FTPS_HANDLER(cdup);
FTPS_HANDLER(cwd);
FTPS_HANDLER(dele);
FTPS_HANDLER(eprt);
FTPS_HANDLER(epsv);
FTPS_HANDLER(feat);
FTPS_HANDLER(help);
FTPS_HANDLER(list);
FTPS_HANDLER(mdtm);
FTPS_HANDLER(mkd);
FTPS_HANDLER(mlsd);
FTPS_HANDLER(mlst);
FTPS_HANDLER(mode);
FTPS_HANDLER(nlst);
FTPS_HANDLER(noop);
FTPS_HANDLER(opts);
FTPS_HANDLER(pass);
FTPS_HANDLER(pasv);
FTPS_HANDLER(pbsz);
FTPS_HANDLER(port);
FTPS_HANDLER(prot);
FTPS_HANDLER(pwd);
FTPS_HANDLER(quit);
FTPS_HANDLER(rein);
FTPS_HANDLER(rest);
FTPS_HANDLER(retr);
FTPS_HANDLER(rmd);
FTPS_HANDLER(rnfr);
FTPS_HANDLER(rnto);
FTPS_HANDLER(size);
FTPS_HANDLER(stat);
FTPS_HANDLER(stat_path);
FTPS_HANDLER(stor);
FTPS_HANDLER(stou);
FTPS_HANDLER(stru);
FTPS_HANDLER(syst);
FTPS_HANDLER(type);
FTPS_HANDLER(user);
#undef FTPS_HANDLER

#endif
