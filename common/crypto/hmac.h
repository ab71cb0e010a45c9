/* hmac — HMAC-SHA256 over a message given in parts, and its lower-case hex spelling: the one copy
 * every signed exchange (the ERP's stock push, shop and courier webhooks) signs and verifies with. */
#ifndef ERPSYNC_HMAC_H
#define ERPSYNC_HMAC_H

#include <stdbool.h>
#include <stddef.h>

#define HMAC_SHA256_LEN     32
#define HMAC_SHA256_HEX_LEN 64

struct hmac_part {
	const void *data;
	size_t len;
};

/* HMAC-SHA256(key, parts[0] || parts[1] || ...) into out; false when the key is empty. */
bool hmac_sha256(const char *key, const struct hmac_part *parts, size_t nparts, unsigned char out[HMAC_SHA256_LEN])
	__attribute__((warn_unused_result));

/* The same, as 64 lower-case hex digits and a NUL. */
bool hmac_sha256_hex(const char *key, const struct hmac_part *parts, size_t nparts, char hex[HMAC_SHA256_HEX_LEN + 1])
	__attribute__((warn_unused_result));

/* true when hex is exactly 64 lower-case hex digits spelling HMAC-SHA256(key, parts), compared in
 * constant time. Any other spelling (upper case, "0x", spaces, a shorter prefix) is refused. */
bool hmac_sha256_hex_verify(const char *key, const struct hmac_part *parts, size_t nparts, const char *hex)
	__attribute__((warn_unused_result));

#define HMAC_SHA256_BASE64_LEN 44 /* standard base64 with its padding */

/* The same, as standard base64 with padding (what WooCommerce's X-WC-Webhook-Signature carries). */
bool hmac_sha256_base64(const char *key, const struct hmac_part *parts, size_t nparts,
			char b64[HMAC_SHA256_BASE64_LEN + 1]) __attribute__((warn_unused_result));

/* true when b64 is exactly the 44-character base64 of HMAC-SHA256(key, parts), compared in
 * constant time; any other length or character is refused. */
bool hmac_sha256_base64_verify(const char *key, const struct hmac_part *parts, size_t nparts, const char *b64)
	__attribute__((warn_unused_result));

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* Exactly 2n lower-case hex digits into n bytes; false on any other character or length. */
bool hex_decode_strict(const char *hex, unsigned char *out, size_t n) __attribute__((warn_unused_result));

#endif
