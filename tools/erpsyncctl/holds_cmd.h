/* holds_cmd — `erpsyncctl holds list|release|reject`: the price guard's holds, through pricing's
 * /admin/holds endpoints. */
#ifndef ERPSYNC_HOLDS_CMD_H
#define ERPSYNC_HOLDS_CMD_H

/* argv: "holds" "list"|"release"|"reject" options...; returns the exit status (ctl.h). */
int holds_cmd(int argc, char **argv);

#endif
