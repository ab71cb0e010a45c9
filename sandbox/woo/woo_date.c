#include "woo_date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void woo_date_format(int64_t unix_s, char out[WOO_DATE_LEN])
{
	struct tm tm;
	time_t t = (time_t)unix_s;
	if (!gmtime_r(&t, &tm) || strftime(out, WOO_DATE_LEN, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		out[0] = '\0';
}

/* n digits at s into *v. */
static bool woo_date_digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static bool woo_date_zone(const char *p, long *offset_s)
{
	int hh, mm;
	*offset_s = 0;
	if (*p == '\0' || strcmp(p, "Z") == 0 || strcmp(p, "z") == 0)
		return true;
	if (*p != '+' && *p != '-')
		return false;
	int sign = *p++ == '-' ? -1 : 1;
	if (!woo_date_digits(p, 2, &hh))
		return false;
	p += 2;
	if (*p == ':')
		p++;
	if (!woo_date_digits(p, 2, &mm) || p[2] != '\0' || hh > 23 || mm > 59)
		return false;
	*offset_s = sign * (hh * 3600L + mm * 60L);
	return true;
}

bool woo_date_parse(const char *s, int64_t *unix_s)
{
	int y, mo, d, h, mi, sec;
	long offset;
	if (!s || strlen(s) < 19 || !woo_date_digits(s, 4, &y) || s[4] != '-' || !woo_date_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !woo_date_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !woo_date_digits(s + 11, 2, &h) || s[13] != ':' || !woo_date_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !woo_date_digits(s + 17, 2, &sec))
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		size_t frac = strspn(p, "0123456789");
		if (frac == 0)
			return false;
		p += frac;
	}
	if (!woo_date_zone(p, &offset) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec
	};
	time_t t = timegm(&tm);
	/* timegm normalises 31 February into March: such a date is not one */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return false;
	*unix_s = (int64_t)t - offset;
	return true;
}
