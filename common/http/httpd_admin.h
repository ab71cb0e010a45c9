/* httpd_admin — who may call a service's administrative endpoints (/admin/...): the check of those
 * routes (httpd_route_opts.check), so that a refused request is answered before its body is read.
 *
 *   1. The Host header names this service: a loopback name or address (localhost, 127.0.0.0/8, ::1)
 *      with the service's port, the bind address with that port, or an allowed name ("name": any
 *      port, "name:port": that one). Else 421 — a page that DNS rebinding pointed at this host
 *      carries its own name, not ours.
 *   2. With a token, "Authorization: Bearer <token>" (compared in constant time), whoever calls and
 *      wherever the server listens: else 401. Without one, only a caller whose peer address is
 *      loopback, and not a request a proxy relayed (Forwarded, X-Forwarded-For, X-Real-IP): else
 *      403. The bind address never decides: behind a local reverse proxy every caller is local.
 *   3. A request that changes state (any method but GET, HEAD, OPTIONS) must not be one a browser
 *      sends cross-site without asking first: an Origin that is not this service's own, or
 *      Sec-Fetch-Site other than same-origin or none, is 403; a Content-Type other than JSON (the
 *      form and text/plain types are what a cross-site form sends) is 415. */
#ifndef ERPSYNC_HTTPD_ADMIN_H
#define ERPSYNC_HTTPD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

struct httpd_req;
struct httpd_resp;
struct sockaddr;

struct httpd_admin;

/* token: NULL or "" for none (copied); bind, port: where the server listens (httpd_port, once
 * started); hosts: comma-separated allowed Host names, NULL or "" for none. NULL with err when hosts
 * has a malformed entry, or out of memory. */
struct httpd_admin *httpd_admin_new(const char *token, const char *bind, int port, const char *hosts, char *err,
				    size_t errlen);
void httpd_admin_free(struct httpd_admin *a); /* NULL-safe */

/* The whole policy: true to go on, else resp is filled (421, 401, 403 or 415). Headers only. */
bool httpd_admin_check(const struct httpd_admin *a, const struct httpd_req *req, struct httpd_resp *resp)
	__attribute__((warn_unused_result));

/* Its parts, for the unit tests. */
bool httpd_admin_host_ok(const struct httpd_admin *a, const char *host);
/* Whether origin (an Origin header) is the service whose Host header is host. */
bool httpd_admin_same_origin(const char *origin, const char *host);
bool httpd_admin_loopback(const struct sockaddr *sa);

#endif
