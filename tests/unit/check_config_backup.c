/* Unit suite for core/config_backup: backup's keys and destination URLs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_testlib.h"
#include "core.h"
#include "testutil.h"
#include "banned.h"

static const char design_backup[] =
	"# config/backup.yml\n"
	"config:\n"
	"  data_dir: \"/var/lib/booktape\"\n"
	"  textfile_dir: \"/var/lib/prometheus/node-exporter\"\n"
	"  secrets_file: \"/etc/booktape/backup.secrets\"   # must be 0600 or "
	"stricter\n"
	"  keep_local_days: 7\n"
	"  keep_remote_days: 365\n"
	"  destinations:\n"
	"    - name: \"nas\"\n"
	"      url: \"file:///mnt/nas/booktape\"\n"
	"    - name: \"offsite\"\n"
	"      url: \"sftp://booktape@backup.example.net:22/srv/booktape\"\n"
	"      identity: \"/etc/booktape/id_ed25519\"\n"
	"      known_hosts: \"/etc/booktape/known_hosts\"\n"
	"    - name: \"s3\"\n"
	"      url: \"s3://my-bucket/booktape\"\n"
	"      endpoint: \"https://s3.eu-central-1.amazonaws.com\"\n"
	"      region: \"eu-central-1\"\n"
	"      path_style: false      # S3 credentials are in secrets_file, "
	"under the destination's name\n";

static int load_backup(const char *dir, const char *yaml,
		       struct backup_config *b, char **err)
{
	char path[512];
	int rc;

	write_file(dir, "b.yml", yaml, path, sizeof(path));
	rc = config_load_backup(path, b, err);
	if (*err != NULL)
		strip_dir(*err, dir);
	return rc;
}

static void check_design_backup(const struct backup_config *b)
{
	const struct backup_destination *d = b->dests;

	ck_assert_str_eq(b->data_dir, "/var/lib/booktape");
	ck_assert_str_eq(b->textfile_dir, "/var/lib/prometheus/node-exporter");
	ck_assert_str_eq(b->secrets_file, "/etc/booktape/backup.secrets");
	ck_assert_int_eq(b->keep_local_days, 7);
	ck_assert_int_eq(b->keep_remote_days, 365);
	ck_assert_uint_eq(b->ndests, 3);
	ck_assert_str_eq(d[0].name, "nas");
	ck_assert_int_eq(d[0].kind, DEST_FILE);
	ck_assert_str_eq(d[0].url, "file:///mnt/nas/booktape");
	ck_assert_str_eq(d[0].path, "/mnt/nas/booktape");
	ck_assert_ptr_null(d[0].host);
	ck_assert_ptr_null(d[0].region);
	ck_assert_str_eq(d[1].name, "offsite");
	ck_assert_int_eq(d[1].kind, DEST_SFTP);
	ck_assert_str_eq(d[1].user, "booktape");
	ck_assert_str_eq(d[1].host, "backup.example.net");
	ck_assert_int_eq(d[1].port, 22);
	ck_assert_str_eq(d[1].path, "/srv/booktape");
	ck_assert_str_eq(d[1].identity, "/etc/booktape/id_ed25519");
	ck_assert_str_eq(d[1].known_hosts, "/etc/booktape/known_hosts");
	ck_assert_str_eq(d[2].name, "s3");
	ck_assert_int_eq(d[2].kind, DEST_S3);
	ck_assert_str_eq(d[2].host, "my-bucket");
	ck_assert_str_eq(d[2].path, "booktape");
	ck_assert_str_eq(d[2].endpoint,
			 "https://s3.eu-central-1.amazonaws.com");
	ck_assert_str_eq(d[2].region, "eu-central-1");
	ck_assert(!d[2].path_style);
}

START_TEST(test_backup_shipped)
{
	struct backup_config b;
	char *dir = tu_tmpdir(), *err = NULL;

	ck_assert_int_eq(config_load_backup("config/backup.yml", &b, &err), 0);
	check_design_backup(&b);
	config_release_backup(&b);
	ck_assert_int_eq(load_backup(dir, design_backup, &b, &err), 0);
	check_design_backup(&b);
	config_release_backup(&b);
	config_release_backup(NULL);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_backup_urls)
{
	struct backup_config b;
	const struct backup_destination *d;
	char *dir = tu_tmpdir(), *err = NULL;

	ck_assert_int_eq(
		load_backup(dir,
			    "config:\n"
			    "  secrets_file: s\n"
			    "  destinations:\n"
			    "    - name: root\n"
			    "      url: file:///\n"
			    "    - name: v6\n"
			    "      url: sftp://me@[::1]:2222/home/me/bk/\n"
			    "      identity: id\n"
			    "      known_hosts: kh\n"
			    "    - name: dflt_port\n"
			    "      url: sftp://a.b@10.0.0.1/x\n"
			    "      identity: id\n"
			    "      known_hosts: kh\n"
			    "    - name: minio-1\n"
			    "      url: s3://bkt//pre/fix/\n"
			    "      endpoint: http://127.0.0.1:9000/\n"
			    "      path_style: on\n"
			    "    - name: bare\n"
			    "      url: s3://bucket.x\n"
			    "      endpoint: https://s3.example\n",
			    &b, &err),
		0);
	ck_assert_uint_eq(b.ndests, 5);
	d = b.dests;
	ck_assert_str_eq(d[0].path, "/");
	ck_assert_str_eq(d[1].user, "me");
	ck_assert_str_eq(d[1].host, "::1");
	ck_assert_int_eq(d[1].port, 2222);
	ck_assert_str_eq(d[1].path, "/home/me/bk");
	ck_assert_str_eq(d[2].user, "a.b");
	ck_assert_str_eq(d[2].host, "10.0.0.1");
	ck_assert_int_eq(d[2].port, 22);
	ck_assert_str_eq(d[2].path, "/x");
	ck_assert_str_eq(d[3].host, "bkt");
	ck_assert_str_eq(d[3].path, "pre/fix");
	ck_assert_str_eq(d[3].endpoint, "http://127.0.0.1:9000");
	ck_assert_str_eq(d[3].region, "us-east-1");
	ck_assert(d[3].path_style);
	ck_assert_int_eq(d[3].port, 0);
	ck_assert_ptr_null(d[3].user);
	ck_assert_str_eq(d[4].host, "bucket.x");
	ck_assert_str_eq(d[4].path, "");
	ck_assert(!d[4].path_style);
	config_release_backup(&b);
	tu_rmtree(dir);
}
END_TEST

static const struct err_case backup_errors[] = {
	{ "config:\n  keep_local_days: -1\n  destinations:\n"
	  "    - {name: a, url: \"file:///x\"}\n",
	  "b.yml:2:20: keep_local_days: must be between 0 and 36500, got "
	  "'-1'" },
	{ "config:\n  keep_remote_days: 36501\n  destinations:\n"
	  "    - {name: a, url: \"file:///x\"}\n",
	  "b.yml:2:21: keep_remote_days: must be between 0 and 36500, got "
	  "'36501'" },
	{ "config:\n  data_dir: /d\n",
	  "b.yml:1:1: missing required key 'destinations'" },
	{ "config:\n  destinations: []\n",
	  "b.yml:2:17: destinations: must list between 1 and 64 "
	  "destinations" },
	{ "config:\n  destinations: nas\n",
	  "b.yml:2:17: destinations: expected a sequence of mappings, got a "
	  "scalar" },
	{ "config:\n  destinations:\n    - just a string\n",
	  "b.yml:3:7: destination: expected a mapping, got a scalar" },
	{ "config:\n  destinations:\n    - name: a\n",
	  "b.yml:3:7: missing required key 'url'" },
	{ "config:\n  destinations:\n    - url: file:///x\n",
	  "b.yml:3:7: missing required key 'name'" },
	{ "config:\n  destinations:\n    - name: \"bad name\"\n"
	  "      url: file:///x\n",
	  "b.yml:3:13: name: 'bad name' must be 1 to 64 of A-Z, a-z, 0-9, '_' "
	  "and '-'" },
	{ "config:\n  destinations:\n    - {name: a, url: \"file:///x\"}\n"
	  "    - {name: a, url: \"file:///y\"}\n",
	  "b.yml:4:14: duplicate destination name 'a'" },
	{ "config:\n  destinations:\n    - name: a\n      url: file:///x\n"
	  "      regoin: eu\n",
	  "b.yml:5:7: unknown key 'regoin'; did you mean 'region'?" },
	{ "config:\n  destinations:\n    - name: a\n      url: ftp://h/x\n",
	  "b.yml:4:12: url: 'ftp://h/x' has an unsupported scheme (expected "
	  "file://, sftp:// or s3://)" },
	{ "config:\n  destinations:\n    - name: a\n      url: file://mnt/x\n",
	  "b.yml:4:12: url: 'file://mnt/x': a file URL is "
	  "file:///absolute/path" },
	{ "config:\n  destinations:\n    - name: a\n      url: file:///x\n"
	  "      identity: /k\n",
	  "b.yml:5:7: identity: not used by file destinations" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://host/srv\n",
	  "b.yml:4:12: url: 'sftp://host/srv': an sftp URL needs a user: "
	  "sftp://user@host[:port]/path" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@host\n",
	  "b.yml:4:12: url: 'sftp://u@host': an sftp URL is "
	  "sftp://user@host[:port]/path" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@host:0/x\n",
	  "b.yml:4:12: url: 'sftp://u@host:0/x': the port must be 1..65535" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@:22/x\n",
	  "b.yml:4:12: url: 'sftp://u@:22/x': the host is missing or too "
	  "long" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@h/x\n      known_hosts: kh\n",
	  "b.yml:3:7: missing required key 'identity' for an sftp "
	  "destination" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@h/x\n      identity: id\n"
	  "      endpoint: https://e\n",
	  "b.yml:3:7: missing required key 'known_hosts' for an sftp "
	  "destination\n"
	  "b.yml:6:7: endpoint: not used by sftp destinations" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://My_Bucket/x\n      endpoint: https://e\n",
	  "b.yml:5:12: url: 's3://My_Bucket/x': the S3 bucket must be 3 to 63 "
	  "of a-z, 0-9, '.' and '-'" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n",
	  "b.yml:4:7: missing required key 'endpoint' for an s3 "
	  "destination" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n      endpoint: s3.example.com\n",
	  "b.yml:6:17: endpoint: 's3.example.com' must start with http:// or "
	  "https://" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n      endpoint: https://e\n",
	  "b.yml:1:1: secrets_file: required by the s3 destination 'a' (its "
	  "credentials)" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n      endpoint: https://e\n"
	  "      path_style: \"no\"\n",
	  "b.yml:7:19: path_style: expected true or false, got the quoted "
	  "string 'no' (write it without quotes)" },
};

START_TEST(test_backup_errors)
{
	struct backup_config b;
	char *dir = tu_tmpdir(), *err = NULL;

	ck_assert_int_eq(load_backup(dir, backup_errors[_i].yaml, &b, &err),
			 CORE_ECONFIG);
	ck_assert_ptr_null(b.dests);
	ck_assert_str_eq(err, backup_errors[_i].want);
	free(err);
	tu_rmtree(dir);
}
END_TEST

static void dest_equal(const struct backup_destination *a,
		       const struct backup_destination *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->url, b->url);
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_pstr_eq(a->user, b->user);
	ck_assert_pstr_eq(a->host, b->host);
	ck_assert_int_eq(a->port, b->port);
	ck_assert_pstr_eq(a->path, b->path);
	ck_assert_pstr_eq(a->identity, b->identity);
	ck_assert_pstr_eq(a->known_hosts, b->known_hosts);
	ck_assert_pstr_eq(a->endpoint, b->endpoint);
	ck_assert_pstr_eq(a->region, b->region);
	ck_assert(a->path_style == b->path_style);
}

START_TEST(test_backup_roundtrip)
{
	struct backup_config a, b;
	char *dir = tu_tmpdir(), *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_int_eq(load_backup(dir, design_backup, &a, &err), 0);
	fp = open_memstream(&text, &len);
	ck_assert_int_eq(config_dump_backup(&a, fp), 0);
	fclose(fp);
	ck_assert_msg(load_backup(dir, text, &b, &err) == 0, "%s\n%s", err,
		      text);
	ck_assert_str_eq(a.data_dir, b.data_dir);
	ck_assert_str_eq(a.textfile_dir, b.textfile_dir);
	ck_assert_pstr_eq(a.secrets_file, b.secrets_file);
	ck_assert_int_eq(a.keep_local_days, b.keep_local_days);
	ck_assert_int_eq(a.keep_remote_days, b.keep_remote_days);
	ck_assert_uint_eq(a.ndests, b.ndests);
	for (size_t i = 0; i < a.ndests; i++)
		dest_equal(&a.dests[i], &b.dests[i]);
	free(text);
	config_release_backup(&a);
	config_release_backup(&b);

	/* Without secrets (no s3), secrets_file dumps as null. */
	ck_assert_int_eq(load_backup(dir,
				     "config:\n  destinations:\n"
				     "    - {name: n, url: \"file:///x\"}\n",
				     &a, &err),
			 0);
	ck_assert_ptr_null(a.secrets_file);
	text = NULL;
	fp = open_memstream(&text, &len);
	ck_assert_int_eq(config_dump_backup(&a, fp), 0);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(text, "  secrets_file: null\n"));
	ck_assert_int_eq(load_backup(dir, text, &b, &err), 0);
	ck_assert_ptr_null(b.secrets_file);
	dest_equal(&a.dests[0], &b.dests[0]);
	free(text);
	config_release_backup(&a);
	config_release_backup(&b);
	tu_rmtree(dir);
}
END_TEST

static Suite *config_backup_suite(void)
{
	Suite *s = suite_create("config_backup");
	TCase *tc = tcase_create("config_backup");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_backup_shipped);
	tcase_add_test(tc, test_backup_urls);
	tcase_add_loop_test(tc, test_backup_errors, 0,
			    (int)CORE_ARRAY_LEN(backup_errors));
	tcase_add_test(tc, test_backup_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_backup_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
