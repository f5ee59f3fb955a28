/* help.h - the --help texts; docs/osdctl.1 says the same (test_client_help checks it). */
#ifndef OSDCTL_HELP_H
#define OSDCTL_HELP_H

/* Help of a command, or the overall help for NULL; NULL for an unknown command. */
const char *help_text(const char *cmd);
#endif
