/* err — the one way a fallible function fills its caller's error buffer: a function that can fail
 * takes (char *err, size_t errlen) and says why there, and the caller logs it or passes it on. */
#ifndef ERPSYNC_ERR_H
#define ERPSYNC_ERR_H

#include <stddef.h>

/* Formats into err (truncated to errlen - 1); does nothing when err is NULL or errlen 0. */
void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
