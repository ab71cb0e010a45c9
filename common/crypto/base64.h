/* base64 — the standard alphabet with padding (RFC 4648 section 4): HTTP Basic credentials. */
#ifndef ERPSYNC_BASE64_H
#define ERPSYNC_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the encoding of in[0..n) to out. */
bool base64_encode(struct buf *out, const void *in, size_t n) __attribute__((warn_unused_result));

/* Decodes NUL-terminated in into out (outlen bytes, NUL-terminated, *n the length without it);
 * false when malformed (a character outside the alphabet, misplaced padding) or too long. */
bool base64_decode(const char *in, char *out, size_t outlen, size_t *n) __attribute__((warn_unused_result));

#endif
