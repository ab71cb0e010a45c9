/* common/buf: growth is bounded by the buffer's maximum and cannot wrap size_t; an append that
 * does not fit fails and leaves the buffer as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

/* What a refused append must leave as it was. */
struct buf_snap {
	const char *data;
	size_t len, cap;
	char text[64];
};

static struct buf_snap snap(const struct buf *b)
{
	struct buf_snap s = { b->data, b->len, b->cap, "" };
	if (b->data)
		snprintf(s.text, sizeof s.text, "%s", b->data);
	return s;
}

static int unchanged(const struct buf *b, const struct buf_snap *s)
{
	return b->data == s->data && b->len == s->len && b->cap == s->cap &&
	       (!b->data || (strcmp(b->data, s->text) == 0 && b->data[b->len] == '\0'));
}

static void test_buf_max_reached_exactly(void)
{
	struct buf b;
	buf_init_max(&b, 16);
	EXPECT(buf_append(&b, "0123456789", 10));
	EXPECT(buf_puts(&b, "abcdef"));
	EXPECT_INT(b.len, 16);
	EXPECT_STR(b.data, "0123456789abcdef");
	/* the storage is bounded too: max bytes and the NUL, not the next power of two */
	EXPECT(b.cap <= 17);
	buf_cleanup(&b);

	buf_init_max(&b, 16);
	EXPECT(buf_printf(&b, "%016d", 7));
	EXPECT_STR(b.data, "0000000000000007");
	buf_cleanup(&b);
}

static void test_buf_max_exceeded(void)
{
	struct buf b;
	buf_init_max(&b, 16);
	EXPECT(!buf_append(&b, "0123456789abcdefg", 17));
	EXPECT(b.data == NULL && b.len == 0);

	EXPECT(buf_append(&b, "0123456789abcdef", 16));
	struct buf_snap s = snap(&b);
	EXPECT(!buf_append(&b, "x", 1));
	EXPECT(unchanged(&b, &s));
	EXPECT(!buf_puts(&b, "x"));
	EXPECT(unchanged(&b, &s));
	EXPECT(!buf_printf(&b, "%d", 1));
	EXPECT(unchanged(&b, &s));
	EXPECT(!buf_json_str(&b, ""));
	EXPECT(unchanged(&b, &s));
	/* an empty append still fits */
	EXPECT(buf_append(&b, "", 0));
	EXPECT(unchanged(&b, &s));
	buf_cleanup(&b);
}

static void test_buf_refused_append_leaves_buffer(void)
{
	struct buf b;
	buf_init_max(&b, 300);
	EXPECT(buf_puts(&b, "head"));
	struct buf_snap s = snap(&b);
	/* longer than buf_printf's stack attempt: the reserve itself must refuse */
	EXPECT(!buf_printf(&b, "%400s", ""));
	EXPECT(unchanged(&b, &s));
	/* a JSON string is all or nothing: no opening quote or half the text is left behind */
	char text[300];
	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	EXPECT(!buf_json_str(&b, text));
	EXPECT(unchanged(&b, &s));
	EXPECT(buf_json_str(&b, "ok"));
	EXPECT_STR(b.data, "head\"ok\"");
	buf_cleanup(&b);
}

static void test_buf_default_max(void)
{
	struct buf b = BUF_INIT;
	static char chunk[1 << 20];
	memset(chunk, 'z', sizeof chunk);
	bool ok = true;
	for (size_t i = 0; ok && i < BUF_MAX_DEFAULT / sizeof chunk; i++)
		ok = buf_append(&b, chunk, sizeof chunk);
	EXPECT(ok);
	EXPECT(b.len == BUF_MAX_DEFAULT);
	size_t cap = b.cap;
	EXPECT(!buf_append(&b, "z", 1));
	EXPECT(b.len == BUF_MAX_DEFAULT && b.cap == cap);
	buf_cleanup(&b);

	/* buf_init gives the default back; cleanup and steal keep a buffer's own maximum */
	buf_init_max(&b, 4);
	EXPECT(buf_puts(&b, "abcd"));
	buf_cleanup(&b);
	EXPECT(!buf_puts(&b, "abcde"));
	EXPECT(buf_puts(&b, "abcd"));
	size_t len = 0;
	free(buf_steal(&b, &len));
	EXPECT_INT(len, 4);
	EXPECT(!buf_puts(&b, "abcde"));
	buf_cleanup(&b);
	buf_init(&b);
	EXPECT(buf_puts(&b, "abcde"));
	buf_cleanup(&b);
}

/* len + extra + 1 must not wrap to a small number that "fits" the storage. */
static void test_buf_extra_overflow(void)
{
	struct buf b;
	buf_init_max(&b, SIZE_MAX); /* no practical maximum: the overflow check alone must refuse */
	EXPECT(buf_puts(&b, "abc"));
	struct buf_snap s = snap(&b);
	EXPECT(!buf_append(&b, "x", SIZE_MAX));
	EXPECT(unchanged(&b, &s));
	EXPECT(!buf_append(&b, "x", SIZE_MAX - 1));
	EXPECT(unchanged(&b, &s));
	EXPECT(!buf_append(&b, "x", SIZE_MAX - b.len));
	EXPECT(unchanged(&b, &s));
	buf_cleanup(&b);

	struct buf d = BUF_INIT;
	EXPECT(!buf_append(&d, "x", SIZE_MAX));
	EXPECT(d.data == NULL && d.len == 0 && d.cap == 0);
}

/* need = SIZE_MAX itself does not wrap, but doubling the storage up to it would. */
static void test_buf_doubling_overflow(void)
{
	struct buf b;
	buf_init_max(&b, SIZE_MAX);
	EXPECT(buf_puts(&b, "abc"));
	struct buf_snap s = snap(&b);
	EXPECT(!buf_append(&b, "x", SIZE_MAX - b.len - 1));
	EXPECT(unchanged(&b, &s));
	EXPECT(!buf_append(&b, "x", SIZE_MAX / 2));
	EXPECT(unchanged(&b, &s));
	buf_cleanup(&b);
}

UNIT_MAIN(test_buf_max_reached_exactly, test_buf_max_exceeded, test_buf_refused_append_leaves_buffer,
	  test_buf_default_max, test_buf_extra_overflow, test_buf_doubling_overflow)
