/* buf — a growable byte buffer, always NUL-terminated, for building bodies, SQL and metrics text. */
#ifndef ERPSYNC_BUF_H
#define ERPSYNC_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;   /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_cleanup(struct buf *b);          /* frees the storage; the struct may be reused */
void buf_reset(struct buf *b);            /* len = 0, storage kept */
bool buf_append(struct buf *b, const void *data, size_t len) __attribute__((warn_unused_result));
bool buf_puts(struct buf *b, const char *s) __attribute__((warn_unused_result));
bool buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
/* Appends s as a JSON string literal with quotes and escapes. */
bool buf_json_str(struct buf *b, const char *s) __attribute__((warn_unused_result));
/* Takes the storage out (caller frees); the buffer is left empty. */
char *buf_steal(struct buf *b, size_t *len);

#endif
