// SPDX-License-Identifier: GPL-2.0-only
/*
 * Provisioning files: the long-term key of one terminal or network element, as gkctl hands it
 * out ("id <ID>\nkey <64 hex>\n"). The file is read and written through one small stack buffer
 * rather than stdio, so no copy of the key is left in a freed heap buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gatekey/auc/keystore.h"
#include "gatekey/runtime/fdio.h"

/* "id " + ID + "\n" + "key " + 64 hex + "\n", with room for comments and CRLF line ends. */
#define PROV_MAX 1024

static int provision_write(const char *path, const char *id, const uint8_t key[GK_KEY_LEN],
                           bool sync)
{
	char tmp[4096], buf[PROV_MAX], hex[2 * GK_KEY_LEN + 1];
	int ret, fd, n;

	if (!gk_ks_id_valid(id))
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	gk_hex_encode(key, GK_KEY_LEN, hex);
	n = snprintf(buf, sizeof(buf), "id %s\nkey %s\n", id, hex);
	OPENSSL_cleanse(hex, sizeof(hex));

	/* mkstemp creates 0600 whatever the umask; the rename then replaces any older file in one
	 * step, so a reader sees the old key or the new one, never half a file. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (!ret)
		ret = gk_write_all(fd, buf, (size_t)n);
	/* fsync before rename: otherwise a crash can leave an empty file under the final name. */
	if (!ret && sync && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

int gk_provision_write(const char *path, const char *id, const uint8_t key[GK_KEY_LEN])
{
	return provision_write(path, id, key, true);
}

int gk_provision_write_nosync(const char *path, const char *id, const uint8_t key[GK_KEY_LEN])
{
	return provision_write(path, id, key, false);
}

static int decode_key(const char *s, size_t len, uint8_t key[GK_KEY_LEN])
{
	if (len != 2 * GK_KEY_LEN || gk_hex_decode(s, len, key, GK_KEY_LEN) != GK_KEY_LEN)
		return -EINVAL;
	return 0;
}

int gk_provision_read(const char *path, char id[GK_ID_MAX + 1], uint8_t key[GK_KEY_LEN], char *err,
                      size_t errlen)
{
	char buf[PROV_MAX + 1];
	struct stat st;
	size_t len = 0;
	bool have_id = false, have_key = false;
	unsigned lineno = 0;
	int ret = -EINVAL;

	/* fstat on the opened file, not stat on the name: the mode checked is the mode of the
	 * bytes read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
		         "%s: mode %04o lets group or others read a key; refused (chmod 600 %s)",
		         path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -EPERM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1) {
			snprintf(err, errlen, "%s: larger than %d bytes: not a provisioning file",
			         path, PROV_MAX);
			goto out;
		}
	}
	buf[len] = '\0';

	for (char *line = buf, *next; line < buf + len; line = next) {
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : buf + len;
		if (nl)
			*nl = '\0';
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "id ", 3) == 0 && !have_id) {
			if (!gk_ks_id_valid(line + 3)) {
				snprintf(err, errlen,
				         "%s:%u: invalid ID (1..%d printable characters, no "
				         "whitespace, quotes or backslash)",
				         path, lineno, GK_ID_MAX);
				goto out;
			}
			strcpy(id, line + 3);
			have_id = true;
		} else if (strncmp(line, "key ", 4) == 0 && !have_key) {
			if (decode_key(line + 4, n - 4, key) < 0) {
				snprintf(err, errlen, "%s:%u: expected \"key <64 hex digits>\"",
				         path, lineno);
				goto out;
			}
			have_key = true;
		} else {
			snprintf(err, errlen,
			         "%s:%u: expected one \"id <ID>\" and one \"key <64 hex>\" line",
			         path, lineno);
			goto out;
		}
	}
	if (!have_id || !have_key) {
		snprintf(err, errlen, "%s: no \"%s\" line", path,
		         have_id ? "key <64 hex>" : "id <ID>");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		OPENSSL_cleanse(key, GK_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return ret;
}
