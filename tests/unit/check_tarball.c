/* Unit suite for core/tarball: write, verify (corruption cases), extract. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "manifest.h"
#include "sha256.h"
#include "tarball.h"
#include "testutil.h"
#include "banned.h"

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(dir);
	dir = NULL;
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Two data files of `n` lines each, returned as their paths. */
static void make_inputs(char a[512], char b[512], int n)
{
	FILE *fp;

	path_in(a, 512, "a.csv");
	path_in(b, 512, "b.csv");
	fp = fopen(a, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "h1,h2\n");
	for (int i = 0; i < n; i++)
		fprintf(fp, "%d,%d.%03d\n", i, i * 7, i % 1000);
	fclose(fp);
	tu_write(b, "x,y\n1,2\n3,4", 11); /* no final newline */
}

struct built {
	char path[512];
	char sha[SHA256_HEX_LEN];
	uint64_t bytes;
	struct manifest *m;
};

/*
 * Archive a.csv whole and b.csv cut to `blimit` bytes with a manifest;
 * if lie_bytes, the manifest claims one byte more for a.csv.
 */
static void build(struct built *out, int64_t blimit, int lie_bytes)
{
	char a[512], b[512], why[256], *mbuf;
	struct tarball_writer *w;
	struct tarball_file_info ia, ib;
	struct manifest_entry e = { 0 };
	size_t mlen;
	int fd;

	make_inputs(a, b, 2000);
	path_in(out->path, sizeof(out->path), "out.tar.gz");
	fd = open(out->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 6), 0);
	ck_assert_int_eq(tarball_add_file(w, "ex/d/00/a.csv", a, -1, NULL, NULL,
					  &ia, why, sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_add_file(w, "ex/d/00/b.csv", b, blimit, NULL,
					  NULL, &ib, why, sizeof(why)),
			 0);
	out->m = manifest_new();
	e.file = "ex/d/00/a.csv";
	e.bytes = ia.bytes + (lie_bytes ? 1 : 0);
	memcpy(e.sha256, ia.sha256, SHA256_HEX_LEN);
	ck_assert_int_eq(manifest_add(out->m, &e), 0);
	e.file = "ex/d/00/b.csv";
	e.bytes = ib.bytes;
	memcpy(e.sha256, ib.sha256, SHA256_HEX_LEN);
	ck_assert_int_eq(manifest_add(out->m, &e), 0);
	ck_assert_int_eq(manifest_render(out->m, &mbuf, &mlen), 0);
	ck_assert_int_eq(tarball_add_data(w, MANIFEST_NAME, mbuf, mlen, 0644,
					  1700000000, why, sizeof(why)),
			 0);
	free(mbuf);
	ck_assert_int_eq(tarball_writer_finish(w, out->sha, &out->bytes, why,
					       sizeof(why)),
			 0);
	tarball_writer_free(w);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
}

START_TEST(test_roundtrip)
{
	struct built t;
	struct manifest *emb;
	char sha[SHA256_HEX_LEN], why[256], out[512], cmd[2048];
	uint64_t bytes;
	size_t n;

	build(&t, 8, 0);
	ck_assert_int_eq(sha256_file_hex(t.path, sha, &bytes), 0);
	ck_assert_str_eq(sha, t.sha);
	ck_assert_uint_eq(bytes, t.bytes);
	ck_assert_int_eq(tarball_verify(t.path, t.m, sha, &bytes, &emb, why,
					sizeof(why)),
			 0);
	ck_assert_str_eq(sha, t.sha);
	ck_assert_uint_eq(manifest_count(emb), 2);
	ck_assert_uint_eq(manifest_get(emb, 1)->bytes, 8);
	manifest_free(emb);

	path_in(out, sizeof(out), "x");
	ck_assert_int_eq(mkdir(out, 0755), 0);
	ck_assert_int_eq(
		tarball_extract(t.path, out, NULL, 0, &n, why, sizeof(why)), 0);
	ck_assert_uint_eq(n, 2);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && cmp a.csv x/ex/d/00/a.csv && "
		 "head -c 8 b.csv | cmp - x/ex/d/00/b.csv && "
		 "test ! -e x/MANIFEST.csv && mkdir g && tar -xzf out.tar.gz "
		 "-C g && cmp a.csv g/ex/d/00/a.csv && "
		 "cmp x/ex/d/00/b.csv g/ex/d/00/b.csv && "
		 "test \"$(stat -c %%Y a.csv)\" = "
		 "\"$(stat -c %%Y x/ex/d/00/a.csv)\"",
		 dir);
	ck_assert_int_eq(system(cmd), 0);
	/* Existing files are refused, then replaced when asked. */
	ck_assert_int_eq(tarball_extract(t.path, out, NULL, 0, &n, why,
					 sizeof(why)),
			 CORE_EEXIST);
	{
		const char *names[] = { "ex/d/00/b.csv", NULL };
		const char *missing[] = { "nope", NULL };

		ck_assert_int_eq(tarball_extract(t.path, out, names,
						 TARBALL_OVERWRITE, &n, why,
						 sizeof(why)),
				 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(tarball_extract(t.path, out, missing, 0, &n,
						 why, sizeof(why)),
				 CORE_ENOENT);
	}
	manifest_free(t.m);
}
END_TEST

static int verify_fails(const char *path, const char *needle)
{
	char why[256] = "";
	int rc = tarball_verify(path, NULL, NULL, NULL, NULL, why, sizeof(why));

	if (rc == 0)
		return 0;
	if (needle != NULL && strstr(why, needle) == NULL) {
		fprintf(stderr, "reason '%s' lacks '%s'\n", why, needle);
		return 0;
	}
	return 1;
}

/* Flip one bit at `from_end` bytes before the end, or the middle if 0. */
static void flip_byte(const char *path, off_t from_end)
{
	struct stat st;
	unsigned char c;
	off_t off;
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	off = from_end ? st.st_size + from_end : st.st_size / 2;
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

START_TEST(test_flipped_byte)
{
	struct built t;

	build(&t, -1, 0);
	/* Flip a byte in the middle of the deflate stream. */
	flip_byte(t.path, 0);
	ck_assert(verify_fails(t.path, NULL));
	flip_byte(t.path, 0);
	ck_assert(!verify_fails(t.path, NULL));
	/* A flip in the gzip trailer (CRC32) alone. */
	flip_byte(t.path, -6);
	ck_assert(verify_fails(t.path, "gzip"));
	manifest_free(t.m);
}
END_TEST

START_TEST(test_truncated)
{
	struct built t;
	struct stat st;

	build(&t, -1, 0);
	ck_assert_int_eq(stat(t.path, &st), 0);
	/* Only the gzip trailer gone: libarchive alone would not notice. */
	ck_assert_int_eq(truncate(t.path, st.st_size - 4), 0);
	ck_assert(verify_fails(t.path, "gzip"));
	ck_assert_int_eq(truncate(t.path, st.st_size / 2), 0);
	ck_assert(verify_fails(t.path, NULL));
	manifest_free(t.m);
}
END_TEST

START_TEST(test_trailing_garbage)
{
	struct built t;
	int fd;

	build(&t, -1, 0);
	fd = open(t.path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "junk", 4), 4);
	close(fd);
	ck_assert(verify_fails(t.path, "trailing"));
	manifest_free(t.m);
}
END_TEST

START_TEST(test_short_entry)
{
	struct built t;

	build(&t, -1, 1);
	ck_assert(verify_fails(t.path, "manifest says"));
	manifest_free(t.m);
}
END_TEST

START_TEST(test_expect_differs)
{
	struct built t;
	struct manifest *other = manifest_new();
	struct manifest_entry e = { .file = "ex/d/00/a.csv", .bytes = 1 };
	char why[256];

	build(&t, -1, 0);
	memset(e.sha256, 'a', 64);
	ck_assert_int_eq(manifest_add(other, &e), 0);
	ck_assert_int_eq(tarball_verify(t.path, other, NULL, NULL, NULL, why,
					sizeof(why)),
			 CORE_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(why, "expected"));
	manifest_free(other);
	manifest_free(t.m);
}
END_TEST

/* An archive with an extra member, and one without a manifest. */
START_TEST(test_extra_and_missing_members)
{
	char p[512], why[256], *mbuf;
	struct tarball_writer *w;
	struct manifest *m = manifest_new();
	size_t mlen;
	int fd;

	path_in(p, sizeof(p), "x.tar.gz");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
	ck_assert_int_eq(tarball_add_data(w, "extra.csv", "a\n", 2, 0644, 1,
					  why, sizeof(why)),
			 0);
	ck_assert_int_eq(manifest_render(m, &mbuf, &mlen), 0);
	ck_assert_int_eq(tarball_add_data(w, MANIFEST_NAME, mbuf, mlen, 0644, 1,
					  why, sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_writer_finish(w, NULL, NULL, why, sizeof(why)),
			 0);
	tarball_writer_free(w);
	close(fd);
	ck_assert(verify_fails(p, "not in the manifest"));

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
	ck_assert_int_eq(tarball_add_data(w, "a.csv", "a\n", 2, 0644, 1, why,
					  sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_writer_finish(w, NULL, NULL, why, sizeof(why)),
			 0);
	tarball_writer_free(w);
	close(fd);
	ck_assert(verify_fails(p, "no MANIFEST"));
	free(mbuf);
	manifest_free(m);
}
END_TEST

START_TEST(test_unsafe_names)
{
	static const char *const bad[] = { "../evil", "/abs", "a/../../b",
					   "a//b" };
	char p[512], why[256], out[512];
	struct tarball_writer *w;
	int fd;

	path_in(out, sizeof(out), "dst");
	ck_assert_int_eq(mkdir(out, 0755), 0);
	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		path_in(p, sizeof(p), "bad.tar.gz");
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
		ck_assert_int_eq(tarball_add_data(w, bad[i], "a\n", 2, 0644, 1,
						  why, sizeof(why)),
				 0);
		ck_assert_int_eq(tarball_writer_finish(w, NULL, NULL, why,
						       sizeof(why)),
				 0);
		tarball_writer_free(w);
		close(fd);
		ck_assert_int_eq(tarball_extract(p, out, NULL,
						 TARBALL_OVERWRITE, NULL, why,
						 sizeof(why)),
				 CORE_ECORRUPT);
		ck_assert(verify_fails(p, "not a safe"));
	}
	ck_assert_int_ne(access("/abs", F_OK), 0);
}
END_TEST

/* A source that grows while it is archived is refused. */
static int grow_cb(void *ud, const char *buf, size_t len)
{
	const char *path = ud;
	FILE *fp = fopen(path, "a");

	(void)buf;
	(void)len;
	if (fp == NULL)
		return CORE_ESYS;
	fputs("more,rows\n", fp);
	fclose(fp);
	return 0;
}

static int reject_cb(void *ud, const char *buf, size_t len)
{
	(void)ud;
	(void)buf;
	(void)len;
	return CORE_ESCHEMA;
}

START_TEST(test_changed_source)
{
	char a[512], b[512], p[512], why[256];
	struct tarball_writer *w;
	struct tarball_file_info info;
	int fd;

	make_inputs(a, b, 10);
	path_in(p, sizeof(p), "c.tar.gz");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
	ck_assert_int_eq(tarball_add_file(w, "a.csv", a, -1, grow_cb, a, &info,
					  why, sizeof(why)),
			 CORE_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(why, "changed"));
	ck_assert_int_eq(tarball_writer_finish(w, NULL, NULL, why, sizeof(why)),
			 CORE_EINVAL);
	tarball_writer_free(w);

	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
	ck_assert_int_eq(tarball_add_file(w, "b.csv", b, 100, NULL, NULL, &info,
					  why, sizeof(why)),
			 CORE_EINVAL);
	tarball_writer_free(w);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
	ck_assert_int_eq(tarball_add_file(w, "b.csv", b, -1, reject_cb, NULL,
					  &info, why, sizeof(why)),
			 CORE_ESCHEMA);
	tarball_writer_free(w);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 10), CORE_EINVAL);
	close(fd);
}
END_TEST

/*
 * Several 1 MiB compression blocks at each gzip level extreme: one valid
 * gzip member (gzip -t), GNU tar and our verify agree with the source.
 */
START_TEST(test_multiblock_levels)
{
	static const int levels[] = { 0, 1, 6, 9 };
	char src[512], p[512], why[256], cmd[2048], *mbuf;
	struct tarball_writer *w;
	struct tarball_file_info info;
	struct manifest_entry e = { .file = "big.csv" };
	struct manifest *m;
	size_t mlen;
	FILE *fp;
	int fd;

	path_in(src, sizeof(src), "big.csv");
	fp = fopen(src, "w");
	ck_assert_ptr_nonnull(fp);
	srand(1);
	for (int i = 0; i < 120000; i++)
		fprintf(fp, "gateio,BTC_USDT,%d,%d,false,bid,9%04d.%d,%d\n", i,
			i * 3, rand() % 10000, rand() % 10, rand());
	fclose(fp);
	for (size_t k = 0; k < CORE_ARRAY_LEN(levels); k++) {
		path_in(p, sizeof(p), "big.tar.gz");
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_eq(tarball_writer_new(&w, fd, levels[k]), 0);
		ck_assert_int_eq(tarball_add_file(w, "big.csv", src, -1, NULL,
						  NULL, &info, why,
						  sizeof(why)),
				 0);
		ck_assert_uint_gt(info.bytes, 3u << 20);
		m = manifest_new();
		e.bytes = info.bytes;
		memcpy(e.sha256, info.sha256, SHA256_HEX_LEN);
		ck_assert_int_eq(manifest_add(m, &e), 0);
		ck_assert_int_eq(manifest_render(m, &mbuf, &mlen), 0);
		ck_assert_int_eq(tarball_add_data(w, MANIFEST_NAME, mbuf, mlen,
						  0644, 1, why, sizeof(why)),
				 0);
		ck_assert_int_eq(tarball_writer_finish(w, NULL, NULL, why,
						       sizeof(why)),
				 0);
		tarball_writer_free(w);
		close(fd);
		free(mbuf);
		ck_assert_int_eq(tarball_verify(p, m, NULL, NULL, NULL, why,
						sizeof(why)),
				 0);
		manifest_free(m);
		snprintf(cmd, sizeof(cmd),
			 "cd '%s' && gzip -t big.tar.gz && "
			 "tar -xzOf big.tar.gz big.csv | cmp - big.csv",
			 dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

static Suite *tarball_suite(void)
{
	Suite *s = suite_create("tarball");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_flipped_byte);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_short_entry);
	tcase_add_test(tc, test_expect_differs);
	tcase_add_test(tc, test_extra_and_missing_members);
	tcase_add_test(tc, test_unsafe_names);
	tcase_add_test(tc, test_changed_source);
	tcase_add_test(tc, test_multiblock_levels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tarball_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
