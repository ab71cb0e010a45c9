/* The admin access rules' pure parts: which Host headers name the service, which Origins are its
 * own, which peer addresses are loopback, which allowed-hosts lists are accepted. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "httpd_admin.h"
#include "log.h"
#include "unit.h"

static void test_host_names_the_service(void)
{
	struct httpd_admin *a = httpd_admin_new(NULL, "127.0.0.1", 19101, "stock.example.com, ops.example.com:8443",
						NULL, 0);
	EXPECT(a != NULL);
	EXPECT(httpd_admin_host_ok(a, "127.0.0.1:19101"));
	EXPECT(httpd_admin_host_ok(a, "localhost:19101"));
	EXPECT(httpd_admin_host_ok(a, "LOCALHOST:19101"));
	EXPECT(httpd_admin_host_ok(a, "127.0.0.2:19101")); /* all of 127.0.0.0/8 */
	EXPECT(httpd_admin_host_ok(a, "[::1]:19101"));
	EXPECT(httpd_admin_host_ok(a, "stock.example.com")); /* listed without a port: any */
	EXPECT(httpd_admin_host_ok(a, "Stock.Example.com:443"));
	EXPECT(httpd_admin_host_ok(a, "ops.example.com:8443"));
	EXPECT(!httpd_admin_host_ok(a, "ops.example.com")); /* listed with 8443: port 80 is not it */
	EXPECT(!httpd_admin_host_ok(a, "ops.example.com:9999"));
	EXPECT(!httpd_admin_host_ok(a, "localhost:8080"));         /* loopback, another port */
	EXPECT(!httpd_admin_host_ok(a, "localhost"));              /* no port: 80 */
	EXPECT(!httpd_admin_host_ok(a, "attacker.example:19101")); /* DNS rebinding */
	EXPECT(!httpd_admin_host_ok(a, "localhost.attacker.example:19101"));
	EXPECT(!httpd_admin_host_ok(a, "0.0.0.0:19101"));
	EXPECT(!httpd_admin_host_ok(a, "::1:19101")); /* IPv6 without brackets */
	EXPECT(!httpd_admin_host_ok(a, "localhost:19101x"));
	EXPECT(!httpd_admin_host_ok(a, "localhost:"));
	EXPECT(!httpd_admin_host_ok(a, "localhost:99999"));
	EXPECT(!httpd_admin_host_ok(a, "local host:19101"));
	EXPECT(!httpd_admin_host_ok(a, ""));
	EXPECT(!httpd_admin_host_ok(a, NULL));
	httpd_admin_free(a);
}

static void test_host_bind_address(void)
{
	struct httpd_admin *a = httpd_admin_new("t", "10.1.2.3", 19101, NULL, NULL, 0);
	EXPECT(httpd_admin_host_ok(a, "10.1.2.3:19101"));
	EXPECT(!httpd_admin_host_ok(a, "10.1.2.4:19101"));
	EXPECT(!httpd_admin_host_ok(a, "10.1.2.3:19102"));
	httpd_admin_free(a);
	/* a wildcard bind adds no name: 0.0.0.0 reaches this host from a browser */
	a = httpd_admin_new(NULL, "0.0.0.0", 19101, NULL, NULL, 0);
	EXPECT(!httpd_admin_host_ok(a, "0.0.0.0:19101"));
	EXPECT(httpd_admin_host_ok(a, "127.0.0.1:19101"));
	httpd_admin_free(a);
	a = httpd_admin_new(NULL, "::", 19101, NULL, NULL, 0);
	EXPECT(!httpd_admin_host_ok(a, "[::]:19101"));
	httpd_admin_free(a);
}

static void test_allowed_hosts_list(void)
{
	char err[160] = "";
	struct httpd_admin *a = httpd_admin_new(NULL, "127.0.0.1", 1, " a.example ,, [fd00::1]:8080,", err, sizeof err);
	EXPECT(a != NULL);
	EXPECT(httpd_admin_host_ok(a, "a.example:5"));
	EXPECT(httpd_admin_host_ok(a, "[fd00::1]:8080"));
	httpd_admin_free(a);
	EXPECT(httpd_admin_new(NULL, "127.0.0.1", 1, "good.example,bad host", err, sizeof err) == NULL);
	EXPECT(strstr(err, "bad host") != NULL);
	EXPECT(httpd_admin_new(NULL, "127.0.0.1", 1, "x.example:0", err, sizeof err) == NULL);
	EXPECT(httpd_admin_new(NULL, "127.0.0.1", 1, "fd00::1", err, sizeof err) == NULL);
}

static void test_same_origin(void)
{
	EXPECT(httpd_admin_same_origin("http://127.0.0.1:19101", "127.0.0.1:19101"));
	EXPECT(httpd_admin_same_origin("HTTP://LocalHost:19101", "localhost:19101"));
	EXPECT(httpd_admin_same_origin("https://stock.example.com", "stock.example.com"));
	EXPECT(!httpd_admin_same_origin("http://evil.example", "127.0.0.1:19101"));
	EXPECT(!httpd_admin_same_origin("http://127.0.0.1:8080", "127.0.0.1:19101"));
	EXPECT(!httpd_admin_same_origin("http://127.0.0.1:19101.evil.example", "127.0.0.1:19101"));
	EXPECT(!httpd_admin_same_origin("null", "127.0.0.1:19101"));
	EXPECT(!httpd_admin_same_origin("file://", "127.0.0.1:19101"));
	EXPECT(!httpd_admin_same_origin("http://127.0.0.1:19101", NULL));
}

static void test_loopback_peers(void)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	EXPECT(httpd_admin_loopback((const struct sockaddr *)&v4));
	inet_pton(AF_INET, "127.9.9.9", &v4.sin_addr);
	EXPECT(httpd_admin_loopback((const struct sockaddr *)&v4));
	inet_pton(AF_INET, "192.0.2.2", &v4.sin_addr);
	EXPECT(!httpd_admin_loopback((const struct sockaddr *)&v4));
	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	EXPECT(httpd_admin_loopback((const struct sockaddr *)&v6));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
	EXPECT(httpd_admin_loopback((const struct sockaddr *)&v6));
	inet_pton(AF_INET6, "::ffff:192.0.2.2", &v6.sin6_addr);
	EXPECT(!httpd_admin_loopback((const struct sockaddr *)&v6));
	inet_pton(AF_INET6, "fd00::2", &v6.sin6_addr);
	EXPECT(!httpd_admin_loopback((const struct sockaddr *)&v6));
	EXPECT(!httpd_admin_loopback(NULL));
}

int main(void)
{
	log_init("test", LOG_ERROR + 1);
	static const unit_fn fns[] = { test_host_names_the_service, test_host_bind_address, test_allowed_hosts_list,
				       test_same_origin, test_loopback_peers };
	static const char *const names[] = { "test_host_names_the_service", "test_host_bind_address",
					     "test_allowed_hosts_list", "test_same_origin", "test_loopback_peers" };
	return unit_run(names, fns, sizeof fns / sizeof fns[0]);
}
