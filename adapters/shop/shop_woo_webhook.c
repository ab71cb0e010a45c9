#include "shop_woo_webhook.h"

#include <string.h>

#include "hmac.h"

/* "webhook_id=<1..20 digits>", nothing else: what WooCommerce posts once when a webhook is made. */
static bool shop_woo_webhook_is_ping(const char *body, size_t len)
{
	static const char lead[] = "webhook_id=";
	size_t n = sizeof lead - 1;
	if (len <= n || len > n + 20 || memcmp(body, lead, n) != 0)
		return false;
	for (size_t i = n; i < len; i++)
		if (body[i] < '0' || body[i] > '9')
			return false;
	return true;
}

enum shop_woo_delivery shop_woo_webhook_check(const char *secret, const char *signature, const char *body, size_t len)
{
	if (!body)
		return SHOP_WOO_DELIVERY_REFUSED;
	/* the ping carries no signature; a signed body is judged by its signature alone */
	if (!signature)
		return shop_woo_webhook_is_ping(body, len) ? SHOP_WOO_DELIVERY_PING : SHOP_WOO_DELIVERY_REFUSED;
	const struct hmac_part part = { body, len };
	return secret && *secret && hmac_sha256_base64_verify(secret, &part, 1, signature) ? SHOP_WOO_DELIVERY_SIGNED
											   : SHOP_WOO_DELIVERY_REFUSED;
}

bool shop_woo_webhook_sign(const char *secret, const char *body, size_t len, char sig[SHOP_WOO_WEBHOOK_SIGNATURE_MAX])
{
	const struct hmac_part part = { body, len };
	return hmac_sha256_base64(secret, &part, 1, sig);
}
