/* Unit suite for core/hourfile: the hourly CSV writer. */
#include <check.h>
#include <csv.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "hourfile.h"
#include "hourfile_testlib.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_path_layout)
{
	struct hourfile *hf = mk(l2, 1, 0, 0);
	struct hourfile_stats st;
	char p[512], want[600];
	struct stat sb;

	path_of(p, sizeof(p), "incremental_book_L2",
		base_us + 59 * 60 * US_PER_SEC);
	snprintf(
		want, sizeof(want),
		"%s/live/gateio/2026-11-26/03/BTC_USDT.incremental_book_L2.csv",
		dir);
	ck_assert_str_eq(p, want);
	ck_assert_ptr_null(hourfile_path(hf));
	ck_assert(hourfile_would_roll(hf, base_us));
	ck_assert_int_eq(add_l2(hf, base_us + 5, "1.5", "2"), 0);
	ck_assert_str_eq(hourfile_path(hf), want);
	ck_assert(!hourfile_would_roll(hf, base_us + US_PER_HOUR - 1));
	ck_assert(hourfile_would_roll(hf, base_us + US_PER_HOUR));
	ck_assert(hourfile_would_roll(hf, base_us - 1));
	ck_assert_int_eq(stat(want, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.files_opened, 1);
	ck_assert_uint_eq(st.files_created, 1);
	ck_assert_uint_eq(st.rows_written, 1);
	hourfile_free(hf);
	l2_line(want, sizeof(want), base_us + 5, "1.5", "2");
	{
		char full[700];

		snprintf(full, sizeof(full), "%s%s", L2_HDR, want);
		assert_file(p, full);
	}
}
END_TEST

START_TEST(test_bad_names)
{
	struct hourfile_opts o = { .data_dir = dir,
				   .exchange = "gateio",
				   .symbol = "A/B",
				   .schema = l2 };
	struct hourfile *hf = (struct hourfile *)1;

	ck_assert_int_eq(hourfile_new(&hf, &o), CORE_EINVAL);
	ck_assert_ptr_null(hf);
	o.symbol = "..";
	ck_assert_int_eq(hourfile_new(&hf, &o), CORE_EINVAL);
	o.symbol = "";
	ck_assert_int_eq(hourfile_new(&hf, &o), CORE_EINVAL);
	o.symbol = "X";
	o.schema = NULL;
	ck_assert_int_eq(hourfile_new(&hf, &o), CORE_EINVAL);
	hourfile_free(NULL);
}
END_TEST

START_TEST(test_header_once_and_checks)
{
	struct hourfile *hf = mk(l2, 1, 0, 0);
	struct hourfile_stats st;
	const char *f[7] = { "a", "b", "c", "d", "e", "f", "g" };
	size_t l[7] = { 1, 1, 1, 1, 1, 1, 1 };
	char p[512], *got;

	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(add_l2(hf, base_us + i, "1", "0"), 0);
	/* Refused rows never reach the file and count as dropped. */
	ck_assert_int_eq(hourfile_append(hf, base_us, f, l, 7), CORE_EINVAL);
	ck_assert_int_eq(add_l2(hf, base_us, "1e5", "0"), CORE_ESCHEMA);
	ck_assert_int_eq(add_l2(hf, base_us, "-1", "0"), CORE_ESCHEMA);
	ck_assert(hourfile_take_gap(hf));
	ck_assert(!hourfile_take_gap(hf));
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_written, 5);
	ck_assert_uint_eq(st.rows_dropped, 3);
	hourfile_free(hf);
	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	got = slurp(p);
	ck_assert_ptr_eq(strstr(got, "exchange,"), got);
	ck_assert_ptr_null(strstr(got + 1, "exchange,"));
	ck_assert_ptr_null(strstr(got, "1e5"));
	free(got);
}
END_TEST

START_TEST(test_quoting)
{
	struct hourfile *hf = mk(ev, 10, US_PER_SEC, US_PER_SEC);
	static const char *const details[] = {
		"plain", "a,b",	    "say \"hi\"", "two\nlines", "cr\rhere",
		" lead", "trail\t", "in side",	  "",
	};
	char p[512];

	for (size_t i = 0; i < CORE_ARRAY_LEN(details); i++)
		ck_assert_int_eq(add_ev(hf, base_us + 1, "gap", (long long)i,
					details[i]),
				 0);
	ck_assert_int_eq(hourfile_sync(hf), 0);
	path_of(p, sizeof(p), "book_events", base_us);
	{
		char want[1024];

		snprintf(want, sizeof(want),
			 EV_HDR "%1$lld,gap,0,,,plain\n"
				"%1$lld,gap,1,,,\"a,b\"\n"
				"%1$lld,gap,2,,,\"say \"\"hi\"\"\"\n"
				"%1$lld,gap,3,,,\"two\nlines\"\n"
				"%1$lld,gap,4,,,\"cr\rhere\"\n"
				"%1$lld,gap,5,,,\" lead\"\n"
				"%1$lld,gap,6,,,\"trail\t\"\n"
				"%1$lld,gap,7,,,in side\n"
				"%1$lld,gap,8,,,\n",
			 (long long)(base_us + 1));
		assert_file(p, want);
	}
	hourfile_free(hf);
	/* Reopening keeps a last record that holds a quoted newline. */
	hf = mk(ev, 1, 0, 0);
	ck_assert_int_eq(add_ev(hf, base_us + 2, "update", 9, "x\ny\n"), 0);
	ck_assert_int_eq(hourfile_close(hf), 0);
	ck_assert_int_eq(hourfile_open(hf, base_us), 0);
	{
		struct hourfile_stats st;

		hourfile_get_stats(hf, &st);
		ck_assert_uint_eq(st.torn_bytes_cut, 0);
		ck_assert_uint_eq(st.files_opened, 2);
		ck_assert_uint_eq(st.files_created, 0);
	}
	hourfile_free(hf);
	{
		char *got = slurp(p);
		char tail[128];

		snprintf(tail, sizeof(tail), "%lld,update,9,,,\"x\ny\n\"\n",
			 (long long)(base_us + 2));
		ck_assert_str_eq(got + strlen(got) - strlen(tail), tail);
		free(got);
	}
}
END_TEST

START_TEST(test_rollover_hour_and_day)
{
	struct hourfile *hf = mk(l2, 100, 10 * US_PER_SEC, US_PER_SEC);
	int64_t t23 = base_us + 20 * US_PER_HOUR; /* 2026-11-26T23:00Z */
	char p1[512], p2[512], p3[512], w1[512], w2[512], w3[512], full[2048];

	ck_assert_int_eq(add_l2(hf, base_us + 1, "1", "1"), 0);
	ck_assert(hourfile_would_roll(hf, t23 + US_PER_HOUR - 1));
	ck_assert_int_eq(add_l2(hf, t23 + US_PER_HOUR - 1, "2", "2"), 0);
	ck_assert(!hourfile_would_roll(hf, t23 + 7));
	ck_assert(hourfile_would_roll(hf, t23 + US_PER_HOUR));
	ck_assert_int_eq(add_l2(hf, t23 + US_PER_HOUR, "3", "3"), 0);
	/* Rolling wrote out and closed the earlier hours at once. */
	path_of(p1, sizeof(p1), "incremental_book_L2", base_us);
	path_of(p2, sizeof(p2), "incremental_book_L2", t23);
	path_of(p3, sizeof(p3), "incremental_book_L2", t23 + US_PER_HOUR);
	ck_assert_ptr_nonnull(strstr(p2, "/2026-11-26/23/"));
	ck_assert_ptr_nonnull(strstr(p3, "/2026-11-27/00/"));
	l2_line(w1, sizeof(w1), base_us + 1, "1", "1");
	l2_line(w2, sizeof(w2), t23 + US_PER_HOUR - 1, "2", "2");
	l2_line(w3, sizeof(w3), t23 + US_PER_HOUR, "3", "3");
	snprintf(full, sizeof(full), "%s%s", L2_HDR, w1);
	assert_file(p1, full);
	snprintf(full, sizeof(full), "%s%s", L2_HDR, w2);
	assert_file(p2, full);
	assert_file(p3, L2_HDR); /* the row is still buffered */
	hourfile_free(hf);
	snprintf(full, sizeof(full), "%s%s", L2_HDR, w3);
	assert_file(p3, full);
}
END_TEST

START_TEST(test_buffer_size)
{
	struct hourfile *hf = mk(l2, 3, 60 * US_PER_SEC, 60 * US_PER_SEC);
	struct hourfile_stats st;
	char p[512], want[1024], line[256];

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	ck_assert_int_eq(add_l2(hf, base_us, "2", "2"), 0);
	ck_assert_uint_eq(hourfile_buffered(hf), 2);
	assert_file(p, L2_HDR);
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	assert_file(p, L2_HDR);
	ck_assert_int_eq(add_l2(hf, base_us, "3", "3"), 0);
	ck_assert_uint_eq(hourfile_buffered(hf), 0);
	snprintf(want, sizeof(want), "%s", L2_HDR);
	for (int i = 1; i <= 3; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		l2_line(line, sizeof(line), base_us, v, v);
		strncat(want, line, sizeof(want) - strlen(want) - 1);
	}
	assert_file(p, want);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_written, 3);
	ck_assert_uint_eq(st.syncs, 1); /* the header's */
	ck_assert_uint_eq(st.bytes, strlen(want));
	/* fsync_interval: synced once it has passed since the write. */
	fake_now += 60 * US_PER_SEC - 1;
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.syncs, 1);
	fake_now += 1;
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.syncs, 2);
	hourfile_free(hf);
}
END_TEST

START_TEST(test_discard)
{
	struct hourfile *hf = mk(l2, 10, 60 * US_PER_SEC, 60 * US_PER_SEC);
	struct hourfile_stats st;
	char p[512], want[512], line[256];

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	ck_assert_int_eq(add_l2(hf, base_us, "2", "2"), 0);
	ck_assert(!hourfile_take_gap(hf));
	/* The buffered rows go, counted, and the hole is flagged once. */
	hourfile_discard(hf);
	ck_assert_uint_eq(hourfile_buffered(hf), 0);
	ck_assert(hourfile_take_gap(hf));
	ck_assert(!hourfile_take_gap(hf));
	/* Nothing buffered: no hole to flag. */
	hourfile_discard(hf);
	ck_assert(!hourfile_take_gap(hf));
	ck_assert_int_eq(add_l2(hf, base_us, "3", "3"), 0);
	ck_assert_int_eq(hourfile_close(hf), 0);
	l2_line(line, sizeof(line), base_us, "3", "3");
	snprintf(want, sizeof(want), "%s%s", L2_HDR, line);
	assert_file(p, want);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_dropped, 2);
	ck_assert_uint_eq(st.rows_written, 1);
	hourfile_free(hf);
}
END_TEST

START_TEST(test_flush_interval)
{
	struct hourfile *hf = mk(l2, 1000, 10 * US_PER_SEC, 0);
	char p[512], want[1024], line[256];

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	fake_now += 9 * US_PER_SEC;
	ck_assert_int_eq(add_l2(hf, base_us, "2", "2"), 0);
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	fake_now += US_PER_SEC - 1;
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	assert_file(p, L2_HDR);
	fake_now += 1; /* the oldest row is now 10 s old */
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	snprintf(want, sizeof(want), "%s", L2_HDR);
	l2_line(line, sizeof(line), base_us, "1", "1");
	strncat(want, line, sizeof(want) - strlen(want) - 1);
	l2_line(line, sizeof(line), base_us, "2", "2");
	strncat(want, line, sizeof(want) - strlen(want) - 1);
	assert_file(p, want);
	/* The interval counts from the oldest buffered row, checked on
	 * append too. */
	ck_assert_int_eq(add_l2(hf, base_us, "3", "3"), 0);
	fake_now += 10 * US_PER_SEC;
	ck_assert_int_eq(add_l2(hf, base_us, "4", "4"), 0);
	ck_assert_uint_eq(hourfile_buffered(hf), 0);
	/* tick closes the hour once the wall clock has left it. */
	ck_assert_int_eq(hourfile_tick(hf, base_us + US_PER_HOUR), 0);
	ck_assert(!hourfile_would_roll(hf, base_us));
	ck_assert_int_eq(
		hourfile_tick(hf, base_us + US_PER_HOUR + 6 * US_PER_SEC), 0);
	ck_assert(hourfile_would_roll(hf, base_us));
	hourfile_free(hf);
}
END_TEST

/*
 * A thousand symbols' files must not each keep the buffer of their
 * biggest burst: after rows that filled buffer_size are written, the
 * buffer is small again; after a write the flush interval forced, gone.
 */
START_TEST(test_buffer_memory)
{
	struct hourfile *hf = mk(l2, 100, 10 * US_PER_SEC, 0);
	char px[32];

	ck_assert_uint_eq(hourfile_buffer_bytes(hf), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(px, sizeof(px), "%d.125", 1000 + i);
		ck_assert_int_eq(add_l2(hf, base_us, px, "12.5"), 0);
		ck_assert_uint_le(hourfile_buffer_bytes(hf), 16 << 10);
	}
	ck_assert_uint_eq(hourfile_buffered(hf), 0);
	ck_assert_uint_eq(hourfile_buffer_bytes(hf), 0);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	ck_assert_uint_le(hourfile_buffer_bytes(hf), 4 << 10);
	fake_now += 10 * US_PER_SEC;
	ck_assert_int_eq(hourfile_tick(hf, base_us), 0);
	ck_assert_uint_eq(hourfile_buffered(hf), 0);
	ck_assert_uint_eq(hourfile_buffer_bytes(hf), 0);
	hourfile_free(hf);
}
END_TEST

START_TEST(test_row_too_big)
{
	struct hourfile_opts o = { .data_dir = dir,
				   .exchange = "gateio",
				   .symbol = "S",
				   .schema = ev,
				   .buffer_size = 4,
				   .max_buffer_bytes = 100,
				   .flush_interval_us = US_PER_SEC,
				   .clock_us = fake_clock };
	struct hourfile *hf;
	char big[200];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(hourfile_new(&hf, &o), 0);
	ck_assert_int_eq(add_ev(hf, base_us, "gap", 1, big), CORE_ETOOBIG);
	big[60] = '\0';
	/* Rows that fit the cap only together are written out early. */
	ck_assert_int_eq(add_ev(hf, base_us, "gap", 1, big), 0);
	ck_assert_int_eq(add_ev(hf, base_us, "gap", 2, big), 0);
	ck_assert_uint_eq(hourfile_buffered(hf), 1);
	hourfile_free(hf);
}
END_TEST

/* Parse a file strictly: count records; check each has nf fields. */
struct parsed {
	size_t fields, rows, bad_rows;
	int torn;
	long long first_id[1]; /* unused placeholder */
};

static void cb_field(void *s, size_t len, void *ud)
{
	(void)s;
	(void)len;
	((struct parsed *)ud)->fields++;
}

static void cb_row(int term, void *ud)
{
	struct parsed *p = ud;

	if (term == -1)
		p->torn = 1;
	p->rows++;
	p->fields = 0;
}

START_TEST(test_write_failure)
{
	struct hourfile *hf = mk(l2, 4, US_PER_SEC, US_PER_SEC);
	struct hourfile_stats st, st2;
	struct rlimit rl, old;
	struct stat sb;
	char p[512], *got, *nl;
	size_t lines = 0;
	int rc[8], err;
	bool gap;

	signal(SIGXFSZ, SIG_IGN);
	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	ck_assert_int_eq(add_l2(hf, base_us, "1", "1"), 0);
	ck_assert_int_eq(hourfile_sync(hf), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	/* Room for about one and a half rows more: the next write of four
	 * rows stops part-way through the second (EFBIG). libcheck writes
	 * to a file too, so no assertion runs while the limit is low. */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)sb.st_size + 100; /* rows are 64 bytes */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (int i = 0; i < 3; i++)
		rc[i] = add_l2(hf, base_us, "2", "2");
	errno = 0;
	rc[3] = add_l2(hf, base_us, "3", "3");
	err = errno;
	hourfile_get_stats(hf, &st);
	gap = hourfile_take_gap(hf);
	/* Still full: nothing new is written and nothing partial left. */
	for (int i = 0; i < 4; i++)
		rc[4 + i] = add_l2(hf, base_us, "4", "4");
	hourfile_get_stats(hf, &st2);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

	ck_assert(rc[0] == 0 && rc[1] == 0 && rc[2] == 0);
	ck_assert_int_eq(rc[3], CORE_ESYS);
	ck_assert_int_eq(err, EFBIG);
	ck_assert_uint_eq(st.rows_written, 2);
	ck_assert_uint_eq(st.rows_dropped, 3);
	ck_assert_uint_eq(st.write_errors, 1);
	ck_assert(gap);
	ck_assert_int_eq(rc[7], CORE_ESYS);
	ck_assert_uint_eq(st2.rows_written, 2);
	ck_assert_uint_eq(st2.rows_dropped, 7);
	ck_assert_uint_eq(st2.write_errors, 2);
	ck_assert_int_eq(stat(p, &sb), 0);
	got = slurp(p);
	ck_assert_uint_eq((size_t)sb.st_size, strlen(got));
	ck_assert_int_eq(got[sb.st_size - 1], '\n');
	ck_assert_ptr_null(strstr(got, ",4,4\n"));
	free(got);
	/* Space returns: writing resumes in the same file. */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(add_l2(hf, base_us, "5", "5"), 0);
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_written + st.rows_dropped, 13);
	hourfile_free(hf);
	got = slurp(p);
	for (nl = got; (nl = strchr(nl, '\n')) != NULL; nl++)
		lines++;
	ck_assert_uint_eq(lines, 1 + st.rows_written);
	{
		struct csv_parser cp;
		struct parsed ps = { 0 };

		ck_assert_int_eq(csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI),
				 0);
		ck_assert_uint_eq(csv_parse(&cp, got, strlen(got), cb_field,
					    cb_row, &ps),
				  strlen(got));
		ck_assert_int_eq(csv_fini(&cp, cb_field, cb_row, &ps), 0);
		csv_free(&cp);
		ck_assert_int_eq(ps.torn, 0);
		ck_assert_uint_eq(ps.rows, lines);
	}
	ck_assert_ptr_nonnull(strstr(got, ",5,5\n"));
	free(got);
}
END_TEST

START_TEST(test_block_column_checked)
{
	struct hourfile_opts o = { .data_dir = dir,
				   .exchange = "gateio",
				   .symbol = "BTC_USDT",
				   .schema = l2,
				   .block_column = "side" };
	struct hourfile *hf = NULL;

	/* Not a bool column, or none of that name. */
	ck_assert_int_eq(hourfile_new(&hf, &o), CORE_EINVAL);
	o.block_column = "nope";
	ck_assert_int_eq(hourfile_new(&hf, &o), CORE_EINVAL);
	ck_assert_ptr_null(hf);
}
END_TEST

/* A block superseded while (partly) buffered never reaches the file. */
START_TEST(test_block_superseded)
{
	char p[512], want[8192] = L2_HDR;
	struct hourfile *hf = mkb(4);
	struct hourfile_stats st;

	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	add_rows(hf, base_us + 1, true, 4, want, sizeof(want));
	add_rows(hf, base_us + 2, false, 2, want, sizeof(want));
	/* Two of these five are written with the diffs, three buffered. */
	add_rows(hf, base_us + 3, true, 5, NULL, 0);
	hourfile_begin_block(hf);
	add_rows(hf, base_us + 4, true, 3, want, sizeof(want));
	/* A diff right after begin_block cancels it: nothing is cut. */
	hourfile_begin_block(hf);
	add_rows(hf, base_us + 5, false, 1, want, sizeof(want));
	hourfile_begin_block(hf);
	add_rows(hf, base_us + 6, true, 2, want, sizeof(want));
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_superseded, 3);
	ck_assert_uint_eq(st.rows_cut, 2);
	hourfile_free(hf);
	assert_file(p, want);
	/* Reopened: the file ends in a block; a diff keeps it, then a new
	 * block cuts nothing but the rows after that diff. */
	hf = mkb(1);
	add_rows(hf, base_us + 7, false, 1, want, sizeof(want));
	hourfile_begin_block(hf);
	add_rows(hf, base_us + 8, true, 2, want, sizeof(want));
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_cut + st.rows_superseded, 0);
	hourfile_free(hf);
	assert_file(p, want);
}
END_TEST

/* A write that fails in the middle of a block (a full disk) leaves part
 * of it in the file; the block written once there is room replaces it. */
START_TEST(test_block_write_error)
{
	static char want[4096];
	struct hourfile *hf = mkb(1);
	struct hourfile_stats st;
	struct rlimit rl, old;
	struct stat sb;
	char p[512];
	int fails = 0;

	signal(SIGXFSZ, SIG_IGN);
	path_of(p, sizeof(p), "incremental_book_L2", base_us);
	snprintf(want, sizeof(want), "%s", L2_HDR);
	add_rows(hf, base_us + 1, true, 4, want, sizeof(want));
	add_rows(hf, base_us + 2, false, 2, want, sizeof(want));
	ck_assert_int_eq(hourfile_sync(hf), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	/* Room for two and a half rows of the next block. */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)sb.st_size + 170; /* rows: 68 bytes */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (int i = 0; i < 6; i++) {
		char ts[32], price[32];
		const char *f[8] = { "gateio", "BTC_USDT", ts,	  ts,
				     "true",   "bid",	   price, "2" };
		size_t l[8];

		snprintf(ts, sizeof(ts), "%lld", (long long)base_us + 3);
		snprintf(price, sizeof(price), "%d.%d", 200 + i, i);
		for (int k = 0; k < 8; k++)
			l[k] = strlen(f[k]);
		fails += hourfile_append(hf, base_us + 3, f, l, 8) != 0;
	}
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_gt(fails, 0);
	ck_assert(hourfile_take_gap(hf));
	hourfile_begin_block(hf);
	add_rows(hf, base_us + 4, true, 3, want, sizeof(want));
	add_rows(hf, base_us + 5, false, 1, want, sizeof(want));
	hourfile_get_stats(hf, &st);
	ck_assert_uint_eq(st.rows_cut, 2);
	hourfile_free(hf);
	assert_file(p, want);
}
END_TEST

static Suite *hourfile_suite(void)
{
	Suite *s = suite_create("hourfile");
	TCase *tc = tcase_create("hourfile");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_layout);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_header_once_and_checks);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_rollover_hour_and_day);
	tcase_add_test(tc, test_buffer_size);
	tcase_add_test(tc, test_discard);
	tcase_add_test(tc, test_flush_interval);
	tcase_add_test(tc, test_buffer_memory);
	tcase_add_test(tc, test_row_too_big);
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_block_column_checked);
	tcase_add_test(tc, test_block_superseded);
	tcase_add_test(tc, test_block_write_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hourfile_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
