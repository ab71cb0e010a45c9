/* SHOP_<ID>_STATUS_MAP: ERP order statuses to the shop's status slugs. */
#include <string.h>

#include "shop_config.h"
#include "unit.h"

static void test_status_map_default(void)
{
	struct shop_config s;
	char err[200];
	memset(&s, 0, sizeof s);
	EXPECT(shop_config_status_map_parse(SHOP_CONFIG_STATUS_MAP_DEFAULT, s.status_map, &s.nstatus_map, err,
					    sizeof err));
	EXPECT_INT(s.nstatus_map, 5);
	EXPECT_STR(shop_config_status_for(&s, "confirmed"), "processing");
	EXPECT_STR(shop_config_status_for(&s, "ready_to_ship"), "processing");
	EXPECT_STR(shop_config_status_for(&s, "shipped"), "processing");
	EXPECT_STR(shop_config_status_for(&s, "completed"), "completed");
	EXPECT_STR(shop_config_status_for(&s, "cancelled"), "cancelled");
	EXPECT(shop_config_status_for(&s, "accepted") == NULL); /* not mapped: leave the shop's */
	EXPECT(shop_config_status_for(&s, NULL) == NULL);
}

static void test_status_map_custom(void)
{
	struct shop_config s;
	char err[200];
	memset(&s, 0, sizeof s);
	EXPECT(shop_config_status_map_parse("shipped=shipped,completed=completed", s.status_map, &s.nstatus_map, err,
					    sizeof err));
	EXPECT_STR(shop_config_status_for(&s, "shipped"), "shipped");
	EXPECT(shop_config_status_for(&s, "confirmed") == NULL);
	EXPECT(shop_config_status_map_parse("", s.status_map, &s.nstatus_map, err, sizeof err));
	EXPECT_INT(s.nstatus_map, 0);
}

static void test_status_map_refused(void)
{
	static const char *const bad[] = {
		"confirmed",
		"confirmed=",
		"=processing",
		"Confirmed=processing",
		"a=b,a=c",
		"a=b,",
		"a=b,,c=d",
		"a=wc processing",
		"a=b=c",
		"confirmed=processing;shipped=completed",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b", /* 33 bytes */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct shop_config_status m[SHOP_CONFIG_STATUS_MAX];
		size_t n = 0;
		char err[200] = "";
		EXPECT(!shop_config_status_map_parse(bad[i], m, &n, err, sizeof err));
		EXPECT(err[0] != '\0');
	}
	char many[1200] = "";
	size_t o = 0;
	for (int i = 0; i <= SHOP_CONFIG_STATUS_MAX; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, "%ss%d=x", i ? "," : "", i);
	struct shop_config_status m[SHOP_CONFIG_STATUS_MAX];
	size_t n = 0;
	char err[200];
	EXPECT(!shop_config_status_map_parse(many, m, &n, err, sizeof err));
}

UNIT_MAIN(test_status_map_default, test_status_map_custom, test_status_map_refused)
