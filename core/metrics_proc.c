/*
 * The standard process_* metrics (CPU, memory, fds, start time) read
 * from /proc/self, as the Prometheus client libraries export them.
 */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "core.h"
#include "fsutil.h"
#include "metrics_int.h"
#include "banned.h"

/* ------------------------------------------------------------ process */

/* Read a small /proc file (its st_size is 0, so not fs_read_file). */
static int read_proc(const char *path, char *buf, size_t size)
{
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return CORE_ESYS;
	while (have < size - 1) {
		ssize_t n = read(fd, buf + have, size - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	close(fd);
	return have > 0 ? 0 : CORE_EPARSE;
}

/* The boot time from the "btime" line of /proc/stat, or NaN. */
static double boot_time(void)
{
	FILE *fp = fopen("/proc/stat", "re");
	char *line = NULL;
	size_t cap = 0;
	double t = NAN;

	if (fp == NULL)
		return NAN;
	while (getline(&line, &cap, fp) > 0) {
		char *e;
		unsigned long long v;

		if (strncmp(line, "btime ", 6) != 0)
			continue;
		errno = 0;
		v = strtoull(line + 6, &e, 10);
		if (errno == 0 && e != line + 6)
			t = (double)v;
		break;
	}
	free(line);
	fclose(fp);
	return t;
}

/* The first unlabelled series of f, with the lock held. */
static void proc_set(struct metric *f, double v)
{
	if (f != NULL && f->series != NULL && !isnan(v))
		f->series->value = v;
}

/*
 * Fields of /proc/self/stat after the command name, which may hold
 * spaces and parentheses: field 3 (state) is index 0.
 */
enum {
	STAT_UTIME = 14 - 3,
	STAT_STIME = 15 - 3,
	STAT_STARTTIME = 22 - 3,
	STAT_VSIZE = 23 - 3,
	STAT_NFIELDS = 24 - 3,
};

static int read_stat(unsigned long long *fields, size_t nfields)
{
	char buf[2048], *p, *e;
	int rc = read_proc("/proc/self/stat", buf, sizeof(buf));

	if (rc != 0)
		return rc;
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return CORE_EPARSE;
	p += 2;
	while (*p != ' ' && *p != '\0')
		p++; /* state is a letter */
	fields[0] = 0;
	for (size_t i = 1; i < nfields; i++) {
		errno = 0;
		fields[i] = strtoull(p, &e, 10);
		if (e == p || errno != 0)
			return CORE_EPARSE;
		p = e;
	}
	return 0;
}

static double count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;
	int self;

	if (d == NULL)
		return NAN;
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		char *e;
		long fd = strtol(de->d_name, &e, 10);

		if (de->d_name[0] != '.' && *e == '\0' && fd != self)
			n++;
	}
	closedir(d);
	return n;
}

static double resident_bytes(void)
{
	char buf[256], *p, *e;
	unsigned long long pages;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || read_proc("/proc/self/statm", buf, sizeof(buf)) != 0)
		return NAN;
	p = strchr(buf, ' '); /* skip the total size */
	if (p == NULL)
		return NAN;
	errno = 0;
	pages = strtoull(p, &e, 10);
	if (e == p || errno != 0)
		return NAN;
	return (double)pages * (double)page;
}

void metrics_update_process(struct metrics *m)
{
	unsigned long long st[STAT_NFIELDS];
	double cpu = NAN, vsz = NAN, start = NAN, rss, fds, maxfds = NAN;
	long tck = sysconf(_SC_CLK_TCK);
	struct rlimit rl;

	if (m == NULL || m->proc == NULL)
		return;
	/* Read /proc outside the lock: the renderer need not wait on it. */
	if (tck > 0 && read_stat(st, STAT_NFIELDS) == 0) {
		cpu = (double)(st[STAT_UTIME] + st[STAT_STIME]) / (double)tck;
		vsz = (double)st[STAT_VSIZE];
		start = m->proc->boot_time +
			(double)st[STAT_STARTTIME] / (double)tck;
	}
	rss = resident_bytes();
	fds = count_fds();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		maxfds = rl.rlim_cur == RLIM_INFINITY ? INFINITY
						      : (double)rl.rlim_cur;
	pthread_mutex_lock(&m->lock);
	proc_set(m->proc->cpu, cpu);
	proc_set(m->proc->vsz, vsz);
	proc_set(m->proc->start, start);
	proc_set(m->proc->rss, rss);
	proc_set(m->proc->fds, fds);
	proc_set(m->proc->maxfds, maxfds);
	pthread_mutex_unlock(&m->lock);
}

int metrics_add_process(struct metrics *m)
{
	struct proc_metrics *p;

	if (m == NULL)
		return CORE_EINVAL;
	if (m->proc != NULL)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return CORE_ENOMEM;
#define PROC_FAMILY(field, name, help, type)                                   \
	do {                                                                   \
		p->field = metrics_family(m, name, help, type, NULL, NULL, 0); \
		if (p->field == NULL)                                          \
			goto fail;                                             \
	} while (0)
	PROC_FAMILY(cpu, "process_cpu_seconds_total",
		    "Total user and system CPU time spent in seconds.",
		    METRIC_COUNTER);
	PROC_FAMILY(rss, "process_resident_memory_bytes",
		    "Resident memory size in bytes.", METRIC_GAUGE);
	PROC_FAMILY(vsz, "process_virtual_memory_bytes",
		    "Virtual memory size in bytes.", METRIC_GAUGE);
	PROC_FAMILY(fds, "process_open_fds", "Number of open file descriptors.",
		    METRIC_GAUGE);
	PROC_FAMILY(maxfds, "process_max_fds",
		    "Maximum number of open file descriptors.", METRIC_GAUGE);
	PROC_FAMILY(start, "process_start_time_seconds",
		    "Start time of the process since unix epoch in seconds.",
		    METRIC_GAUGE);
#undef PROC_FAMILY
	p->boot_time = boot_time();
	m->proc = p;
	metrics_update_process(m);
	return 0;
fail:
	free(p);
	/* Families already registered stay: the registry owns them. */
	return CORE_EEXIST;
}
