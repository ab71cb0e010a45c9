#include "base64.h"

#include <string.h>

static const char base64_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool base64_encode(struct buf *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { base64_tab[(v >> 18) & 63], base64_tab[(v >> 12) & 63],
			      i + 1 < n ? base64_tab[(v >> 6) & 63] : '=', i + 2 < n ? base64_tab[v & 63] : '=' };
		if (!buf_append(out, q, sizeof q))
			return false;
	}
	return true;
}

static int base64_value(unsigned char ch)
{
	const char *p = ch ? strchr(base64_tab, ch) : NULL;
	return p ? (int)(p - base64_tab) : -1;
}

bool base64_decode(const char *in, char *out, size_t outlen, size_t *n)
{
	size_t o = 0, len = strlen(in), pad = 0;
	unsigned acc = 0;
	int bits = 0;
	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if (outlen == 0 || (pad && len % 4 != 0))
		return false;
	for (size_t i = 0; i < len - pad; i++) {
		int v = base64_value((unsigned char)in[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= outlen)
				return false;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (n)
		*n = o;
	return true;
}
