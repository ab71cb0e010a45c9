#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"

#define HTTPD_MAX_ROUTES 64
#define HTTPD_DEFAULT_MAX_BODY (1024 * 1024)
#define HTTPD_DEFAULT_THREADS 2
/* An idle keep-alive connection (or a client trickling its request) holds a slot only this long. */
#define HTTPD_CONNECTION_TIMEOUT_S 30u

struct httpd_route {
	char *method;                     /* NULL: any */
	char *pattern;                    /* as given; also the metrics "route" label */
	size_t prefix_len;                /* pattern ends in '*': length before it */
	bool prefix;
	httpd_handler fn;
	void *data;
};

/* Routes are published lock-free: an entry is written in full under route_lock, then the count is
 * released, so request threads (which only acquire the count) never see a half-written route. */
struct httpd {
	struct MHD_Daemon *daemon;
	size_t max_body;
	httpd_ready_fn ready;
	void *ready_ud;
	int port;
	struct metric_family *requests;
	pthread_mutex_t route_lock;
	struct httpd_route routes[HTTPD_MAX_ROUTES];
	_Atomic size_t nroutes;
	/* MHD says why it failed only through its logger: the last message, for httpd_new's err. */
	pthread_mutex_t err_lock;
	char last_error[160];
};

/* One request in progress: its body as it arrives. */
struct httpd_conn {
	struct buf body;
	bool too_big;
	bool answered;                    /* a response was queued before the body was read */
};

/* ---- logging ---------------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 0)))
static void httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char msg[160];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("httpd: %s", msg);
	pthread_mutex_lock(&h->err_lock);
	snprintf(h->last_error, sizeof h->last_error, "%s", msg);
	pthread_mutex_unlock(&h->err_lock);
}

/* ---- responses -------------------------------------------------------------------------------- */

static void httpd_resp_init(struct httpd_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->status = 200;
	buf_init(&resp->body);
}

static void httpd_resp_cleanup(struct httpd_resp *resp)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		free(resp->headers[i]);
	resp->nheaders = 0;
	buf_cleanup(&resp->body);
}

static bool httpd_header_safe(const char *s)
{
	return s && strpbrk(s, "\r\n") == NULL;
}

bool httpd_resp_header(struct httpd_resp *resp, const char *name, const char *value)
{
	/* CR/LF would let a value smuggle in headers of its own. */
	if (resp->nheaders >= sizeof resp->headers / sizeof resp->headers[0] || !httpd_header_safe(name) ||
	    !*name || strchr(name, ':') || !httpd_header_safe(value))
		return false;
	struct buf line = BUF_INIT;
	if (!buf_printf(&line, "%s: %s", name, value)) {
		buf_cleanup(&line);
		return false;
	}
	resp->headers[resp->nheaders++] = buf_steal(&line, NULL);
	return true;
}

void httpd_resp_error(struct httpd_resp *resp, int status, const char *code, const char *message)
{
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	if (!buf_puts(&resp->body, "{\"code\":") || !buf_json_str(&resp->body, code ? code : "error") ||
	    !buf_puts(&resp->body, ",\"message\":") || !buf_json_str(&resp->body, message ? message : "") ||
	    !buf_puts(&resp->body, "}"))
		buf_reset(&resp->body);   /* out of memory: the status alone still says it */
}

static bool httpd_add_header_line(struct MHD_Response *r, const char *line)
{
	const char *colon = strchr(line, ':');
	if (!colon)
		return false;
	char name[128];
	size_t n = (size_t)(colon - line);
	if (n == 0 || n >= sizeof name)
		return false;
	memcpy(name, line, n);
	name[n] = '\0';
	const char *value = colon + 1;
	while (*value == ' ')
		value++;
	return MHD_add_response_header(r, name, value) == MHD_YES;
}

static enum MHD_Result httpd_send(struct MHD_Connection *conn, struct httpd_resp *resp)
{
	size_t len = resp->body.len;
	char *data = buf_steal(&resp->body, NULL);
	/* MUST_FREE: MHD owns data from here, also when creating the response fails. */
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	const char *ct = resp->content_type ? resp->content_type : "application/json";
	bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct) == MHD_YES;
	for (size_t i = 0; ok && i < resp->nheaders; i++)
		ok = httpd_add_header_line(r, resp->headers[i]);
	enum MHD_Result ret = ok ? MHD_queue_response(conn, (unsigned)resp->status, r) : MHD_NO;
	MHD_destroy_response(r);
	return ret;
}

/* ---- routing ---------------------------------------------------------------------------------- */

static bool httpd_path_matches(const struct httpd_route *r, const char *path)
{
	if (r->prefix)
		return strncmp(path, r->pattern, r->prefix_len) == 0;
	return strcmp(path, r->pattern) == 0;
}

static bool httpd_method_matches(const struct httpd_route *r, const char *method)
{
	if (!r->method || strcmp(r->method, method) == 0)
		return true;
	/* MHD answers HEAD without the body, so a GET route serves it. */
	return strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 && strcmp(r->method, MHD_HTTP_METHOD_GET) == 0;
}

/* The route serving (method, path), or NULL; *path_route is the first route whose path matched
 * whatever the method (the 405 case). */
static const struct httpd_route *httpd_match(struct httpd *h, const char *method, const char *path,
					     const struct httpd_route **path_route)
{
	size_t n = atomic_load_explicit(&h->nroutes, memory_order_acquire);
	*path_route = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct httpd_route *r = &h->routes[i];
		if (!httpd_path_matches(r, path))
			continue;
		if (!*path_route)
			*path_route = r;
		if (httpd_method_matches(r, method))
			return r;
	}
	return NULL;
}

static void httpd_method_not_allowed(struct httpd *h, const char *path, struct httpd_resp *resp)
{
	struct buf allow = BUF_INIT;
	bool ok = true;
	size_t n = atomic_load_explicit(&h->nroutes, memory_order_acquire);
	for (size_t i = 0; ok && i < n; i++) {
		const struct httpd_route *r = &h->routes[i];
		if (r->method && httpd_path_matches(r, path))
			ok = buf_printf(&allow, "%s%s", allow.len ? ", " : "", r->method);
	}
	httpd_resp_error(resp, 405, "method_not_allowed", "method not allowed for this path");
	if (ok && allow.data && !httpd_resp_header(resp, "Allow", allow.data))
		log_warn("httpd: cannot set Allow header");
	buf_cleanup(&allow);
}

bool httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler fn, void *data)
{
	if (!h || !path || path[0] != '/' || !fn)
		return false;
	bool ok = false;
	pthread_mutex_lock(&h->route_lock);
	size_t n = atomic_load_explicit(&h->nroutes, memory_order_relaxed);
	if (n < HTTPD_MAX_ROUTES) {
		struct httpd_route *r = &h->routes[n];
		size_t len = strlen(path);
		r->pattern = strdup(path);
		r->method = method ? strdup(method) : NULL;
		r->prefix = path[len - 1] == '*';
		r->prefix_len = r->prefix ? len - 1 : len;
		r->fn = fn;
		r->data = data;
		ok = r->pattern && (!method || r->method);
		if (ok) {
			atomic_store_explicit(&h->nroutes, n + 1, memory_order_release);
		} else {
			free(r->pattern);
			free(r->method);
			memset(r, 0, sizeof *r);
		}
	} else {
		log_error("httpd: more than %d routes, %s not added", HTTPD_MAX_ROUTES, path);
	}
	pthread_mutex_unlock(&h->route_lock);
	return ok;
}

/* ---- requests --------------------------------------------------------------------------------- */

const char *httpd_req_header(const struct httpd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *httpd_req_query(const struct httpd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* No early exit, so the answer time says nothing about the secret. */
bool httpd_secret_equal(const char *given, const char *secret)
{
	size_t glen = strlen(given), slen = strlen(secret);
	unsigned char diff = glen != slen;
	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)secret[i % (slen ? slen : 1)];
	return diff == 0;
}

static void httpd_count(struct httpd *h, const struct httpd_route *r, int status)
{
	char code[16];
	snprintf(code, sizeof code, "%d", status);
	/* The pattern, never the path: /webhook/<id> must not become a series per id. */
	metrics_inc(metrics_series2(h->requests, r ? r->pattern : "unmatched", code));
}

/* Everything is known (the body read, or refused): route, answer, count. */
static enum MHD_Result httpd_dispatch(struct httpd *h, struct MHD_Connection *conn, const char *path,
				      const char *method, struct httpd_conn *c)
{
	const struct httpd_route *path_route;
	const struct httpd_route *r = httpd_match(h, method, path, &path_route);
	struct httpd_resp resp;
	httpd_resp_init(&resp);

	if (!path_route) {
		httpd_resp_error(&resp, 404, "not_found", "no such route");
	} else if (!r) {
		httpd_method_not_allowed(h, path, &resp);
	} else if (c->too_big) {
		char msg[64];
		snprintf(msg, sizeof msg, "request body exceeds %zu bytes", h->max_body);
		httpd_resp_error(&resp, 413, "payload_too_large", msg);
	} else {
		struct httpd_req req = {
			.method = method,
			.path = path,
			.body = c->body.data ? c->body.data : "",
			.body_len = c->body.len,
			.conn = conn,
			.route_data = r->data,
		};
		r->fn(&req, &resp);
		if (resp.status < 100 || resp.status > 599) {
			log_error("httpd: handler for %s set invalid status %d", r->pattern, resp.status);
			httpd_resp_error(&resp, 500, "internal", "invalid response status");
		}
	}
	httpd_count(h, path_route, resp.status);
	enum MHD_Result ret = httpd_send(conn, &resp);
	httpd_resp_cleanup(&resp);
	return ret;
}

/* A declared Content-Length over the limit is refused before the body is read at all. */
static bool httpd_declared_too_big(const struct httpd *h, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return false;
	char *end;
	unsigned long long n = strtoull(cl, &end, 10);
	return end != cl && n > h->max_body;
}

static enum MHD_Result httpd_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				    const char *version, const char *upload_data, size_t *upload_size,
				    void **con_cls)
{
	(void)version;
	struct httpd *h = cls;
	struct httpd_conn *c = *con_cls;

	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return MHD_NO;
		*con_cls = c;   /* now owned by httpd_completed */
		if (!httpd_declared_too_big(h, conn))
			return MHD_YES;
		c->too_big = true;
		c->answered = true;
		return httpd_dispatch(h, conn, url, method, c);
	}
	if (*upload_size) {
		/* Past the limit the rest is read and dropped, so the 413 can still be sent. */
		if (!c->too_big && !c->answered && *upload_size <= h->max_body - c->body.len) {
			if (!buf_append(&c->body, upload_data, *upload_size))
				return MHD_NO;
		} else if (!c->too_big) {
			c->too_big = true;
			buf_cleanup(&c->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->answered)
		return MHD_YES;
	c->answered = true;
	return httpd_dispatch(h, conn, url, method, c);
}

static void httpd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct httpd_conn *c = *con_cls;
	if (!c)
		return;
	buf_cleanup(&c->body);
	free(c);
	*con_cls = NULL;
}

/* ---- builtin routes --------------------------------------------------------------------------- */

/* Liveness answers from the server thread alone: it fails only when the process is stuck. */
static void httpd_healthz(const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)req;
	if (!buf_puts(&resp->body, "{\"status\":\"ok\"}"))
		httpd_resp_error(resp, 500, "internal", "out of memory");
}

static void httpd_readyz(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct httpd *h = req->route_data;
	char reason[256] = "";
	if (!h->ready || h->ready(h->ready_ud, reason, sizeof reason)) {
		if (!buf_puts(&resp->body, "{\"status\":\"ready\"}"))
			httpd_resp_error(resp, 500, "internal", "out of memory");
		return;
	}
	reason[sizeof reason - 1] = '\0';
	resp->status = 503;
	if (!buf_puts(&resp->body, "{\"status\":\"not ready\",\"reason\":") ||
	    !buf_json_str(&resp->body, reason) || !buf_puts(&resp->body, "}"))
		httpd_resp_error(resp, 503, "not_ready", "out of memory");
}

static void httpd_metrics(const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)req;
	if (!metrics_render(&resp->body)) {
		httpd_resp_error(resp, 500, "internal", "out of memory");
		return;
	}
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static bool httpd_add_builtin(struct httpd *h)
{
	return httpd_route(h, MHD_HTTP_METHOD_GET, "/healthz", httpd_healthz, NULL) &&
	       httpd_route(h, MHD_HTTP_METHOD_GET, "/readyz", httpd_readyz, h) &&
	       httpd_route(h, MHD_HTTP_METHOD_GET, "/metrics", httpd_metrics, NULL);
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

union httpd_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

static bool httpd_parse_bind(const char *bind, int port, union httpd_addr *addr, bool *ipv6)
{
	memset(addr, 0, sizeof *addr);
	*ipv6 = false;
	if (inet_pton(AF_INET, bind, &addr->in4.sin_addr) == 1) {
		addr->in4.sin_family = AF_INET;
		addr->in4.sin_port = htons((uint16_t)port);
		return true;
	}
	if (inet_pton(AF_INET6, bind, &addr->in6.sin6_addr) == 1) {
		addr->in6.sin6_family = AF_INET6;
		addr->in6.sin6_port = htons((uint16_t)port);
		*ipv6 = true;
		return true;
	}
	return false;
}

static struct MHD_Daemon *httpd_start(struct httpd *h, const union httpd_addr *addr, bool ipv6,
				      unsigned threads, int port)
{
	/* MHD_USE_ERROR_LOG only enables MHD's messages; the logger sends them to our log, not stderr. */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
	return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, httpd_access, h,
				MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, h,
				MHD_OPTION_SOCK_ADDR, &addr->sa,
				MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h,
				MHD_OPTION_CONNECTION_TIMEOUT, HTTPD_CONNECTION_TIMEOUT_S,
				MHD_OPTION_THREAD_POOL_SIZE, threads,
				MHD_OPTION_END);
}

struct httpd *httpd_new(const struct httpd_opts *opts, char *err, size_t errlen)
{
	static const char *const labels[] = { "route", "code", NULL };
	const struct httpd_opts defaults = { .builtin_routes = true };
	if (!err)
		errlen = 0;   /* snprintf(NULL, 0, ...) is a no-op */
	if (!opts)
		opts = &defaults;
	const char *bind = opts->bind ? opts->bind : "127.0.0.1";
	union httpd_addr addr;
	bool ipv6;
	if (opts->port < 0 || opts->port > 65535 || !httpd_parse_bind(bind, opts->port, &addr, &ipv6)) {
		snprintf(err, errlen, "invalid listen address %s port %d", bind, opts->port);
		return NULL;
	}

	struct httpd *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->route_lock, NULL);
	pthread_mutex_init(&h->err_lock, NULL);
	h->max_body = opts->max_body ? opts->max_body : HTTPD_DEFAULT_MAX_BODY;
	h->ready = opts->ready;
	h->ready_ud = opts->ready_ud;
	h->requests = metrics_counter("erpsync_http_server_requests_total",
				      "HTTP requests served, by route pattern and status code.", labels);
	if (opts->builtin_routes && !httpd_add_builtin(h)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	h->daemon = httpd_start(h, &addr, ipv6, opts->threads ? opts->threads : HTTPD_DEFAULT_THREADS,
				opts->port);
	if (!h->daemon) {
		pthread_mutex_lock(&h->err_lock);
		snprintf(err, errlen, "cannot listen on %s:%d: %s", bind, opts->port,
			 h->last_error[0] ? h->last_error : "unknown error");
		pthread_mutex_unlock(&h->err_lock);
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? (int)info->port : opts->port;
	return h;

fail:
	httpd_free(h);
	return NULL;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);   /* joins the threads: no handler runs after this */
	size_t n = atomic_load_explicit(&h->nroutes, memory_order_acquire);
	for (size_t i = 0; i < n; i++) {
		free(h->routes[i].pattern);
		free(h->routes[i].method);
	}
	pthread_mutex_destroy(&h->route_lock);
	pthread_mutex_destroy(&h->err_lock);
	free(h);
}

int httpd_port(const struct httpd *h)
{
	return h ? h->port : -1;
}
