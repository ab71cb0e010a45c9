/* Reading the ERP's change feed: when a persisted cursor is void because the feed started over,
 * and when a page did not move the cursor on. */
#include <string.h>

#include "erp.h"
#include "stock_feed.h"
#include "unit.h"

static struct erp_stock_page page(const char *feed, const char *last, const char *next, size_t n, bool more)
{
	struct erp_stock_page p;
	memset(&p, 0, sizeof p);
	snprintf(p.feed_id, sizeof p.feed_id, "%s", feed);
	snprintf(p.last_cursor, sizeof p.last_cursor, "%s", last);
	snprintf(p.next_cursor, sizeof p.next_cursor, "%s", next);
	p.n = n;
	p.has_more = more;
	return p;
}

static void test_cursor_compare(void)
{
	EXPECT(stock_feed_cursor_cmp("9", "10") < 0);
	EXPECT(stock_feed_cursor_cmp("10", "9") > 0);
	EXPECT(stock_feed_cursor_cmp("", "0") == 0);
	EXPECT(stock_feed_cursor_cmp("007", "7") == 0);
	EXPECT(stock_feed_cursor_cmp("18446744073709551616", "18446744073709551615") > 0); /* beyond 64 bits */
	EXPECT(stock_feed_cursor_cmp("", "1") < 0);
}

static void test_feed_restart(void)
{
	char why[256];
	struct erp_stock_page p = page("bbb", "40", "40", 0, false);
	/* the same feed, the cursor within it */
	struct erp_stock_page same = page("aaa", "40", "40", 0, false);
	EXPECT(stock_feed_restarted("aaa", "40", &same, why, sizeof why) == NULL);
	/* another feed id: void, whatever the sequence numbers say */
	EXPECT_STR(stock_feed_restarted("aaa", "12", &p, why, sizeof why), "feed_id");
	EXPECT(strstr(why, "bbb") && strstr(why, "aaa"));
	/* no feed id kept yet (first start, or an older stock-sync): the page's is taken */
	EXPECT(stock_feed_restarted("", "12", &p, why, sizeof why) == NULL);
	/* an ERP that names no feed: its newest change below the cursor */
	struct erp_stock_page anon = page("", "3", "6", 0, false);
	EXPECT_STR(stock_feed_restarted("aaa", "6", &anon, why, sizeof why), "cursor_beyond_last");
	EXPECT_STR(stock_feed_restarted("", "6", &anon, why, sizeof why), "cursor_beyond_last");
	EXPECT(strstr(why, "6") && strstr(why, "3"));
	/* ... or telling nothing: nothing to go by */
	struct erp_stock_page mute = page("", "", "6", 0, false);
	EXPECT(stock_feed_restarted("aaa", "6", &mute, why, sizeof why) == NULL);
	/* at the newest change exactly, or a fresh cursor: fine */
	struct erp_stock_page at = page("aaa", "6", "6", 0, false);
	EXPECT(stock_feed_restarted("aaa", "6", &at, why, sizeof why) == NULL);
	EXPECT(stock_feed_restarted("aaa", "", &at, why, sizeof why) == NULL);
}

static void test_cursor_advances(void)
{
	struct erp_stock_page p = page("f", "9", "9", 3, true);
	EXPECT(stock_feed_advances("5", &p));
	p = page("f", "9", "5", 3, true); /* records, more to come, the same cursor */
	EXPECT(!stock_feed_advances("5", &p));
	p = page("f", "9", "5", 0, true); /* nothing, yet more to come */
	EXPECT(!stock_feed_advances("5", &p));
	p = page("f", "9", "5", 2, false); /* records without moving on: read again next time */
	EXPECT(!stock_feed_advances("5", &p));
	p = page("f", "9", "4", 1, false); /* backwards */
	EXPECT(!stock_feed_advances("5", &p));
	p = page("f", "5", "5", 0, false); /* nothing new */
	EXPECT(stock_feed_advances("5", &p));
	p = page("f", "5", "5", 0, false);
	p.nrejects = 1; /* only a bad record, the cursor must still move */
	EXPECT(!stock_feed_advances("5", &p));
}

UNIT_MAIN(test_cursor_compare, test_feed_restart, test_cursor_advances)
