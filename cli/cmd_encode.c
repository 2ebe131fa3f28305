/* placeholder: being written */
#include "cli.h"
int cmd_encode(int argc, char **argv) { (void)argc; (void)argv; return CLI_USAGE; }
