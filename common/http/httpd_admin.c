#include "httpd_admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "httpd.h"
#include "log.h"

#define HTTPD_ADMIN_NAME_MAX  255
#define HTTPD_ADMIN_MAX_HOSTS 32

struct httpd_admin_host {
	char name[HTTPD_ADMIN_NAME_MAX + 1];
	int port; /* 0: any */
};

struct httpd_admin {
	char *token; /* NULL: none */
	char bind[HTTPD_ADMIN_NAME_MAX + 1];
	int port;
	struct httpd_admin_host hosts[HTTPD_ADMIN_MAX_HOSTS];
	size_t nhosts;
};

/* Splits "name", "name:port" or "[v6]:port" (a Host header, an allowed-hosts entry) into the name
 * (without brackets) and the port, 0 when none is written. */
static bool httpd_admin_split(const char *s, char *name, size_t namelen, int *port)
{
	const char *start = s, *end, *colon;
	if (*s == '[') {
		start = s + 1;
		end = strchr(start, ']');
		if (!end || (end[1] && end[1] != ':'))
			return false;
		colon = end[1] ? end + 1 : NULL;
	} else {
		colon = strchr(s, ':');
		end = colon ? colon : s + strlen(s);
		if (colon && strchr(colon + 1, ':'))
			return false; /* an IPv6 address without brackets */
	}
	size_t n = (size_t)(end - start);
	if (n == 0 || n >= namelen)
		return false;
	memcpy(name, start, n);
	name[n] = '\0';
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") != n ||
	    (strchr(name, ':') && *s != '['))
		return false;
	*port = 0;
	if (colon) {
		const char *p = colon + 1;
		size_t d = strspn(p, "0123456789");
		long v = d && d <= 5 && !p[d] ? strtol(p, NULL, 10) : 0;
		if (v < 1 || v > 65535)
			return false;
		*port = (int)v;
	}
	return true;
}

/* Whether two textual addresses are the same IP address ("::1" and "0:0::1" are). */
static bool httpd_admin_same_ip(const char *a, const char *b)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, sizeof(struct in_addr)) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, sizeof(struct in6_addr)) == 0;
	return false;
}

static bool httpd_admin_loopback_name(const char *name)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (strcasecmp(name, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, name, &a4) == 1)
		return ntohl(a4.s_addr) >> 24 == 127;
	return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool httpd_admin_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return ntohl(in->sin_addr.s_addr) >> 24 == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		/* an IPv4 caller of a server bound to "::" */
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

bool httpd_admin_host_ok(const struct httpd_admin *a, const char *host)
{
	char name[HTTPD_ADMIN_NAME_MAX + 1];
	int port;
	if (!a || !host || !httpd_admin_split(host, name, sizeof name, &port))
		return false;
	int p = port ? port : 80;
	if (p == a->port && (httpd_admin_loopback_name(name) || httpd_admin_same_ip(name, a->bind)))
		return true;
	for (size_t i = 0; i < a->nhosts; i++) {
		if (strcasecmp(name, a->hosts[i].name) == 0 && (!a->hosts[i].port || a->hosts[i].port == p))
			return true;
	}
	return false;
}

/* An Origin is scheme://host[:port]: the same service when what follows the scheme is the Host the
 * request was sent to ("null", an opaque origin, never is). */
bool httpd_admin_same_origin(const char *origin, const char *host)
{
	const char *authority;
	if (!origin || !host)
		return false;
	if (strncasecmp(origin, "http://", 7) == 0)
		authority = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		authority = origin + 8; /* behind a proxy that ends TLS */
	else
		return false;
	return strcasecmp(authority, host) == 0;
}

static bool httpd_admin_bearer_ok(const struct httpd_admin *a, const char *auth)
{
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	const char *t = auth + 7;
	while (*t == ' ')
		t++;
	return httpd_secret_equal(t, a->token);
}

/* What a browser may send cross-site without asking first (a form, a "simple" fetch) never has a
 * JSON content type: requiring one (or none) keeps those out. */
static bool httpd_admin_json_or_none(const char *ct)
{
	if (!ct)
		return true;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

static bool httpd_admin_refuse(const struct httpd_req *req, struct httpd_resp *resp, int status, const char *code,
			       const char *message)
{
	log_warn("admin: %s %s refused with %d: %s", req->method, req->path, status, message);
	httpd_resp_error(resp, status, code, message);
	return false;
}

bool httpd_admin_check(const struct httpd_admin *a, const struct httpd_req *req, struct httpd_resp *resp)
{
	const char *host = httpd_req_header(req, "Host");
	if (!httpd_admin_host_ok(a, host))
		return httpd_admin_refuse(req, resp, 421, "misdirected",
					  "the Host header does not name this service (allowed hosts)");
	if (a->token) {
		if (!httpd_admin_bearer_ok(a, httpd_req_header(req, "Authorization"))) {
			if (!httpd_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"admin\""))
				log_warn("admin: cannot set WWW-Authenticate");
			return httpd_admin_refuse(req, resp, 401, "unauthorized",
						  "Authorization: Bearer <token> required");
		}
	} else {
		if (!httpd_admin_loopback(httpd_req_peer(req)))
			return httpd_admin_refuse(req, resp, 403, "forbidden",
						  "without an admin token only callers on this host are served");
		/* a reverse proxy on this host connects from loopback on behalf of anyone */
		if (httpd_req_header(req, "Forwarded") || httpd_req_header(req, "X-Forwarded-For") ||
		    httpd_req_header(req, "X-Real-IP"))
			return httpd_admin_refuse(req, resp, 403, "forbidden",
						  "relayed by a proxy: set an admin token to serve callers through it");
	}
	if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 || strcmp(req->method, "OPTIONS") == 0)
		return true;
	const char *origin = httpd_req_header(req, "Origin");
	if (origin && !httpd_admin_same_origin(origin, host))
		return httpd_admin_refuse(req, resp, 403, "cross_site", "a cross-site request cannot change state");
	const char *site = httpd_req_header(req, "Sec-Fetch-Site");
	if (site && strcasecmp(site, "same-origin") != 0 && strcasecmp(site, "none") != 0)
		return httpd_admin_refuse(req, resp, 403, "cross_site", "a cross-site request cannot change state");
	if (!httpd_admin_json_or_none(httpd_req_header(req, "Content-Type")))
		return httpd_admin_refuse(req, resp, 415, "unsupported_media_type",
					  "send no body, or Content-Type: application/json");
	return true;
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

static bool httpd_admin_parse_hosts(struct httpd_admin *a, const char *hosts, char *err, size_t errlen)
{
	const char *p = hosts;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		char entry[HTTPD_ADMIN_NAME_MAX + 8];
		const char *s = p;
		size_t k = n;
		while (k && *s == ' ') {
			s++;
			k--;
		}
		while (k && s[k - 1] == ' ')
			k--;
		p += n + (p[n] == ',');
		if (k == 0)
			continue;
		if (k >= sizeof entry || a->nhosts == HTTPD_ADMIN_MAX_HOSTS) {
			snprintf(err, errlen, "allowed hosts: too long or more than %d", HTTPD_ADMIN_MAX_HOSTS);
			return false;
		}
		memcpy(entry, s, k);
		entry[k] = '\0';
		struct httpd_admin_host *h = &a->hosts[a->nhosts];
		if (!httpd_admin_split(entry, h->name, sizeof h->name, &h->port)) {
			snprintf(err, errlen, "allowed hosts: \"%s\" is not a host name or host:port", entry);
			return false;
		}
		a->nhosts++;
	}
	return true;
}

struct httpd_admin *httpd_admin_new(const char *token, const char *bind, int port, const char *hosts, char *err,
				    size_t errlen)
{
	if (!err)
		errlen = 0;
	struct httpd_admin *a = calloc(1, sizeof *a);
	if (!a || (token && *token && !(a->token = strdup(token)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* a wildcard bind names no address a client would write (and a browser sends 0.0.0.0 to this
	 * very host) */
	if (bind && !httpd_admin_same_ip(bind, "0.0.0.0") && !httpd_admin_same_ip(bind, "::"))
		snprintf(a->bind, sizeof a->bind, "%s", bind);
	a->port = port;
	if (!httpd_admin_parse_hosts(a, hosts, err, errlen))
		goto fail;
	return a;

fail:
	httpd_admin_free(a);
	return NULL;
}

void httpd_admin_free(struct httpd_admin *a)
{
	if (!a)
		return;
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	free(a);
}
