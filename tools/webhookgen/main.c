/* webhookgen — signed WooCommerce order webhooks at a fixed offered rate, for benchmarks of
 * order-sync's webhook intake:
 *
 *   webhookgen -u http://127.0.0.1:19102/webhooks/shop/woo-a -k SECRET -f order.json
 *              [-n count] [-r rate/s] [-c connections] [-i first-order-id] [-e delivery-prefix]
 *              [-T timeout-s] [-o bodies-file]
 *
 * Request i carries the fixture (a Woo order body, e.g. tests/integration/order-sync/order_pl.json)
 * with id and number first-order-id + i, date_created_gmt and date_modified_gmt the time of the
 * run, delivery id "<prefix>-<i>", signed as WooCommerce signs (base64 HMAC-SHA256 of the raw body).
 * Every request is built before the first is sent, so the tool's own work does not pace the load.
 * -o only writes the bodies, one per line, and sends nothing.
 *
 * Open loop (no coordinated omission): request i is due at start + i / rate, whatever the answers
 * before it did. It goes out on an idle keep-alive connection, or waits for one; its latency is
 * taken from the moment it was due to the end of its answer, so a server that falls behind shows
 * its queue in the figures instead of slowing the sender down. Prints the offered and achieved
 * rates, the answers by status, and p50/p90/p99/max of that latency. Exit 0 when every request was
 * answered 2xx. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hmac.h"
#include "webhookgen_resp.h"

#define WEBHOOKGEN_CONN_MAX 1024
#define WEBHOOKGEN_READ     65536

struct webhookgen_opts {
	const char *url, *secret, *fixture, *prefix, *bodies_file;
	long count, rate, conns, first_id, timeout_s;
	char host[256], port[8], path[512];
};

struct webhookgen_req {
	char *data; /* the whole request, head and body */
	size_t len;
	int64_t due_ns, done_ns; /* monotonic; done 0 while unanswered */
	int status;              /* 0: no answer (connection lost or timed out) */
};

struct webhookgen_conn {
	int fd;
	long req; /* index in flight, -1 idle */
	size_t sent;
	char *rbuf;
	size_t rlen;
};

struct webhookgen {
	struct webhookgen_opts o;
	struct webhookgen_req *reqs;
	struct webhookgen_conn *conns;
	int ep;
	struct addrinfo *addr;
	long next, answered, in_flight;
	int64_t start_ns, last_done_ns;
	long reconnects;
};

static int64_t webhookgen_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long webhookgen_num(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "webhookgen: \"%s\" is not a number in %ld..%ld\n", s, min, max);
		exit(2);
	}
	return v;
}

/* http://host:port/path only: the load goes to a server on this machine, in the clear. */
static bool webhookgen_url(struct webhookgen_opts *o)
{
	const char *p = o->url;
	if (strncmp(p, "http://", 7) != 0)
		return false;
	p += 7;
	const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
	if (!colon || !slash || colon > slash || (size_t)(colon - p) >= sizeof o->host ||
	    (size_t)(slash - colon - 1) >= sizeof o->port || strlen(slash) >= sizeof o->path)
		return false;
	snprintf(o->host, sizeof o->host, "%.*s", (int)(colon - p), p);
	snprintf(o->port, sizeof o->port, "%.*s", (int)(slash - colon - 1), colon + 1);
	snprintf(o->path, sizeof o->path, "%s", slash);
	return *o->host && *o->port;
}

/* ---- the requests ---------------------------------------------------------------------------------- */

/* Body i: the fixture with its id, number and dates replaced. Caller frees. */
static char *webhookgen_body(json_t *root, long id, const char *now)
{
	char number[32];
	snprintf(number, sizeof number, "%ld", id);
	if (json_object_set_new(root, "id", json_integer(id)) ||
	    json_object_set_new(root, "number", json_string(number)) ||
	    json_object_set_new(root, "date_created_gmt", json_string(now)) ||
	    json_object_set_new(root, "date_modified_gmt", json_string(now)))
		return NULL;
	/* 15 digits give back the decimal text of the fixture's numbers (35.91, not 35.909999...) */
	return json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
}

static bool webhookgen_request(const struct webhookgen_opts *o, long i, const char *body, struct webhookgen_req *r)
{
	size_t blen = strlen(body);
	const struct hmac_part part = { body, blen };
	char sig[HMAC_SHA256_BASE64_LEN + 1];
	if (!hmac_sha256_base64(o->secret, &part, 1, sig))
		return false;
	struct buf b = BUF_INIT;
	char head[1024];
	int n = snprintf(head, sizeof head,
			 "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
			 "X-WC-Webhook-Topic: order.created\r\nX-WC-Webhook-Resource: order\r\n"
			 "X-WC-Webhook-Event: created\r\nX-WC-Webhook-Source: http://webhookgen/\r\n"
			 "X-WC-Webhook-Delivery-ID: %s-%ld\r\nX-WC-Webhook-Signature: %s\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 o->path, o->host, o->port, o->prefix, i, sig, blen);
	if (n < 0 || (size_t)n >= sizeof head || !buf_append(&b, head, (size_t)n) || !buf_append(&b, body, blen)) {
		buf_cleanup(&b);
		return false;
	}
	r->data = buf_steal(&b, &r->len); /* now the request's */
	return r->data != NULL;
}

/* Builds every request (or, with -o, writes every body); false with a message on stderr. */
static bool webhookgen_prepare(struct webhookgen *g)
{
	const struct webhookgen_opts *o = &g->o;
	json_error_t je;
	json_t *root = json_load_file(o->fixture, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		fprintf(stderr, "webhookgen: %s: not a JSON object: %s (line %d)\n", o->fixture, je.text, je.line);
		json_decref(root);
		return false;
	}
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	FILE *out = o->bodies_file ? fopen(o->bodies_file, "w") : NULL;
	if (o->bodies_file && !out)
		fprintf(stderr, "webhookgen: %s: %s\n", o->bodies_file, strerror(errno));
	bool ok = !o->bodies_file || out;
	for (long i = 0; ok && i < o->count; i++) {
		char *body = webhookgen_body(root, o->first_id + i, now);
		if (!body)
			ok = false;
		else if (out)
			ok = fprintf(out, "%s\n", body) > 0;
		else
			ok = webhookgen_request(o, i, body, &g->reqs[i]);
		free(body);
		if (!ok)
			fprintf(stderr, "webhookgen: request %ld could not be built (out of memory?)\n", i);
	}
	if (out && fclose(out) != 0)
		ok = false;
	json_decref(root);
	return ok;
}

/* ---- the connections ------------------------------------------------------------------------------- */

static bool webhookgen_connect(struct webhookgen *g, struct webhookgen_conn *c)
{
	c->fd = socket(g->addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return false;
	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* small answers, no delay */
	if (connect(c->fd, g->addr->ai_addr, g->addr->ai_addrlen) < 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return false;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		close(c->fd);
		c->fd = -1;
		return false;
	}
	c->req = -1;
	c->sent = c->rlen = 0;
	return true;
}

/* Drops the connection (its request, if any, counts as unanswered) and opens a new one. */
static void webhookgen_reconnect(struct webhookgen *g, struct webhookgen_conn *c)
{
	if (c->req >= 0) {
		g->reqs[c->req].done_ns = webhookgen_now_ns();
		g->answered++;
		g->in_flight--;
	}
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->req = -1;
	g->reconnects++;
	if (!webhookgen_connect(g, c))
		c->fd = -1;
}

static void webhookgen_write(struct webhookgen *g, struct webhookgen_conn *c)
{
	if (c->req < 0)
		return;
	const struct webhookgen_req *r = &g->reqs[c->req];
	while (c->sent < r->len) {
		ssize_t w = send(c->fd, r->data + c->sent, r->len - c->sent, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0) {
			webhookgen_reconnect(g, c);
			return;
		}
		c->sent += (size_t)w;
	}
}

static void webhookgen_read(struct webhookgen *g, struct webhookgen_conn *c)
{
	for (;;) {
		if (c->rlen == WEBHOOKGEN_READ) {
			webhookgen_reconnect(g, c);
			return;
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, WEBHOOKGEN_READ - c->rlen, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || c->req < 0) { /* closed, failed, or bytes nobody asked for */
			webhookgen_reconnect(g, c);
			return;
		}
		c->rlen += (size_t)n;
		struct webhookgen_answer a;
		enum webhookgen_frame f = webhookgen_resp_frame(c->rbuf, c->rlen, &a);
		if (f == WEBHOOKGEN_MORE)
			continue;
		if (f == WEBHOOKGEN_DONE && a.length == c->rlen) {
			struct webhookgen_req *r = &g->reqs[c->req];
			r->status = a.status;
			r->done_ns = g->last_done_ns = webhookgen_now_ns();
			g->answered++;
			g->in_flight--;
			c->req = -1;
			c->rlen = 0;
			free(r->data); /* sent and answered: its memory is not needed any more */
			r->data = NULL;
			if (a.keep_alive)
				return;
		}
		webhookgen_reconnect(g, c); /* bad framing, pipelined bytes, or the server closes */
		return;
	}
}

/* ---- the run ------------------------------------------------------------------------------------- */

/* Hands every due request to an idle connection; returns when none is idle or none is due. */
static void webhookgen_dispatch(struct webhookgen *g, int64_t now)
{
	for (long k = 0; k < g->o.conns && g->next < g->o.count; k++) {
		struct webhookgen_conn *c = &g->conns[k];
		if (c->fd < 0 && !webhookgen_connect(g, c))
			continue;
		if (c->req >= 0)
			continue;
		if (g->reqs[g->next].due_ns > now)
			return;
		c->req = g->next++;
		c->sent = c->rlen = 0;
		g->in_flight++;
		webhookgen_write(g, c);
	}
}

/* Requests still in flight after the timeout are given up: their connections are dropped. */
static void webhookgen_expire(struct webhookgen *g, int64_t now)
{
	for (long k = 0; k < g->o.conns; k++) {
		struct webhookgen_conn *c = &g->conns[k];
		if (c->req >= 0 && now - g->reqs[c->req].due_ns > g->o.timeout_s * 1000000000LL)
			webhookgen_reconnect(g, c);
	}
}

static void webhookgen_run(struct webhookgen *g)
{
	struct epoll_event evs[64];
	g->start_ns = webhookgen_now_ns() + 10000000; /* 10 ms for the connections to open */
	for (long i = 0; i < g->o.count; i++)
		g->reqs[i].due_ns = g->start_ns + (int64_t)((double)i * 1e9 / (double)g->o.rate);
	/* a server that stops answering (or accepting) does not hold the run past its last timeout */
	int64_t deadline = g->reqs[g->o.count - 1].due_ns + (g->o.timeout_s + 1) * 1000000000LL;
	while (g->answered < g->o.count) {
		int64_t now = webhookgen_now_ns();
		if (now > deadline)
			break;
		webhookgen_dispatch(g, now);
		webhookgen_expire(g, now);
		int64_t wait_ns = 1000000; /* 1 ms at most: the expiry check */
		if (g->next < g->o.count && g->in_flight < g->o.conns) {
			int64_t d = g->reqs[g->next].due_ns - now;
			wait_ns = d < 0 ? 0 : d < wait_ns ? d : wait_ns;
		}
		struct timespec ts = { 0, (long)wait_ns };
		int n = epoll_pwait2(g->ep, evs, 64, &ts, NULL);
		for (int e = 0; e < n; e++) {
			struct webhookgen_conn *c = evs[e].data.ptr;
			if (evs[e].events & (EPOLLERR | EPOLLHUP)) {
				webhookgen_reconnect(g, c);
				continue;
			}
			if (evs[e].events & EPOLLOUT)
				webhookgen_write(g, c);
			if (c->fd >= 0 && (evs[e].events & EPOLLIN))
				webhookgen_read(g, c);
		}
	}
}

static int webhookgen_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int webhookgen_report(const struct webhookgen *g)
{
	const struct webhookgen_opts *o = &g->o;
	long by_status[600] = { 0 }, lost = 0, ok = 0;
	int64_t *lat = malloc((size_t)o->count * sizeof *lat);
	if (!lat)
		return 1;
	int64_t end = webhookgen_now_ns();
	for (long i = 0; i < o->count; i++) {
		const struct webhookgen_req *r = &g->reqs[i];
		lat[i] = (r->done_ns ? r->done_ns : end) - r->due_ns; /* unanswered: as late as the run's end */
		if (r->status >= 100 && r->status < 600)
			by_status[r->status]++;
		else
			lost++;
		ok += r->status >= 200 && r->status <= 299;
	}
	qsort(lat, (size_t)o->count, sizeof *lat, webhookgen_cmp);
	double span = (double)(o->count > 1 ? g->reqs[o->count - 1].due_ns - g->start_ns : 0) / 1e9;
	double took = (double)(g->last_done_ns - g->start_ns) / 1e9;
	printf("webhookgen: %ld deliveries to %s over %ld connections\n", o->count, o->url, o->conns);
	printf("  offered  %ld/s for %.2f s\n", o->rate, span);
	printf("  achieved %.0f/s 2xx (%ld answered 2xx, the last %.2f s after the first was due)\n",
	       took > 0 ? (double)ok / took : 0.0, ok, took);
	printf("  status  ");
	for (int s = 0; s < 600; s++)
		if (by_status[s])
			printf(" %d: %ld", s, by_status[s]);
	printf("%s no answer: %ld (reconnects %ld)\n", lost ? "" : ",", lost, g->reconnects);
	printf("  latency from the due time: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       (double)webhookgen_pct(lat, (size_t)o->count, 50) / 1e6,
	       (double)webhookgen_pct(lat, (size_t)o->count, 90) / 1e6,
	       (double)webhookgen_pct(lat, (size_t)o->count, 99) / 1e6, (double)lat[o->count - 1] / 1e6);
	free(lat);
	return ok == o->count ? 0 : 1;
}

static void webhookgen_usage(void)
{
	fprintf(stderr, "usage: webhookgen -u http://host:port/webhooks/shop/<shop> -k secret -f fixture.json "
			"[-n count] [-r rate/s] [-c connections] [-i first-order-id] [-e delivery-prefix] "
			"[-T timeout-s] [-o bodies-file]\n");
}

static bool webhookgen_args(struct webhookgen_opts *o, int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "u:k:f:n:r:c:i:e:T:o:")) != -1) {
		switch (c) {
		case 'u':
			o->url = optarg;
			break;
		case 'k':
			o->secret = optarg;
			break;
		case 'f':
			o->fixture = optarg;
			break;
		case 'n':
			o->count = webhookgen_num(optarg, 1, 10000000);
			break;
		case 'r':
			o->rate = webhookgen_num(optarg, 1, 1000000);
			break;
		case 'c':
			o->conns = webhookgen_num(optarg, 1, WEBHOOKGEN_CONN_MAX);
			break;
		case 'i':
			o->first_id = webhookgen_num(optarg, 1, 1000000000000L);
			break;
		case 'e':
			o->prefix = optarg;
			break;
		case 'T':
			o->timeout_s = webhookgen_num(optarg, 1, 3600);
			break;
		case 'o':
			o->bodies_file = optarg;
			break;
		default:
			return false;
		}
	}
	if (!o->fixture || (!o->bodies_file && (!o->url || !o->secret)))
		return false;
	if (o->url && !webhookgen_url(o)) {
		fprintf(stderr, "webhookgen: -u must be http://host:port/path\n");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	char prefix[48];
	snprintf(prefix, sizeof prefix, "whg%ld-%ld", (long)getpid(), (long)time(NULL));
	struct webhookgen g = {
		.o = { .prefix = prefix, .count = 1000, .rate = 100, .conns = 16, .first_id = 1000000, .timeout_s = 30 }
	};
	if (!webhookgen_args(&g.o, argc, argv)) {
		webhookgen_usage();
		return 2;
	}
	g.reqs = calloc((size_t)g.o.count, sizeof *g.reqs);
	g.conns = calloc((size_t)g.o.conns, sizeof *g.conns);
	if (!g.reqs || !g.conns || !webhookgen_prepare(&g))
		return 1;
	if (g.o.bodies_file)
		return 0;
	const struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int rc = getaddrinfo(g.o.host, g.o.port, &hints, &g.addr);
	if (rc) {
		fprintf(stderr, "webhookgen: %s: %s\n", g.o.host, gai_strerror(rc));
		return 1;
	}
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	for (long k = 0; k < g.o.conns; k++) {
		g.conns[k].rbuf = malloc(WEBHOOKGEN_READ);
		if (g.ep < 0 || !g.conns[k].rbuf || !webhookgen_connect(&g, &g.conns[k])) {
			fprintf(stderr, "webhookgen: cannot connect to %s:%s: %s\n", g.o.host, g.o.port,
				strerror(errno));
			return 1;
		}
	}
	webhookgen_run(&g);
	rc = webhookgen_report(&g);
	for (long k = 0; k < g.o.conns; k++) {
		if (g.conns[k].fd >= 0)
			close(g.conns[k].fd);
		free(g.conns[k].rbuf);
	}
	for (long i = 0; i < g.o.count; i++)
		free(g.reqs[i].data);
	free(g.reqs);
	free(g.conns);
	freeaddrinfo(g.addr);
	close(g.ep);
	return rc;
}
