/* buf — a growable byte buffer, always NUL-terminated, for building bodies, SQL and metrics text. */
#ifndef ERPSYNC_BUF_H
#define ERPSYNC_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes a buffer holds unless it was given its own maximum: far above any body, SQL
 * statement or metrics page we build, low enough that a runaway append fails instead of taking the
 * process's memory. The same bound as the HTTP client's response bodies. */
#define BUF_MAX_DEFAULT ((size_t)64 << 20)

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap; /* bytes allocated, the NUL included */
	size_t max; /* most bytes len may reach (the NUL not counted); 0: BUF_MAX_DEFAULT */
};

#define BUF_INIT              \
	{                     \
		NULL, 0, 0, 0 \
	}

/* An append that would take len past the maximum, or whose size would overflow, fails (false) and
 * leaves the buffer as it was; so does one that runs out of memory. */
void buf_init(struct buf *b);                 /* empty, maximum BUF_MAX_DEFAULT */
void buf_init_max(struct buf *b, size_t max); /* empty, at most max bytes (0: BUF_MAX_DEFAULT) */
void buf_cleanup(struct buf *b);              /* frees the storage; the struct may be reused (same maximum) */
void buf_reset(struct buf *b);                /* len = 0, storage kept */
bool buf_append(struct buf *b, const void *data, size_t len) __attribute__((warn_unused_result));
bool buf_puts(struct buf *b, const char *s) __attribute__((warn_unused_result));
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));
/* Appends s as a JSON string literal with quotes and escapes. */
bool buf_json_str(struct buf *b, const char *s) __attribute__((warn_unused_result));
/* Takes the storage out (caller frees); the buffer is left empty, with its maximum. */
char *buf_steal(struct buf *b, size_t *len);

#endif
