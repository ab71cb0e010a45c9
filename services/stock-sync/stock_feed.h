/* stock_feed — how stock-sync reads the ERP's change feed safely: when the feed has started over
 * (so the persisted cursor is void), and whether a page moved the cursor on. Pure functions, no
 * I/O; the poller and the reconciliation's ERP read act on their answers.
 *
 * An ERP numbers its changes with one sequence; stock-sync persists the last one it read (the
 * cursor) and asks for the changes after it. An ERP restarted with its state in memory, or
 * restored from a backup, begins that sequence again, and its versions too: the cursor then
 * points beyond everything the ERP will say for a long while. The ERP's answer tells which feed
 * it serves (feed_id) and its newest change (last_cursor); either one shows a feed that went back.
 * stock-sync then reads the feed again from the start and counts a new feed epoch, in which lower
 * versions than those of the old feed are taken (stock_event.h). */
#ifndef STOCK_FEED_H
#define STOCK_FEED_H

#include <stdbool.h>
#include <stddef.h>

struct erp_stock_page;

/* Why the feed counts as restarted ("feed_id", "cursor_beyond_last": the metric's label), or NULL
 * when the cursor still holds. stored_feed: the feed id kept with cursor ("" when none was told
 * yet: the page's is then taken, not a restart). why gets a sentence for the log. */
const char *stock_feed_restarted(const char *stored_feed, const char *cursor, const struct erp_stock_page *page,
				 char *why, size_t whylen);

/* Whether a page read after cursor moved it on: a page with records, or one that says more
 * follow, must answer a next_cursor beyond cursor, or paging would repeat it for ever. */
bool stock_feed_advances(const char *cursor, const struct erp_stock_page *page);

/* Compares two decimal cursors by value, whatever their length ("" counts as 0): <0, 0, >0. */
int stock_feed_cursor_cmp(const char *a, const char *b);

#endif
