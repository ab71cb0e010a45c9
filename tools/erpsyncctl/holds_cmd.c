#include "holds_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctl.h"
#include "http_client.h"

#define HOLDS_NOTE_MAX 500

static int holds_usage(const char *why)
{
	fprintf(stderr, "erpsyncctl holds: %s\n", why);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}

int holds_cmd(int argc, char **argv)
{
	if (argc < 2)
		return holds_usage("list, release or reject");
	const char *sub = argv[1];
	bool list = strcmp(sub, "list") == 0;
	if (!list && strcmp(sub, "release") != 0 && strcmp(sub, "reject") != 0)
		return holds_usage("list, release or reject");
	const char *url = getenv("PRICING_URL") ? getenv("PRICING_URL") : "http://127.0.0.1:19103";
	const char *token = getenv("ADMIN_TOKEN");
	const char *note = NULL, *status = "held";
	static const struct option longs[] = { { "url", required_argument, NULL, 'u' },
					       { "note", required_argument, NULL, 'n' },
					       { "status", required_argument, NULL, 's' },
					       { NULL, 0, NULL, 0 } };
	optind = 1;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, "u:n:s:", longs, NULL)) != -1) {
		if (c == 'u')
			url = optarg;
		else if (c == 'n' && !list)
			note = optarg;
		else if (c == 's' && list)
			status = optarg;
		else
			return holds_usage("unknown option");
	}
	long id = 0;
	/* getopt saw argv + 1 (the subcommand as its program name) and moved the id to its end */
	if (!list && (optind != argc - 2 || ctl_parse_long(argv[1 + optind], 1, 0x7fffffffL, &id) != 0))
		return holds_usage("release and reject take one hold id");
	if (note && strlen(note) > HOLDS_NOTE_MAX)
		return holds_usage("--note: at most 500 bytes");
	if (strspn(status, "abcdefghijklmnopqrstuvwxyz") != strlen(status))
		return holds_usage("--status: held, released, rejected, superseded or all");
	char target[1024], auth[512];
	if (list)
		snprintf(target, sizeof target, "%s/admin/holds?status=%s", url, status);
	else
		snprintf(target, sizeof target, "%s/admin/holds/%ld/%s", url, id, sub);
	struct buf body;
	buf_init(&body);
	if (note && (!buf_puts(&body, "{\"note\":") || !buf_json_str(&body, note) || !buf_puts(&body, "}"))) {
		buf_cleanup(&body);
		return CTL_EXIT_FAIL;
	}
	struct http_header h[2] = { { "Content-Type", "application/json" }, { "Authorization", auth } };
	if (token)
		snprintf(auth, sizeof auth, "Bearer %s", token);
	const struct http_client_opts co = { .max_attempts = 1, .timeout_ms = 10000, .metrics_system = "pricing" };
	struct http_client *cl = http_client_new(&co);
	struct http_response r;
	http_response_init(&r);
	bool ok = cl && http_request(cl, list ? "GET" : "POST", target, h, token ? 2 : 1, body.data ? body.data : "",
				     body.len, &r);
	int rc = CTL_EXIT_OK;
	if (!ok) {
		fprintf(stderr, "erpsyncctl holds: %s: %s\n", target, r.error);
		rc = CTL_EXIT_FAIL;
	} else {
		fwrite(r.body.data ? r.body.data : "", 1, r.body.len, stdout);
		fputc('\n', stdout);
		if (r.status != 200)
			rc = CTL_EXIT_FAIL;
	}
	http_response_cleanup(&r);
	http_client_free(cl);
	buf_cleanup(&body);
	return rc;
}
