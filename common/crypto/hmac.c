#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "base64.h"
#include "buf.h"

bool hmac_sha256(const char *key, const struct hmac_part *parts, size_t nparts, unsigned char out[HMAC_SHA256_LEN])
{
	bool ok = false;
	size_t len = 0;
	if (!key || !*key)
		return false;
	char digest[] = "SHA256";
	const OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
				      OSSL_PARAM_construct_end() };
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!ctx || !EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params))
		goto out;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
			goto out;
	ok = EVP_MAC_final(ctx, out, &len, HMAC_SHA256_LEN) && len == HMAC_SHA256_LEN;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

bool hmac_sha256_hex(const char *key, const struct hmac_part *parts, size_t nparts, char hex[HMAC_SHA256_HEX_LEN + 1])
{
	unsigned char mac[HMAC_SHA256_LEN];
	if (!hmac_sha256(key, parts, nparts, mac))
		return false;
	hex_encode(mac, sizeof mac, hex);
	return true;
}

bool hmac_sha256_hex_verify(const char *key, const struct hmac_part *parts, size_t nparts, const char *hex)
{
	unsigned char mac[HMAC_SHA256_LEN], given[HMAC_SHA256_LEN];
	if (!hex || strlen(hex) != HMAC_SHA256_HEX_LEN || !hex_decode_strict(hex, given, sizeof given))
		return false;
	if (!hmac_sha256(key, parts, nparts, mac))
		return false;
	return CRYPTO_memcmp(mac, given, sizeof mac) == 0;
}

bool hmac_sha256_base64(const char *key, const struct hmac_part *parts, size_t nparts,
			char b64[HMAC_SHA256_BASE64_LEN + 1])
{
	unsigned char mac[HMAC_SHA256_LEN];
	struct buf out = BUF_INIT;
	bool ok = hmac_sha256(key, parts, nparts, mac) && base64_encode(&out, mac, sizeof mac) &&
		  out.len == HMAC_SHA256_BASE64_LEN;
	if (ok)
		memcpy(b64, out.data, HMAC_SHA256_BASE64_LEN + 1);
	buf_cleanup(&out);
	return ok;
}

bool hmac_sha256_base64_verify(const char *key, const struct hmac_part *parts, size_t nparts, const char *b64)
{
	char want[HMAC_SHA256_BASE64_LEN + 1];
	/* compared as text, not decoded: the last digit's two spare bits would give a second spelling */
	if (!b64 || strlen(b64) != HMAC_SHA256_BASE64_LEN || !hmac_sha256_base64(key, parts, nparts, want))
		return false;
	return CRYPTO_memcmp(want, b64, HMAC_SHA256_BASE64_LEN) == 0;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool hex_decode_strict(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * n] == '\0';
}
