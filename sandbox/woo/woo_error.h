/* woo_error — errors in the shape WordPress' REST server gives them:
 *   {"code":"...","message":"...","data":{"status":N}}
 * and for a parameter that failed validation (WP_REST_Request::has_valid_params):
 *   {"code":"rest_invalid_param","message":"Invalid parameter(s): per_page",
 *    "data":{"status":400,"params":{"per_page":"<why>"},
 *            "details":{"per_page":{"code":"rest_out_of_bounds","message":"<why>","data":null}}}}
 * The same struct travels as a batch item's "error" member. */
#ifndef SANDBOX_WOO_ERROR_H
#define SANDBOX_WOO_ERROR_H

#include <stdbool.h>

#include <jansson.h>

struct woo_error {
	int status; /* 0: no error */
	char code[64];
	char message[256];
	char param[48];       /* rest_invalid_param only */
	char detail_code[32]; /* rest_invalid_param only: rest_out_of_bounds, rest_invalid_type, ... */
};

void woo_error_set(struct woo_error *e, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A 400 rest_invalid_param for param; fmt says why ("per_page must be between ..."). */
void woo_error_param(struct woo_error *e, const char *param, const char *detail_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The error object (new reference). */
json_t *woo_error_json(const struct woo_error *e);

#endif
