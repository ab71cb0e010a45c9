/* The REST ERP's order JSON: what order-sync sends, and how strictly it reads the answers. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "erp_rest_map.h"
#include "unit.h"

static Erpsync__V1__Amounts amounts(int64_t net, int64_t tax)
{
	Erpsync__V1__Amounts a = ERPSYNC__V1__AMOUNTS__INIT;
	a.currency = (char *)"PLN";
	a.net_minor = net;
	a.tax_minor = tax;
	a.gross_minor = net + tax;
	return a;
}

/* A B2B order: two items (one discounted), InPost delivery, a COD fee and a negative fee. */
struct fixture {
	Erpsync__V1__Order o;
	Erpsync__V1__OrderLine l[2], *lp[2];
	Erpsync__V1__ShippingLine s, *sp[1];
	Erpsync__V1__FeeLine f[2], *fp[2];
	Erpsync__V1__CouponLine c, *cp[1];
	Erpsync__V1__VatRate v23, v8;
	Erpsync__V1__Amounts t[6], disc, total;
	Erpsync__V1__Money price;
	Erpsync__V1__OrderTotals totals;
	Erpsync__V1__Customer cu;
	Erpsync__V1__TaxId nip;
	Erpsync__V1__Address bill, ship;
};

static void fixture_init(struct fixture *x)
{
	memset(x, 0, sizeof *x);
	erpsync__v1__order__init(&x->o);
	erpsync__v1__vat_rate__init(&x->v23);
	x->v23.category = ERPSYNC__V1__VAT_CATEGORY__VAT_CATEGORY_RATED;
	x->v23.rate_bp = 2300;
	x->v8 = x->v23;
	x->v8.rate_bp = 800;
	erpsync__v1__money__init(&x->price);
	x->price.amount_minor = 12300;
	x->price.currency = (char *)"PLN";
	x->t[0] = amounts(20000, 4600);
	x->t[1] = amounts(1000, 80);
	x->t[2] = amounts(1000, 230);
	x->t[3] = amounts(500, 115);
	x->t[4] = amounts(-100, -23);
	x->disc = amounts(2000, 460);
	for (int i = 0; i < 2; i++) {
		erpsync__v1__order_line__init(&x->l[i]);
		x->lp[i] = &x->l[i];
		x->l[i].quantity_milli = 2000;
		x->l[i].unit_price = &x->price;
		x->l[i].price_basis = ERPSYNC__V1__PRICE_BASIS__PRICE_BASIS_GROSS;
	}
	x->l[0].sku = (char *)"KUB-001";
	x->l[0].name = (char *)"Kubek";
	x->l[0].vat_rate = &x->v23;
	x->l[0].total = &x->t[0];
	x->l[0].discount = &x->disc;
	x->l[1].sku = (char *)"KSI-7";
	x->l[1].vat_rate = &x->v8;
	x->l[1].total = &x->t[1];
	erpsync__v1__shipping_line__init(&x->s);
	x->sp[0] = &x->s;
	x->s.title = (char *)"Paczkomat InPost";
	x->s.method_id = (char *)"easypack_parcel_machines";
	x->s.vat_rate = &x->v23;
	x->s.total = &x->t[2];
	for (int i = 0; i < 2; i++) {
		erpsync__v1__fee_line__init(&x->f[i]);
		x->fp[i] = &x->f[i];
		x->f[i].vat_rate = &x->v23;
		x->f[i].total = &x->t[3 + i];
	}
	x->f[0].name = (char *)"Pobranie";
	x->f[1].name = (char *)"Rabat";
	erpsync__v1__coupon_line__init(&x->c);
	x->cp[0] = &x->c;
	x->c.code = (char *)"lato10";
	x->c.discount = &x->disc;
	x->total = amounts(22400, 4402);
	erpsync__v1__order_totals__init(&x->totals);
	x->totals.total = &x->total;
	erpsync__v1__customer__init(&x->cu);
	x->cu.first_name = (char *)"Jan";
	x->cu.last_name = (char *)"Kowalski";
	x->cu.company = (char *)"Kowalski sp. z o.o.";
	x->cu.email = (char *)"jan@example.pl";
	erpsync__v1__tax_id__init(&x->nip);
	x->nip.value = (char *)"5260250274";
	x->cu.tax_id = &x->nip;
	erpsync__v1__address__init(&x->bill);
	x->bill.city = (char *)"Warszawa";
	x->bill.country_code = (char *)"PL";
	erpsync__v1__address__init(&x->ship);
	x->ship.city = (char *)"Kraków";
	x->ship.postal_code = (char *)"30-001";
	x->ship.country_code = (char *)"PL";
	x->o.currency = (char *)"PLN";
	x->o.prices_include_tax = true;
	x->o.number = (char *)"1042";
	x->o.pickup_point = (char *)"KRA010M";
	x->o.payment_method = (char *)"cod";
	x->o.n_lines = 2;
	x->o.lines = x->lp;
	x->o.n_shipping_lines = 1;
	x->o.shipping_lines = x->sp;
	x->o.n_fee_lines = 2;
	x->o.fee_lines = x->fp;
	x->o.n_coupons = 1;
	x->o.coupons = x->cp;
	x->o.totals = &x->totals;
	x->o.customer = &x->cu;
	x->o.billing = &x->bill;
	x->o.shipping = &x->ship;
}

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_map_order_lines(void)
{
	struct fixture x;
	char err[200];
	fixture_init(&x);
	json_t *j = erp_rest_map_order("woo-a|1042", "cus_7", &x.o, err, sizeof err);
	EXPECT(j != NULL);
	json_t *lines = json_object_get(j, "lines");
	EXPECT_INT(json_array_size(lines), 5);
	EXPECT_STR(jstr(j, "external_ref"), "woo-a|1042");
	EXPECT_STR(jstr(j, "customer_id"), "cus_7");
	EXPECT_STR(jstr(j, "shop_number"), "1042");
	EXPECT_STR(jstr(j, "pickup_point"), "KRA010M");
	EXPECT_STR(jstr(j, "payment_method"), "cod");
	EXPECT(json_is_true(json_object_get(j, "prices_include_tax")));
	json_t *l0 = json_array_get(lines, 0);
	EXPECT_STR(jstr(l0, "kind"), "item");
	EXPECT_STR(jstr(l0, "sku"), "KUB-001");
	EXPECT_STR(jstr(l0, "price_basis"), "gross");
	EXPECT_STR(jstr(l0, "vat_category"), "rated");
	EXPECT_INT(jint(l0, "quantity_milli"), 2000);
	EXPECT_INT(jint(l0, "unit_price_minor"), 12300);
	EXPECT_INT(jint(l0, "vat_rate_bp"), 2300);
	EXPECT_INT(jint(l0, "net_minor"), 20000);
	EXPECT_INT(jint(l0, "tax_minor"), 4600);
	EXPECT_INT(jint(l0, "gross_minor"), 24600);
	EXPECT_INT(jint(l0, "discount_gross_minor"), 2460); /* the discount it got, after which the total is */
	EXPECT(!json_object_get(json_array_get(lines, 1), "discount_gross_minor"));
	EXPECT_INT(jint(json_array_get(lines, 1), "vat_rate_bp"), 800);
	json_t *ship = json_array_get(lines, 2);
	EXPECT_STR(jstr(ship, "kind"), "shipping");
	EXPECT_STR(jstr(ship, "name"), "Paczkomat InPost");
	EXPECT_INT(jint(ship, "quantity_milli"), 1000);
	EXPECT_INT(jint(ship, "unit_price_minor"), 1230); /* gross: the shop entered gross prices */
	EXPECT(!json_object_get(ship, "sku"));
	EXPECT_STR(jstr(json_array_get(lines, 3), "kind"), "fee");
	EXPECT_STR(jstr(json_array_get(lines, 4), "kind"), "discount"); /* a negative fee */
	EXPECT_INT(jint(json_array_get(lines, 4), "gross_minor"), -123);
	json_t *tot = json_object_get(j, "totals");
	EXPECT_INT(jint(tot, "net_minor"), 22400);
	EXPECT_INT(jint(tot, "gross_minor"), 26802);
	EXPECT_STR(jstr(json_object_get(j, "shipping"), "postal_code"), "30-001");
	EXPECT_STR(jstr(json_array_get(json_object_get(j, "coupons"), 0), "code"), "lato10");
	json_decref(j);
}

static void test_map_order_totals_from_lines(void)
{
	struct fixture x;
	char err[200];
	fixture_init(&x);
	x.o.totals = NULL;
	x.o.shipping = NULL; /* virtual goods: no delivery address at all */
	json_t *j = erp_rest_map_order("r", "c", &x.o, err, sizeof err);
	EXPECT(j != NULL);
	EXPECT_INT(jint(json_object_get(j, "totals"), "gross_minor"), 24600 + 1080 + 1230 + 615 - 123);
	EXPECT(!json_object_get(j, "shipping"));
	json_decref(j);
	x.o.currency = (char *)"";
	EXPECT(erp_rest_map_order("r", "c", &x.o, err, sizeof err) == NULL);
}

static void test_map_customer(void)
{
	struct fixture x;
	fixture_init(&x);
	json_t *j = erp_rest_map_customer(&x.o);
	EXPECT_STR(jstr(j, "name"), "Jan Kowalski");
	EXPECT_STR(jstr(j, "nip"), "5260250274");
	EXPECT_STR(jstr(j, "email"), "jan@example.pl");
	EXPECT_STR(jstr(json_object_get(j, "address"), "city"), "Warszawa");
	json_decref(j);
	x.o.customer = NULL; /* a guest: the billing address speaks for them */
	x.bill.name = (char *)"Anna Nowak";
	x.bill.email = (char *)"anna@example.pl";
	j = erp_rest_map_customer(&x.o);
	EXPECT_STR(jstr(j, "name"), "Anna Nowak");
	EXPECT_STR(jstr(j, "email"), "anna@example.pl");
	EXPECT(!json_object_get(j, "nip"));
	json_decref(j);
}

static void test_map_payment_return_complaint(void)
{
	Erpsync__V1__Payment p = ERPSYNC__V1__PAYMENT__INIT;
	Erpsync__V1__Money m = ERPSYNC__V1__MONEY__INIT;
	m.amount_minor = 26802;
	m.currency = (char *)"PLN";
	p.amount = &m;
	p.method = (char *)"przelewy24";
	p.provider_ref = (char *)"P24-77";
	p.paid_at = 1764860400000000LL; /* 2025-12-04T15:00:00Z */
	json_t *j = erp_rest_map_payment("ord_1", "woo-a|1|p1", &p);
	EXPECT_INT(jint(j, "amount_minor"), 26802);
	EXPECT_STR(jstr(j, "reference"), "P24-77");
	EXPECT_STR(jstr(j, "paid_at"), "2025-12-04T15:00:00.000000Z");
	json_decref(j);

	Erpsync__V1__Return r = ERPSYNC__V1__RETURN__INIT;
	Erpsync__V1__ReturnLine l = ERPSYNC__V1__RETURN_LINE__INIT, *lp = &l;
	Erpsync__V1__Amounts refund = amounts(1000, 230), shipping = amounts(1000, 230);
	l.sku = (char *)"KUB-001";
	l.quantity_milli = 1000;
	l.reason = ERPSYNC__V1__RETURN_REASON__RETURN_REASON_DEFECTIVE;
	l.refund = &refund;
	r.n_lines = 1;
	r.lines = &lp;
	r.shipping_refund = &shipping;
	j = erp_rest_map_return("ord_1", "woo-a|1|r1", &r);
	EXPECT_STR(jstr(j, "kind"), "return");    /* unspecified, but goods come back */
	EXPECT_INT(jint(j, "total_minor"), 2460); /* lines + shipping when no total is given */
	EXPECT_INT(jint(j, "shipping_tax_minor"), 230);
	EXPECT_STR(jstr(json_array_get(json_object_get(j, "lines"), 0), "reason"), "defective");
	json_decref(j);
	r.kind = ERPSYNC__V1__RETURN_KIND__RETURN_KIND_REFUND_ONLY;
	j = erp_rest_map_return("ord_1", "woo-a|1|r1", &r);
	EXPECT_STR(jstr(j, "kind"), "refund_only");
	json_decref(j);

	r.kind = ERPSYNC__V1__RETURN_KIND__RETURN_KIND_COMPLAINT;
	l.reason_text = (char *)"pęknięte ucho";
	j = erp_rest_map_complaint("ord_1", "woo-a|1|c1", &r);
	EXPECT_STR(jstr(j, "requested_remedy"), "repair"); /* unspecified */
	EXPECT_STR(jstr(j, "reason"), "pęknięte ucho");
	EXPECT(!json_object_get(json_array_get(json_object_get(j, "lines"), 0), "net_minor"));
	json_decref(j);
	r.requested_remedy = ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_PRICE_REDUCTION;
	j = erp_rest_map_complaint("ord_1", "woo-a|1|c1", &r);
	EXPECT_STR(jstr(j, "requested_remedy"), "price_reduction");
	json_decref(j);
}

static void test_map_docs(void)
{
	struct erp_doc d[2], *all = NULL;
	char err[200];
	bool more = true;
	const char *body = "{\"items\":[{\"id\":\"ord_1\",\"number\":\"SO/2026/00001\",\"status\":\"confirmed\","
			   "\"external_ref\":\"woo-a|1\",\"created_at\":\"2026-12-04T18:00:00.5Z\","
			   "\"totals\":{\"gross_minor\":3690}},{\"id\":\"ord_2\"},{\"id\":\"ord_3\"}]}";
	EXPECT_INT(erp_rest_map_docs(body, strlen(body), d, 2, &all, &more, err, sizeof err), 3);
	EXPECT(!more);
	EXPECT_STR(d[0].number, "SO/2026/00001");
	EXPECT_STR(d[0].external_ref, "woo-a|1");
	EXPECT_INT(d[0].total_gross_minor, 3690);
	EXPECT_INT(d[0].created_at_us, 1796407200500000LL);
	EXPECT_STR(d[1].id, "ord_2");
	EXPECT(all && strcmp(all[2].id, "ord_3") == 0);
	free(all);
	const char *bad[] = {
		"{\"items\":[{\"number\":\"x\"}]}",                          /* no id */
		"{\"items\":[{\"id\":7}]}",                                  /* not a string */
		"{\"items\":[{\"id\":\"a\",\"created_at\":\"yesterday\"}]}", /* not a time */
		"{\"items\":{}}",
		"{\"items\":[{\"id\":\"a\"}],\"has_more\":\"yes\"}",
		"{\"items\":[{\"id\":\"a\",\"totals\":{\"gross_minor\":1.5}}]}",
		"{\"items\":[",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		EXPECT_INT(erp_rest_map_docs(bad[i], strlen(bad[i]), d, 2, NULL, NULL, err, sizeof err), -1);
	char longid[200];
	memset(longid, 'x', sizeof longid);
	snprintf(longid, sizeof longid, "{\"items\":[{\"id\":\"%0*d\"}]}", ERP_ID_MAX + 1, 0);
	EXPECT_INT(erp_rest_map_docs(longid, strlen(longid), d, 2, NULL, NULL, err, sizeof err), -1);
}

static void test_map_order_changes(void)
{
	struct erp_change_page p;
	char err[200];
	const char *body = "{\"items\":[{\"order_id\":\"ord_1\",\"number\":\"SO/2026/00001\",\"external_ref\":"
			   "\"woo-a|1\",\"status\":\"confirmed\",\"reason\":\"\",\"changed_at\":"
			   "\"2026-12-04T18:00:00Z\",\"cursor\":\"1\",\"seq\":1},{\"order_id\":\"ord_1\","
			   "\"external_ref\":\"\",\"status\":\"shipped\",\"reason\":\"DPD 123\",\"changed_at\":"
			   "\"2026-12-04T19:00:00Z\"}],\"next_cursor\":\"2\",\"has_more\":true}";
	EXPECT(erp_rest_map_changes(body, strlen(body), false, &p, err, sizeof err));
	EXPECT_INT(p.n, 2);
	EXPECT_STR(p.next_cursor, "2");
	EXPECT(p.has_more);
	EXPECT_STR(p.orders[1].status, "shipped");
	EXPECT_STR(p.orders[1].reason, "DPD 123");
	EXPECT_INT(p.orders[0].changed_at_us, 1796407200000000LL);
	erp_change_page_cleanup(&p);
	EXPECT(p.orders == NULL && p.n == 0);
	const char *bad[] = {
		"{\"items\":[],\"has_more\":false}",                        /* no cursor */
		"{\"items\":[],\"next_cursor\":\"x1\",\"has_more\":false}", /* not a sequence */
		"{\"items\":[],\"next_cursor\":\"1\"}",                     /* has_more is required */
		"{\"items\":[{\"order_id\":\"o\",\"changed_at\":\"2026-12-04T18:00:00Z\"}],\"next_cursor\":\"1\","
		"\"has_more\":false}", /* no status */
		"{\"items\":[{\"order_id\":\"o\",\"status\":\"shipped\"}],\"next_cursor\":\"1\",\"has_more\":false}",
		"{\"items\":[1],\"next_cursor\":\"1\",\"has_more\":false}",
		"{\"items\":[{\"order_id\":\"o\",\"status\":\"shipped\",\"changed_at\":\"2026-12-04T18:00:00+02:00\"}],"
		"\"next_cursor\":\"1\",\"has_more\":false}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		EXPECT(!erp_rest_map_changes(bad[i], strlen(bad[i]), false, &p, err, sizeof err));
		EXPECT(p.n == 0 && p.orders == NULL);
	}
}

static void test_map_complaint_changes(void)
{
	struct erp_change_page p;
	char err[200];
	const char *body = "{\"items\":[{\"complaint_id\":\"rek_1\",\"external_ref\":\"woo-a|1|c1\",\"order_id\":"
			   "\"ord_1\",\"status\":\"accepted\",\"resolution\":\"refund\",\"note\":\"ok\","
			   "\"refund_minor\":1230,\"changed_at\":\"2026-12-04T18:00:00Z\"}],\"next_cursor\":\"5\","
			   "\"has_more\":false}";
	EXPECT(erp_rest_map_changes(body, strlen(body), true, &p, err, sizeof err));
	EXPECT_INT(p.n, 1);
	EXPECT_STR(p.complaints[0].resolution, "refund");
	EXPECT_INT(p.complaints[0].refund_minor, 1230);
	erp_change_page_cleanup(&p);
	const char *neg = "{\"items\":[{\"complaint_id\":\"rek_1\",\"status\":\"accepted\",\"refund_minor\":-1,"
			  "\"changed_at\":\"2026-12-04T18:00:00Z\"}],\"next_cursor\":\"5\",\"has_more\":false}";
	EXPECT(!erp_rest_map_changes(neg, strlen(neg), true, &p, err, sizeof err));
	const char *push = "{\"complaint_id\":\"rek_2\",\"status\":\"rejected\",\"changed_at\":"
			   "\"2026-12-04T18:00:00Z\",\"cursor\":\"9\"}";
	EXPECT(erp_rest_map_pushed_change(push, strlen(push), true, &p, err, sizeof err));
	EXPECT_INT(p.n, 1);
	EXPECT_STR(p.next_cursor, "9");
	EXPECT_STR(p.complaints[0].status, "rejected");
	erp_change_page_cleanup(&p);
	/* a stock record pushed under the order event fails */
	const char *stock = "{\"sku\":\"A\",\"warehouse\":\"W\",\"on_hand\":1,\"changed_at\":\"2026-12-04T18:00:00Z\"}";
	EXPECT(!erp_rest_map_pushed_change(stock, strlen(stock), false, &p, err, sizeof err));
}

static void test_map_error(void)
{
	char err[200];
	const char *b = "{\"error\":\"unknown_sku\",\"message\":\"unknown SKU X on line 2\"}";
	erp_rest_map_error(b, strlen(b), 422, err, sizeof err);
	EXPECT_STR(err, "unknown SKU X on line 2");
	erp_rest_map_error("{\"error\":\"not_cancellable\"}", 27, 409, err, sizeof err);
	EXPECT_STR(err, "not_cancellable");
	erp_rest_map_error("<html>", 6, 404, err, sizeof err);
	EXPECT_STR(err, "HTTP 404");
}

UNIT_MAIN(test_map_order_lines, test_map_order_totals_from_lines, test_map_customer, test_map_payment_return_complaint,
	  test_map_docs, test_map_order_changes, test_map_complaint_changes, test_map_error)
