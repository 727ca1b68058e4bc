/* Logging to stderr with journald priority prefixes or tty timestamps. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "banned.h"

enum log_style { STYLE_PLAIN, STYLE_JOURNAL, STYLE_TTY };

static const char *log_prog;
static enum log_style log_style_now = STYLE_PLAIN;
static enum log_level log_max = LOG_LVL_INFO;

void log_init(const char *prog)
{
	const char *lvl = getenv("BOOKTAPE_LOG_LEVEL");

	log_prog = prog;
	if (getenv("JOURNAL_STREAM") != NULL)
		log_style_now = STYLE_JOURNAL;
	else if (isatty(STDERR_FILENO))
		log_style_now = STYLE_TTY;
	else
		log_style_now = STYLE_PLAIN;
	if (lvl != NULL && lvl[0] >= '3' && lvl[0] <= '7' && lvl[1] == '\0')
		log_max = (enum log_level)(lvl[0] - '0');
	else if (lvl != NULL && strcmp(lvl, "debug") == 0)
		log_max = LOG_LVL_DEBUG;
}

void log_set_level(enum log_level max)
{
	log_max = max;
}

int log_enabled(enum log_level lvl)
{
	return lvl <= log_max;
}

/* Start a line: the priority or timestamp, then "prog: " if asked. */
static size_t log_prefix(char *line, size_t size, enum log_level lvl,
			 int with_prog)
{
	size_t n = 0;
	int r;

	if (log_style_now == STYLE_JOURNAL) {
		r = snprintf(line, size, "<%d>", (int)lvl);
		n = r > 0 ? (size_t)r : 0;
	} else if (log_style_now == STYLE_TTY) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, size, "%Y-%m-%d %H:%M:%S ", &tm);
	}
	if (with_prog && log_prog != NULL && n < size) {
		r = snprintf(line + n, size - n, "%s: ", log_prog);
		if (r > 0)
			n += (size_t)r;
	}
	return n < size ? n : size - 1;
}

/* End the line and hand it to a single write(2), so lines from several
 * threads never interleave. */
static void log_write(char *line, size_t size, size_t n)
{
	if (n > size - 2)
		n = size - 2;
	line[n++] = '\n';
	/* Nothing sensible to do if stderr is gone. */
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
}

static void log_emit(enum log_level lvl, const char *suffix, const char *fmt,
		     va_list ap)
{
	char line[2048];
	size_t n = log_prefix(line, sizeof(line), lvl, 1);
	int r;

	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (suffix != NULL && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", suffix);
		if (r > 0)
			n += (size_t)r;
	}
	log_write(line, sizeof(line), n);
}

void log_lines(enum log_level lvl, const char *text)
{
	int saved = errno;
	const char *p = text;
	char line[2048];

	if (!log_enabled(lvl))
		return;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		size_t n = log_prefix(line, sizeof(line), lvl, 0);
		int r = snprintf(line + n, sizeof(line) - n, "%.*s", (int)len,
				 p);

		if (r > 0)
			n += (size_t)r;
		log_write(line, sizeof(line), n);
		p += len + (nl != NULL);
	}
	errno = saved;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	int saved = errno;

	if (log_enabled(lvl))
		log_emit(lvl, NULL, fmt, ap);
	errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_msg_r(enum log_level lvl, int rc, const char *fmt, ...)
{
	int saved = errno;
	const char *why;
	va_list ap;

	if (!log_enabled(lvl))
		return;
	why = core_strerror(rc);
	va_start(ap, fmt);
	log_emit(lvl, why, fmt, ap);
	va_end(ap);
	errno = saved;
}

char *log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0)
		return dst;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= size)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

int log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst,
		     unsigned interval_s, unsigned *suppressed)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	*suppressed = 0;
	if (ts.tv_sec - rl->window_start >= (long)interval_s) {
		*suppressed = rl->dropped;
		rl->window_start = ts.tv_sec;
		rl->count = 0;
		rl->dropped = 0;
	}
	if (rl->count < burst) {
		rl->count++;
		return 1;
	}
	rl->dropped++;
	return 0;
}
