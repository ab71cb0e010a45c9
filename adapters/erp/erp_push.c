#include "erp_push.h"

#include <stdio.h>
#include <string.h>

#include "erp_rest.h"
#include "hmac.h"

bool erp_push_sign(const char *secret, long long timestamp, const char *body, size_t len,
		   char ts[ERP_PUSH_TIMESTAMP_MAX], char sig[ERP_PUSH_SIGNATURE_MAX])
{
	int tlen = snprintf(ts, ERP_PUSH_TIMESTAMP_MAX, "%lld", timestamp);
	const struct hmac_part parts[] = { { ts, (size_t)tlen }, { ".", 1 }, { body, len } };
	return tlen > 0 && hmac_sha256_hex(secret, parts, 3, sig);
}

bool erp_push_verify(const char *secret, const char *timestamp, const char *body, size_t len, const char *sig)
{
	if (!timestamp || !sig)
		return false;
	const struct hmac_part parts[] = { { timestamp, strlen(timestamp) }, { ".", 1 }, { body, len } };
	return hmac_sha256_hex_verify(secret, parts, 3, sig);
}

bool erp_push_timestamp_ok(const char *timestamp, long long now_ms, long long tolerance_ms)
{
	long long t = 0;
	size_t n = timestamp ? strlen(timestamp) : 0;
	if (n == 0 || n > 12 || strspn(timestamp, "0123456789") != n)
		return false;
	for (size_t i = 0; i < n; i++)
		t = t * 10 + (timestamp[i] - '0');
	long long d = t * 1000 - now_ms;
	return d <= tolerance_ms && -d <= tolerance_ms;
}

bool erp_push_parse(const char *body, size_t len, struct erp_stock_page *out, char *err, size_t errlen)
{
	return erp_rest_parse_items(body, len, out, err, errlen);
}
