/* Find the finished hours under <data_dir>/live, oldest first. */
#include "rotate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define MAX_HOURS 100000

struct hourlist {
	struct hour *v;
	size_t n, cap;
};

static int name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return i > 0 && i < 64;
}

static int is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int push(struct hourlist *l, const struct hour *h)
{
	int rc = BUF_GROW_MAX(l->v, l->cap, l->n + 1, MAX_HOURS);

	if (rc != 0)
		return rc;
	l->v[l->n++] = *h;
	return 0;
}

static int finished(const struct rotate_ctx *ctx, int64_t start)
{
	return start + US_PER_HOUR + (int64_t)ctx->cfg->grace * US_PER_SEC <=
	       ctx->now_us;
}

/* The hour directories of one date directory. */
static int scan_date(const struct rotate_ctx *ctx, const char *ex,
		     const char *date, const char *dir, struct hourlist *l)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t day;
	int rc = 0, hours = 0;

	if (d == NULL)
		return CORE_ESYS;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct hour h = { 0 };

		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) != 2 ||
		    time_from_date_hour(date, de->d_name, &h.start_us) != 0) {
			log_warn("'%s/%s': not an hour directory", dir,
				 de->d_name);
			continue;
		}
		hours++;
		if (rotate_path(h.live_dir, sizeof(h.live_dir), "%s/%s", dir,
				de->d_name) != 0)
			continue;
		if (!finished(ctx, h.start_us) || !is_dir(h.live_dir))
			continue;
		if (rotate_path(h.exchange, sizeof(h.exchange), "%s", ex) ||
		    rotate_path(h.date, sizeof(h.date), "%s", date) ||
		    rotate_path(h.hh, sizeof(h.hh), "%s", de->d_name))
			continue;
		rc = push(l, &h);
	}
	closedir(d);
	/* A day left empty by an interrupted run, once it is over. */
	if (rc == 0 && hours == 0 && !ctx->dry_run &&
	    time_from_date_hour(date, "23", &day) == 0 && finished(ctx, day))
		(void)rmdir(dir);
	return rc;
}

static int scan_exchange(const struct rotate_ctx *ctx, const char *ex,
			 const char *dir, struct hourlist *l)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return CORE_ESYS;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char sub[PATH_MAX];
		int64_t t;

		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) != 10 ||
		    time_from_date_hour(de->d_name, "00", &t) != 0) {
			log_warn("'%s/%s': not a date directory", dir,
				 de->d_name);
			continue;
		}
		if (rotate_path(sub, sizeof(sub), "%s/%s", dir, de->d_name) ==
			    0 &&
		    is_dir(sub))
			rc = scan_date(ctx, ex, de->d_name, sub, l);
	}
	closedir(d);
	return rc;
}

static int cmp_hours(const void *a, const void *b)
{
	const struct hour *x = a, *y = b;

	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return strcmp(x->exchange, y->exchange);
}

int scan_hours(const struct rotate_ctx *ctx, struct hour **out, size_t *n)
{
	struct hourlist l = { 0 };
	char live[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (rotate_path(live, sizeof(live), "%s/live", ctx->cfg->data_dir))
		return CORE_ETOOBIG;
	d = opendir(live);
	if (d == NULL)
		return errno == ENOENT ? 0 : CORE_ESYS;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (de->d_name[0] == '.' || !name_ok(de->d_name))
			continue;
		if (ctx->only_exchange != NULL &&
		    strcmp(ctx->only_exchange, de->d_name) != 0)
			continue;
		if (rotate_path(sub, sizeof(sub), "%s/%s", live, de->d_name) ==
			    0 &&
		    is_dir(sub))
			rc = scan_exchange(ctx, de->d_name, sub, &l);
	}
	closedir(d);
	if (rc != 0) {
		free(l.v);
		return rc;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_hours);
	*out = l.v;
	*n = l.n;
	return 0;
}
