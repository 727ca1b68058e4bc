/*
 * The resolver thread and its answer cache (see resolve.h). Storage is
 * static and fixed so a thread left inside a slow getaddrinfo() at
 * shutdown never touches freed memory; the waiters for answers live on
 * the loop thread only.
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libwebsockets.h>

#include "core.h"
#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define MAX_HOSTS 16
#define HOST_MAX  256

enum { IDLE, QUEUED, RUNNING };

struct entry {
	char host[HOST_MAX]; /* "" = free slot */
	char addr[RESOLVE_ADDR_MAX];
	int64_t answered_us; /* mono; 0 = no answer yet */
	int64_t used_us;     /* mono; the least recently used is evicted */
	int state;
	int finished; /* a lookup ended since the last dispatch */
	char error[96];
};

struct waiter {
	struct waiter *next;
	char host[HOST_MAX];
	resolve_fn done;
	void *ud;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lws_context *cx; /* under mu; NULL once stopping */
	int running;		/* loop thread's view */
	int stopping, exited;	/* under mu */
	pthread_t thread;
	struct entry e[MAX_HOSTS];
	atomic_int ready;
} rs = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

static struct waiter *waiters; /* loop thread only */

static int is_numeric(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

static int copy_out(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return CORE_ETOOBIG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* getaddrinfo's first stream address for host, as text. */
static void lookup(const char *host, char *addr, size_t alen, char *err,
		   size_t elen)
{
	struct addrinfo hints, *res = NULL;
	const void *a;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	addr[0] = err[0] = '\0';
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, elen, "%s",
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	if (res->ai_family == AF_INET)
		a = &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
	else
		a = &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr;
	if (inet_ntop(res->ai_family, a, addr, (socklen_t)alen) == NULL)
		snprintf(err, elen, "%s", strerror(errno));
	freeaddrinfo(res);
}

static struct entry *find_queued(void)
{
	for (size_t i = 0; i < MAX_HOSTS; i++)
		if (rs.e[i].host[0] != '\0' && rs.e[i].state == QUEUED)
			return &rs.e[i];
	return NULL;
}

static void *resolver_main(void *arg)
{
	char host[HOST_MAX], addr[RESOLVE_ADDR_MAX], err[96];
	struct entry *e;

	(void)arg;
	pthread_mutex_lock(&rs.mu);
	for (;;) {
		while (!rs.stopping && (e = find_queued()) == NULL)
			pthread_cond_wait(&rs.cv, &rs.mu);
		if (rs.stopping)
			break;
		e->state = RUNNING;
		memcpy(host, e->host, sizeof(host));
		pthread_mutex_unlock(&rs.mu);
		lookup(host, addr, sizeof(addr), err, sizeof(err));
		pthread_mutex_lock(&rs.mu);
		/* A RUNNING entry is never evicted, so e is still host's. */
		e->state = IDLE;
		e->finished = 1;
		snprintf(e->error, sizeof(e->error), "%s", err);
		if (err[0] == '\0') {
			memcpy(e->addr, addr, sizeof(e->addr));
			e->answered_us = time_mono_us();
		}
		atomic_store(&rs.ready, 1);
		if (rs.cx != NULL)
			lws_cancel_service(rs.cx);
	}
	rs.exited = 1;
	pthread_cond_broadcast(&rs.cv);
	pthread_mutex_unlock(&rs.mu);
	return NULL;
}

int resolve_init(struct lws_context *cx)
{
	int rc;

	pthread_mutex_lock(&rs.mu);
	rs.cx = cx;
	rs.stopping = rs.exited = 0;
	pthread_mutex_unlock(&rs.mu);
	rc = pthread_create(&rs.thread, NULL, resolver_main, NULL);
	if (rc != 0) {
		errno = rc;
		return CORE_ESYS;
	}
	rs.running = 1;
	return 0;
}

static struct entry *find(const char *host)
{
	for (size_t i = 0; i < MAX_HOSTS; i++)
		if (strcmp(rs.e[i].host, host) == 0)
			return &rs.e[i];
	return NULL;
}

/* A slot for host: its own, a free one, or the least recently used
 * that no lookup holds. NULL when every slot is busy. Under mu. */
static struct entry *slot_for(const char *host)
{
	struct entry *e = find(host), *lru = NULL;

	if (e != NULL)
		return e;
	for (size_t i = 0; i < MAX_HOSTS; i++) {
		struct entry *c = &rs.e[i];

		if (c->state != IDLE || c->finished)
			continue;
		if (lru == NULL || c->host[0] == '\0' ||
		    (lru->host[0] != '\0' && c->used_us < lru->used_us))
			lru = c;
	}
	if (lru != NULL) {
		memset(lru, 0, sizeof(*lru));
		snprintf(lru->host, sizeof(lru->host), "%s", host);
	}
	return lru;
}

static void queue_lookup(struct entry *e)
{
	if (e->state == IDLE) {
		e->state = QUEUED;
		pthread_cond_signal(&rs.cv);
	}
}

int resolve_cached(const char *host, char *addr, size_t len)
{
	struct entry *e;
	int64_t now, age;
	int rc = CORE_EAGAIN;

	if (!rs.running || is_numeric(host))
		return copy_out(addr, len, host);
	if (strlen(host) >= HOST_MAX)
		return CORE_ETOOBIG;
	now = time_mono_us();
	pthread_mutex_lock(&rs.mu);
	e = find(host);
	if (e != NULL && e->answered_us != 0) {
		age = now - e->answered_us;
		if (age < RESOLVE_TTL_US + RESOLVE_STALE_US) {
			rc = copy_out(addr, len, e->addr);
			e->used_us = now;
		}
		/* Serve the stale answer; refresh it behind the caller. */
		if (age >= RESOLVE_TTL_US)
			queue_lookup(e);
	}
	pthread_mutex_unlock(&rs.mu);
	return rc;
}

int resolve_async(const char *host, resolve_fn done, void *ud)
{
	struct waiter *w;
	struct entry *e;

	if (!rs.running)
		return CORE_EINVAL;
	if (strlen(host) >= HOST_MAX)
		return CORE_ETOOBIG;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return CORE_ENOMEM;
	snprintf(w->host, sizeof(w->host), "%s", host);
	w->done = done;
	w->ud = ud;
	pthread_mutex_lock(&rs.mu);
	e = slot_for(host);
	if (e != NULL) {
		e->used_us = time_mono_us();
		queue_lookup(e);
	}
	pthread_mutex_unlock(&rs.mu);
	if (e == NULL) {
		free(w);
		return CORE_ENOSPACE;
	}
	w->next = waiters;
	waiters = w;
	return 0;
}

void resolve_cancel(void *ud)
{
	struct waiter **pp = &waiters;

	while (*pp != NULL) {
		struct waiter *w = *pp;

		if (w->ud == ud) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

/* Take the waiters for host off the list, in the order they came. */
static struct waiter *take_waiters(const char *host)
{
	struct waiter **pp = &waiters, *out = NULL;

	while (*pp != NULL) {
		struct waiter *w = *pp;

		if (strcmp(w->host, host) == 0) {
			*pp = w->next;
			w->next = out;
			out = w;
		} else {
			pp = &w->next;
		}
	}
	return out;
}

void resolve_dispatch(void)
{
	struct {
		char host[HOST_MAX];
		char error[96];
	} done[MAX_HOSTS];
	size_t n = 0;

	if (!rs.running || !atomic_exchange(&rs.ready, 0))
		return;
	pthread_mutex_lock(&rs.mu);
	for (size_t i = 0; i < MAX_HOSTS; i++) {
		struct entry *e = &rs.e[i];

		if (!e->finished)
			continue;
		e->finished = 0;
		memcpy(done[n].host, e->host, sizeof(done[n].host));
		memcpy(done[n].error, e->error, sizeof(done[n].error));
		n++;
	}
	pthread_mutex_unlock(&rs.mu);
	for (size_t i = 0; i < n; i++) {
		struct waiter *w = take_waiters(done[i].host);

		if (done[i].error[0] != '\0')
			log_debug("resolve '%s': %s", done[i].host,
				  done[i].error);
		/* Each callback may add or cancel waiters: the list taken
		 * here is no longer reachable from theirs. */
		while (w != NULL) {
			struct waiter *next = w->next;

			w->done(w->ud, done[i].error[0] != '\0' ? done[i].error
								: NULL);
			free(w);
			w = next;
		}
	}
}

void resolve_shutdown(void)
{
	struct timespec until;
	int exited;

	if (!rs.running)
		return;
	rs.running = 0;
	while (waiters != NULL) {
		struct waiter *w = waiters;

		waiters = w->next;
		free(w);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 200 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rs.mu);
	rs.stopping = 1;
	rs.cx = NULL;
	pthread_cond_broadcast(&rs.cv);
	/* A thread inside getaddrinfo() is left behind: it touches only
	 * static storage and ends at its next look at `stopping`. */
	while (!rs.exited &&
	       pthread_cond_timedwait(&rs.cv, &rs.mu, &until) == 0)
		;
	exited = rs.exited;
	memset(rs.e, 0, sizeof(rs.e));
	pthread_mutex_unlock(&rs.mu);
	if (exited)
		pthread_join(rs.thread, NULL);
	else
		pthread_detach(rs.thread);
}
