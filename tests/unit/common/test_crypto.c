/* common/crypto: FNV-1a, HMAC-SHA256 with its strict hex, base64 — against published vectors. */
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "hash.h"
#include "hmac.h"
#include "unit.h"

static void test_fnv1a(void)
{
	/* the FNV reference values of "" and "a" */
	EXPECT(hash_fnv1a32("", 0) == 0x811c9dc5u);
	EXPECT(hash_fnv1a32("a", 1) == 0xe40c292cu);
	EXPECT(hash_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
	EXPECT(hash_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
}

/* RFC 4231 test case 2, given in three parts */
static void test_hmac_sha256(void)
{
	const char *want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	const struct hmac_part parts[] = { { "what do ya", 10 }, { " want ", 6 }, { "for nothing?", 12 } };
	char hex[HMAC_SHA256_HEX_LEN + 1];
	EXPECT(hmac_sha256_hex("Jefe", parts, 3, hex));
	EXPECT_STR(hex, want);
	EXPECT(hmac_sha256_hex_verify("Jefe", parts, 3, want));
	EXPECT(!hmac_sha256_hex_verify("jefe", parts, 3, want));
	EXPECT(!hmac_sha256_hex_verify("Jefe", parts, 2, want));
	EXPECT(!hmac_sha256_hex_verify("Jefe", parts, 3,
				       "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"));
	EXPECT(!hmac_sha256_hex_verify("Jefe", parts, 3, "5bdcc146"));
	EXPECT(!hmac_sha256_hex_verify("Jefe", parts, 3, NULL));
	EXPECT(!hmac_sha256_hex("", parts, 3, hex));
}

static void test_hmac_base64(void)
{
	/* printf '{"id":1}' | openssl dgst -sha256 -hmac wc-secret -binary | base64 */
	const struct hmac_part part = { "{\"id\":1}", 8 };
	char b64[HMAC_SHA256_BASE64_LEN + 1];
	EXPECT(hmac_sha256_base64("wc-secret", &part, 1, b64));
	EXPECT_STR(b64, "xspNGMrVWxIcQDyrXfbm2UqRDdmgJAuEN8sLb9BkThg=");
	EXPECT(hmac_sha256_base64_verify("wc-secret", &part, 1, b64));
	EXPECT(!hmac_sha256_base64_verify("wc-secret", &part, 1, "xspNGMrVWxIcQDyrXfbm2UqRDdmgJAuEN8sLb9BkThh="));
	EXPECT(!hmac_sha256_base64_verify("wc-secret", &part, 1, NULL));
}

static void test_hex_strict(void)
{
	unsigned char out[2];
	EXPECT(hex_decode_strict("0aff", out, 2) && out[0] == 0x0a && out[1] == 0xff);
	EXPECT(!hex_decode_strict("0AFF", out, 2));
	EXPECT(!hex_decode_strict("0af", out, 2));
	EXPECT(!hex_decode_strict("0aff0", out, 2));
	EXPECT(!hex_decode_strict("0x0a", out, 2));
}

/* RFC 4648 section 10 */
static void test_base64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		struct buf b = BUF_INIT;
		char back[16];
		size_t n = 99;
		EXPECT(base64_encode(&b, plain[i], strlen(plain[i])));
		EXPECT_STR(b.data ? b.data : "", coded[i]);
		EXPECT(base64_decode(coded[i], back, sizeof back, &n));
		EXPECT_STR(back, plain[i]);
		EXPECT_INT(n, strlen(plain[i]));
		buf_cleanup(&b);
	}
	char out[4];
	EXPECT(!base64_decode("Zm9vYmFy", out, sizeof out, NULL)); /* too long for out */
	EXPECT(!base64_decode("Zm9v!", out, sizeof out, NULL));    /* outside the alphabet */
	EXPECT(!base64_decode("Zg=", out, sizeof out, NULL));      /* padding without a full quantum */
}

UNIT_MAIN(test_fnv1a, test_hmac_sha256, test_hmac_base64, test_hex_strict, test_base64)
