/* A WooCommerce webhook delivery: the ping, a signed body, and every way a signature is refused.
 * Vectors: printf '<body>' | openssl dgst -sha256 -hmac wc-secret -binary | base64 */
#include <string.h>

#include "shop_woo_webhook.h"
#include "unit.h"

static const char body[] = "{\"id\":1}";
static const char good[] = "xspNGMrVWxIcQDyrXfbm2UqRDdmgJAuEN8sLb9BkThg=";

static void test_signed_delivery(void)
{
	EXPECT(shop_woo_webhook_check("wc-secret", good, body, strlen(body)) == SHOP_WOO_DELIVERY_SIGNED);
	/* an empty body signs too */
	EXPECT(shop_woo_webhook_check("wc-secret", "B7tuuKtEqasgoYnCj0t5nik3iovotKS0e+UkYKhWvAw=", "", 0) ==
	       SHOP_WOO_DELIVERY_SIGNED);
	char sig[SHOP_WOO_WEBHOOK_SIGNATURE_MAX];
	EXPECT(shop_woo_webhook_sign("wc-secret", body, strlen(body), sig));
	EXPECT_STR(sig, good);
}

static void test_refused_signatures(void)
{
	const size_t len = strlen(body);
	EXPECT(shop_woo_webhook_check("other", good, body, len) == SHOP_WOO_DELIVERY_REFUSED);             /* key */
	EXPECT(shop_woo_webhook_check("wc-secret", good, "{\"id\":2}", len) == SHOP_WOO_DELIVERY_REFUSED); /* body */
	EXPECT(shop_woo_webhook_check("wc-secret", good, body, len - 1) == SHOP_WOO_DELIVERY_REFUSED);     /* cut */
	EXPECT(shop_woo_webhook_check("", good, body, len) == SHOP_WOO_DELIVERY_REFUSED);
	EXPECT(shop_woo_webhook_check(NULL, good, body, len) == SHOP_WOO_DELIVERY_REFUSED);
	EXPECT(shop_woo_webhook_check("wc-secret", "", body, len) == SHOP_WOO_DELIVERY_REFUSED);
	EXPECT(shop_woo_webhook_check("wc-secret", "xspNGMrVWxIcQDyrXfbm2UqRDdmgJAuEN8sLb9BkThg", body, len) ==
	       SHOP_WOO_DELIVERY_REFUSED); /* no padding */
	EXPECT(shop_woo_webhook_check("wc-secret", "xspNGMrVWxIcQDyrXfbm2UqRDdmgJAuEN8sLb9BkThh=", body, len) ==
	       SHOP_WOO_DELIVERY_REFUSED); /* the same bytes spelt with the spare bits set */
	EXPECT(shop_woo_webhook_check("wc-secret", " xspNGMrVWxIcQDyrXfbm2UqRDdmgJAuEN8sLb9BkThg=", body, len) ==
	       SHOP_WOO_DELIVERY_REFUSED);
	EXPECT(shop_woo_webhook_check("wc-secret", NULL, body, len) == SHOP_WOO_DELIVERY_REFUSED); /* unsigned JSON */
	EXPECT(shop_woo_webhook_check("wc-secret", good, NULL, 0) == SHOP_WOO_DELIVERY_REFUSED);
}

static void test_ping(void)
{
	EXPECT(shop_woo_webhook_check("wc-secret", NULL, "webhook_id=17", 13) == SHOP_WOO_DELIVERY_PING);
	EXPECT(shop_woo_webhook_check("", NULL, "webhook_id=17", 13) == SHOP_WOO_DELIVERY_PING);
	EXPECT(shop_woo_webhook_check("wc-secret", NULL, "webhook_id=", 11) == SHOP_WOO_DELIVERY_REFUSED);
	EXPECT(shop_woo_webhook_check("wc-secret", NULL, "webhook_id=17&x=1", 17) == SHOP_WOO_DELIVERY_REFUSED);
	EXPECT(shop_woo_webhook_check("wc-secret", NULL, "webhook_id=123456789012345678901", 32) ==
	       SHOP_WOO_DELIVERY_REFUSED);
}

UNIT_MAIN(test_signed_delivery, test_refused_signatures, test_ping)
