/* UTC time helpers for the file layout and TIME arguments. */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "banned.h"

int64_t time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t time_hour_floor(int64_t us)
{
	int64_t r = us % US_PER_HOUR;

	if (r < 0)
		r += US_PER_HOUR;
	return us - r;
}

/* Parse exactly `n` digits at *p into *v and advance. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return CORE_EPARSE;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int valid_tm(const struct tm *tm)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y = tm->tm_year + 1900, leap;

	if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (tm->tm_mday > mdays[tm->tm_mon])
		return 0;
	if (tm->tm_mon == 1 && tm->tm_mday == 29 && !leap)
		return 0;
	return tm->tm_hour >= 0 && tm->tm_hour <= 23 && tm->tm_min >= 0 &&
	       tm->tm_min <= 59 && tm->tm_sec >= 0 && tm->tm_sec <= 59;
}

static int parse_date(const char **p, struct tm *tm)
{
	int y, m, d;

	if (digits(p, 4, &y) || *(*p)++ != '-' || digits(p, 2, &m) ||
	    *(*p)++ != '-' || digits(p, 2, &d))
		return CORE_EPARSE;
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return 0;
}

/* "THH[:MM[:SS]]" then "Z", "+00:00" or nothing. */
static int parse_clock(const char *p, struct tm *tm)
{
	if (*p++ != 'T' || digits(&p, 2, &tm->tm_hour))
		return CORE_EPARSE;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &tm->tm_min))
			return CORE_EPARSE;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &tm->tm_sec))
				return CORE_EPARSE;
		}
	}
	if (strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0 || *p == '\0')
		return 0;
	return CORE_EPARSE;
}

int time_parse_iso(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p = s;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (parse_date(&p, &tm) != 0)
		return CORE_EPARSE;
	if (*p != '\0' && parse_clock(p, &tm) != 0)
		return CORE_EPARSE;
	if (!valid_tm(&tm))
		return CORE_EPARSE;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(tm.tm_year == 69))
		return CORE_EPARSE;
	*out = (int64_t)t * US_PER_SEC;
	return 0;
}

int time_date_hour(int64_t us, char date[11], char hour[3])
{
	time_t t = (time_t)(time_hour_floor(us) / US_PER_SEC);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0)
		return CORE_ERANGE;
	/* The range checks above bound every field; say so to the compiler. */
	snprintf(date, 11, "%04u-%02u-%02u",
		 (unsigned)(tm.tm_year + 1900) % 10000,
		 (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100);
	snprintf(hour, 3, "%02u", (unsigned)tm.tm_hour % 100);
	return 0;
}

int time_from_date_hour(const char *date, const char *hour, int64_t *out)
{
	struct tm tm;
	const char *p = date, *h = hour;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (parse_date(&p, &tm) != 0 || *p != '\0')
		return CORE_EPARSE;
	if (digits(&h, 2, &tm.tm_hour) != 0 || *h != '\0')
		return CORE_EPARSE;
	if (!valid_tm(&tm))
		return CORE_EPARSE;
	t = timegm(&tm);
	*out = (int64_t)t * US_PER_SEC;
	return 0;
}

int time_format_iso(int64_t us, char *buf, unsigned long size)
{
	int64_t s = us / US_PER_SEC;
	time_t t;
	struct tm tm;

	if (us < 0 && us % US_PER_SEC != 0)
		s--;
	t = (time_t)s;
	if (gmtime_r(&t, &tm) == NULL)
		return CORE_ERANGE;
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return CORE_ETOOBIG;
	return 0;
}
