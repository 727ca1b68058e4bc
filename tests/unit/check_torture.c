/*
 * Allocation-failure torture (after curl's runtests -t): the core code
 * is linked with malloc, calloc, realloc, strdup, strndup and asprintf
 * wrapped (see the GNUmakefile), and each scenario is run again and again
 * with the Nth allocation failing, N = 1, 2, ... until a run meets no
 * failure. Every run must return cleanly (no crash; under the sanitizer
 * build, no leak) and, when it reports success, a whole result.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "ledger.h"
#include "manifest.h"
#include "metrics.h"
#include "schema.h"
#include "testutil.h"

/* The wrapped allocators; the real ones are __real_*. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);

static long fail_at; /* the allocation to fail (1-based), 0 = none */
static long allocs;  /* allocations seen in armed code this run */
static int armed;    /* counting: only the code under test, never check's */

/* Run one statement of code under test with allocations counted. */
#define ARMED(stmt)        \
	do {               \
		armed = 1; \
		stmt;      \
		armed = 0; \
	} while (0)

static int should_fail(void)
{
	return armed && fail_at != 0 && ++allocs == fail_at;
}

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t s)
{
	return should_fail() ? NULL : __real_calloc(n, s);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (should_fail()) {
		*out = NULL;
		return -1;
	}
	va_start(ap, fmt);
	r = vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * Run `fn` with allocation 1, 2, ... failing until a run completes with
 * no failure injected; return how many failing runs there were.
 */
static long torture(int (*fn)(void *), void *arg)
{
	long n;

	for (n = 1; n < 100000; n++) {
		int rc;

		fail_at = n;
		allocs = 0;
		rc = fn(arg);
		fail_at = 0;
		if (allocs < n) {
			/* Nothing failed: the run must have succeeded. */
			ck_assert_msg(rc == 0, "clean run failed: %d", rc);
			return n - 1;
		}
	}
	ck_abort_msg("no clean run within 100000 allocations");
	return 0;
}

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
