/*
 * tarball_verify: read a .tar.gz end to end, check the gzip stream, every
 * member's size and sha256 against the manifest (given or embedded),
 * refuse unsafe, repeated or unlisted members.
 */
#include "tarball.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "buf.h"
#include "core.h"
#include "gzsrc.h"
#include "manifest.h"
#include "sha256.h"
#include "banned.h"

struct seen {
	char *name;
	uint64_t bytes;
	char sha[SHA256_HEX_LEN];
};

struct vstate {
	struct seen *v;
	size_t n, cap;
	struct buf manifest, cuts; /* member contents */
	int has_manifest, has_cuts;
};

static void vstate_release(struct vstate *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i].name);
	free(st->v);
	buf_release(&st->manifest);
	buf_release(&st->cuts);
}

int tarball__safe_name(const char *name)
{
	size_t n = strlen(name), comp = 0;

	if (n == 0 || n > MANIFEST_NAME_MAX || name[0] == '/')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (name[i] == '/' || name[i] == '\0') {
			if (comp == 0 || (comp == 1 && name[i - 1] == '.') ||
			    (comp == 2 && name[i - 1] == '.' &&
			     name[i - 2] == '.'))
				return 0;
			comp = 0;
		} else {
			comp++;
		}
	}
	return 1;
}

int tarball__check_member(struct archive_entry *e, char *why, size_t whysize)
{
	const char *name = archive_entry_pathname(e);

	if (name == NULL || !tarball__safe_name(name) ||
	    archive_entry_filetype(e) != AE_IFREG) {
		core_set_why(why, whysize,
			     "member '%s': not a safe regular file",
			     name ? name : "?");
		return CORE_ECORRUPT;
	}
	return 0;
}

/* Hash one member's data; keep it when it is MANIFEST.csv or CUTS.csv. */
static int hash_member(struct archive *a, struct gzsrc *s, struct vstate *st,
		       struct seen *cur, int meta, char *why, size_t whysize)
{
	struct sha256 *h = sha256_new();
	const void *buf;
	size_t n;
	la_int64_t off;
	int r, rc = 0;

	if (h == NULL)
		return CORE_ENOMEM;
	while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
		if ((uint64_t)off != cur->bytes) {
			core_set_why(why, whysize, "member '%s': sparse data",
				     cur->name);
			rc = CORE_ECORRUPT;
			break;
		}
		cur->bytes += n;
		if ((rc = sha256_update(h, buf, n)) != 0)
			break;
		if (meta == 1)
			rc = buf_add(&st->manifest, buf, n);
		else if (meta == 2)
			rc = buf_add(&st->cuts, buf, n);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = gzsrc_read_failed(a, s, why, whysize);
	if (rc == 0)
		rc = sha256_final_hex(h, cur->sha);
	sha256_free(h);
	return rc;
}

static int seen_find(const struct vstate *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int verify_member(struct archive *a, struct gzsrc *s,
			 struct archive_entry *e, struct vstate *st, char *why,
			 size_t whysize)
{
	const char *name = archive_entry_pathname(e);
	struct seen *cur;
	int meta = 0, rc;

	if ((rc = tarball__check_member(e, why, whysize)) != 0)
		return rc;
	if (seen_find(st, name) >= 0) {
		core_set_why(why, whysize, "member '%s': appears twice", name);
		return CORE_ECORRUPT;
	}
	if (BUF_GROW(st->v, st->cap, st->n + 1) != 0)
		return CORE_ENOMEM;
	cur = &st->v[st->n];
	memset(cur, 0, sizeof(*cur));
	cur->name = strdup(name);
	if (cur->name == NULL)
		return CORE_ENOMEM;
	st->n++;
	if (strcmp(name, MANIFEST_NAME) == 0)
		meta = st->has_manifest = 1;
	else if (strcmp(name, CUTS_NAME) == 0)
		meta = 2, st->has_cuts = 1;
	rc = hash_member(a, s, st, cur, meta, why, whysize);
	if (rc == 0 && archive_entry_size(e) != (la_int64_t)cur->bytes) {
		core_set_why(why, whysize,
			     "member '%s': %llu bytes, header says %lld", name,
			     (unsigned long long)cur->bytes,
			     (long long)archive_entry_size(e));
		rc = CORE_ECORRUPT;
	}
	return rc;
}

static int read_all_members(struct gzsrc *s, struct vstate *st, char *why,
			    size_t whysize)
{
	struct archive *a;
	struct archive_entry *e;
	int r, rc = gzsrc_reader_open(s, &a, why, whysize);

	if (rc != 0)
		return rc;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		rc = verify_member(a, s, e, st, why, whysize);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = gzsrc_read_failed(a, s, why, whysize);
	archive_read_free(a);
	if (rc == 0)
		rc = gzsrc_drain(s, why, whysize);
	return rc == CORE_ESYS ? CORE_ESYS : rc ? CORE_ECORRUPT : 0;
}

static int embedded_manifest(struct vstate *st, struct manifest **out,
			     char *why, size_t whysize)
{
	char sub[200];
	int rc;

	*out = NULL;
	if (!st->has_manifest) {
		core_set_why(why, whysize, "no %s member", MANIFEST_NAME);
		return CORE_ECORRUPT;
	}
	rc = manifest_parse(buf_str(&st->manifest), buf_len(&st->manifest), out,
			    sub, sizeof(sub));
	if (rc == 0 && st->has_cuts)
		rc = manifest_parse_cuts(*out, buf_str(&st->cuts),
					 buf_len(&st->cuts), sub, sizeof(sub));
	if (rc != 0) {
		core_set_why(why, whysize, "%s: %s",
			     st->has_cuts ? "MANIFEST.csv/CUTS.csv"
					  : MANIFEST_NAME,
			     rc == CORE_ENOMEM ? "out of memory" : sub);
		manifest_free(*out);
		*out = NULL;
		return rc == CORE_ENOMEM ? rc : CORE_ECORRUPT;
	}
	return 0;
}

/* Every listed file present once with its size and hash; nothing else. */
static int match_manifest(const struct vstate *st, const struct manifest *m,
			  char *why, size_t whysize)
{
	size_t data_members = 0;

	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i].name, MANIFEST_NAME) != 0 &&
		    strcmp(st->v[i].name, CUTS_NAME) != 0)
			data_members++;
	for (size_t i = 0; i < manifest_count(m); i++) {
		const struct manifest_entry *e = manifest_get(m, i);
		int k = seen_find(st, e->file);

		if (k < 0) {
			core_set_why(why, whysize, "member '%s': missing",
				     e->file);
			return CORE_ECORRUPT;
		}
		if (st->v[k].bytes != e->bytes) {
			core_set_why(
				why, whysize,
				"member '%s': %llu bytes, manifest says %llu",
				e->file, (unsigned long long)st->v[k].bytes,
				(unsigned long long)e->bytes);
			return CORE_ECORRUPT;
		}
		if (strcmp(st->v[k].sha, e->sha256) != 0) {
			core_set_why(why, whysize,
				     "member '%s': sha256 mismatch", e->file);
			return CORE_ECORRUPT;
		}
	}
	if (data_members != manifest_count(m)) {
		core_set_why(why, whysize, "%zu members not in the manifest",
			     data_members - manifest_count(m));
		return CORE_ECORRUPT;
	}
	return 0;
}

int tarball_verify(const char *path, const struct manifest *expect,
		   char sha256_hex[SHA256_HEX_LEN], uint64_t *archive_bytes,
		   struct manifest **embedded, char *why, size_t whysize)
{
	struct vstate st = { 0 };
	struct manifest *m = NULL;
	struct gzsrc s;
	char hex[SHA256_HEX_LEN], sub[200];
	int rc;

	buf_init(&st.manifest, MANIFEST_MAX_BYTES);
	buf_init(&st.cuts, MANIFEST_MAX_BYTES);
	if (embedded != NULL)
		*embedded = NULL;
	if ((rc = gzsrc_open(&s, path, why, whysize)) != 0)
		goto out;
	rc = read_all_members(&s, &st, why, whysize);
	if (rc == 0)
		rc = embedded_manifest(&st, &m, why, whysize);
	if (rc == 0)
		rc = match_manifest(&st, m, why, whysize);
	if (rc == 0 && expect != NULL &&
	    manifest_compare(expect, m, sub, sizeof(sub)) != 0) {
		core_set_why(why, whysize, "manifest differs from expected: %s",
			     sub);
		rc = CORE_ECORRUPT;
	}
	if (rc == 0)
		rc = sha256_final_hex(s.raw_sha, hex);
	if (rc != 0)
		goto out;
	if (sha256_hex != NULL)
		memcpy(sha256_hex, hex, SHA256_HEX_LEN);
	if (archive_bytes != NULL)
		*archive_bytes = s.raw_bytes;
	if (embedded != NULL) {
		*embedded = m;
		m = NULL; /* transferred */
	}
out:
	manifest_free(m);
	vstate_release(&st);
	gzsrc_close(&s);
	return rc;
}
