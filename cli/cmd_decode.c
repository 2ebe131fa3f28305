/* placeholder: being written */
#include "cli.h"
int cmd_decode(int argc, char **argv) { (void)argc; (void)argv; return CLI_USAGE; }
