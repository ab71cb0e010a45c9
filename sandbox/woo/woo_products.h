/* woo_products — the WooCommerce REST v3 product and variation endpoints:
 *   GET /products, POST /products, POST /products/batch, GET|PUT /products/<id>,
 *   GET /products/<id>/variations, POST /products/<id>/variations/batch,
 *   GET|PUT /products/<id>/variations/<id>.
 * woo_api routes, authenticates and counts; these only answer. */
#ifndef SANDBOX_WOO_PRODUCTS_H
#define SANDBOX_WOO_PRODUCTS_H

#include "woo_api.h"

#define WOO_BATCH_LIMIT 100 /* the woocommerce_rest_batch_items_limit default */

void woo_products_list(struct woo_call *call);
void woo_products_create(struct woo_call *call);
void woo_products_get(struct woo_call *call);
void woo_products_update(struct woo_call *call);
void woo_products_batch(struct woo_call *call);
void woo_products_variations_list(struct woo_call *call);
void woo_products_variation_get(struct woo_call *call);
void woo_products_variation_update(struct woo_call *call);
void woo_products_variations_batch(struct woo_call *call);

#endif
