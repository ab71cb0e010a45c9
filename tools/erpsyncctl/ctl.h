/* ctl — what erpsyncctl's subcommands share: the usage text and a number parser. Exit status of
 * every subcommand: 0 done, 1 failed (the cluster refused, a mismatch, a record not replayed),
 * 2 usage or a bad file. */
#ifndef ERPSYNC_CTL_H
#define ERPSYNC_CTL_H

#include <stdio.h>

#define CTL_EXIT_OK    0
#define CTL_EXIT_FAIL  1
#define CTL_EXIT_USAGE 2

/* The usage of every subcommand. */
void ctl_usage(FILE *fp);

/* s as a decimal integer in min..max into *out; -1 when it is not one. */
int ctl_parse_long(const char *s, long min, long max, long *out) __attribute__((warn_unused_result));

#endif
