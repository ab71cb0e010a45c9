#include "httpd.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "event.h"
#include "log.h"
#include "metrics.h"

#define HTTPD_MAX_ROUTES              64
#define HTTPD_DEFAULT_MAX_BODY        (1024 * 1024)
#define HTTPD_DEFAULT_THREADS         2
#define HTTPD_DEFAULT_WORKERS         2
#define HTTPD_MAX_WORKERS             64
#define HTTPD_DEFAULT_MAX_CONNECTIONS 256
#define HTTPD_LOG_PER_S               10
/* An idle keep-alive connection (or a client that stopped sending) holds a slot only this long. */
#define HTTPD_DEFAULT_CLIENT_TIMEOUT_S 30u

struct httpd_route {
	char *method;      /* NULL: any */
	char *pattern;     /* as given; also the metrics "route" label */
	size_t prefix_len; /* pattern ends in '*': length before it */
	bool prefix;
	httpd_handler fn;
	void *data;
	struct httpd_route_opts o;
};

/* One request in progress. */
enum httpd_conn_state {
	HTTPD_CONN_BODY,     /* routed and admitted: its body (if any) arriving */
	HTTPD_CONN_QUEUED,   /* suspended, waiting for a worker to run its handler */
	HTTPD_CONN_DONE,     /* a worker filled resp and resumed the connection */
	HTTPD_CONN_ANSWERED, /* a response is queued */
};

struct httpd_conn {
	enum httpd_conn_state state;
	struct MHD_Connection *conn;
	const char *method, *path; /* MHD's, valid until the request completes */
	const struct httpd_route *route;
	long long declared; /* Content-Length; -1 when none (chunked) */
	char *body;         /* NUL-terminated once anything arrived */
	size_t len, cap;
	struct httpd_resp resp;  /* a blocking route's answer, filled by a worker */
	struct httpd_conn *next; /* in the workers' queue */
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
	int64_t log_second; /* MHD's lines written in it, and those left out */
	unsigned log_lines;
	unsigned long log_dropped;
	/* Blocking routes' requests, in arrival order, for the workers; stopping: answer, do not run. */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cond;
	struct httpd_conn *jobs_head, *jobs_tail;
	bool stopping;
	pthread_t workers[HTTPD_MAX_WORKERS];
	unsigned nworkers;
};

/* ---- logging ---------------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 0))) static void httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char msg[160];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* MHD writes a line per refused or broken connection: a flood of them must not become a flood
	 * of log lines, so at most HTTPD_LOG_PER_S a second are written and the rest counted. */
	int64_t now_s = event_monotonic_us() / 1000000;
	unsigned long dropped = 0;
	pthread_mutex_lock(&h->err_lock);
	snprintf(h->last_error, sizeof h->last_error, "%s", msg);
	if (now_s != h->log_second) {
		dropped = h->log_dropped;
		h->log_second = now_s;
		h->log_lines = h->log_dropped = 0;
	}
	bool write = h->log_lines < HTTPD_LOG_PER_S;
	if (write)
		h->log_lines++;
	else
		h->log_dropped++;
	pthread_mutex_unlock(&h->err_lock);
	if (dropped)
		log_warn("httpd: %lu messages were not logged (more than %d a second)", dropped, HTTPD_LOG_PER_S);
	if (write)
		log_warn("httpd: %s", msg);
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
	if (resp->nheaders >= sizeof resp->headers / sizeof resp->headers[0] || !httpd_header_safe(name) || !*name ||
	    strchr(name, ':') || !httpd_header_safe(value))
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
		buf_reset(&resp->body); /* out of memory: the status alone still says it */
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

bool httpd_route_with(struct httpd *h, const char *method, const char *path, httpd_handler fn, void *data,
		      const struct httpd_route_opts *ro)
{
	if (!h || !path || path[0] != '/' || !fn || !ro)
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
		r->o = *ro;
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

bool httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler fn, void *data)
{
	const struct httpd_route_opts ro = { .max_body = h ? h->max_body : 0 };
	return httpd_route_with(h, method, path, fn, data, &ro);
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

const struct sockaddr *httpd_req_peer(const struct httpd_req *req)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci ? ci->client_addr : NULL;
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

static struct httpd_req httpd_req_of(const struct httpd_conn *c)
{
	struct httpd_req req = {
		.method = c->method,
		.path = c->path,
		.body = c->body ? c->body : "",
		.body_len = c->len,
		.conn = c->conn,
		.route_data = c->route ? c->route->data : NULL,
	};
	return req;
}

/* Counts and queues resp; the connection's request is answered from here on. */
static enum MHD_Result httpd_answer(struct httpd *h, struct httpd_conn *c, const struct httpd_route *r,
				    struct httpd_resp *resp)
{
	c->state = HTTPD_CONN_ANSWERED;
	httpd_count(h, r, resp->status);
	enum MHD_Result ret = resp->drop ? MHD_NO : httpd_send(c->conn, resp);
	httpd_resp_cleanup(resp);
	return ret;
}

static void httpd_run(struct httpd_conn *c, struct httpd_resp *resp)
{
	const struct httpd_req req = httpd_req_of(c);
	c->route->fn(&req, resp);
	if (resp->status < 100 || resp->status > 599) {
		log_error("httpd: handler for %s set invalid status %d", c->route->pattern, resp->status);
		httpd_resp_error(resp, 500, "internal", "invalid response status");
	}
}

/* Content-Length, or -1 when the request has none (no body, or a chunked one). MHD has already
 * refused a malformed one. */
static long long httpd_declared_length(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return -1;
	char *end;
	unsigned long long n = strtoull(cl, &end, 10);
	return end == cl ? -1 : n > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)n;
}

/* The request line and headers are in, nothing of the body is read: route it, size it, let the
 * route's check look at it. Any refusal is answered now, which makes MHD skip the body and close
 * the connection after the answer — a client cannot make us read, let alone hold, a body nobody
 * would take. */
static enum MHD_Result httpd_begin(struct httpd *h, struct httpd_conn *c)
{
	const struct httpd_route *path_route;
	const struct httpd_route *r = httpd_match(h, c->method, c->path, &path_route);
	struct httpd_resp resp;
	httpd_resp_init(&resp);
	c->declared = httpd_declared_length(c->conn);

	if (!path_route) {
		httpd_resp_error(&resp, 404, "not_found", "no such route");
	} else if (!r) {
		httpd_method_not_allowed(h, c->path, &resp);
	} else if (c->declared > 0 && (unsigned long long)c->declared > r->o.max_body) {
		char msg[64];
		snprintf(msg, sizeof msg, "request body exceeds %zu bytes", r->o.max_body);
		httpd_resp_error(&resp, 413, "payload_too_large", msg);
	} else {
		c->route = r;
		const struct httpd_req req = httpd_req_of(c);
		if (!r->o.check || r->o.check(&req, &resp)) {
			httpd_resp_cleanup(&resp);
			c->state = HTTPD_CONN_BODY;
			return MHD_YES;
		}
		if (resp.status < 400 || resp.status > 599) {
			log_error("httpd: check of %s refused with status %d", r->pattern, resp.status);
			httpd_resp_error(&resp, 500, "internal", "invalid response status");
		}
	}
	return httpd_answer(h, c, r ? r : path_route, &resp);
}

/* libmicrohttpd (0.9.75) queues a response only before the body is read or once all of it is: a
 * chunked body that passes the limit would have to be read to its end, however long the client
 * goes on. So the 413 is written to the socket here, and MHD_NO makes MHD close the connection
 * without reading the rest. Nothing else writes to the connection at this point: the request has no
 * response yet, and a "100 Continue" went out in full before the body was read (plain HTTP only;
 * httpd does not do TLS). */
static enum MHD_Result httpd_refuse_body(struct httpd *h, struct httpd_conn *c)
{
	char body[96], answer[256];
	int blen = snprintf(body, sizeof body,
			    "{\"code\":\"payload_too_large\",\"message\":\"request body exceeds %zu bytes\"}",
			    c->route->o.max_body);
	int alen = snprintf(answer, sizeof answer,
			    "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
			    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			    blen, body);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci && alen > 0 && (size_t)alen < sizeof answer) {
		/* best effort: the socket's buffer is empty, a short answer fits at once */
		if (send(ci->connect_fd, answer, (size_t)alen, MSG_NOSIGNAL | MSG_DONTWAIT) == alen)
			shutdown(ci->connect_fd, SHUT_WR);
	}
	log_warn("httpd: %s %s: chunked body past %zu bytes; answered 413 and closed", c->method, c->path,
		 c->route->o.max_body);
	httpd_count(h, c->route, 413);
	c->state = HTTPD_CONN_ANSWERED;
	return MHD_NO;
}

static enum MHD_Result httpd_body(struct httpd *h, struct httpd_conn *c, const char *data, size_t *size)
{
	size_t n = *size;
	if (n > c->route->o.max_body - c->len)
		return httpd_refuse_body(h, c);
	if (c->len + n + 1 > c->cap) {
		/* a declared length is allocated once; a chunked body grows, never past the limit */
		size_t limit = c->route->o.max_body + 1;
		size_t cap = c->declared > 0 ? (size_t)c->declared + 1 : c->cap ? c->cap * 2 : 4096;
		if (cap > limit)
			cap = limit;
		if (cap < c->len + n + 1)
			cap = c->len + n + 1;
		char *p = realloc(c->body, cap);
		if (!p)
			return MHD_NO;
		c->body = p;
		c->cap = cap;
	}
	memcpy(c->body + c->len, data, n);
	c->len += n;
	c->body[c->len] = '\0';
	*size = 0;
	return MHD_YES;
}

/* ---- workers: blocking routes' handlers, off the server threads ------------------------------- */

/* The server thread suspends the connection and hands it over; MHD leaves a suspended connection
 * alone until it is resumed, so the worker owns c meanwhile. */
static bool httpd_enqueue(struct httpd *h, struct httpd_conn *c)
{
	pthread_mutex_lock(&h->jobs_lock);
	bool ok = !h->stopping && h->nworkers > 0;
	if (ok) {
		c->state = HTTPD_CONN_QUEUED;
		c->next = NULL;
		MHD_suspend_connection(c->conn);
		if (h->jobs_tail)
			h->jobs_tail->next = c;
		else
			h->jobs_head = c;
		h->jobs_tail = c;
		pthread_cond_signal(&h->jobs_cond);
	}
	pthread_mutex_unlock(&h->jobs_lock);
	return ok;
}

/* Runs queued handlers until stopping; then answers what is still queued with 503 without running
 * it, since MHD must not be stopped with a connection suspended. */
static void *httpd_worker_main(void *arg)
{
	struct httpd *h = arg;
	pthread_mutex_lock(&h->jobs_lock);
	for (;;) {
		while (!h->jobs_head && !h->stopping)
			pthread_cond_wait(&h->jobs_cond, &h->jobs_lock);
		struct httpd_conn *c = h->jobs_head;
		if (!c)
			break;
		h->jobs_head = c->next;
		if (!h->jobs_head)
			h->jobs_tail = NULL;
		bool run = !h->stopping;
		pthread_mutex_unlock(&h->jobs_lock);
		httpd_resp_init(&c->resp);
		if (run)
			httpd_run(c, &c->resp);
		else
			httpd_resp_error(&c->resp, 503, "unavailable", "shutting down");
		c->state = HTTPD_CONN_DONE;
		MHD_resume_connection(c->conn); /* c is the server thread's again: not touched past here */
		pthread_mutex_lock(&h->jobs_lock);
	}
	pthread_mutex_unlock(&h->jobs_lock);
	return NULL;
}

/* The whole request is in: answer it here, or hand it to a worker. */
static enum MHD_Result httpd_complete(struct httpd *h, struct httpd_conn *c)
{
	struct httpd_resp resp;
	if (c->route->o.blocking && httpd_enqueue(h, c))
		return MHD_YES;
	httpd_resp_init(&resp);
	if (c->route->o.blocking)
		httpd_resp_error(&resp, 503, "unavailable", "shutting down");
	else
		httpd_run(c, &resp);
	return httpd_answer(h, c, c->route, &resp);
}

static enum MHD_Result httpd_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct httpd *h = cls;
	struct httpd_conn *c = *con_cls;

	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return MHD_NO;
		*con_cls = c; /* now owned by httpd_completed */
		c->conn = conn;
		c->method = method;
		c->path = url;
		return httpd_begin(h, c);
	}
	switch (c->state) {
	case HTTPD_CONN_BODY:
		if (*upload_size)
			return httpd_body(h, c, upload_data, upload_size);
		return httpd_complete(h, c);
	case HTTPD_CONN_DONE:
		return httpd_answer(h, c, c->route, &c->resp);
	case HTTPD_CONN_QUEUED:
	case HTTPD_CONN_ANSWERED:
		break;
	}
	*upload_size = 0; /* an answered request's rest is not ours to read */
	return MHD_YES;
}

static void httpd_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct httpd_conn *c = *con_cls;
	if (!c)
		return;
	if (c->state == HTTPD_CONN_DONE)
		httpd_resp_cleanup(&c->resp);
	free(c->body);
	free(c);
	*con_cls = NULL;
}

/* ---- builtin routes --------------------------------------------------------------------------- */

/* Liveness answers from the server thread alone, which runs no blocking handler and takes no lock
 * that I/O holds: it fails only when the process is stuck. */
static void httpd_healthz(const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)req;
	if (!buf_puts(&resp->body, "{\"status\":\"ok\"}"))
		httpd_resp_error(resp, 500, "internal", "out of memory");
}

/* The service's ready function answers from state it keeps (see httpd_opts.ready). */
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
	if (!buf_puts(&resp->body, "{\"status\":\"not ready\",\"reason\":") || !buf_json_str(&resp->body, reason) ||
	    !buf_puts(&resp->body, "}"))
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
	static const struct httpd_route_opts no_body = { 0 };
	return httpd_route_with(h, MHD_HTTP_METHOD_GET, "/healthz", httpd_healthz, NULL, &no_body) &&
	       httpd_route_with(h, MHD_HTTP_METHOD_GET, "/readyz", httpd_readyz, h, &no_body) &&
	       httpd_route_with(h, MHD_HTTP_METHOD_GET, "/metrics", httpd_metrics, NULL, &no_body);
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
				      const struct httpd_opts *o)
{
	unsigned threads = o->threads ? o->threads : HTTPD_DEFAULT_THREADS;
	unsigned conns = o->max_connections ? o->max_connections : HTTPD_DEFAULT_MAX_CONNECTIONS;
	unsigned timeout = o->client_timeout_s ? o->client_timeout_s : HTTPD_DEFAULT_CLIENT_TIMEOUT_S;
	/* each server thread takes a share of the connections: at least one each */
	if (conns < threads)
		conns = threads;
	/* MHD_USE_ERROR_LOG only enables MHD's messages; the logger sends them to our log, not stderr.
	 * Suspending is how a blocking route's connection waits for its worker. */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
			 (ipv6 ? MHD_USE_IPv6 : 0);
	return MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, httpd_access, h, MHD_OPTION_EXTERNAL_LOGGER,
				httpd_mhd_log, h, MHD_OPTION_SOCK_ADDR, &addr->sa, MHD_OPTION_NOTIFY_COMPLETED,
				httpd_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT,
				conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip,
				MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_END);
}

static bool httpd_start_workers(struct httpd *h, unsigned n)
{
	if (n > HTTPD_MAX_WORKERS)
		n = HTTPD_MAX_WORKERS;
	pthread_mutex_lock(&h->jobs_lock);
	for (; h->nworkers < n; h->nworkers++) {
		if (pthread_create(&h->workers[h->nworkers], NULL, httpd_worker_main, h) != 0)
			break;
	}
	bool ok = h->nworkers == n;
	pthread_mutex_unlock(&h->jobs_lock);
	return ok;
}

/* Workers first: each answers what is still queued and resumes its connection, so that no
 * connection is suspended when MHD stops (MHD does not allow that). A request arriving meanwhile is
 * answered 503 on the server thread. */
static void httpd_stop_workers(struct httpd *h)
{
	pthread_mutex_lock(&h->jobs_lock);
	h->stopping = true;
	pthread_cond_broadcast(&h->jobs_cond);
	unsigned n = h->nworkers;
	pthread_mutex_unlock(&h->jobs_lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(h->workers[i], NULL);
}

struct httpd *httpd_new(const struct httpd_opts *opts, char *err, size_t errlen)
{
	static const char *const labels[] = { "route", "code", NULL };
	const struct httpd_opts defaults = { .builtin_routes = true };
	if (!err)
		errlen = 0; /* snprintf(NULL, 0, ...) is a no-op */
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
	pthread_mutex_init(&h->jobs_lock, NULL);
	pthread_cond_init(&h->jobs_cond, NULL);
	h->max_body = opts->max_body ? opts->max_body : HTTPD_DEFAULT_MAX_BODY;
	h->ready = opts->ready;
	h->ready_ud = opts->ready_ud;
	h->requests = metrics_counter("erpsync_http_server_requests_total",
				      "HTTP requests served, by route pattern and status code.", labels);
	if (opts->builtin_routes && !httpd_add_builtin(h)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!httpd_start_workers(h, opts->workers ? opts->workers : HTTPD_DEFAULT_WORKERS)) {
		snprintf(err, errlen, "cannot start worker threads");
		goto fail;
	}

	h->daemon = httpd_start(h, &addr, ipv6, opts);
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
	httpd_stop_workers(h);
	if (h->daemon)
		MHD_stop_daemon(h->daemon); /* joins the threads: no handler runs after this */
	size_t n = atomic_load_explicit(&h->nroutes, memory_order_acquire);
	for (size_t i = 0; i < n; i++) {
		free(h->routes[i].pattern);
		free(h->routes[i].method);
	}
	pthread_cond_destroy(&h->jobs_cond);
	pthread_mutex_destroy(&h->jobs_lock);
	pthread_mutex_destroy(&h->route_lock);
	pthread_mutex_destroy(&h->err_lock);
	free(h);
}

int httpd_port(const struct httpd *h)
{
	return h ? h->port : -1;
}
