/* The generic order (money, NIP, totals) and WooCommerce's order body parsed into it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "shop.h"
#include "shop_order.h"
#include "shop_woo_order.h"
#include "unit.h"

/* ---- money ---- */

static int64_t money(const char *s)
{
	int64_t v = INT64_MIN;
	return shop_money_parse(s, &v) ? v : INT64_MIN;
}

static void test_money_parse_exact(void)
{
	EXPECT_INT(money("123.45"), 12345);
	EXPECT_INT(money("-0.5"), -50);
	EXPECT_INT(money("10"), 1000);
	EXPECT_INT(money("0"), 0);
	EXPECT_INT(money("-0"), 0);
	EXPECT_INT(money("0.01"), 1);
	EXPECT_INT(money("007.10"), 710);
	EXPECT_INT(money("1.230"), 123);       /* a third decimal that is zero changes nothing */
	EXPECT_INT(money("19.9900000"), 1999); /* wc_format_decimal without dp */
	/* never a float: 0.1 + 0.2 is 30 grosze, not 30.000000000000004 of anything */
	EXPECT_INT(money("0.1") + money("0.2"), 30);
	EXPECT_INT(money("0.1") + money("0.2"), money("0.3"));
	/* the edges of int64 */
	EXPECT_INT(money("92233720368547758.07"), INT64_MAX);
	EXPECT_INT(money("-92233720368547758.07"), -INT64_MAX);
}

static void test_money_parse_refused(void)
{
	static const char *const bad[] = {
		"",
		"-",
		"1e3",
		"1E3",
		"1.234",
		"12.3.4",
		"92233720368547758.08",
		"-92233720368547758.08",
		"99999999999999999999",
		"abc",
		"12a",
		" 12",
		"12 ",
		"+12",
		".5",
		"5.",
		"1,50",
		"0x10",
		"--1",
		"1.2e1",
		"NaN",
		"inf",
		"1.2-",
		"-.5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v = 77;
		if (shop_money_parse(bad[i], &v))
			printf("  accepted \"%s\" as %lld\n", bad[i], (long long)v);
		EXPECT(!shop_money_parse(bad[i], &v));
	}
	int64_t v = 0;
	EXPECT(!shop_money_parse(NULL, &v));
}

/* ---- NIP ---- */

static void test_nip_checksum(void)
{
	EXPECT(shop_nip_valid("5261040828"));
	EXPECT(shop_nip_valid("526-104-08-28"));
	EXPECT(shop_nip_valid("526 10 40 828"));
	EXPECT(shop_nip_valid("PL5261040828"));
	EXPECT(shop_nip_valid("pl 526-104-08-28"));
	EXPECT(shop_nip_valid("7740001454"));
	EXPECT(!shop_nip_valid("5261040827")); /* last digit wrong */
	EXPECT(!shop_nip_valid("5261040829"));
	EXPECT(!shop_nip_valid("526104082"));   /* nine digits */
	EXPECT(!shop_nip_valid("52610408281")); /* eleven */
	EXPECT(!shop_nip_valid("52610408x8"));
	EXPECT(!shop_nip_valid("DE5261040828"));
	EXPECT(!shop_nip_valid("0000000000"));
	EXPECT(!shop_nip_valid(""));
	EXPECT(!shop_nip_valid(NULL));
	/* a checksum of 10 is never valid: 1234567890 sums to 10 mod 11 with any last digit */
	EXPECT(!shop_nip_valid("1234567890"));
	char n[SHOP_NIP_LEN + 1];
	EXPECT(shop_nip_normalize("PL 526-104-08-28", n));
	EXPECT_STR(n, "5261040828");
	EXPECT(!shop_nip_normalize("526-104-08", n));
}

/* ---- WooCommerce order bodies ---- */

/* The bodies below are written with ' for " (C string literals stay readable). */
static char *json_q(const char *s)
{
	size_t n = strlen(s);
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		r[i] = s[i] == '\'' ? '"' : s[i];
	return r;
}

/* s with its first from replaced by to (caller frees); NULL when from is not in s. */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *at = s ? strstr(s, from) : NULL;
	struct buf b = BUF_INIT;
	if (!at)
		return NULL;
	if (!buf_append(&b, s, (size_t)(at - s)) || !buf_puts(&b, to) || !buf_puts(&b, at + strlen(from))) {
		buf_cleanup(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* A real-shaped order: mug 23 % (2 x 50.00 net), book 5 % (39.90), coffee 8 % (3 x 10.00), a 10 %
 * coupon, a parcel-locker delivery at 13.00 + 23 %, a gift-wrap fee 5.00 + 23 %, a company buyer.
 *
 *   line      subtotal  sub.tax   total  tot.tax
 *   mug 23%     100.00    23.00   90.00    20.70
 *   book 5%      39.90     2.00   35.91     1.80
 *   coffee 8%    30.00     2.40   27.00     2.16
 *   shipping                      13.00     2.99
 *   fee                            5.00     1.15
 *   discount 16.99 + 2.74 tax; tax 28.80; total 170.91 + 28.80 = 199.71 */
static char *woo_order(const char *prices_include_tax, const char *total, const char *nip)
{
	char text[8192];
	snprintf(text, sizeof text,
		 "{'id':727,'parent_id':0,'number':'727','order_key':'wc_order_58d2d042d1d','created_via':'checkout',"
		 "'version':'9.1.0','status':'processing','currency':'PLN',"
		 "'date_created':'2024-05-01T12:20:30','date_created_gmt':'2024-05-01T10:20:30',"
		 "'date_modified':'2024-05-01T12:21:00','date_modified_gmt':'2024-05-01T10:21:00',"
		 "'discount_total':'16.99','discount_tax':'2.74','shipping_total':'13.00','shipping_tax':'2.99',"
		 "'cart_tax':'25.81','total':'%s','total_tax':'28.80','prices_include_tax':%s,'customer_id':12,"
		 "'customer_ip_address':'192.0.2.7','customer_user_agent':'Mozilla/5.0','customer_note':"
		 "'Prosz\\u0119 dzwoni\\u0107 przed dostaw\\u0105',"
		 "'billing':{'first_name':'Anna','last_name':'Nowak','company':'Nowak Sp. z o.o.',"
		 "'address_1':'ul. D\\u0142uga 5/3','address_2':'','city':'Krak\\u00f3w','state':'',"
		 "'postcode':'30-001','country':'PL','email':'anna@example.com','phone':'+48600100200'},"
		 "'shipping':{'first_name':'Anna','last_name':'Nowak','company':'','address_1':'ul. D\\u0142uga 5/3',"
		 "'address_2':'','city':'Krak\\u00f3w','state':'','postcode':'30-001','country':'PL','phone':''},"
		 "'payment_method':'przelewy24','payment_method_title':'Przelewy24','transaction_id':'P24-991-22',"
		 "'date_paid':'2024-05-01T12:21:00','date_paid_gmt':'2024-05-01T10:21:00','date_completed':null,"
		 "'date_completed_gmt':null,'cart_hash':'a1b2',"
		 "'meta_data':[{'id':901,'key':'_wc_order_attribution_source_type','value':'typein'},"
		 "{'id':902,'key':'_billing_nip','value':'%s'},{'id':903,'key':'is_vat_exempt','value':'no'}],"
		 "'line_items':["
		 "{'id':311,'name':'Kubek emaliowany','product_id':93,'variation_id':0,'quantity':2,"
		 "'tax_class':'','subtotal':'100.00','subtotal_tax':'23.00','total':'90.00','total_tax':'20.70',"
		 "'taxes':[{'id':1,'total':'20.7','subtotal':'23'}],'meta_data':[],'sku':'KUB-001','price':45,"
		 "'image':{'id':'','src':''},'parent_name':null},"
		 "{'id':312,'name':'Ksi\\u0105\\u017cka kucharska','product_id':94,'variation_id':0,'quantity':1,"
		 "'tax_class':'super-reduced-rate','subtotal':'39.90','subtotal_tax':'2.00','total':'35.91',"
		 "'total_tax':'1.80','taxes':[{'id':3,'total':'1.7955','subtotal':'1.995'}],'meta_data':[],"
		 "'sku':'KSI-7','price':35.91,'image':{'id':'','src':''},'parent_name':null},"
		 "{'id':313,'name':'Kawa ziarnista 250 g','product_id':95,'variation_id':96,'quantity':3,"
		 "'tax_class':'reduced-rate','subtotal':'30.00','subtotal_tax':'2.40','total':'27.00',"
		 "'total_tax':'2.16','taxes':[{'id':2,'total':'2.16','subtotal':'2.4'}],"
		 "'meta_data':[{'id':1,'key':'pa_mielenie','value':'ziarno','display_key':'Mielenie',"
		 "'display_value':'ziarno'}],'sku':'KAW-250-Z','price':9,'image':{'id':'','src':''},"
		 "'parent_name':'Kawa ziarnista'}],"
		 "'tax_lines':["
		 "{'id':401,'rate_code':'PL-VAT 23-1','rate_id':1,'label':'VAT 23','compound':false,"
		 "'tax_total':'21.85','shipping_tax_total':'2.99','rate_percent':23,'meta_data':[]},"
		 "{'id':402,'rate_code':'PL-VAT 8-2','rate_id':2,'label':'VAT 8','compound':false,"
		 "'tax_total':'2.16','shipping_tax_total':'0.00','rate_percent':8.0,'meta_data':[]},"
		 "{'id':403,'rate_code':'PL-VAT 5-3','rate_id':3,'label':'VAT 5','compound':false,"
		 "'tax_total':'1.80','shipping_tax_total':'0.00','rate_percent':5.0,'meta_data':[]}],"
		 "'shipping_lines':[{'id':501,'method_title':'Paczkomat InPost','method_id':'easypack_parcel_machines',"
		 "'instance_id':'3','total':'13.00','total_tax':'2.99','taxes':[{'id':1,'total':'2.99','subtotal':''}],"
		 "'meta_data':[{'id':77,'key':'_paczkomat_id','value':'KRA010M','display_key':'Paczkomat',"
		 "'display_value':'KRA010M'}]}],"
		 "'fee_lines':[{'id':601,'name':'Pakowanie na prezent','tax_class':'','tax_status':'taxable',"
		 "'amount':'5','total':'5.00','total_tax':'1.15','taxes':[{'id':1,'total':'1.15','subtotal':''}],"
		 "'meta_data':[]}],"
		 "'coupon_lines':[{'id':701,'code':'LATO10','discount':'16.99','discount_tax':'2.74','meta_data':[]}],"
		 "'refunds':[{'id':801,'reason':'uszkodzony kubek','total':'-10.00'}],"
		 "'set_paid':false,'currency_symbol':'z\\u0142','_links':{'self':[{'href':'https://shop/x'}]}}",
		 total, prices_include_tax, nip);
	return json_q(text);
}

static enum shop_order_parsed parse(const char *body, const struct shop_woo_order_opts *o, struct shop_order **out,
				    char *err, size_t errlen)
{
	*out = NULL;
	err[0] = '\0';
	return shop_woo_order_parse(body, body ? strlen(body) : 0, o, out, err, errlen);
}

static void test_woo_order_realistic(void)
{
	char *body = woo_order("false", "199.71", "PL 526-104-08-28");
	struct shop_order *o = NULL;
	char err[512];
	EXPECT(body != NULL);
	if (!body)
		return;
	EXPECT_INT(parse(body, NULL, &o, err, sizeof err), SHOP_ORDER_PARSED);
	EXPECT_STR(err, "");
	if (!o)
		goto out;
	EXPECT_STR(o->external_id, "727");
	EXPECT_STR(o->number, "727");
	EXPECT_STR(o->status, "processing");
	EXPECT_STR(o->currency, "PLN");
	EXPECT(!o->prices_include_tax);
	EXPECT_STR(o->customer_id, "12");
	EXPECT_INT(o->created_at_us, 1714558830000000LL); /* 2024-05-01T10:20:30Z */
	EXPECT_INT(o->paid_at_us, 1714558860000000LL);
	EXPECT_STR(o->customer_note, "Prosz\u0119 dzwoni\u0107 przed dostaw\u0105");
	EXPECT_STR(o->billing.company, "Nowak Sp. z o.o.");
	EXPECT_STR(o->billing.line1, "ul. D\u0142uga 5/3");
	EXPECT_STR(o->billing.postal_code, "30-001");
	EXPECT_STR(o->billing.city, "Krak\u00f3w");
	EXPECT_STR(o->billing.country_code, "PL");
	EXPECT_STR(o->billing.email, "anna@example.com");
	EXPECT_STR(o->shipping.company, "");
	EXPECT_STR(o->shipping.email, ""); /* absent in the shipping address: empty, not NULL */
	EXPECT_STR(o->payment_method, "przelewy24");
	EXPECT_STR(o->payment_method_title, "Przelewy24");
	EXPECT_STR(o->transaction_id, "P24-991-22");
	EXPECT_STR(o->buyer_nip, "5261040828");
	EXPECT(!o->buyer_nip_invalid);
	EXPECT_STR(o->pickup_point, "KRA010M");

	EXPECT_INT(o->n_lines, 3);
	if (o->n_lines == 3) {
		EXPECT_STR(o->lines[0].line_id, "311");
		EXPECT_STR(o->lines[0].sku, "KUB-001");
		EXPECT_STR(o->lines[0].product_id, "93");
		EXPECT_INT(o->lines[0].quantity_milli, 2000);
		EXPECT_INT(o->lines[0].subtotal.net_minor, 10000);
		EXPECT_INT(o->lines[0].subtotal.tax_minor, 2300);
		EXPECT_INT(o->lines[0].total.net_minor, 9000);
		EXPECT_INT(o->lines[0].total.tax_minor, 2070);
		EXPECT_INT(o->lines[0].vat_rate_bp, 2300);
		EXPECT_INT(o->lines[1].vat_rate_bp, 500);
		EXPECT_INT(o->lines[1].total.net_minor, 3591);
		EXPECT_STR(o->lines[2].product_id, "96"); /* the variation sold */
		EXPECT_STR(o->lines[2].sku, "KAW-250-Z");
		EXPECT_STR(o->lines[2].tax_class, "reduced-rate");
		EXPECT_INT(o->lines[2].vat_rate_bp, 800);
		EXPECT_INT(o->lines[2].quantity_milli, 3000);
	}
	EXPECT_INT(o->n_shipping_lines, 1);
	if (o->n_shipping_lines == 1) {
		EXPECT_STR(o->shipping_lines[0].method_id, "easypack_parcel_machines");
		EXPECT_STR(o->shipping_lines[0].title, "Paczkomat InPost");
		EXPECT_INT(o->shipping_lines[0].total.net_minor, 1300);
		EXPECT_INT(o->shipping_lines[0].total.tax_minor, 299);
		EXPECT_INT(o->shipping_lines[0].vat_rate_bp, 2300);
	}
	EXPECT_INT(o->n_fee_lines, 1);
	if (o->n_fee_lines == 1) {
		EXPECT_STR(o->fee_lines[0].name, "Pakowanie na prezent");
		EXPECT_INT(o->fee_lines[0].total.net_minor, 500);
		EXPECT_INT(o->fee_lines[0].vat_rate_bp, 2300);
	}
	EXPECT_INT(o->n_coupons, 1);
	if (o->n_coupons == 1) {
		EXPECT_STR(o->coupons[0].code, "lato10");
		EXPECT_INT(o->coupons[0].discount.net_minor, 1699);
		EXPECT_INT(o->coupons[0].discount.tax_minor, 274);
	}
	EXPECT_INT(o->n_refunds, 1);
	if (o->n_refunds == 1) {
		EXPECT_STR(o->refunds[0].refund_id, "801");
		EXPECT_STR(o->refunds[0].reason, "uszkodzony kubek");
		EXPECT_INT(o->refunds[0].amount_minor, 1000);
	}
	EXPECT_INT(o->totals.total_minor, 19971);
	EXPECT_INT(o->totals.tax_minor, 2880);
	EXPECT_INT(o->totals.discount.net_minor, 1699);
	EXPECT_INT(o->totals.discount.tax_minor, 274);

	err[0] = '\0';
	EXPECT(shop_order_check_totals(o, err, sizeof err));
	EXPECT_STR(err, "");
out:
	shop_order_free(o);
	free(body);
}

/* One grosz too much in the order's total: parsed (the service holds it), and the check names both
 * the shop's figure and the one the lines add up to. */
static void test_woo_order_total_mismatch(void)
{
	char *body = woo_order("false", "199.72", "5261040828");
	struct shop_order *o = NULL;
	char err[512];
	if (!body)
		return;
	EXPECT_INT(parse(body, NULL, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o) {
		EXPECT(!shop_order_check_totals(o, err, sizeof err));
		EXPECT(strstr(err, "199.72") != NULL);
		EXPECT(strstr(err, "199.71") != NULL);
		printf("  reason: %s\n", err);
	}
	shop_order_free(o);
	free(body);
}

/* A tax that does not add up is named the same way. */
static void test_order_tax_mismatch(void)
{
	char *body = woo_order("false", "199.71", "5261040828");
	struct shop_order *o = NULL;
	char err[512];
	if (!body)
		return;
	EXPECT_INT(parse(body, NULL, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o && o->n_lines > 0) {
		o->lines[0].total.tax_minor -= 1; /* 20.69: the lines' taxes make 28.79 */
		o->lines[0].total.net_minor += 1;
		EXPECT(!shop_order_check_totals(o, err, sizeof err));
		EXPECT(strstr(err, "28.80") != NULL);
		EXPECT(strstr(err, "28.79") != NULL);
		printf("  reason: %s\n", err);
	}
	shop_order_free(o);
	free(body);
}

/* WooCommerce keeps line totals net whichever way prices were entered: the flag is carried for
 * the ERP (gross or net unit prices), the figures are read the same way. */
static void test_woo_prices_include_tax(void)
{
	char *yes = woo_order("true", "199.71", "");
	char *no = woo_order("false", "199.71", "");
	struct shop_order *a = NULL, *b = NULL;
	char err[512];
	if (!yes || !no)
		goto out;
	EXPECT_INT(parse(yes, NULL, &a, err, sizeof err), SHOP_ORDER_PARSED);
	EXPECT_INT(parse(no, NULL, &b, err, sizeof err), SHOP_ORDER_PARSED);
	if (!a || !b)
		goto out;
	EXPECT(a->prices_include_tax);
	EXPECT(!b->prices_include_tax);
	EXPECT_INT(a->lines[0].total.net_minor, b->lines[0].total.net_minor);
	EXPECT(shop_order_check_totals(a, err, sizeof err));
	EXPECT(shop_order_check_totals(b, err, sizeof err));
	/* no NIP: a consumer, not an invalid NIP */
	EXPECT_STR(a->buyer_nip, "");
	EXPECT(!a->buyer_nip_invalid);
	/* not a boolean: refused */
	char *odd = woo_order("'yes'", "199.71", "");
	struct shop_order *c = NULL;
	EXPECT_INT(parse(odd, NULL, &c, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(strstr(err, "prices_include_tax") != NULL);
	EXPECT(c == NULL);
	free(odd);
out:
	shop_order_free(a);
	shop_order_free(b);
	free(yes);
	free(no);
}

/* A NIP whose checksum is wrong does not refuse the order: it is flagged for a person. */
static void test_woo_nip_wrong_checksum(void)
{
	char *body = woo_order("false", "199.71", "526-104-08-27");
	struct shop_order *o = NULL;
	char err[512];
	if (!body)
		return;
	EXPECT_INT(parse(body, NULL, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o) {
		EXPECT_STR(o->buyer_nip, "5261040827");
		EXPECT(o->buyer_nip_invalid);
	}
	shop_order_free(o);
	free(body);
	/* the NIP under a shop's own meta key */
	body = woo_order("false", "199.71", "5261040828");
	if (!body)
		return;
	struct shop_woo_order_opts opts = { .nip_meta_key = "vat_number", .locker_meta_key = "_inpost_point" };
	EXPECT_INT(parse(body, &opts, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o) {
		EXPECT_STR(o->buyer_nip, ""); /* _billing_nip is not that shop's key */
		EXPECT_STR(o->pickup_point, "");
	}
	shop_order_free(o);
	free(body);
}

/* What is not an order at all is refused with what it lacks; what is not JSON is malformed. */
static void test_woo_not_an_order(void)
{
	struct shop_order *o = NULL;
	char err[512];
	char *e = json_q("{'code':'woocommerce_rest_shop_order_invalid_id','message':'Invalid ID.',"
			 "'data':{'status':404}}");
	EXPECT_INT(parse(e, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(o == NULL);
	EXPECT(strstr(err, "missing") != NULL);
	EXPECT(strstr(err, "id") != NULL);
	EXPECT(strstr(err, "line_items") != NULL);
	EXPECT(strstr(err, "currency") != NULL);
	printf("  reason: %s\n", err);
	free(e);
	/* a product is JSON, with an id, but no order */
	char *p = json_q("{'id':93,'name':'Kubek','sku':'KUB-001','price':'45.00','status':'publish'}");
	EXPECT_INT(parse(p, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(strstr(err, "line_items") != NULL);
	free(p);
	EXPECT_INT(parse("[1,2]", NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(strstr(err, "object") != NULL);
	EXPECT_INT(parse("webhook_id=12", NULL, &o, err, sizeof err), SHOP_ORDER_MALFORMED);
	EXPECT_INT(parse("{\"id\":727,", NULL, &o, err, sizeof err), SHOP_ORDER_MALFORMED);
	EXPECT_INT(parse("", NULL, &o, err, sizeof err), SHOP_ORDER_MALFORMED);
	/* the same key twice: which one a reader believes is not left to chance */
	EXPECT_INT(parse("{\"id\":1,\"id\":2}", NULL, &o, err, sizeof err), SHOP_ORDER_MALFORMED);
	EXPECT(o == NULL);
}

/* A money figure must be a decimal string: a JSON number has already been through a double. */
static void test_woo_money_not_a_string(void)
{
	char *body = woo_order("false", "199.71", "");
	char *num = subst(body, "\"total\":\"199.71\"", "\"total\":199.71");
	struct shop_order *o = NULL;
	char err[512];
	EXPECT(num != NULL);
	if (num) {
		EXPECT_INT(parse(num, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
		EXPECT(strstr(err, "total") != NULL);
		EXPECT(o == NULL);
		printf("  reason: %s\n", err);
	}
	free(num);
	free(body);
}

/* Without taxes[] and tax_lines (a shop that does not compute tax itself, or an older
 * WooCommerce), the rate comes from the line's tax class: the Polish defaults, or the shop's own
 * mapping; a class neither knows is refused, with its name. */
static void test_woo_tax_class_defaults(void)
{
	static const char lines[] =
		"{'id':1,'currency':'PLN','status':'processing','prices_include_tax':true,"
		"'total':'%s','total_tax':'%s','discount_total':'0.00','discount_tax':'0.00',"
		"'line_items':["
		"{'id':11,'name':'A','product_id':1,'variation_id':0,'quantity':1,'tax_class':'',"
		"'subtotal':'100.00','subtotal_tax':'23.00','total':'100.00','total_tax':'23.00','taxes':[],'sku':'A'},"
		"{'id':12,'name':'B','product_id':2,'variation_id':0,'quantity':1,'tax_class':'reduced-rate',"
		"'subtotal':'100.00','subtotal_tax':'8.00','total':'100.00','total_tax':'8.00','sku':'B'},"
		"{'id':13,'name':'C','product_id':3,'variation_id':0,'quantity':1,'tax_class':'super-reduced-rate',"
		"'subtotal':'100.00','subtotal_tax':'5.00','total':'100.00','total_tax':'5.00','taxes':[],'sku':'C'},"
		"{'id':14,'name':'D','product_id':4,'variation_id':0,'quantity':1,'tax_class':'%s',"
		"'subtotal':'100.00','subtotal_tax':'0.00','total':'100.00','total_tax':'0.00','taxes':[],'sku':'D'}],"
		"'shipping_lines':[{'id':21,'method_id':'flat_rate','method_title':'Kurier','total':'10.00',"
		"'total_tax':'2.30','meta_data':[]}]}";
	char text[4096];
	struct shop_order *o = NULL;
	char err[512];

	snprintf(text, sizeof text, lines, "448.30", "38.30", "zero-rate");
	char *body = json_q(text);
	EXPECT_INT(parse(body, NULL, &o, err, sizeof err), SHOP_ORDER_PARSED);
	EXPECT_STR(err, "");
	if (o && o->n_lines == 4) {
		EXPECT_INT(o->lines[0].vat_rate_bp, 2300);
		EXPECT_INT(o->lines[1].vat_rate_bp, 800);
		EXPECT_INT(o->lines[2].vat_rate_bp, 500);
		EXPECT_INT(o->lines[3].vat_rate_bp, 0);
		EXPECT_INT(o->shipping_lines[0].vat_rate_bp, 2300); /* no tax class: the standard one */
		EXPECT(shop_order_check_totals(o, err, sizeof err));
	}
	shop_order_free(o);
	o = NULL;
	free(body);

	/* a class of the shop's own: refused under the defaults, mapped when the shop names it */
	snprintf(text, sizeof text, lines, "448.30", "38.30", "ksiazki-0");
	body = json_q(text);
	EXPECT_INT(parse(body, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(strstr(err, "ksiazki-0") != NULL);
	printf("  reason: %s\n", err);
	static const struct shop_woo_tax_class own[] = { { "ksiazki-0", 0 }, { "reduced-rate", 700 } };
	struct shop_woo_order_opts opts = { .tax_classes = own, .n_tax_classes = 2 };
	EXPECT_INT(parse(body, &opts, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o && o->n_lines == 4) {
		EXPECT_INT(o->lines[3].vat_rate_bp, 0);
		EXPECT_INT(o->lines[1].vat_rate_bp, 700); /* the shop's mapping comes before the defaults */
		EXPECT_INT(o->lines[0].vat_rate_bp, 2300);
	}
	shop_order_free(o);
	free(body);
}

/* With taxes[] and tax_lines, the rate is the one the shop charged, whatever the classes would say:
 * a shop mapping that contradicts every class changes nothing, and a rate_percent such as 7.7 is
 * read as 770 bp from its decimal text. */
static void test_woo_rate_from_tax_lines(void)
{
	static const struct shop_woo_tax_class wrong[] = { { "", 2200 },
							   { "reduced-rate", 700 },
							   { "super-reduced-rate", 400 } };
	struct shop_woo_order_opts opts = { .tax_classes = wrong,
					    .n_tax_classes = 3,
					    .shipping_tax_class = "zero-rate" };
	char *body = woo_order("false", "199.71", "");
	struct shop_order *o = NULL;
	char err[512];
	EXPECT_INT(parse(body, &opts, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o && o->n_lines == 3 && o->n_shipping_lines == 1 && o->n_fee_lines == 1) {
		EXPECT_INT(o->lines[0].vat_rate_bp, 2300);
		EXPECT_INT(o->lines[1].vat_rate_bp, 500);
		EXPECT_INT(o->lines[2].vat_rate_bp, 800);
		EXPECT_INT(o->shipping_lines[0].vat_rate_bp, 2300);
		EXPECT_INT(o->fee_lines[0].vat_rate_bp, 2300);
	}
	shop_order_free(o);
	o = NULL;
	char *swiss = subst(body, "\"rate_percent\":8.0", "\"rate_percent\":7.7");
	EXPECT_INT(parse(swiss, NULL, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o && o->n_lines == 3)
		EXPECT_INT(o->lines[2].vat_rate_bp, 770);
	shop_order_free(o);
	o = NULL;
	char *bad = subst(body, "\"rate_percent\":8.0", "\"rate_percent\":-8");
	EXPECT_INT(parse(bad, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(strstr(err, "tax_lines[1].rate_percent") != NULL);
	free(bad);
	/* without rate_percent (WooCommerce before 5.7) the line falls back to its class */
	char *old = subst(body, "\"rate_percent\":8.0,", "");
	EXPECT_INT(parse(old, &opts, &o, err, sizeof err), SHOP_ORDER_PARSED);
	if (o && o->n_lines == 3)
		EXPECT_INT(o->lines[2].vat_rate_bp, 700);
	shop_order_free(o);
	o = NULL;
	/* a date that is not one is refused */
	char *date = subst(body, "2024-05-01T10:21:00\",\"date_completed", "2024-02-30T10:21:00\",\"date_completed");
	EXPECT_INT(parse(date, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
	EXPECT(strstr(err, "date_paid_gmt") != NULL);
	free(date);
	free(old);
	free(swiss);
	free(body);
}

/* Two different VAT rates on one line cannot be booked: refused, naming the line. */
static void test_woo_line_two_rates(void)
{
	char *body = woo_order("false", "199.71", "");
	char *two = subst(body, "[{\"id\":1,\"total\":\"20.7\",\"subtotal\":\"23\"}]",
			  "[{\"id\":1,\"total\":\"20\"},{\"id\":2,\"total\":\"0.7\"}]");
	struct shop_order *o = NULL;
	char err[512];
	EXPECT(two != NULL);
	if (two) {
		EXPECT_INT(parse(two, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
		EXPECT(strstr(err, "line_items[0]") != NULL);
		EXPECT(o == NULL);
		printf("  reason: %s\n", err);
	}
	free(two);
	free(body);
}

/* Every array and string has a bound: 1,001 lines, a 65-byte SKU are refused, 1,000 lines are not. */
static void test_woo_bounds(void)
{
	struct buf b = BUF_INIT;
	struct shop_order *o = NULL;
	char err[512];
	for (int n = 1000; n <= 1001; n++) {
		buf_reset(&b);
		bool ok = buf_puts(
			&b, "{\"id\":5,\"currency\":\"PLN\",\"status\":\"processing\",\"prices_include_tax\":false,"
			    "\"discount_total\":\"0.00\",\"discount_tax\":\"0.00\",\"line_items\":[");
		for (int i = 0; i < n && ok; i++)
			ok = buf_printf(
				&b,
				"%s{\"id\":%d,\"name\":\"x\",\"product_id\":1,\"variation_id\":0,\"quantity\":1,"
				"\"tax_class\":\"zero-rate\",\"subtotal\":\"0.01\",\"subtotal_tax\":\"0\","
				"\"total\":\"0.01\",\"total_tax\":\"0\",\"sku\":\"S\"}",
				i ? "," : "", i + 1);
		ok = ok && buf_printf(&b, "],\"total\":\"%d.%02d\",\"total_tax\":\"0.00\"}", n / 100, n % 100);
		EXPECT(ok);
		enum shop_order_parsed r = parse(b.data, NULL, &o, err, sizeof err);
		EXPECT_INT(r, n == 1000 ? SHOP_ORDER_PARSED : SHOP_ORDER_REFUSED);
		if (n == 1001) {
			EXPECT(strstr(err, "line_items") != NULL);
			EXPECT(strstr(err, "1000") != NULL);
			printf("  reason: %s\n", err);
		} else if (o) {
			EXPECT_INT(o->n_lines, 1000);
			EXPECT(shop_order_check_totals(o, err, sizeof err));
		}
		shop_order_free(o);
		o = NULL;
	}
	buf_cleanup(&b);

	char long_sku[SHOP_SKU_MAX + 4];
	memset(long_sku, 'K', sizeof long_sku);
	long_sku[0] = long_sku[SHOP_SKU_MAX + 2] = '"';
	long_sku[SHOP_SKU_MAX + 3] = '\0'; /* 65 bytes between the quotes */
	char *body = woo_order("false", "199.71", "");
	char *big = subst(body, "\"KSI-7\"", long_sku);
	EXPECT(big != NULL);
	if (big) {
		EXPECT_INT(parse(big, NULL, &o, err, sizeof err), SHOP_ORDER_REFUSED);
		EXPECT(strstr(err, "sku") != NULL);
		printf("  reason: %s\n", err);
	}
	free(big);
	free(body);
}

static void test_order_free_null(void)
{
	shop_order_free(NULL);
	EXPECT(1);
}

UNIT_MAIN(test_money_parse_exact, test_money_parse_refused, test_nip_checksum, test_woo_order_realistic,
	  test_woo_order_total_mismatch, test_order_tax_mismatch, test_woo_prices_include_tax,
	  test_woo_nip_wrong_checksum, test_woo_not_an_order, test_woo_money_not_a_string, test_woo_tax_class_defaults,
	  test_woo_rate_from_tax_lines, test_woo_line_two_rates, test_woo_bounds, test_order_free_null)
