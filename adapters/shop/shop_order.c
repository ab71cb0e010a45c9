/* shop_order — the generic order's release, and the pure checks every platform's order goes
 * through: money strings into minor units, the buyer's NIP, the totals to the grosz. */
#include "shop_order.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- release ---- */

static void shop_address_cleanup(struct shop_address *a)
{
	char *s[] = { a->first_name, a->last_name, a->company,      a->line1, a->line2, a->postal_code,
		      a->city,       a->region,    a->country_code, a->email, a->phone };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		free(s[i]);
}

static void shop_order_free_lines(struct shop_order *o)
{
	for (size_t i = 0; o->lines && i < o->n_lines; i++) {
		struct shop_order_line *l = &o->lines[i];
		free(l->line_id);
		free(l->sku);
		free(l->name);
		free(l->product_id);
		free(l->tax_class);
	}
	free(o->lines);
	for (size_t i = 0; o->shipping_lines && i < o->n_shipping_lines; i++) {
		free(o->shipping_lines[i].line_id);
		free(o->shipping_lines[i].method_id);
		free(o->shipping_lines[i].title);
	}
	free(o->shipping_lines);
	for (size_t i = 0; o->fee_lines && i < o->n_fee_lines; i++) {
		free(o->fee_lines[i].line_id);
		free(o->fee_lines[i].name);
		free(o->fee_lines[i].tax_class);
	}
	free(o->fee_lines);
	for (size_t i = 0; o->coupons && i < o->n_coupons; i++)
		free(o->coupons[i].code);
	free(o->coupons);
	for (size_t i = 0; o->refunds && i < o->n_refunds; i++) {
		free(o->refunds[i].refund_id);
		free(o->refunds[i].reason);
	}
	free(o->refunds);
}

void shop_order_free(struct shop_order *o)
{
	if (!o)
		return;
	shop_order_free_lines(o);
	shop_address_cleanup(&o->billing);
	shop_address_cleanup(&o->shipping);
	char *s[] = { o->external_id,
		      o->number,
		      o->status,
		      o->currency,
		      o->customer_id,
		      o->payment_method,
		      o->payment_method_title,
		      o->transaction_id,
		      o->customer_note,
		      o->buyer_nip,
		      o->pickup_point };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		free(s[i]);
	free(o);
}

/* ---- money ---- */

/* Digit by digit into an unsigned magnitude, bounded at every step: a float would turn "0.29" into
 * 28.999999999999996 grosze, and a long string of digits would wrap. */
bool shop_money_parse(const char *s, int64_t *minor)
{
	if (!s)
		return false;
	const char *p = s;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (*p < '0' || *p > '9')
		return false;
	uint64_t units = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		units = units * 10 + (uint64_t)(*p - '0');
		if (units > (uint64_t)INT64_MAX / 100)
			return false;
	}
	uint64_t frac = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits < 2)
				frac = frac * 10 + (uint64_t)(*p - '0');
			else if (*p != '0')
				return false; /* a third decimal would have to be rounded */
		}
		if (digits == 0)
			return false;
		if (digits == 1)
			frac *= 10; /* "0.5" is 50 */
	}
	if (*p != '\0')
		return false;
	uint64_t v = units * 100 + frac;
	if (v > (uint64_t)INT64_MAX)
		return false;
	*minor = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

int shop_currency_minor_digits(const char *code)
{
	/* ISO 4217's list, the codes whose exponent is not 2 */
	static const struct {
		char code[4];
		int digits;
	} odd[] = {
		{ "BIF", 0 }, { "CLP", 0 }, { "DJF", 0 }, { "GNF", 0 }, { "ISK", 0 }, { "JPY", 0 }, { "KMF", 0 },
		{ "KRW", 0 }, { "PYG", 0 }, { "RWF", 0 }, { "UGX", 0 }, { "UYI", 0 }, { "VND", 0 }, { "VUV", 0 },
		{ "XAF", 0 }, { "XOF", 0 }, { "XPF", 0 }, { "BHD", 3 }, { "IQD", 3 }, { "JOD", 3 }, { "KWD", 3 },
		{ "LYD", 3 }, { "OMR", 3 }, { "TND", 3 }, { "CLF", 4 }, { "UYW", 4 },
	};
	if (!code || strlen(code) != 3)
		return -1;
	for (int i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return -1;
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		if (memcmp(odd[i].code, code, 3) == 0)
			return odd[i].digits;
	return 2;
}

/* "-1234.05": the figures of an error text, in the order's own notation. */
static void shop_money_text(int64_t minor, char *out, size_t outlen)
{
	uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	snprintf(out, outlen, "%s%llu.%02llu", minor < 0 ? "-" : "", (unsigned long long)(m / 100),
		 (unsigned long long)(m % 100));
}

/* ---- NIP ---- */

bool shop_nip_normalize(const char *s, char out[SHOP_NIP_LEN + 1])
{
	size_t n = 0;
	out[0] = '\0';
	if (!s)
		return false;
	while (*s == ' ' || *s == '-')
		s++;
	if ((s[0] == 'P' || s[0] == 'p') && (s[1] == 'L' || s[1] == 'l'))
		s += 2;
	for (; *s; s++) {
		if (*s == ' ' || *s == '-')
			continue;
		if (*s < '0' || *s > '9' || n == SHOP_NIP_LEN)
			return false;
		out[n++] = *s;
	}
	out[n] = '\0';
	if (n != SHOP_NIP_LEN) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool shop_nip_valid(const char *s)
{
	static const int weight[SHOP_NIP_LEN - 1] = { 6, 5, 7, 2, 3, 4, 5, 6, 7 };
	char d[SHOP_NIP_LEN + 1];
	if (!shop_nip_normalize(s, d) || strcmp(d, "0000000000") == 0)
		return false;
	int sum = 0;
	for (int i = 0; i < SHOP_NIP_LEN - 1; i++)
		sum += weight[i] * (d[i] - '0');
	return sum % 11 != 10 && sum % 11 == d[SHOP_NIP_LEN - 1] - '0';
}

/* ---- totals ---- */

/* The sums of one order, each with the overflow it met. */
struct shop_order_sums {
	int64_t lines_before; /* gross before discounts */
	int64_t lines_after;  /* gross after discounts */
	int64_t shipping, fees;
	int64_t tax_lines, tax_shipping, tax_fees;
	int64_t discount; /* the shop's, gross */
	bool overflow;
};

static void shop_order_add(struct shop_order_sums *m, int64_t *acc, int64_t a, int64_t b)
{
	int64_t ab;
	if (__builtin_add_overflow(a, b, &ab) || __builtin_add_overflow(*acc, ab, acc))
		m->overflow = true;
}

static void shop_order_sum(const struct shop_order *o, struct shop_order_sums *m)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < o->n_lines; i++) {
		const struct shop_order_line *l = &o->lines[i];
		shop_order_add(m, &m->lines_before, l->subtotal.net_minor, l->subtotal.tax_minor);
		shop_order_add(m, &m->lines_after, l->total.net_minor, l->total.tax_minor);
		shop_order_add(m, &m->tax_lines, l->total.tax_minor, 0);
	}
	for (size_t i = 0; i < o->n_shipping_lines; i++) {
		const struct shop_order_shipping *s = &o->shipping_lines[i];
		shop_order_add(m, &m->shipping, s->total.net_minor, s->total.tax_minor);
		shop_order_add(m, &m->tax_shipping, s->total.tax_minor, 0);
	}
	for (size_t i = 0; i < o->n_fee_lines; i++) {
		const struct shop_order_fee *f = &o->fee_lines[i];
		shop_order_add(m, &m->fees, f->total.net_minor, f->total.tax_minor);
		shop_order_add(m, &m->tax_fees, f->total.tax_minor, 0);
	}
	shop_order_add(m, &m->discount, o->totals.discount.net_minor, o->totals.discount.tax_minor);
}

__attribute__((format(printf, 3, 4))) static void shop_order_errf(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strnlen(err, errlen);
	if (used + 3 >= errlen)
		return;
	if (used) {
		memcpy(err + used, "; ", 3);
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

bool shop_order_check_totals(const struct shop_order *o, char *err, size_t errlen)
{
	struct shop_order_sums m;
	const char *cur = o->currency ? o->currency : "";
	char a[32], b[32], x[32], y[32], z[32], w[32];
	int64_t total = 0, tax = 0, taken = 0;
	if (errlen)
		err[0] = '\0';
	shop_order_sum(o, &m);
	if (__builtin_add_overflow(m.lines_before, m.shipping, &total) ||
	    __builtin_add_overflow(total, m.fees, &total) || __builtin_sub_overflow(total, m.discount, &total) ||
	    __builtin_add_overflow(m.tax_lines, m.tax_shipping, &tax) ||
	    __builtin_add_overflow(tax, m.tax_fees, &tax) ||
	    __builtin_sub_overflow(m.lines_before, m.lines_after, &taken))
		m.overflow = true;
	if (m.overflow) {
		shop_order_errf(err, errlen, "the order's amounts overflow when added up");
		return false;
	}
	if (total != o->totals.total_minor) {
		shop_money_text(o->totals.total_minor, a, sizeof a);
		shop_money_text(total, b, sizeof b);
		shop_money_text(m.lines_before, x, sizeof x);
		shop_money_text(m.shipping, y, sizeof y);
		shop_money_text(m.fees, z, sizeof z);
		shop_money_text(m.discount, w, sizeof w);
		shop_order_errf(err, errlen,
				"total %s %s != %s %s computed (lines %s + shipping %s + fees %s - discounts %s)", a,
				cur, b, cur, x, y, z, w);
	}
	if (tax != o->totals.tax_minor) {
		shop_money_text(o->totals.tax_minor, a, sizeof a);
		shop_money_text(tax, b, sizeof b);
		shop_money_text(m.tax_lines, x, sizeof x);
		shop_money_text(m.tax_shipping, y, sizeof y);
		shop_money_text(m.tax_fees, z, sizeof z);
		shop_order_errf(err, errlen, "total tax %s %s != %s %s computed (lines %s + shipping %s + fees %s)", a,
				cur, b, cur, x, y, z);
	}
	if (taken != m.discount) {
		shop_money_text(m.discount, a, sizeof a);
		shop_money_text(taken, b, sizeof b);
		shop_order_errf(err, errlen, "discount %s %s != %s %s taken off the lines (subtotal - total)", a, cur,
				b, cur);
	}
	return total == o->totals.total_minor && tax == o->totals.tax_minor && taken == m.discount;
}
