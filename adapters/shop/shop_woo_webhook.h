/* shop_woo_webhook — what a WooCommerce webhook delivery is, before its body is parsed: the
 * creation ping (a form body "webhook_id=N" without the WooCommerce headers, answered 200), or a
 * delivery whose X-WC-Webhook-Signature is base64(HMAC-SHA256(secret, the exact raw body)), or
 * neither (401, nothing recorded). */
#ifndef ERPSYNC_SHOP_WOO_WEBHOOK_H
#define ERPSYNC_SHOP_WOO_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#define SHOP_WOO_WEBHOOK_SIGNATURE_HEADER "X-WC-Webhook-Signature"
#define SHOP_WOO_WEBHOOK_DELIVERY_HEADER  "X-WC-Webhook-Delivery-ID"
#define SHOP_WOO_WEBHOOK_TOPIC_HEADER     "X-WC-Webhook-Topic"
#define SHOP_WOO_WEBHOOK_SIGNATURE_MAX    45 /* 44 base64 characters and a NUL */

enum shop_woo_delivery {
	SHOP_WOO_DELIVERY_REFUSED = 0, /* no signature, or not the body's: 401 */
	SHOP_WOO_DELIVERY_PING,        /* the creation ping: 200, nothing to do */
	SHOP_WOO_DELIVERY_SIGNED,      /* signed by the shop: parse and take it */
};

/* signature: the header's value, NULL when absent. An empty secret refuses everything. */
enum shop_woo_delivery shop_woo_webhook_check(const char *secret, const char *signature, const char *body, size_t len);

/* The signature WooCommerce would send for body (the sandbox shop signs its deliveries with it). */
bool shop_woo_webhook_sign(const char *secret, const char *body, size_t len, char sig[SHOP_WOO_WEBHOOK_SIGNATURE_MAX])
	__attribute__((warn_unused_result));

#endif
