/* webhookgen_resp — where an HTTP/1.1 answer ends in the bytes read so far, and the percentiles of a
 * run's latencies. Pure: no I/O, so that the framing the load tool trusts is unit-tested. */
#ifndef WEBHOOKGEN_RESP_H
#define WEBHOOKGEN_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum webhookgen_frame {
	WEBHOOKGEN_MORE = 0, /* not complete yet: read more */
	WEBHOOKGEN_DONE = 1, /* one whole answer: status, length (bytes it took), keep_alive set */
	WEBHOOKGEN_BAD = -1, /* not an HTTP/1.x answer we can frame: close the connection */
};

struct webhookgen_answer {
	int status;      /* 100..599 */
	size_t length;   /* bytes of the whole answer, head and body */
	bool keep_alive; /* false: the server closes (Connection: close, or HTTP/1.0 without keep-alive) */
};

/* Frames the answer at the start of in[0..n): Content-Length or chunked bodies; an answer with
 * neither (ends at close) is BAD, as is a head over 16 KB. */
enum webhookgen_frame webhookgen_resp_frame(const char *in, size_t n, struct webhookgen_answer *out);

/* The p-th percentile (0..100) of v[0..n) sorted ascending, nearest rank; 0 when n is 0. */
int64_t webhookgen_pct(const int64_t *v, size_t n, double p);

#endif
