/* Unit suite for core/hourfile_recover: reopening after a restart or crash. */
#include <check.h>
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "hourfile.h"
#include "hourfile_testlib.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_restart_appends)
{
	char p[512], want[2048], line[256];
	struct hourfile_stats st;

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	snprintf(want, sizeof(want), "%s", L2_HDR);
	for (int run = 0; run < 3; run++) {
		struct hourfile *hf = mk(l2, 2, US_PER_SEC, US_PER_SEC);

		for (int i = 0; i < 3; i++) {
			char v[16];

			snprintf(v, sizeof(v), "%d", run * 10 + i);
			ck_assert_int_eq(add_l2(hf, base_us + run, v, "1"), 0);
			l2_line(line, sizeof(line), base_us + run, v, "1");
			strncat(want, line, sizeof(want) - strlen(want) - 1);
		}
		hourfile_get_stats(hf, &st);
		ck_assert_uint_eq(st.files_created, run == 0);
		hourfile_free(hf);
		assert_file(p, want);
	}
}
END_TEST

/* Write `prefix`, open the hour with a new writer, expect `want`. */
static void recover_case(const struct schema *s, const char *prefix,
			 size_t plen, const char *want, uint64_t cut)
{
	struct hourfile *hf = mk(s, 1, 0, 0);
	struct hourfile_stats st;
	char p[512], d[512];

	path_of(p, sizeof(p), s->dataset, base_us);
	ck_assert_int_eq(fs_dirname(d, sizeof(d), p), 0);
	ck_assert_int_eq(fs_mkdir_p(d, 0750), 0);
	tu_write(p, prefix, plen);
	ck_assert_int_eq(hourfile_open(hf, base_us), 0);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.torn_bytes_cut, cut);
	ck_assert_uint_eq(st.files_created, 0);
	hourfile_free(hf);
	assert_file(p, want);
	ck_assert_int_eq(unlink(p), 0);
}

#define R1 "gateio,BTC_USDT,1,2,false,bid,1.5,2\n"
#define R2 "gateio,BTC_USDT,3,4,true,ask,1.6,0\n"

START_TEST(test_torn_tail)
{
	static const char nul_tail[] = L2_HDR R1 "gateio,BT\0\0\0";
	static const char nuls[] = L2_HDR R1 "\0\0\0\0\0\0\0\0";
	static const char nul_line[] = L2_HDR R1 "\0\0\0\0\n";

	recover_case(l2, L2_HDR R1 R2, strlen(L2_HDR R1 R2), L2_HDR R1 R2, 0);
	recover_case(l2, nul_tail, sizeof(nul_tail) - 1, L2_HDR R1, 12);
	recover_case(l2, nuls, sizeof(nuls) - 1, L2_HDR R1, 8);
	recover_case(l2, nul_line, sizeof(nul_line) - 1, L2_HDR R1, 5);
	/* Complete-looking last lines that are not rows. */
	recover_case(l2, L2_HDR R1 "gateio,BTC_USDT,1\n",
		     strlen(L2_HDR R1 "gateio,BTC_USDT,1\n"), L2_HDR R1, 18);
	recover_case(l2, L2_HDR R1 R2 "gateio,BTC_USDT,3,4,true,ask,1.6,0,9\n",
		     strlen(L2_HDR R1 R2) + 37, L2_HDR R1 R2, 37);
	recover_case(l2, L2_HDR R1 "gateio,BTC_USDT,3,4,true,ask,1.6,\n",
		     strlen(L2_HDR R1) + 34, L2_HDR R1, 34);
	/* Several bad lines go, up to the last good row. */
	recover_case(l2, L2_HDR R1 "x\ny\n\"z\nq",
		     strlen(L2_HDR R1 "x\ny\n\"z\nq"), L2_HDR R1, 8);
	/* No complete line at all: truncated, header written. */
	recover_case(l2, "exchange,sym", 12, L2_HDR, 12);
	recover_case(l2, "\0\0\0", 3, L2_HDR, 3);
	/* Only the header (and a torn row). */
	recover_case(l2, L2_HDR "gat", strlen(L2_HDR) + 3, L2_HDR, 3);
}
END_TEST

#define E1 "5,gap,1,2,3,\"multi\nline, \"\"quoted\"\"\"\n"
#define E2 "6,update,4,5,,\n"

START_TEST(test_torn_quoted)
{
	/* A last record with quoted newlines is kept whole. */
	recover_case(ev, EV_HDR E2 E1, strlen(EV_HDR E2 E1), EV_HDR E2 E1, 0);
	/* Torn inside the quoted field, after its newline: the bytes after
	 * the last '\n' and the half record before it both go. */
	recover_case(ev, EV_HDR E2 "5,gap,1,2,3,\"multi\nli",
		     strlen(EV_HDR E2 "5,gap,1,2,3,\"multi\nli"), EV_HDR E2,
		     21);
	/* Torn right after a quoted '\n': the half record looks complete. */
	recover_case(ev, EV_HDR E2 E2 "5,gap,1,2,3,\"a\n\"\"b\n",
		     strlen(EV_HDR E2 E2 "5,gap,1,2,3,\"a\n\"\"b\n"),
		     EV_HDR E2 E2, 19);
	recover_case(ev, EV_HDR "5,gap,1,2,3,\"a\nb\n",
		     strlen(EV_HDR "5,gap,1,2,3,\"a\nb\n"), EV_HDR, 17);
}
END_TEST

START_TEST(test_header_mismatch)
{
	struct hourfile *hf = mk(l2, 1, 0, 0);
	struct hourfile_stats st;
	char p[512], d[512];
	static const char other[] = "a,b,c\n1,2,3\npartial";

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(fs_dirname(d, sizeof(d), p), 0);
	ck_assert_int_eq(fs_mkdir_p(d, 0750), 0);
	tu_write(p, other, strlen(other));
	ck_assert_int_eq(hourfile_open(hf, base_us), CORE_ESCHEMA);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), CORE_ESCHEMA);
	ck_assert(hourfile_would_roll(hf, base_us));
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_dropped, 1);
	ck_assert_uint_eq(st.torn_bytes_cut, 0);
	assert_file(p, other); /* untouched */
	/* A header that is only a prefix of ours is foreign too. */
	tu_write(p, "exchange,symbol\n", 16);
	ck_assert_int_eq(hourfile_open(hf, base_us), CORE_ESCHEMA);
	/* The caller moves the file aside; writing goes on. */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	hourfile_free(hf);
}
END_TEST

START_TEST(test_lock)
{
	struct hourfile *a = mk(l2, 1, 0, 0), *b = mk(l2, 1, 0, 0);

	ck_assert_int_eq(add_l2(a, base_us, "1", "1"), 0);
	ck_assert_int_eq(add_l2(b, base_us, "1", "1"), CORE_ELOCKED);
	hourfile_free(a);
	ck_assert_int_eq(add_l2(b, base_us, "1", "1"), 0);
	hourfile_free(b);
}
END_TEST

/* The descriptor this process has open on `path`, or -1. */
static int fd_of(const char *path)
{
	for (int fd = 3; fd < 1024; fd++) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0)
			return fd;
	}
	return -1;
}

START_TEST(test_fsync_failure_reopens)
{
	struct hourfile *hf = mk(l2, 1, 0, 0);
	struct hourfile_stats st;
	char p[512], real[PATH_MAX], want[1024], l1[256], l3[256];
	int fd, pfd[2];

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	ck_assert_ptr_nonnull(realpath(p, real));
	fd = fd_of(real);
	ck_assert_int_ge(fd, 0);
	/* fdatasync on a pipe fails (EINVAL), like a disk reporting EIO
	 * after the kernel dropped the pages: the row is lost. */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(dup2(pfd[1], fd), fd);
	close(pfd[1]);
	errno = 0;
	ck_assert_int_eq(add_l2(hf, base_us, "2", "2"), CORE_ESYS);
	ck_assert_int_eq(errno, EINVAL);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.write_errors, 1);
	ck_assert(hourfile_would_roll(hf, base_us));
	ck_assert(hourfile_take_gap(hf));
	ck_assert_int_eq(fd_of(real), -1);
	/* The next row reopens the file (recovering it) and goes on. */
	ck_assert_int_eq(add_l2(hf, base_us, "3", "3"), 0);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.files_opened, 2);
	ck_assert_uint_eq(st.rows_written, 3);
	hourfile_free(hf);
	close(pfd[0]);
	l2_line(l1, sizeof(l1), base_us, "1", "1");
	l2_line(l3, sizeof(l3), base_us, "3", "3");
	snprintf(want, sizeof(want), "%s%s%s", L2_HDR, l1, l3);
	assert_file(p, want);
}
END_TEST

/* The text add_row writes for the same arguments, appended to `text`. */
static void row_text(char *text, size_t size, int64_t local, bool snap, int i)
{
	size_t used = strlen(text);

	snprintf(text + used, size - used,
		 "gateio,BTC_USDT,%lld,%lld,%s,%s,%d.%d,1.5\n",
		 (long long)local, (long long)local, snap ? "true" : "false",
		 i % 2 ? "ask" : "bid", 100 + i, i % 10);
	ck_assert_uint_lt(strlen(text) + 1, size);
}

/*
 * A power cut can leave any prefix of what was written (and garbage
 * after it). Whatever part of a trailing block is on disk, a restarted
 * writer's new block replaces it, and the rows before it stay.
 */
START_TEST(test_block_power_cut_every_byte)
{
	static const char junk[] = "\0\0x,\"\n1";
	static char whole[8192], want[8192], buf[8192];
	char p[512], d[512];
	size_t pre, len, cases = 0;

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(fs_dirname(d, sizeof(d), p), 0);
	ck_assert_int_eq(fs_mkdir_p(d, 0750), 0);
	snprintf(whole, sizeof(whole), "%s", L2_HDR);
	for (int i = 0; i < 4; i++)
		row_text(whole, sizeof(whole), base_us + 1, true, i);
	for (int i = 0; i < 3; i++)
		row_text(whole, sizeof(whole), base_us + 2, false, i);
	pre = strlen(whole);
	memcpy(want, whole, pre + 1);
	for (int i = 0; i < 6; i++)
		row_text(whole, sizeof(whole), base_us + 3, true, i);
	len = strlen(whole);
	for (int i = 0; i < 2; i++)
		row_text(want, sizeof(want), base_us + 10, true, i);
	row_text(want, sizeof(want), base_us + 11, false, 0);
	for (size_t t = pre; t <= len; t++) {
		for (int j = 0; j < 2; j++) {
			struct hourfile *hf;

			memcpy(buf, whole, t);
			if (j == 1)
				memcpy(buf + t, junk, sizeof(junk) - 1);
			tu_write(p, buf, t + (j ? sizeof(junk) - 1 : 0));
			hf = mkb(1);
			hourfile_begin_block(hf);
			add_rows(hf, base_us + 10, true, 2, NULL, 0);
			add_rows(hf, base_us + 11, false, 1, NULL, 0);
			hourfile_free(hf);
			assert_file(p, want);
			cases++;
		}
	}
	ck_assert_uint_gt(cases, 600);
}
END_TEST

/* A block longer than the recovery's read window is found whole, also
 * when it is the only thing in the file. */
START_TEST(test_block_cut_long)
{
	static char want[4096];
	char p[512];
	struct hourfile *hf;
	struct hourfile_stats st;

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	for (int diff = 0; diff <= 1; diff++) {
		snprintf(want, sizeof(want), "%s", L2_HDR);
		hf = mkb(100);
		if (diff) {
			add_rows(hf, base_us + 1, false, 1, want, sizeof(want));
			add_rows(hf, base_us + 2, true, 1, NULL, 0);
		}
		add_rows(hf, base_us + 3, true, 3000, NULL, 0);
		hourfile_free(hf);
		hf = mkb(100);
		hourfile_begin_block(hf);
		add_rows(hf, base_us + 4, true, 2, want, sizeof(want));
		hourfile_get_stats(hf, &st);
		ck_assert_uint_eq(st.rows_cut, 3000u + (unsigned)diff);
		hourfile_free(hf);
		assert_file(p, want);
		ck_assert_int_eq(unlink(p), 0);
	}
}
END_TEST

/* ------------------------------------------------------------ crash loop */

#define CRASH_ROWS_PER_HOUR 400
#define CRASH_LONG_EVERY    37

/* What the child last made durable; published by flipping `cur`. */
struct synced {
	uint64_t rows;	/* rows known durable (counted from 1) */
	int64_t hour;	/* hour index of the file holding the last of them */
	uint64_t bytes; /* that file's size just after the fdatasync */
};

struct shared {
	struct synced slot[2];
	int cur;
	int started;
};

static int64_t crash_local(uint64_t row)
{
	return base_us + (int64_t)(row / CRASH_ROWS_PER_HOUR) * US_PER_HOUR +
	       (int64_t)(row % CRASH_ROWS_PER_HOUR);
}

/* The detail text of row `row`: quotes, commas, newlines, long rows. */
static size_t crash_detail(uint64_t row, char *buf, size_t size)
{
	int n;

	if (row % CRASH_LONG_EVERY == 0) {
		size_t len = 3000 + row % 5000;

		if (len >= size)
			len = size - 1;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)('a' + (row + i) % 26);
		buf[len] = '\0';
		return len;
	}
	switch (row % 4) {
	case 0:
		n = snprintf(buf, size, "row %llu", (unsigned long long)row);
		break;
	case 1:
		n = snprintf(buf, size, "r,%llu \"q\"\nnext",
			     (unsigned long long)row);
		break;
	default:
		n = 0;
		buf[0] = '\0';
	}
	return (size_t)n;
}

static void crash_child(struct shared *sh, uint64_t next)
{
	struct hourfile_opts o = { .data_dir = dir,
				   .exchange = "gateio",
				   .symbol = "BTC_USDT",
				   .schema = ev,
				   .buffer_size = 6,
				   .flush_interval_us = US_PER_SEC,
				   .fsync_interval_us = 60 * US_PER_SEC };
	struct hourfile *hf;
	static char detail[16384];
	uint64_t base = next - 1;

	if (hourfile_new(&hf, &o) != 0)
		_exit(3);
	__atomic_store_n(&sh->started, 1, __ATOMIC_SEQ_CST);
	for (uint64_t row = next;; row++) {
		char ts[32], id[32];
		const char *f[6] = { ts, "update", id, "", "", detail };
		size_t l[6];
		struct hourfile_stats st;
		int64_t local = crash_local(row);

		l[0] = (size_t)snprintf(ts, sizeof(ts), "%lld",
					(long long)local);
		l[1] = 6;
		l[2] = (size_t)snprintf(id, sizeof(id), "%llu",
					(unsigned long long)row);
		l[3] = l[4] = 0;
		l[5] = crash_detail(row, detail, sizeof(detail));
		if (hourfile_append(hf, local, f, l, 6) != 0)
			_exit(4);
		if (row % 5 == 0) {
			int nx = !__atomic_load_n(&sh->cur, __ATOMIC_SEQ_CST);
			struct stat sb;

			if (hourfile_sync(hf) != 0 ||
			    stat(hourfile_path(hf), &sb) != 0)
				_exit(5);
			hourfile_get_stats(hf, &st);
			sh->slot[nx].rows = base + st.rows_written;
			sh->slot[nx].hour =
				(int64_t)(row / CRASH_ROWS_PER_HOUR);
			sh->slot[nx].bytes = (uint64_t)sb.st_size;
			__atomic_store_n(&sh->cur, nx, __ATOMIC_SEQ_CST);
		}
	}
}

struct verify {
	uint64_t next; /* the next row number expected */
	char detail[16384];
	const char *file;
	size_t nf, row_in_file;
	char f[6][64];
	size_t flen[6];
	int bad;
};

static void v_field(void *s, size_t len, void *ud)
{
	struct verify *v = ud;

	if (v->nf < 6) {
		/* Keep the short fields; compare the detail now. */
		if (v->nf == 5) {
			size_t dl;

			if (v->row_in_file > 0) {
				dl = crash_detail(v->next, v->detail,
						  sizeof(v->detail));
				if (dl != len || memcmp(s, v->detail, len) != 0)
					v->bad = 1;
			}
		} else {
			size_t n = len < 63 ? len : 63;

			memcpy(v->f[v->nf], s, n);
			v->f[v->nf][n] = '\0';
			v->flen[v->nf] = len;
		}
	}
	v->nf++;
}

static void v_row(int term, void *ud)
{
	struct verify *v = ud;

	if (term == -1 || v->nf != 6) {
		v->bad = 2;
	} else if (v->row_in_file == 0) {
		if (strcmp(v->f[0], "local_timestamp") != 0 ||
		    strcmp(v->f[2], "first_update_id") != 0)
			v->bad = 3;
	} else {
		char want[32];

		snprintf(want, sizeof(want), "%llu",
			 (unsigned long long)v->next);
		if (strcmp(v->f[2], want) != 0)
			v->bad = 4;
		snprintf(want, sizeof(want), "%lld",
			 (long long)crash_local(v->next));
		if (strcmp(v->f[0], want) != 0)
			v->bad = 5;
		v->next++;
	}
	v->row_in_file++;
	v->nf = 0;
}

/*
 * Recover every hour file with the writer, then parse each strictly:
 * one header on top, whole rows numbered on from 1. Returns the rows.
 */
static uint64_t crash_torn; /* bytes the recovering reopens cut */

static uint64_t crash_verify(uint64_t *files)
{
	static struct verify v;
	struct hourfile_opts o = { .data_dir = dir,
				   .exchange = "gateio",
				   .symbol = "BTC_USDT",
				   .schema = ev,
				   .buffer_size = 1 };
	struct hourfile *hf;

	memset(&v, 0, sizeof(v));
	v.next = 1;
	*files = 0;
	ck_assert_int_eq(hourfile_new(&hf, &o), 0);
	for (int64_t h = 0;; h++) {
		int64_t t = base_us + h * US_PER_HOUR;
		char p[512], *buf;
		size_t len;
		struct csv_parser cp;

		path_of(p, sizeof(p), "book_events", t);
		if (access(p, F_OK) != 0)
			break;
		ck_assert_int_eq(hourfile_open(hf, t), 0);
		ck_assert_int_eq(hourfile_close(hf), 0);
		ck_assert_int_eq(fs_read_file(p, 256u << 20, &buf, &len), 0);
		ck_assert_msg(len > 0 && buf[len - 1] == '\n', "%s torn", p);
		v.row_in_file = 0;
		ck_assert_int_eq(csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI),
				 0);
		ck_assert_uint_eq(csv_parse(&cp, buf, len, v_field, v_row, &v),
				  len);
		ck_assert_int_eq(csv_fini(&cp, v_field, v_row, &v), 0);
		csv_free(&cp);
		free(buf);
		ck_assert_msg(v.bad == 0, "%s: check %d failed near row %llu",
			      p, v.bad, (unsigned long long)v.next);
		ck_assert_uint_ge(v.row_in_file, 1);
		(*files)++;
	}
	{
		struct hourfile_stats st;

		hourfile_get_stats(hf, &st);
		crash_torn += st.torn_bytes_cut;
	}
	hourfile_free(hf);
	return v.next - 1;
}

/*
 * Make the kill look like a power cut: the last file loses a random
 * amount of what was not yet synced and may end in garbage: NULs (as
 * some filesystems leave), quotes, separators, newlines. The garbage
 * starts with a NUL so that it can never complete a torn row into a
 * valid-looking one (no reader could tell such a row from a real one).
 * Synced bytes are never touched.
 */
static void crash_tear(const struct synced *sy, uint64_t rows)
{
	static const char junk[] = { '\0', '\0', 'x', ',', '"', '\n', '1' };
	int64_t h = (int64_t)((rows + 1) / CRASH_ROWS_PER_HOUR) + 1;
	char p[512], g[32];
	struct stat sb;
	off_t lo, to;
	int fd;

	for (; h >= 0; h--) {
		path_of(p, sizeof(p), "book_events", base_us + h * US_PER_HOUR);
		if (stat(p, &sb) == 0)
			break;
	}
	if (h < 0 || h < sy->hour)
		return;
	/* The header is synced when a file is created. */
	lo = (off_t)strlen(EV_HDR);
	if (h == sy->hour && (off_t)sy->bytes > lo)
		lo = (off_t)sy->bytes;
	if (sb.st_size < lo)
		return;
	to = lo + rand() % (sb.st_size - lo + 1);
	ck_assert_int_eq(truncate(p, to), 0);
	if (rand() % 2 == 0) {
		size_t n = 1 + (size_t)rand() % sizeof(g);

		g[0] = '\0';
		for (size_t i = 1; i < n; i++)
			g[i] = junk[rand() % (int)sizeof(junk)];
		fd = open(p, O_WRONLY | O_APPEND);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, g, n), (ssize_t)n);
		close(fd);
	}
}

START_TEST(test_crash_kill_loop)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t rows = 0, files = 0;
	struct synced sy = { 0, 0, 0 };
	int iters = 200, mid_work = 0, torn = 0;
	unsigned seed = (unsigned)time(NULL);

	ck_assert_ptr_ne(sh, MAP_FAILED);
	srand(seed);
	for (int it = 0; it < iters; it++) {
		/* Up to 5 ms of work, longer where everything is slower
		 * (valgrind): the loop must still fill a second file. */
		struct timespec ts = { 0, (long)(rand() % 5000) * 1000 *
						  tu_timeout_mult() };
		int status;
		pid_t pid;

		sh->slot[0] = sy;
		sh->cur = 0;
		sh->started = 0;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			crash_child(sh, rows + 1);
		/* Kill it at a random point of its work, not before. */
		for (int w = 0; w < 1000 && !__atomic_load_n(&sh->started,
							     __ATOMIC_SEQ_CST);
		     w++)
			usleep(1000);
		nanosleep(&ts, NULL);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) &&
				      WTERMSIG(status) == SIGKILL,
			      "child failed: status %d", status);
		sy = sh->slot[__atomic_load_n(&sh->cur, __ATOMIC_SEQ_CST)];
		mid_work += sh->started != 0;
		if (it % 2 == 1) {
			crash_tear(&sy, sy.rows);
			torn++;
		}
		rows = crash_verify(&files);
		ck_assert_msg(
			rows >= sy.rows,
			"seed %u iteration %d: %llu rows, %llu were synced",
			seed, it, (unsigned long long)rows,
			(unsigned long long)sy.rows);
		/* What survived is the baseline of the next child. */
		if (rows > sy.rows) {
			char p[512];
			struct stat sb;
			int64_t h = (int64_t)(rows / CRASH_ROWS_PER_HOUR);

			path_of(p, sizeof(p), "book_events",
				base_us + h * US_PER_HOUR);
			ck_assert_int_eq(stat(p, &sb), 0);
			sy.rows = rows;
			sy.hour = h;
			sy.bytes = (uint64_t)sb.st_size;
		}
	}
	fprintf(stderr,
		"crash loop: %d kills (%d mid-work), %llu rows in "
		"%llu files, %d tears, %llu torn bytes cut\n",
		iters, mid_work, (unsigned long long)rows,
		(unsigned long long)files, torn,
		(unsigned long long)crash_torn);
	ck_assert_int_ge(mid_work, iters * 9 / 10);
	ck_assert_uint_gt(crash_torn, 0); /* recovery really ran */
	ck_assert_uint_gt(rows, 100);
	ck_assert_uint_gt(files, 1);
	munmap(sh, sizeof(*sh));
}
END_TEST

static Suite *hourfile_recover_suite(void)
{
	Suite *s = suite_create("hourfile_recover");
	TCase *tc = tcase_create("hourfile_recover");
	TCase *crash = tcase_create("crash");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restart_appends);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_torn_quoted);
	tcase_add_test(tc, test_header_mismatch);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_fsync_failure_reopens);
	tcase_add_test(tc, test_block_cut_long);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(crash, setup, teardown);
	tcase_set_timeout(crash, 60);
	tcase_add_test(crash, test_crash_kill_loop);
	/* Over 600 reopen-and-fsync cases: seconds on a loaded machine. */
	tcase_add_test(crash, test_block_power_cut_every_byte);
	suite_add_tcase(s, crash);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hourfile_recover_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
