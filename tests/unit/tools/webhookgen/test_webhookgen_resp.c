/* webhookgen's framing of answers: a load tool that miscounts where an answer ends reads the next
 * one's bytes as garbage, or times out on an answer it already has. */
#include "webhookgen_resp.h"

#include <string.h>

#include "unit.h"

#define MHD_200 "HTTP/1.1 200 OK\r\nContent-Length: 33\r\nContent-Type: application/json\r\n\r\n"
#define BODY_33 "{\"result\":\"taken\",\"order\":\"1001\"}"

static void test_webhookgen_content_length(void)
{
	const char *a = MHD_200 BODY_33;
	struct webhookgen_answer ans;
	EXPECT_INT(webhookgen_resp_frame(a, strlen(a), &ans), WEBHOOKGEN_DONE);
	EXPECT_INT(ans.status, 200);
	EXPECT_INT(ans.length, strlen(a));
	EXPECT(ans.keep_alive);
}

static void test_webhookgen_partial(void)
{
	const char *a = MHD_200 BODY_33;
	struct webhookgen_answer ans;
	for (size_t n = 0; n < strlen(a); n++)
		EXPECT_INT(webhookgen_resp_frame(a, n, &ans), WEBHOOKGEN_MORE);
}

static void test_webhookgen_close_and_case(void)
{
	const char *a = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\nCONNECTION: Close\r\n\r\n{}";
	struct webhookgen_answer ans;
	EXPECT_INT(webhookgen_resp_frame(a, strlen(a), &ans), WEBHOOKGEN_DONE);
	EXPECT_INT(ans.status, 503);
	EXPECT(!ans.keep_alive);
	const char *old = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	EXPECT_INT(webhookgen_resp_frame(old, strlen(old), &ans), WEBHOOKGEN_DONE);
	EXPECT(!ans.keep_alive);
}

static void test_webhookgen_chunked(void)
{
	const char *a = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n";
	struct webhookgen_answer ans;
	EXPECT_INT(webhookgen_resp_frame(a, strlen(a), &ans), WEBHOOKGEN_DONE);
	EXPECT_INT(ans.length, strlen(a));
	EXPECT_INT(webhookgen_resp_frame(a, strlen(a) - 2, &ans), WEBHOOKGEN_MORE);
	const char *bad = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	EXPECT_INT(webhookgen_resp_frame(bad, strlen(bad), &ans), WEBHOOKGEN_BAD);
}

static void test_webhookgen_unframed(void)
{
	struct webhookgen_answer ans;
	const char *noframe = "HTTP/1.1 200 OK\r\n\r\nuntil close";
	EXPECT_INT(webhookgen_resp_frame(noframe, strlen(noframe), &ans), WEBHOOKGEN_BAD);
	const char *notgood = "HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	EXPECT_INT(webhookgen_resp_frame(notgood, strlen(notgood), &ans), WEBHOOKGEN_BAD);
	const char *len = "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n";
	EXPECT_INT(webhookgen_resp_frame(len, strlen(len), &ans), WEBHOOKGEN_BAD);
}

static void test_webhookgen_pct(void)
{
	int64_t v[100];
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	EXPECT_INT(webhookgen_pct(v, 100, 50), 50);
	EXPECT_INT(webhookgen_pct(v, 100, 99), 99);
	EXPECT_INT(webhookgen_pct(v, 100, 100), 100);
	EXPECT_INT(webhookgen_pct(v, 1, 99), 1);
	EXPECT_INT(webhookgen_pct(v, 0, 50), 0);
}

UNIT_MAIN(test_webhookgen_content_length, test_webhookgen_partial, test_webhookgen_close_and_case,
	  test_webhookgen_chunked, test_webhookgen_unframed, test_webhookgen_pct)
