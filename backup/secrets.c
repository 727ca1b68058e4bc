/* The backup secrets file: a mode check, then a small INI parser. */
#include "secrets.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "core.h"
#include "fsutil.h"
#include "banned.h"

struct secret_entry {
	char *section;
	char *key;
	char *value;
};

struct secrets {
	struct secret_entry *v;
	size_t n, cap;
};

static const char *const known_keys[] = {
	"access_key",
	"secret_key",
	"identity",
	"key_passphrase",
};

void secrets_free(struct secrets *sec)
{
	if (sec == NULL)
		return;
	for (size_t i = 0; i < sec->n; i++) {
		free(sec->v[i].section);
		free(sec->v[i].key);
		if (sec->v[i].value != NULL) {
			OPENSSL_cleanse(sec->v[i].value,
					strlen(sec->v[i].value));
			free(sec->v[i].value);
		}
	}
	free(sec->v);
	free(sec);
}

const char *secrets_get(const struct secrets *sec, const char *dest,
			const char *key)
{
	if (sec == NULL)
		return NULL;
	for (size_t i = 0; i < sec->n; i++)
		if (strcmp(sec->v[i].section, dest) == 0 &&
		    strcmp(sec->v[i].key, key) == 0)
			return sec->v[i].value;
	return NULL;
}

/* Trim blanks (space, tab, CR) from both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\r'))
		(*b)++;
	while (*e > *b &&
	       ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

static bool name_ok(const char *b, const char *e)
{
	if (b == e)
		return false;
	for (const char *p = b; p < e; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static bool key_known(const char *b, size_t n)
{
	for (size_t i = 0; i < CORE_ARRAY_LEN(known_keys); i++)
		if (strlen(known_keys[i]) == n &&
		    memcmp(known_keys[i], b, n) == 0)
			return true;
	return false;
}

static int add_entry(struct secrets *sec, const char *section, const char *kb,
		     size_t kn, const char *vb, size_t vn)
{
	struct secret_entry *e;

	if (BUF_GROW(sec->v, sec->cap, sec->n + 1) != 0)
		return CORE_ENOMEM;
	e = &sec->v[sec->n];
	e->section = strdup(section);
	e->key = strndup(kb, kn);
	e->value = strndup(vb, vn);
	sec->n++;
	if (e->section == NULL || e->key == NULL || e->value == NULL)
		return CORE_ENOMEM;
	return 0;
}

/* One "key = value" line inside a section. */
static int parse_pair(struct secrets *sec, const char *section, const char *b,
		      const char *e, const char *name, int line, char *err,
		      size_t errsize)
{
	const char *eq = memchr(b, '=', (size_t)(e - b));
	const char *kb = b, *ke, *vb, *ve = e;

	if (eq == NULL) {
		snprintf(err, errsize, "%s:%d: expected 'key = value'", name,
			 line);
		return CORE_EPARSE;
	}
	ke = eq;
	vb = eq + 1;
	trim(&kb, &ke);
	trim(&vb, &ve);
	if (!key_known(kb, (size_t)(ke - kb))) {
		snprintf(err, errsize, "%s:%d: unknown key '%.*s'", name, line,
			 (int)(ke - kb > 40 ? 40 : ke - kb), kb);
		return CORE_EPARSE;
	}
	if (memchr(vb, '\0', (size_t)(ve - vb)) != NULL || vb == ve) {
		snprintf(err, errsize, "%s:%d: empty or invalid value", name,
			 line);
		return CORE_EPARSE;
	}
	if (sec->n >= SECRETS_MAX_ENTRIES) {
		snprintf(err, errsize, "%s:%d: too many entries", name, line);
		return CORE_ETOOBIG;
	}
	for (size_t i = 0; i < sec->n; i++)
		if (strcmp(sec->v[i].section, section) == 0 &&
		    strlen(sec->v[i].key) == (size_t)(ke - kb) &&
		    memcmp(sec->v[i].key, kb, (size_t)(ke - kb)) == 0) {
			snprintf(err, errsize, "%s:%d: duplicate key '%s'",
				 name, line, sec->v[i].key);
			return CORE_EPARSE;
		}
	return add_entry(sec, section, kb, (size_t)(ke - kb), vb,
			 (size_t)(ve - vb));
}

/* One line; `section` holds the current section name ("" before any). */
static int parse_line(struct secrets *sec, char *section, size_t secsize,
		      const char *b, const char *e, const char *name, int line,
		      char *err, size_t errsize)
{
	trim(&b, &e);
	if (b == e || *b == '#' || *b == ';')
		return 0;
	if (*b == '[') {
		const char *nb = b + 1, *ne = e;

		if (e[-1] != ']' || e - b < 3) {
			snprintf(err, errsize, "%s:%d: bad section header",
				 name, line);
			return CORE_EPARSE;
		}
		ne--;
		trim(&nb, &ne);
		if (!name_ok(nb, ne) || (size_t)(ne - nb) >= secsize) {
			snprintf(err, errsize,
				 "%s:%d: bad destination name in section "
				 "header",
				 name, line);
			return CORE_EPARSE;
		}
		memcpy(section, nb, (size_t)(ne - nb));
		section[ne - nb] = '\0';
		return 0;
	}
	if (section[0] == '\0') {
		snprintf(err, errsize,
			 "%s:%d: key outside a [destination] section", name,
			 line);
		return CORE_EPARSE;
	}
	return parse_pair(sec, section, b, e, name, line, err, errsize);
}

int secrets_parse(const char *name, const char *buf, size_t len,
		  struct secrets **out, char *err, size_t errsize)
{
	struct secrets *sec;
	char section[128] = "";
	const char *p = buf, *end = buf + len;
	int line = 0, rc = 0;

	*out = NULL;
	if (errsize > 0)
		err[0] = '\0';
	if (len > SECRETS_MAX_FILE) {
		snprintf(err, errsize, "%s: larger than %u bytes", name,
			 SECRETS_MAX_FILE);
		return CORE_ETOOBIG;
	}
	sec = calloc(1, sizeof(*sec));
	if (sec == NULL)
		return CORE_ENOMEM;
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;

		line++;
		rc = parse_line(sec, section, sizeof(section), p, le, name,
				line, err, errsize);
		p = nl != NULL ? nl + 1 : end;
	}
	if (rc != 0) {
		if (rc == CORE_ENOMEM)
			snprintf(err, errsize, "%s: out of memory", name);
		secrets_free(sec);
		return rc;
	}
	*out = sec;
	return 0;
}

/* Read an already-opened secrets file after its mode has been checked. */
static int read_fd(int fd, const char *path, char **buf, size_t *len, char *err,
		   size_t errsize)
{
	struct buf b;
	int rc;

	buf_init(&b, SECRETS_MAX_FILE);
	rc = fs_read_fd(fd, &b);
	if (rc == CORE_ETOOBIG)
		snprintf(err, errsize, "%s: larger than %u bytes", path,
			 SECRETS_MAX_FILE);
	else if (rc == CORE_ESYS)
		snprintf(err, errsize, "read '%s': %s", path, strerror(errno));
	if (rc != 0) {
		buf_release(&b);
		return rc;
	}
	*buf = buf_detach(&b, len);
	return *buf != NULL ? 0 : CORE_ENOMEM;
}

int secrets_load(const char *path, struct secrets **out, char *err,
		 size_t errsize)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errsize, "open secrets file '%s': %s", path,
			 strerror(errno));
		return CORE_ESYS;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "secrets file '%s': not a regular file",
			 path);
		close(fd);
		return CORE_EPERM;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errsize,
			 "secrets file '%s' has mode %04o: it must be 0600 "
			 "or stricter (chmod 600 '%s')",
			 path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return CORE_EPERM;
	}
	rc = read_fd(fd, path, &buf, &len, err, errsize);
	close(fd);
	if (rc != 0)
		return rc;
	rc = secrets_parse(path, buf, len, out, err, errsize);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}
