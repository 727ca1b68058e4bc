/*
 * Logging to stderr, one line per event. Under systemd ($JOURNAL_STREAM
 * set) lines carry sd-daemon "<N>" priority prefixes; on a terminal they
 * carry a local timestamp. Safe to call from any thread.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/*
 * Set the program name used as a "prog: " prefix (NULL for none) and
 * decide the line format from the environment. Call once from main().
 * The string is borrowed and must outlive all logging.
 */
void log_init(const char *prog);

/* Lines above this level are dropped before formatting. */
void log_set_level(enum log_level max);
int log_enabled(enum log_level lvl);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(fmt, ...) \
	log_msg(LOG_LVL_DEBUG, "%s: " fmt, __func__, ##__VA_ARGS__)

/*
 * Log each line of `text` (which may hold several, e.g. the
 * "file:line:column: message" list of a config load) as a line of its
 * own at `lvl`, without the "prog: " prefix: the text is the whole
 * message. Under journald every line carries the priority, so
 * `journalctl -p err` shows them all. `text` is borrowed.
 */
void log_lines(enum log_level lvl, const char *text);

/* The _r variants append ": <core_strerror(rc)>". */
void log_msg_r(enum log_level lvl, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define log_err_r(rc, ...)  log_msg_r(LOG_LVL_ERR, rc, __VA_ARGS__)
#define log_warn_r(rc, ...) log_msg_r(LOG_LVL_WARNING, rc, __VA_ARGS__)

/*
 * Copy untrusted text (exchange payloads, symbols) into dst as printable
 * ASCII, escaping everything else as \xNN, truncating to fit. dst is
 * always NUL-terminated when size > 0. Returns dst.
 */
char *log_escape(char *dst, size_t size, const char *src, size_t len);

/*
 * Rate limit for a repeated error from one source: returns 1 when the
 * caller may log now, 0 when it should stay quiet. At most `burst`
 * lines per `interval_s` seconds; the count of suppressed lines is
 * returned through *suppressed when logging resumes.
 */
struct log_ratelimit {
	long window_start; /* private */
	unsigned count;	   /* private */
	unsigned dropped;  /* private */
};
int log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst,
		     unsigned interval_s, unsigned *suppressed);

#endif
