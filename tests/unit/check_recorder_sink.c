/*
 * Unit suite for recorder/sink: incremental_book_L2 snapshot blocks as a
 * tardis reader sees them. In that format a run of is_snapshot=true rows
 * is one block that replaces the book, whatever its local_timestamp, so
 * a block that a kill, a power cut or a write error left unfinished at
 * the end of a file must never be continued by the next block written
 * there: the reader would take the union of both (phantom levels).
 *
 * The kill test kills a writer at every row boundary of a block (with
 * buffer_size 1 every row is one write(2), so a SIGKILL there leaves
 * exactly the rows before it), optionally tears the next row as a power
 * cut can, restarts with a different book in the same hour file and
 * replays the file with the tardis rule.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "hourfile.h"
#include "log.h"
#include "schema.h"
#include "sink.h"
#include "timeutil.h"
#include "testutil.h"
#include "banned.h"

#define SYM "BTC_USDT"

static struct schema_set *set;
static struct recorder_config cfg;
static char *dir;
static int64_t base_us; /* 2026-11-26T03:00:00Z */

static void setup(void)
{
	char *err;

	ck_assert_int_eq(schema_set_load(&set, &err), 0);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00Z", &base_us), 0);
	dir = tu_tmpdir();
	log_set_level(LOG_LVL_WARNING);
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.buffer_size = 1;
	cfg.flush_interval = 10.0;
	cfg.fsync_interval = 60.0;
	cfg.snapshot_depth = 25;
	cfg.depth_limit = 100;
	cfg.datasets = DATASET_INCREMENTAL_L2 | DATASET_BOOK_SNAPSHOT |
		       DATASET_BOOK_EVENTS;
}

static void teardown(void)
{
	tu_rmtree(dir);
	dir = NULL;
	schema_set_free(set);
}

/* One level of a block or one diff: side, price, amount. */
struct lvl {
	const char *side, *price, *amount;
};

/* Before the block: a first book and two diffs (rows followed by later
 * rows, which must survive byte for byte). */
static const struct lvl book_p[] = {
	{ "bid", "100.1", "5" },
	{ "bid", "100.0", "3" },
	{ "ask", "100.5", "2" },
	{ "ask", "100.6", "4" },
};
static const struct lvl diffs_p[] = {
	{ "bid", "100.2", "1" },
	{ "ask", "100.5", "0" },
};
/* The block the kill cuts. Most of its levels are not in book_b. */
static const struct lvl book_a[] = {
	{ "bid", "101.0", "1" }, { "bid", "100.9", "2" },
	{ "bid", "100.8", "3" }, { "ask", "101.5", "1" },
	{ "ask", "101.6", "2" }, { "ask", "101.7", "3" },
};
/* The restarted writer's book, and diffs after it. */
static const struct lvl book_b[] = {
	{ "bid", "101.0", "7" },
	{ "bid", "100.7", "1" },
	{ "ask", "101.6", "9" },
	{ "ask", "101.8", "1" },
};
static const struct lvl diffs_b[] = {
	{ "bid", "100.7", "0" },
	{ "ask", "101.9", "2" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void row_text(char *dst, size_t n, int64_t local, bool snap,
		     const struct lvl *l)
{
	snprintf(dst, n, "gateio,%s,%lld,%lld,%s,%s,%s,%s\n", SYM,
		 (long long)local, (long long)local, snap ? "true" : "false",
		 l->side, l->price, l->amount);
}

/* Rows queued as the recorder queues its own (sink_l2_row: the writer
 * makes the row from its parts) instead of as rows the sink must check
 * and read. */
static bool plain;

static int queue_parts(struct sink *s, int64_t local, bool snap, unsigned flags,
		       const struct lvl *l)
{
	flags |= snap ? SINK_ROW_SNAPSHOT : 0;
	flags |= strcmp(l->side, "ask") == 0 ? SINK_ROW_ASK : 0;
	return sink_l2_row(s, SYM, strlen(SYM), local, local, flags, l->price,
			   strlen(l->price), l->amount, strlen(l->amount));
}

static int queue(struct sink *s, int64_t local, bool snap, const struct lvl *l)
{
	char ts[32];
	const char *f[8] = {
		"gateio", SYM,	    ts,	      ts, snap ? "true" : "false",
		l->side,  l->price, l->amount
	};

	if (plain)
		return queue_parts(s, local, snap, 0, l);
	snprintf(ts, sizeof(ts), "%lld", (long long)local);
	return sink_row(s, SYM, SINK_L2, local, f, 8);
}

static struct sink *start_sink(void)
{
	struct sink *s = sink_new(&cfg, "gateio", set, NULL, NULL);

	if (s == NULL || sink_start(s) != 0)
		return NULL;
	return s;
}

/* Child: wait until the writer thread has written `rows` rows. */
static int wait_written(struct sink *s, uint64_t rows)
{
	for (int i = 0; i < 5000; i++) {
		struct sink_stats st;

		sink_stats(s, &st);
		if (st.rows_written >= rows)
			return 0;
		usleep(1000);
	}
	return -1;
}

/*
 * Child: write (prefix ? book_p and its diffs : nothing), then the first
 * `k` rows of book_a, each one through to the file, and SIGKILL itself.
 */
static void doomed_writer(bool prefix, size_t k)
{
	struct sink *s = start_sink();
	uint64_t n = 0;

	if (s == NULL)
		_exit(3);
	if (prefix) {
		for (size_t i = 0; i < NELEM(book_p); i++, n++)
			if (queue(s, base_us + 1 * US_PER_SEC, true,
				  &book_p[i]) != 0)
				_exit(4);
		for (size_t i = 0; i < NELEM(diffs_p); i++, n++)
			if (queue(s, base_us + (int64_t)(2 + i) * US_PER_SEC,
				  false, &diffs_p[i]) != 0)
				_exit(4);
		sink_commit(s);
		if (wait_written(s, n) != 0)
			_exit(5);
	}
	for (size_t i = 0; i < k; i++) {
		if (queue(s, base_us + 5 * US_PER_SEC, true, &book_a[i]) != 0)
			_exit(4);
		sink_commit(s);
		if (wait_written(s, ++n) != 0)
			_exit(5);
	}
	kill(getpid(), SIGKILL);
	_exit(6);
}

static void l2_path(char *p, size_t n)
{
	ck_assert_int_eq(hourfile_path_for(p, n, dir, "gateio", SYM,
					   "incremental_book_L2", base_us),
			 0);
}

/* Half of row k of book_a, no newline: a write a power cut tore. */
static void tear_next_row(size_t k)
{
	char p[512], d[512], row[256];
	int fd;

	l2_path(p, sizeof(p));
	ck_assert_int_eq(fs_dirname(d, sizeof(d), p), 0);
	ck_assert_int_eq(fs_mkdir_p(d, 0750), 0);
	row_text(row, sizeof(row), base_us + 5 * US_PER_SEC, true, &book_a[k]);
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0640);
	ck_assert_int_ge(fd, 0);
	if (lseek(fd, 0, SEEK_END) == 0) {
		static const char hdr[] = "exchange,symbol,timestamp,"
					  "local_timestamp,is_snapshot,side,"
					  "price,amount\n";

		ck_assert_int_eq(write(fd, hdr, sizeof(hdr) - 1),
				 (ssize_t)sizeof(hdr) - 1);
	}
	ck_assert_int_eq(write(fd, row, strlen(row) / 2),
			 (ssize_t)(strlen(row) / 2));
	close(fd);
}

/* The restarted writer: book_b (one block), then its diffs. */
static void restarted_writer(void)
{
	struct sink *s = start_sink();

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < NELEM(book_b); i++)
		ck_assert_int_eq(queue(s, base_us + 10 * US_PER_SEC, true,
				       &book_b[i]),
				 0);
	for (size_t i = 0; i < NELEM(diffs_b); i++)
		ck_assert_int_eq(queue(s,
				       base_us + (int64_t)(11 + i) * US_PER_SEC,
				       false, &diffs_b[i]),
				 0);
	ck_assert_int_eq(sink_stop(s), 0);
	sink_free(s);
}

/* ---- a reader applying the tardis rule ---- */

#define MAXLV 32

struct book {
	char key[MAXLV][48]; /* "side price" */
	char amount[MAXLV][24];
	size_t n;
};

static void book_set(struct book *b, const char *side, const char *price,
		     const char *amount)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s %s", side, price);
	for (i = 0; i < b->n && strcmp(b->key[i], key) != 0; i++)
		;
	if (strcmp(amount, "0") == 0) {
		if (i < b->n) {
			b->n--;
			memmove(b->key[i], b->key[b->n], sizeof(b->key[0]));
			memmove(b->amount[i], b->amount[b->n],
				sizeof(b->amount[0]));
		}
		return;
	}
	ck_assert_uint_lt(i, MAXLV);
	if (i == b->n) {
		b->n++;
		snprintf(b->key[i], sizeof(b->key[i]), "%s", key);
	}
	snprintf(b->amount[i], sizeof(b->amount[i]), "%s", amount);
}

/* "bid 101.0=7;..." sorted, for comparison and messages. */
static void book_str(const struct book *b, char *dst, size_t n)
{
	const char *k[MAXLV];
	size_t used = 0;

	for (size_t i = 0; i < b->n; i++)
		k[i] = b->key[i];
	for (size_t i = 0; i < b->n; i++)
		for (size_t j = i + 1; j < b->n; j++)
			if (strcmp(k[j], k[i]) < 0) {
				const char *t = k[i];

				k[i] = k[j];
				k[j] = t;
			}
	dst[0] = '\0';
	for (size_t i = 0; i < b->n; i++) {
		size_t m;

		for (m = 0; m < b->n && b->key[m] != k[i]; m++)
			;
		used += (size_t)snprintf(dst + used, n - used, "%s=%s;", k[i],
					 b->amount[m]);
		ck_assert_uint_lt(used, n);
	}
}

/*
 * Replay the L2 file: a run of is_snapshot=true rows replaces the book
 * (reset on the first row after a non-snapshot row), other rows set a
 * level (0 deletes). *last_block gets the book as the last block left
 * it, *final the book at the end. Every line must be whole.
 */
static void replay(const char *path, struct book *last_block,
		   struct book *final)
{
	char *buf, *line, *nl;
	size_t len;
	bool prev_snap = false, in_block = false;

	memset(final, 0, sizeof(*final));
	memset(last_block, 0, sizeof(*last_block));
	ck_assert_int_eq(fs_read_file(path, 1u << 20, &buf, &len), 0);
	ck_assert_msg(len > 0 && buf[len - 1] == '\n', "%s: torn", path);
	line = strchr(buf, '\n') + 1; /* the header */
	for (; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		char *f[8], *p = line;
		bool snap;

		*nl = '\0';
		for (int i = 0; i < 8; i++) {
			f[i] = p;
			p = strchr(p, ',');
			ck_assert_msg(i == 7 ? p == NULL : p != NULL,
				      "bad row '%s'", line);
			if (p != NULL)
				*p++ = '\0';
		}
		snap = strcmp(f[4], "true") == 0;
		if (snap && !prev_snap)
			memset(final, 0, sizeof(*final));
		if (!snap && in_block)
			*last_block = *final;
		in_block = snap;
		prev_snap = snap;
		book_set(final, f[5], f[6], f[7]);
	}
	if (in_block)
		*last_block = *final;
	free(buf);
}

static void book_of(struct book *b, const struct lvl *l, size_t n)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < n; i++)
		book_set(b, l[i].side, l[i].price, l[i].amount);
}

/* The file must start with the rows that were followed by later rows. */
static void check_prefix_kept(const char *path, bool prefix)
{
	char want[2048], *got;
	size_t used, len;

	used = (size_t)snprintf(want, sizeof(want), "%s",
				"exchange,symbol,timestamp,local_timestamp,"
				"is_snapshot,side,price,amount\n");
	for (size_t i = 0; prefix && i < NELEM(book_p); i++)
		row_text(want + strlen(want), sizeof(want) - strlen(want),
			 base_us + 1 * US_PER_SEC, true, &book_p[i]);
	for (size_t i = 0; prefix && i < NELEM(diffs_p); i++)
		row_text(want + strlen(want), sizeof(want) - strlen(want),
			 base_us + (int64_t)(2 + i) * US_PER_SEC, false,
			 &diffs_p[i]);
	used = strlen(want);
	ck_assert_int_eq(fs_read_file(path, 1u << 20, &got, &len), 0);
	ck_assert_uint_ge(len, used);
	ck_assert_msg(memcmp(got, want, used) == 0,
		      "rows followed by later rows changed:\n%s", got);
	free(got);
}

/* A cut of k rows is told in book_events (a "dropped" event). */
static void check_cut_event(size_t k)
{
	char p[512], want[96], *got;
	size_t len;

	ck_assert_int_eq(hourfile_path_for(p, sizeof(p), dir, "gateio", SYM,
					   "book_events", base_us),
			 0);
	snprintf(want, sizeof(want),
		 ",dropped,,,,%zu incremental_book_L2 rows cut", k);
	if (k == 0) {
		ck_assert_int_ne(access(p, F_OK), 0);
		return;
	}
	ck_assert_int_eq(fs_read_file(p, 1u << 20, &got, &len), 0);
	ck_assert_msg(strstr(got, want) != NULL, "no '%s' in:\n%s", want, got);
	free(got);
}

static void kill_case(bool prefix, size_t k, bool tear)
{
	char p[512], got[1024], want[1024];
	struct book last, fin, wb, wf;
	int status;
	pid_t pid;

	tu_rmtree(dir);
	dir = tu_tmpdir();
	cfg.data_dir = dir;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		doomed_writer(prefix, k);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "writer failed: status %d", status);
	if (tear)
		tear_next_row(k);
	restarted_writer();

	l2_path(p, sizeof(p));
	replay(p, &last, &fin);
	book_of(&wb, book_b, NELEM(book_b));
	wf = wb;
	for (size_t i = 0; i < NELEM(diffs_b); i++)
		book_set(&wf, diffs_b[i].side, diffs_b[i].price,
			 diffs_b[i].amount);
	book_str(&last, got, sizeof(got));
	book_str(&wb, want, sizeof(want));
	ck_assert_msg(strcmp(got, want) == 0,
		      "killed after %zu block rows (prefix %d, torn %d): the "
		      "new block reads as %s, want %s",
		      k, prefix, tear, got, want);
	book_str(&fin, got, sizeof(got));
	book_str(&wf, want, sizeof(want));
	ck_assert_msg(strcmp(got, want) == 0,
		      "killed after %zu block rows (prefix %d, torn %d): final "
		      "book %s, want %s",
		      k, prefix, tear, got, want);
	check_prefix_kept(p, prefix);
	check_cut_event(k);
}

/* Kill the writer at every row boundary of a block in the middle of a
 * file (a resync or after-loss block) and of an hour-start block. */
START_TEST(test_kill_at_every_block_boundary)
{
	for (int prefix = 0; prefix <= 1; prefix++)
		for (size_t k = 0; k <= NELEM(book_a); k++)
			kill_case(prefix, k, false);
}
END_TEST

/* The same with the next row torn, as a power cut leaves it. */
START_TEST(test_kill_at_every_block_boundary_torn)
{
	for (int prefix = 0; prefix <= 1; prefix++)
		for (size_t k = 0; k < NELEM(book_a); k++)
			kill_case(prefix, k, true);
}
END_TEST

static int queue_f(struct sink *s, int64_t local, bool snap, unsigned flags,
		   const struct lvl *l)
{
	char ts[32];
	const char *f[8] = {
		"gateio", SYM,	    ts,	      ts, snap ? "true" : "false",
		l->side,  l->price, l->amount
	};
	size_t lens[8];

	if (plain)
		return queue_parts(s, local, snap, flags, l);
	snprintf(ts, sizeof(ts), "%lld", (long long)local);
	for (int i = 0; i < 8; i++)
		lens[i] = strlen(f[i]);
	return sink_row_f(s, SYM, strlen(SYM), SINK_L2, local, flags, f, lens,
			  8);
}

static void queue_block(struct sink *s, int64_t local, const struct lvl *l,
			size_t n, size_t upto)
{
	for (size_t i = 0; i < n && i < upto; i++)
		ck_assert_int_eq(queue_f(s, local, true,
					 i == 0 ? SINK_ROW_BLOCK_START : 0,
					 &l[i]),
				 0);
}

static void check_reads_b(bool prefix)
{
	char p[512], got[1024], want[1024];
	struct book last, fin, wb, wf;

	l2_path(p, sizeof(p));
	replay(p, &last, &fin);
	book_of(&wb, book_b, NELEM(book_b));
	wf = wb;
	for (size_t i = 0; i < NELEM(diffs_b); i++)
		book_set(&wf, diffs_b[i].side, diffs_b[i].price,
			 diffs_b[i].amount);
	book_str(&last, got, sizeof(got));
	book_str(&wb, want, sizeof(want));
	ck_assert_msg(strcmp(got, want) == 0, "block reads as %s, want %s", got,
		      want);
	book_str(&fin, got, sizeof(got));
	book_str(&wf, want, sizeof(want));
	ck_assert_msg(strcmp(got, want) == 0, "final book %s, want %s", got,
		      want);
	check_prefix_kept(p, prefix);
}

static void queue_prefix(struct sink *s)
{
	queue_block(s, base_us + 1 * US_PER_SEC, book_p, NELEM(book_p),
		    SIZE_MAX);
	for (size_t i = 0; i < NELEM(diffs_p); i++)
		ck_assert_int_eq(queue(s,
				       base_us + (int64_t)(2 + i) * US_PER_SEC,
				       false, &diffs_p[i]),
				 0);
}

static void queue_b_and_diffs(struct sink *s, int64_t local)
{
	queue_block(s, local, book_b, NELEM(book_b), SIZE_MAX);
	for (size_t i = 0; i < NELEM(diffs_b); i++)
		ck_assert_int_eq(queue(s, local + (int64_t)(1 + i) * US_PER_SEC,
				       false, &diffs_b[i]),
				 0);
}

/*
 * In one process: a block, cut short (rows the queue had no room for)
 * or whole, followed directly by the next block with the same
 * local_timestamp (the hour-start block, then a full push of the same
 * message): only the flag tells them apart.
 */
START_TEST(test_back_to_back_blocks)
{
	plain = _i == 1;
	for (size_t k = 0; k <= NELEM(book_a); k++) {
		struct sink *s;

		tu_rmtree(dir);
		dir = tu_tmpdir();
		cfg.data_dir = dir;
		cfg.buffer_size = (int)(k % 3) * 4 + 1;
		s = start_sink();
		ck_assert_ptr_nonnull(s);
		queue_prefix(s);
		queue_block(s, base_us + 5 * US_PER_SEC, book_a, NELEM(book_a),
			    k);
		queue_b_and_diffs(s, base_us + 5 * US_PER_SEC);
		ck_assert_int_eq(sink_stop(s), 0);
		sink_free(s);
		check_reads_b(true);
		check_cut_event(k);
	}
}
END_TEST

static void on_resnap(void *ud, const char *symbol)
{
	*(int *)ud += strcmp(symbol, SYM) == 0;
}

/*
 * A write error (a full disk; here a file size limit) in the middle of
 * a block: the part written stays until the block the writer asks for
 * once there is room, which replaces it.
 */
START_TEST(test_write_error_mid_block)
{
	char p[512];
	struct sink *s = start_sink();
	struct sink_stats st;
	struct rlimit rl, old;
	struct stat sb;
	int asked = 0, waited = 0;

	ck_assert_ptr_nonnull(s);
	signal(SIGXFSZ, SIG_IGN);
	queue_prefix(s);
	sink_commit(s);
	ck_assert_int_eq(wait_written(s, NELEM(book_p) + NELEM(diffs_p)), 0);
	l2_path(p, sizeof(p));
	ck_assert_int_eq(stat(p, &sb), 0);
	/* Room for two and a half rows of book_a (rows are ~60 bytes);
	 * no assertion may run (libcheck writes a file) until it is lifted. */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)sb.st_size + 150;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (size_t i = 0; i < NELEM(book_a); i++)
		(void)queue_f(s, base_us + 5 * US_PER_SEC, true,
			      i == 0 ? SINK_ROW_BLOCK_START : 0, &book_a[i]);
	sink_commit(s);
	do {
		usleep(1000);
		sink_stats(s, &st);
	} while (st.write_errors == 0 && ++waited < 5000);
	/* Let the writer take in the rest of the block (held back). */
	usleep(50000);
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_uint_gt(st.write_errors, 0);
	sink_take_resnapshots(s, on_resnap, &asked);
	ck_assert_int_eq(asked, 1);
	queue_b_and_diffs(s, base_us + 10 * US_PER_SEC);
	ck_assert_int_eq(sink_stop(s), 0);
	sink_free(s);
	check_reads_b(true);
	check_cut_event(2);
}
END_TEST

/*
 * A thousand symbols whose rows interleave (one message each, in turn,
 * as a busy recorder's queue holds them): every row lands in its own
 * symbol's file, and each file holds its symbol's rows only.
 */
START_TEST(test_many_symbols_interleaved)
{
	enum { NSYM = 1000, ROUNDS = 3 };
	struct sink *s;
	char sym[32], ts[32], p[512], line[256];

	s = start_sink();
	ck_assert_ptr_nonnull(s);
	snprintf(ts, sizeof(ts), "%lld", (long long)base_us);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < NSYM; i++) {
			const char *f[6];

			snprintf(sym, sizeof(sym), "S%04d_USDT",
				 (i * 7) % NSYM);
			f[0] = ts;
			f[1] = "update";
			f[2] = f[3] = f[4] = "";
			f[5] = r == 0 ? "first" : "next";
			ck_assert_int_eq(sink_row(s, sym, SINK_EVENTS, base_us,
						  f, 6),
					 0);
		}
	ck_assert_int_eq(sink_stop(s), 0);
	sink_free(s);
	for (int i = 0; i < NSYM; i += 37) {
		FILE *fp;
		int rows = 0;

		snprintf(sym, sizeof(sym), "S%04d_USDT", i);
		ck_assert_int_eq(hourfile_path_for(p, sizeof(p), dir, "gateio",
						   sym, "book_events", base_us),
				 0);
		fp = fopen(p, "r");
		ck_assert_ptr_nonnull(fp);
		while (fgets(line, sizeof(line), fp) != NULL)
			rows += strstr(line, ",update,") != NULL;
		fclose(fp);
		ck_assert_int_eq(rows, ROUNDS);
	}
}
END_TEST

/* sink_l2_row: the writer makes the whole row from the parts, both
 * timestamps and both sides right, one message's rows after another's;
 * a row too large for a block is refused, not cut. */
START_TEST(test_l2_row_from_parts)
{
	static char big[40001];
	const int64_t t1 = base_us + 123456, t2 = base_us + 2000001;
	char p[512], got[1024], want[1024];
	struct sink *s = start_sink();
	size_t n;
	FILE *fp;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sink_l2_row(s, SYM, strlen(SYM), t1 - 7, t1,
				     SINK_ROW_SNAPSHOT | SINK_ROW_BLOCK_START,
				     "100.5", 5, "2", 1),
			 0);
	ck_assert_int_eq(sink_l2_row(s, SYM, strlen(SYM), t1 - 7, t1,
				     SINK_ROW_SNAPSHOT | SINK_ROW_ASK, "101", 3,
				     "0.25", 4),
			 0);
	ck_assert_int_eq(sink_l2_row(s, SYM, strlen(SYM), t2 - 900, t2,
				     SINK_ROW_ASK, "101", 3, "0", 1),
			 0);
	memset(big, '1', sizeof(big) - 1);
	ck_assert_int_eq(sink_l2_row(s, SYM, strlen(SYM), t2, t2, 0, big, 40000,
				     big, 40000),
			 CORE_ETOOBIG);
	ck_assert_int_eq(sink_stop(s), 0);
	sink_free(s);
	snprintf(want, sizeof(want),
		 "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,"
		 "price,amount\n"
		 "gateio,%s,%lld,%lld,true,bid,100.5,2\n"
		 "gateio,%s,%lld,%lld,true,ask,101,0.25\n"
		 "gateio,%s,%lld,%lld,false,ask,101,0\n",
		 SYM, (long long)(t1 - 7), (long long)t1, SYM,
		 (long long)(t1 - 7), (long long)t1, SYM, (long long)(t2 - 900),
		 (long long)t2);
	l2_path(p, sizeof(p));
	fp = fopen(p, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(got, 1, sizeof(got) - 1, fp);
	fclose(fp);
	got[n] = '\0';
	ck_assert_str_eq(got, want);
}
END_TEST

static Suite *sink_suite(void)
{
	Suite *s = suite_create("recorder_sink");
	TCase *tc = tcase_create("blocks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_kill_at_every_block_boundary);
	tcase_add_test(tc, test_kill_at_every_block_boundary_torn);
	/* Loop 1: the same rows queued as the recorder queues its own. */
	tcase_add_loop_test(tc, test_back_to_back_blocks, 0, 2);
	tcase_add_test(tc, test_write_error_mid_block);
	tcase_add_test(tc, test_many_symbols_interleaved);
	tcase_add_test(tc, test_l2_row_from_parts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sink_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
