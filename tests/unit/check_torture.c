/*
 * Allocation-failure torture of the core modules (tests/torture.h):
 * config, schema, metrics, manifest, buf, hourfile and the tarball
 * reader. The recorder's sync is check_recorder_torture.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "hourfile.h"
#include "ledger.h"
#include "manifest.h"
#include "metrics.h"
#include "schema.h"
#include "sha256.h"
#include "tarball.h"
#include "testutil.h"
#include "torture.h"

static const char recorder_yml[] =
	"config:\n"
	"  connector_name: \"gate_io\"\n"
	"  trading_pairs: [\"BTC-USDT\", \"ETH-USDT\", \"SOL-USDT\"]\n"
	"  depth_limit: 100\n"
	"  snapshot_interval: 300\n"
	"  buffer_size: 100\n"
	"  flush_interval: 10.0\n"
	"  gap_warning_threshold: 50\n"
	"  data_dir: \"/var/lib/booktape\"\n"
	"  metrics_listen: \"127.0.0.1:8000\"\n"
	"  channel: spot.obu\n"
	"  datasets: [incremental_book_L2, book_events]\n"
	"  ws_url: \"wss://example.invalid/ws/v4/\"\n"
	"  rest_url: \"https://example.invalid/api/v4/\"\n";

static int run_config(void *arg)
{
	struct recorder_config cfg;
	char *err = NULL;
	int rc;

	(void)arg;
	ARMED(rc = config_parse_recorder("t.yml", recorder_yml,
					 sizeof(recorder_yml) - 1, &cfg, &err));
	if (rc == 0) {
		ck_assert_uint_eq(cfg.npairs, 3);
		ck_assert_str_eq(cfg.pairs[2], "SOL-USDT");
		ck_assert_str_eq(cfg.channel, "spot.obu");
		ck_assert_ptr_null(err);
	} else {
		ck_assert_uint_eq(cfg.npairs, 0);
		ck_assert_ptr_null(cfg.pairs);
	}
	config_release_recorder(&cfg);
	free(err);
	return rc;
}

START_TEST(test_config)
{
	ck_assert_int_gt(torture(run_config, NULL), 10);
}
END_TEST

static int run_config_errors(void *arg)
{
	static const char bad[] = "config:\n  connector_name: nope\n"
				  "  trading_pairs: []\n  bogus: 1\n";
	struct recorder_config cfg;
	char *err = NULL;
	int rc;

	(void)arg;
	ARMED(rc = config_parse_recorder("t.yml", bad, sizeof(bad) - 1, &cfg,
					 &err));
	ck_assert_int_ne(rc, 0);
	config_release_recorder(&cfg);
	if (fail_at != 0 && allocs >= fail_at) {
		free(err);
		return -1; /* an allocation failed: any error is fine */
	}
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err, "t.yml:4:3: unknown key 'bogus'"));
	free(err);
	return 0;
}

START_TEST(test_config_errors)
{
	ck_assert_int_gt(torture(run_config_errors, NULL), 3);
}
END_TEST

static int run_backup(void *arg)
{
	const char *path = arg;
	struct backup_config cfg;
	char *err = NULL;
	int rc;

	ARMED(rc = config_load_backup(path, &cfg, &err));

	if (rc == 0) {
		ck_assert_uint_eq(cfg.ndests, 3);
		ck_assert_int_eq(cfg.dests[1].kind, DEST_SFTP);
		ck_assert_str_eq(cfg.dests[1].host, "backup.example.net");
	}
	config_release_backup(&cfg);
	free(err);
	return rc;
}

START_TEST(test_backup_config)
{
	char *dir = tu_tmpdir(), path[512];
	static const char yml[] =
		"config:\n"
		"  data_dir: \"/var/lib/booktape\"\n"
		"  secrets_file: \"/etc/booktape/backup.secrets\"\n"
		"  destinations:\n"
		"    - name: \"nas\"\n"
		"      url: \"file:///mnt/nas/booktape\"\n"
		"    - name: \"offsite\"\n"
		"      url: \"sftp://bt@backup.example.net:2222/srv/bt\"\n"
		"      identity: \"/etc/booktape/id_ed25519\"\n"
		"      known_hosts: \"/etc/booktape/known_hosts\"\n"
		"    - name: \"s3\"\n"
		"      url: \"s3://bucket/prefix\"\n"
		"      endpoint: \"https://s3.example.net\"\n";

	snprintf(path, sizeof(path), "%s/backup.yml", dir);
	tu_write(path, yml, sizeof(yml) - 1);
	ck_assert_int_gt(torture(run_backup, path), 10);
	tu_rmtree(dir);
}
END_TEST

static int run_schema(void *arg)
{
	struct schema_set *set = NULL;
	const struct schema *s;
	char *err = NULL;
	int rc;

	(void)arg;
	ARMED(rc = schema_set_load(&set, &err));
	if (rc == 0) {
		ARMED(s = schema_set_find(set, "book_snapshot_25"));
		if (s != NULL)
			ck_assert_uint_eq(s->ncols, 4 + 4 * 25);
		else
			rc = CORE_ENOMEM; /* the expansion met the failure */
	}
	schema_set_free(set);
	free(err);
	return rc;
}

START_TEST(test_schema)
{
	ck_assert_int_gt(torture(run_schema, NULL), 10);
}
END_TEST

static int build_metrics(struct metrics **mp, char **out, size_t *len)
{
	static const char *const labels[] = { "exchange", "symbol", NULL };
	static const double buckets[] = { 0.1, 1, 10 };
	struct metrics *m = metrics_new();
	struct metric *c, *h;
	struct metric_series *s;

	*mp = m;
	if (m == NULL)
		return CORE_ENOMEM;
	c = metrics_family(m, "t_total", "help", METRIC_COUNTER, labels, NULL,
			   0);
	h = metrics_family(m, "t_seconds", "help", METRIC_HISTOGRAM, NULL,
			   buckets, 3);
	if (c == NULL || h == NULL)
		return CORE_ENOMEM;
	s = metric_series(c, (const char *const[]){ "gateio", "BTC_USDT" });
	if (s == NULL)
		return CORE_ENOMEM;
	metric_add(s, 3);
	metric_observe(metric_series(h, NULL), 0.5);
	return metrics_render(m, out, len);
}

static int run_metrics(void *arg)
{
	struct metrics *m = NULL;
	char *out = NULL;
	size_t len;
	int rc;

	(void)arg;
	ARMED(rc = build_metrics(&m, &out, &len));
	if (rc == 0)
		ck_assert_ptr_nonnull(strstr(
			out,
			"t_total{exchange=\"gateio\",symbol=\"BTC_USDT\"} 3\n"));
	free(out);
	metrics_free(m);
	return rc;
}

START_TEST(test_metrics)
{
	ck_assert_int_gt(torture(run_metrics, NULL), 5);
}
END_TEST

static int run_manifest(void *arg)
{
	static const char csv[] =
		"file,bytes,rows,sha256,first_local_timestamp,"
		"last_local_timestamp\n"
		"gateio/2026-11-26/03/BTC_USDT.book_events.csv,100,2,"
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,"
		"1795662000000000,1795662001000000\n"
		"gateio/2026-11-26/03/ETH_USDT.book_events.csv,50,0,"
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		",,\n";
	struct manifest *m = NULL;
	char why[128];
	int rc;

	(void)arg;
	ARMED(rc = manifest_parse(csv, sizeof(csv) - 1, &m, why, sizeof(why)));
	if (rc == 0)
		ck_assert_uint_eq(manifest_count(m), 2);
	else
		ck_assert_ptr_null(m);
	manifest_free(m);
	return rc;
}

START_TEST(test_manifest)
{
	ck_assert_int_gt(torture(run_manifest, NULL), 2);
}
END_TEST

static int build_buf(char **out, size_t *len)
{
	struct buf b;
	int *v = NULL;
	size_t cap = 0;
	int rc = 0;

	buf_init(&b, 0);
	for (int i = 0; rc == 0 && i < 300; i++) {
		rc = buf_printf(&b, "%d,", i);
		if (rc == 0 && (rc = BUF_GROW(v, cap, (size_t)i + 1)) == 0)
			v[i] = i;
	}
	free(v);
	if (rc != 0) {
		buf_release(&b);
		return rc;
	}
	*out = buf_detach(&b, len);
	return *out != NULL ? 0 : CORE_ENOMEM;
}

static int run_buf(void *arg)
{
	char *out = NULL;
	size_t len = 0;
	int rc;

	(void)arg;
	ARMED(rc = build_buf(&out, &len));
	if (rc == 0) {
		ck_assert_ptr_nonnull(strstr(out, ",299,"));
		ck_assert_uint_eq(len, strlen(out));
	}
	free(out);
	return rc;
}

START_TEST(test_buf)
{
	ck_assert_int_gt(torture(run_buf, NULL), 3);
}
END_TEST

struct hf_case {
	char dir[512];
	const struct schema *schema;
	int run;
};

/* Open a fresh hour file, append rows (one quoted), close it. */
static int write_hour(struct hf_case *c, const char *data_dir)
{
	static const char *const f[] = {
		"1795662000000000", "dropped", "", "", "", "a \"quoted\", field"
	};
	size_t lens[6];
	struct hourfile_opts o = { .data_dir = data_dir,
				   .exchange = "gateio",
				   .symbol = "BTC_USDT",
				   .schema = c->schema,
				   .buffer_size = 4 };
	struct hourfile *hf = NULL;
	int rc, rc2;

	for (int i = 0; i < 6; i++)
		lens[i] = strlen(f[i]);
	if ((rc = hourfile_new(&hf, &o)) != 0)
		return rc;
	for (int i = 0; rc == 0 && i < 20; i++)
		rc = hourfile_append(hf, INT64_C(1795662000000000) + i, f, lens,
				     6);
	rc2 = hourfile_close(hf);
	hourfile_free(hf);
	return rc != 0 ? rc : rc2;
}

static int run_hourfile(void *arg)
{
	struct hf_case *c = arg;
	char data_dir[600], path[1024], *text = NULL;
	size_t len;
	int rc;

	/* Each run writes a new file, so a failed run leaves nothing for
	 * the next one to recover. */
	snprintf(data_dir, sizeof(data_dir), "%s/%d", c->dir, c->run++);
	ARMED(rc = write_hour(c, data_dir));
	if (rc == 0) {
		ck_assert_int_eq(hourfile_path_for(path, sizeof(path), data_dir,
						   "gateio", "BTC_USDT",
						   "book_events",
						   INT64_C(1795662000000000)),
				 0);
		ck_assert_int_eq(fs_read_file(path, 1 << 20, &text, &len), 0);
		ck_assert_ptr_nonnull(
			strstr(text, "\"a \"\"quoted\"\", field\""));
		free(text);
	}
	return rc;
}

START_TEST(test_hourfile)
{
	struct schema_set *set = NULL;
	struct hf_case c = { .run = 0 };
	char *err = NULL, *dir = tu_tmpdir();

	ck_assert_int_eq(schema_set_load(&set, &err), 0);
	c.schema = schema_set_find(set, "book_events");
	ck_assert_ptr_nonnull(c.schema);
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	ck_assert_int_gt(torture(run_hourfile, &c), 3);
	schema_set_free(set);
	tu_rmtree(dir);
}
END_TEST

struct tb_case {
	char path[512], dest[512];
	struct manifest *m;
	int run;
};

/* A small archive with one data member and its manifest (not armed). */
static void make_archive(struct tb_case *c, const char *dir)
{
	static const char data[] = "h1,h2\n1,2\n3,4\n";
	struct manifest_entry e = { .file = "ex/d/00/a.csv",
				    .bytes = sizeof(data) - 1 };
	struct tarball_writer *w;
	char why[256], *mbuf;
	size_t mlen;
	int fd;

	snprintf(c->path, sizeof(c->path), "%s/a.tar.gz", dir);
	ck_assert_int_eq(sha256_buf_hex(data, sizeof(data) - 1, e.sha256), 0);
	c->m = manifest_new();
	ck_assert_int_eq(manifest_add(c->m, &e), 0);
	ck_assert_int_eq(manifest_render(c->m, &mbuf, &mlen), 0);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 6), 0);
	ck_assert_int_eq(tarball_add_data(w, e.file, data, sizeof(data) - 1,
					  0644, 1700000000, why, sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_add_data(w, MANIFEST_NAME, mbuf, mlen, 0644,
					  1700000000, why, sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_writer_finish(w, NULL, NULL, why, sizeof(why)),
			 0);
	tarball_writer_free(w);
	close(fd);
	free(mbuf);
}

static int verify_extract(struct tb_case *c, const char *dest, size_t *nfiles)
{
	struct manifest *emb = NULL;
	char why[256];
	int rc = tarball_verify(c->path, c->m, NULL, NULL, &emb, why,
				sizeof(why));

	if (rc == 0 && manifest_count(emb) != 1)
		rc = CORE_ECORRUPT;
	manifest_free(emb);
	if (rc == 0)
		rc = tarball_extract(c->path, dest, NULL, 0, nfiles, why,
				     sizeof(why));
	return rc;
}

static int run_tarball(void *arg)
{
	struct tb_case *c = arg;
	char dest[600];
	size_t n = 0;
	int rc;

	snprintf(dest, sizeof(dest), "%s/%d", c->dest, c->run++);
	ck_assert_int_eq(fs_mkdir_p(dest, 0755), 0);
	ARMED(rc = verify_extract(c, dest, &n));
	if (rc == 0)
		ck_assert_uint_eq(n, 1);
	return rc;
}

START_TEST(test_tarball)
{
	struct tb_case c = { .run = 0 };
	char *dir = tu_tmpdir();

	make_archive(&c, dir);
	snprintf(c.dest, sizeof(c.dest), "%s/x", dir);
	ck_assert_int_gt(torture(run_tarball, &c), 5);
	manifest_free(c.m);
	tu_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("torture");
	TCase *tc = tcase_create("enomem");
	SRunner *sr;
	int failed, run;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_backup_config);
	tcase_add_test(tc, test_schema);
	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_manifest);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_hourfile);
	tcase_add_test(tc, test_tarball);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* In one process, so the sanitizer build's leak check at exit sees
	 * every error path the torture walked. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
