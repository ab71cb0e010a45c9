#include "stock_feed.h"

#include <stdio.h>
#include <string.h>

#include "erp.h"

int stock_feed_cursor_cmp(const char *a, const char *b)
{
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

const char *stock_feed_restarted(const char *stored_feed, const char *cursor, const struct erp_stock_page *page,
				 char *why, size_t whylen)
{
	if (*stored_feed && *page->feed_id && strcmp(stored_feed, page->feed_id) != 0) {
		snprintf(why, whylen, "the ERP serves change feed %s, the cursor %s belongs to feed %s", page->feed_id,
			 *cursor ? cursor : "0", stored_feed);
		return "feed_id";
	}
	/* without a feed id (an ERP restored from a backup keeps it) the newest change tells, as long
	 * as the new feed has not passed the old cursor yet */
	if (*page->last_cursor && stock_feed_cursor_cmp(cursor, page->last_cursor) > 0) {
		snprintf(why, whylen, "the cursor %s is beyond the newest change %s of the ERP's change feed", cursor,
			 page->last_cursor);
		return "cursor_beyond_last";
	}
	return NULL;
}

bool stock_feed_advances(const char *cursor, const struct erp_stock_page *page)
{
	if (page->n + page->nrejects == 0 && !page->has_more)
		return true; /* nothing new: the cursor may stay */
	return stock_feed_cursor_cmp(page->next_cursor, cursor) > 0;
}
