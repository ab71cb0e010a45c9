#include "order_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop_order.h"

static void *order_msg_alloc(struct order_msg *m, size_t size)
{
	if (m->nowned == m->capowned) {
		size_t cap = m->capowned ? m->capowned * 2 : 32;
		void **n = realloc(m->owned, cap * sizeof *n);
		if (!n)
			return NULL;
		m->owned = n;
		m->capowned = cap;
	}
	void *p = calloc(1, size ? size : 1);
	if (p)
		m->owned[m->nowned++] = p;
	return p;
}

void order_msg_cleanup(struct order_msg *m)
{
	for (size_t i = 0; i < m->nowned; i++)
		free(m->owned[i]);
	free(m->owned);
	memset(m, 0, sizeof *m);
}

static const struct {
	const char *slug;
	Erpsync__V1__OrderStatus status;
} order_map_statuses[] = {
	{ "pending", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PENDING_PAYMENT },
	{ "on-hold", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_ON_HOLD },
	{ "processing", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING },
	{ "ready-to-ship", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_READY_TO_SHIP },
	{ "shipped", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_SHIPPED },
	{ "completed", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_COMPLETED },
	{ "cancelled", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED },
	{ "refunded", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_REFUNDED },
	{ "failed", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_FAILED },
};

Erpsync__V1__OrderStatus order_map_status(const char *slug)
{
	if (slug && strncmp(slug, "wc-", 3) == 0)
		slug += 3;
	for (size_t i = 0; slug && i < sizeof order_map_statuses / sizeof order_map_statuses[0]; i++)
		if (strcmp(slug, order_map_statuses[i].slug) == 0)
			return order_map_statuses[i].status;
	return ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED;
}

const char *order_map_status_name(Erpsync__V1__OrderStatus s)
{
	for (size_t i = 0; i < sizeof order_map_statuses / sizeof order_map_statuses[0]; i++)
		if (order_map_statuses[i].status == s)
			return order_map_statuses[i].slug;
	return "unspecified";
}

Erpsync__V1__OrderStatus order_map_erp_status(const char *word)
{
	static const struct {
		const char *word;
		Erpsync__V1__OrderStatus status;
	} w[] = {
		{ "confirmed", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING },
		{ "ready_to_ship", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_READY_TO_SHIP },
		{ "shipped", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_SHIPPED },
		{ "completed", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_COMPLETED },
		{ "cancelled", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED },
	};
	for (size_t i = 0; word && i < sizeof w / sizeof w[0]; i++)
		if (strcmp(word, w[i].word) == 0)
			return w[i].status;
	return ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED;
}

Erpsync__V1__PaymentMethodKind order_map_payment_kind(const char *gw)
{
	static const struct {
		const char *prefix;
		Erpsync__V1__PaymentMethodKind kind;
	} k[] = {
		{ "cod", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_CASH_ON_DELIVERY },
		{ "bacs", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_BANK_TRANSFER },
		{ "cheque", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_OTHER },
		{ "przelewy24", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_ONLINE_TRANSFER },
		{ "payu", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_ONLINE_TRANSFER },
		{ "tpay", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_ONLINE_TRANSFER },
		{ "paynow", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_ONLINE_TRANSFER },
		{ "blik", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_MOBILE },
		{ "stripe", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_CARD },
		{ "paypal", ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_ONLINE_TRANSFER },
	};
	if (!gw || !*gw)
		return ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_UNSPECIFIED;
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (strncmp(gw, k[i].prefix, strlen(k[i].prefix)) == 0)
			return k[i].kind;
	return ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_OTHER;
}

int order_map_ref(char *out, size_t len, const char *shop_id, const char *external_id)
{
	return snprintf(out, len, "%s|%s", shop_id, external_id);
}

static Erpsync__V1__Amounts *order_map_amounts(struct order_msg *m, const char *currency, int64_t net, int64_t tax)
{
	Erpsync__V1__Amounts *a = order_msg_alloc(m, sizeof *a);
	if (!a)
		return NULL;
	erpsync__v1__amounts__init(a);
	a->currency = (char *)currency;
	a->net_minor = net;
	a->tax_minor = tax;
	a->gross_minor = net + tax;
	return a;
}

static Erpsync__V1__VatRate *order_map_vat(struct order_msg *m, uint32_t rate_bp)
{
	Erpsync__V1__VatRate *v = order_msg_alloc(m, sizeof *v);
	if (!v)
		return NULL;
	erpsync__v1__vat_rate__init(v);
	v->category = ERPSYNC__V1__VAT_CATEGORY__VAT_CATEGORY_RATED;
	v->rate_bp = rate_bp;
	return v;
}

static char *order_map_join_name(struct order_msg *m, const char *first, const char *last)
{
	size_t n = strlen(first) + strlen(last) + 2;
	char *s = order_msg_alloc(m, n);
	if (s)
		snprintf(s, n, "%s%s%s", first, *first && *last ? " " : "", last);
	return s;
}

static Erpsync__V1__Address *order_map_address(struct order_msg *m, const struct shop_address *a)
{
	if (!*a->line1 && !*a->city && !*a->postal_code && !*a->first_name && !*a->last_name && !*a->company)
		return NULL; /* the shop sent none: a virtual order has no delivery address */
	Erpsync__V1__Address *out = order_msg_alloc(m, sizeof *out);
	if (!out)
		return NULL;
	erpsync__v1__address__init(out);
	out->name = order_map_join_name(m, a->first_name, a->last_name);
	out->company = a->company;
	out->line1 = a->line1;
	out->line2 = a->line2;
	out->postal_code = a->postal_code;
	out->city = a->city;
	out->region = a->region;
	out->country_code = a->country_code;
	out->phone = a->phone;
	out->email = a->email;
	return out->name ? out : NULL;
}

/* Price of one unit (thousandths of a unit in quantity_milli), rounded half away from zero. */
static int64_t order_map_unit_price(int64_t amount, int64_t quantity_milli)
{
	if (quantity_milli <= 0)
		return 0;
	__int128 num = (__int128)amount * 1000;
	__int128 q = num / quantity_milli, r = num % quantity_milli;
	if ((r < 0 ? -r : r) * 2 >= quantity_milli)
		q += num < 0 ? -1 : 1;
	return (int64_t)q;
}

static bool order_map_lines(struct order_msg *m, const struct shop_order *so)
{
	Erpsync__V1__Order *o = &m->order;
	const char *cur = so->currency;
	o->n_lines = so->n_lines;
	o->lines = order_msg_alloc(m, so->n_lines * sizeof *o->lines);
	if (!o->lines)
		return false;
	for (size_t i = 0; i < so->n_lines; i++) {
		const struct shop_order_line *l = &so->lines[i];
		Erpsync__V1__OrderLine *ol = order_msg_alloc(m, sizeof *ol);
		Erpsync__V1__Money *up = order_msg_alloc(m, sizeof *up);
		if (!ol || !up)
			return false;
		erpsync__v1__order_line__init(ol);
		erpsync__v1__money__init(up);
		ol->line_id = l->line_id;
		ol->sku = l->sku;
		ol->name = l->name;
		ol->shop_product_id = l->product_id;
		ol->quantity_milli = l->quantity_milli;
		ol->price_basis = so->prices_include_tax ? ERPSYNC__V1__PRICE_BASIS__PRICE_BASIS_GROSS
							 : ERPSYNC__V1__PRICE_BASIS__PRICE_BASIS_NET;
		int64_t sub = l->subtotal.net_minor + (so->prices_include_tax ? l->subtotal.tax_minor : 0);
		up->amount_minor = order_map_unit_price(sub, l->quantity_milli);
		up->currency = (char *)cur;
		ol->unit_price = up;
		ol->vat_rate = order_map_vat(m, l->vat_rate_bp);
		ol->discount = order_map_amounts(m, cur, l->subtotal.net_minor - l->total.net_minor,
						 l->subtotal.tax_minor - l->total.tax_minor);
		ol->total = order_map_amounts(m, cur, l->total.net_minor, l->total.tax_minor);
		if (!ol->vat_rate || !ol->discount || !ol->total)
			return false;
		o->lines[i] = ol;
	}
	o->n_shipping_lines = so->n_shipping_lines;
	o->shipping_lines = order_msg_alloc(m, so->n_shipping_lines * sizeof *o->shipping_lines);
	if (!o->shipping_lines)
		return false;
	for (size_t i = 0; i < so->n_shipping_lines; i++) {
		const struct shop_order_shipping *s = &so->shipping_lines[i];
		Erpsync__V1__ShippingLine *sl = order_msg_alloc(m, sizeof *sl);
		if (!sl)
			return false;
		erpsync__v1__shipping_line__init(sl);
		sl->line_id = s->line_id;
		sl->method_id = s->method_id;
		sl->title = s->title;
		sl->total = order_map_amounts(m, cur, s->total.net_minor, s->total.tax_minor);
		sl->vat_rate = order_map_vat(m, s->vat_rate_bp);
		if (!sl->total || !sl->vat_rate)
			return false;
		o->shipping_lines[i] = sl;
	}
	o->n_fee_lines = so->n_fee_lines;
	o->fee_lines = order_msg_alloc(m, so->n_fee_lines * sizeof *o->fee_lines);
	if (!o->fee_lines)
		return false;
	for (size_t i = 0; i < so->n_fee_lines; i++) {
		const struct shop_order_fee *f = &so->fee_lines[i];
		Erpsync__V1__FeeLine *fl = order_msg_alloc(m, sizeof *fl);
		if (!fl)
			return false;
		erpsync__v1__fee_line__init(fl);
		fl->line_id = f->line_id;
		fl->name = f->name;
		fl->total = order_map_amounts(m, cur, f->total.net_minor, f->total.tax_minor);
		fl->vat_rate = order_map_vat(m, f->vat_rate_bp);
		if (!fl->total || !fl->vat_rate)
			return false;
		o->fee_lines[i] = fl;
	}
	o->n_coupons = so->n_coupons;
	o->coupons = order_msg_alloc(m, so->n_coupons * sizeof *o->coupons);
	if (!o->coupons)
		return false;
	for (size_t i = 0; i < so->n_coupons; i++) {
		Erpsync__V1__CouponLine *c = order_msg_alloc(m, sizeof *c);
		if (!c)
			return false;
		erpsync__v1__coupon_line__init(c);
		c->code = so->coupons[i].code;
		c->discount = order_map_amounts(m, cur, so->coupons[i].discount.net_minor,
						so->coupons[i].discount.tax_minor);
		if (!c->discount)
			return false;
		o->coupons[i] = c;
	}
	return true;
}

static bool order_map_totals(struct order_msg *m, const struct shop_order *so)
{
	struct shop_amounts items = { 0, 0 }, ship = { 0, 0 }, fees = { 0, 0 };
	for (size_t i = 0; i < so->n_lines; i++) {
		items.net_minor += so->lines[i].total.net_minor;
		items.tax_minor += so->lines[i].total.tax_minor;
	}
	for (size_t i = 0; i < so->n_shipping_lines; i++) {
		ship.net_minor += so->shipping_lines[i].total.net_minor;
		ship.tax_minor += so->shipping_lines[i].total.tax_minor;
	}
	for (size_t i = 0; i < so->n_fee_lines; i++) {
		fees.net_minor += so->fee_lines[i].total.net_minor;
		fees.tax_minor += so->fee_lines[i].total.tax_minor;
	}
	const char *cur = so->currency;
	Erpsync__V1__OrderTotals *t = order_msg_alloc(m, sizeof *t);
	if (!t)
		return false;
	erpsync__v1__order_totals__init(t);
	t->items = order_map_amounts(m, cur, items.net_minor, items.tax_minor);
	t->shipping = order_map_amounts(m, cur, ship.net_minor, ship.tax_minor);
	t->fees = order_map_amounts(m, cur, fees.net_minor, fees.tax_minor);
	t->discount = order_map_amounts(m, cur, so->totals.discount.net_minor, so->totals.discount.tax_minor);
	/* the shop's own figure: what the customer pays */
	t->total = order_map_amounts(m, cur, so->totals.total_minor - so->totals.tax_minor, so->totals.tax_minor);
	m->order.totals = t;
	return t->items && t->shipping && t->fees && t->discount && t->total;
}

static Erpsync__V1__PaymentStatus order_map_payment_status(const struct shop_order *so, int64_t refunded)
{
	Erpsync__V1__OrderStatus st = order_map_status(so->status);
	if (st == ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_FAILED)
		return ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_FAILED;
	if (so->paid_at_us <= 0)
		return st == ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED
			       ? ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_CANCELLED
			       : ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PENDING;
	if (refunded > 0)
		return refunded >= so->totals.total_minor
			       ? ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_REFUNDED
			       : ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PARTIALLY_REFUNDED;
	return ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PAID;
}

bool order_map_build(struct order_msg *m, const char *shop_id, const struct shop_order *so)
{
	memset(m, 0, sizeof *m);
	Erpsync__V1__Order *o = &m->order;
	erpsync__v1__order__init(o);
	o->shop_id = (char *)shop_id;
	o->external_id = so->external_id;
	o->number = so->number;
	o->created_at = so->created_at_us;
	o->updated_at = so->updated_at_us;
	o->status = order_map_status(so->status);
	o->source_status = so->status;
	o->currency = so->currency;
	o->prices_include_tax = so->prices_include_tax;
	int64_t refunded = 0;
	for (size_t i = 0; i < so->n_refunds; i++)
		refunded += so->refunds[i].amount_minor;
	if (!order_map_lines(m, so) || !order_map_totals(m, so))
		return false;

	Erpsync__V1__Customer *c = order_msg_alloc(m, sizeof *c);
	if (!c)
		return false;
	erpsync__v1__customer__init(c);
	c->customer_id = so->customer_id;
	c->first_name = so->billing.first_name;
	c->last_name = so->billing.last_name;
	c->company = so->billing.company;
	c->email = so->billing.email;
	c->phone = so->billing.phone;
	if (*so->buyer_nip) {
		Erpsync__V1__TaxId *t = order_msg_alloc(m, sizeof *t);
		if (!t)
			return false;
		erpsync__v1__tax_id__init(t);
		t->kind = ERPSYNC__V1__TAX_ID_KIND__TAX_ID_KIND_NIP;
		t->country_code = (char *)"PL";
		t->value = so->buyer_nip;
		t->checksum_invalid = so->buyer_nip_invalid;
		c->tax_id = t;
		o->invoice_requested = true;
	}
	o->customer = c;
	o->billing = order_map_address(m, &so->billing);
	o->shipping = order_map_address(m, &so->shipping);
	o->shipping_method = so->n_shipping_lines ? so->shipping_lines[0].method_id : (char *)"";
	o->pickup_point = so->pickup_point;
	o->payment_method_kind = order_map_payment_kind(so->payment_method);
	o->payment_method = so->payment_method;
	o->payment_method_title = so->payment_method_title;
	o->payment_status = order_map_payment_status(so, refunded);
	o->paid_at = so->paid_at_us;
	o->customer_note = so->customer_note;
	return true;
}

bool order_map_payment(struct order_msg *m, const Erpsync__V1__Order *o, const char *transaction_id,
		       int64_t refunded_minor, Erpsync__V1__Payment *p, Erpsync__V1__Money *amount,
		       Erpsync__V1__Money *refunded)
{
	(void)m;
	if (o->paid_at <= 0 && (!transaction_id || !*transaction_id))
		return false;
	erpsync__v1__payment__init(p);
	erpsync__v1__money__init(amount);
	erpsync__v1__money__init(refunded);
	p->shop_id = o->shop_id;
	p->order_external_id = o->external_id;
	p->payment_id = transaction_id && *transaction_id ? (char *)transaction_id : (char *)"order";
	p->status = o->payment_status;
	p->method_kind = o->payment_method_kind;
	p->method = o->payment_method;
	p->method_title = o->payment_method_title;
	amount->amount_minor = o->totals && o->totals->total ? o->totals->total->gross_minor : 0;
	amount->currency = o->currency;
	p->amount = amount;
	if (refunded_minor > 0) {
		refunded->amount_minor = refunded_minor;
		refunded->currency = o->currency;
		p->refunded = refunded;
	}
	p->paid_at = o->paid_at;
	p->provider = o->payment_method;
	p->provider_ref = transaction_id ? (char *)transaction_id : (char *)"";
	return true;
}
