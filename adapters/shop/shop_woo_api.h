/* shop_woo_api — what the WooCommerce adapter's concern files share: the connection (struct
 * shop_woo: base URL, Basic credentials, HTTP client, the shop's order settings) and one call to
 * /wp-json/wc/v3. shop_woo.c builds the connection and serves stock; shop_woo_orders.c serves
 * orders. Not for use outside the adapter. */
#ifndef ERPSYNC_SHOP_WOO_API_H
#define ERPSYNC_SHOP_WOO_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "http_client.h"
#include "shop.h"
#include "shop_woo_order.h"

#define SHOP_WOO_API_PATH "/wp-json/wc/v3"

struct shop_woo {
	struct shop base; /* first */
	char *id;
	char *base_url;
	char *auth; /* "Basic base64(key:secret)" */
	unsigned batch_max;
	struct http_client *http;
	/* orders */
	char *webhook_secret; /* secret; NULL: every delivery is refused */
	char *nip_meta_key;
	char *locker_meta_key;
	char *shipping_tax_class;
	struct shop_woo_tax_class *tax_classes;
	size_t n_tax_classes;
	struct shop_woo_order_opts order_opts; /* points at the fields above */
};

/* One call of path (after /wp-json/wc/v3; its query already escaped); body NULL: none. true when
 * an answer came (any status: resp->status), false with err when none did after the retries. */
bool shop_woo_api_request(struct shop_woo *w, const char *method, const char *path, const char *body,
			  struct http_response *resp, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The same, for a 2xx answer with a JSON body: the JSON (new reference), or NULL with err naming
 * the status and WooCommerce's error code. *status (may be NULL): the HTTP status, 0 when none. */
json_t *shop_woo_api_call(struct shop_woo *w, const char *method, const char *path, const char *body, long *status,
			  char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
