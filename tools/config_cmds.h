/* The system-file commands of `hvcomm` (config_cmds.c). */
#ifndef HVC_TOOLS_CONFIG_CMDS_H
#define HVC_TOOLS_CONFIG_CMDS_H

#include <hvcomm/hvcomm.h>

/* hvcomm check FILE: argv[0] is "check". */
int cmd_check(int argc, char **argv);
/* hvcomm gen FILE -o OUT.c: argv[0] is "gen". */
int cmd_gen(int argc, char **argv);
/* hvcomm create [REGION] --config FILE [--verify] [--force]. */
int cmd_create_config(const char *config, const char *region, int do_verify, int force);
/* The "system" line of `hvcomm info`. */
void info_system(struct hvc_region *r);

#endif
