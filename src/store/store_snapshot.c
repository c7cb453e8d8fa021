/* store_snapshot.c — the disk snapshot of the in-memory registration store, so a
 * restart keeps the bindings of RFC 3261 §10.3. Written atomically (path.tmp,
 * fsync, rename); read back with every length checked: a corrupt or truncated
 * file is an error naming the file and byte offset, never a crash.
 *
 * Format v2, little-endian:
 *   header  "SIPSTORE" u32 version=2 u32 header_len=24 i64 written_at_ms
 *   record  u32 len (>0), then len bytes: one binding in the layout of
 *           binding_codec.h (fixed part, then seven strings)
 *   trailer u32 0, u64 record count, u64 FNV-1a-64 of every byte before it
 * Version 1 (written before bindings had a SIP Server node) is the same with
 * six strings, no node; it still loads, its bindings with an empty node. Only
 * v2 is written.
 * conn_id is not saved: connection ids mean nothing after a restart (and may be
 * reused for another peer), so reloaded bindings are reached by address. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/binding_codec.h"
#include "store/store_mem_internal.h"

#define SNAP_MAGIC	 "SIPSTORE"
#define SNAP_VERSION	 2u
#define SNAP_VERSION_V1	 1u /* six strings: no node */
#define SNAP_HEADER_LEN	 24u
#define SNAP_TRAILER_LEN 20u /* u32 0 + u64 count + u64 checksum */

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}
#define FNV64_INIT 14695981039346656037ull

/* ---- writing ---- */

struct snap_writer {
	FILE *f;
	uint64_t h;
	unsigned char *buf;
	size_t cap;
	size_t count;
	int64_t now_ms;
	int err;
};

static void w_bytes(struct snap_writer *w, const void *p, size_t n)
{
	if (w->err || n == 0)
		return;
	w->h = fnv64(w->h, p, n);
	if (fwrite(p, 1, n, w->f) != n)
		w->err = errno ? errno : EIO;
}

static int write_binding(void *arg, const struct store_binding *b)
{
	struct snap_writer *w = arg;
	if (b->expires_at <= w->now_ms)
		return 0; /* only live bindings are worth keeping */
	size_t len = binding_codec_len(b);
	if (len + 4 > w->cap) {
		unsigned char *nb = realloc(w->buf, len + 4);
		if (!nb) {
			w->err = ENOMEM;
			return 1;
		}
		w->buf = nb;
		w->cap = len + 4;
	}
	codec_put_le(w->buf, len, 4);
	binding_codec_put(b, w->buf + 4);
	w_bytes(w, w->buf, len + 4);
	w->count++;
	return w->err ? 1 : 0;
}

/* fsync the directory so the rename itself survives a crash. */
static void sync_dir(const char *path)
{
	char *dup = strdup(path);
	if (!dup)
		return;
	int fd = open(dirname(dup), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dup);
}

int store_snapshot_write(struct store *s, const char *path, int64_t now_ms, size_t *written,
			 char *err, size_t errlen)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "snapshot %s: path too long", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "snapshot %s: %s", tmp, strerror(errno));
		return -1;
	}
	struct snap_writer w = {.f = fdopen(fd, "wb"), .h = FNV64_INIT, .now_ms = now_ms};
	if (!w.f) {
		snprintf(err, errlen, "snapshot %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	unsigned char hdr[SNAP_HEADER_LEN];
	memcpy(hdr, SNAP_MAGIC, 8);
	codec_put_le(hdr + 8, SNAP_VERSION, 4);
	codec_put_le(hdr + 12, SNAP_HEADER_LEN, 4);
	codec_put_le(hdr + 16, (uint64_t)now_ms, 8);
	errno = 0;
	w_bytes(&w, hdr, sizeof(hdr));
	store_iterate(s, write_binding, &w);
	unsigned char tr[SNAP_TRAILER_LEN];
	codec_put_le(tr, 0, 4);
	codec_put_le(tr + 4, w.count, 8);
	w_bytes(&w, tr, 12);
	codec_put_le(tr + 12, w.h, 8); /* the checksum covers everything before it */
	if (!w.err && fwrite(tr + 12, 1, 8, w.f) != 8)
		w.err = errno ? errno : EIO;
	if (!w.err && fflush(w.f) != 0)
		w.err = errno ? errno : EIO;
	if (!w.err && fsync(fileno(w.f)) != 0)
		w.err = errno ? errno : EIO;
	if (fclose(w.f) != 0 && !w.err)
		w.err = errno ? errno : EIO;
	free(w.buf);
	if (!w.err && rename(tmp, path) != 0)
		w.err = errno ? errno : EIO;
	if (w.err) {
		snprintf(err, errlen, "snapshot %s: %s", tmp, strerror(w.err));
		unlink(tmp);
		return -1;
	}
	sync_dir(path);
	if (written)
		*written = w.count;
	return 0;
}

/* ---- reading ---- */

/* Decodes one record body of a file of format version ver; on failure
 * returns a reason, else NULL. */
static const char *decode_record(const unsigned char *p, size_t len, uint32_t ver,
				 struct store_binding *b)
{
	/* v1 has no node: it stays empty. */
	size_t used = 0;
	const char *why = binding_codec_get(
	    p, len, ver == SNAP_VERSION_V1 ? BINDING_CODEC_NSTR_V1 : BINDING_CODEC_NSTR, b, &used);
	if (!why && used != len)
		why = "extra bytes at the record end";
	return why;
}

/* Pass 1: the framing (header, record lengths, trailer, checksum) before any
 * byte of a record is trusted. */
static int check_frame(const unsigned char *p, size_t size, const char *path, size_t *nrec,
		       uint32_t *version, char *err, size_t errlen)
{
	if (size < SNAP_HEADER_LEN) {
		snprintf(err, errlen, "snapshot %s: truncated header at offset %zu", path, size);
		return -1;
	}
	if (memcmp(p, SNAP_MAGIC, 8) != 0) {
		snprintf(err, errlen, "snapshot %s: bad magic at offset 0", path);
		return -1;
	}
	uint32_t ver = (uint32_t)codec_get_le(p + 8, 4);
	if ((ver != SNAP_VERSION && ver != SNAP_VERSION_V1) ||
	    codec_get_le(p + 12, 4) != SNAP_HEADER_LEN) {
		snprintf(err, errlen, "snapshot %s: unsupported version %u at offset 8", path, ver);
		return -1;
	}
	size_t off = SNAP_HEADER_LEN, n = 0;
	for (;;) {
		if (size - off < 4) {
			snprintf(err, errlen, "snapshot %s: truncated at offset %zu", path, off);
			return -1;
		}
		size_t len = (size_t)codec_get_le(p + off, 4);
		if (len == 0)
			break;
		if (size - off - 4 < len) {
			snprintf(err, errlen,
				 "snapshot %s: record at offset %zu (length %zu) runs past the end "
				 "of the file (%zu bytes): truncated",
				 path, off, len, size);
			return -1;
		}
		off += 4 + len;
		n++;
	}
	if (size - off != SNAP_TRAILER_LEN) {
		snprintf(err, errlen, "snapshot %s: %s trailer at offset %zu", path,
			 size - off < SNAP_TRAILER_LEN ? "truncated" : "bytes after the", off);
		return -1;
	}
	if (codec_get_le(p + off + 4, 8) != n) {
		snprintf(err, errlen,
			 "snapshot %s: trailer at offset %zu counts %llu records, file has %zu",
			 path, off, (unsigned long long)codec_get_le(p + off + 4, 8), n);
		return -1;
	}
	if (codec_get_le(p + off + 12, 8) != fnv64(FNV64_INIT, p, off + 12)) {
		snprintf(err, errlen, "snapshot %s: checksum mismatch (trailer at offset %zu)",
			 path, off + 12);
		return -1;
	}
	*nrec = n;
	*version = ver;
	return 0;
}

static int apply_records(struct store *s, const unsigned char *p, size_t nrec, uint32_t ver,
			 const char *path, int64_t now_ms, size_t *loaded, char *err, size_t errlen)
{
	size_t off = SNAP_HEADER_LEN;
	for (size_t i = 0; i < nrec; i++) {
		size_t len = (size_t)codec_get_le(p + off, 4);
		struct store_binding b;
		const char *why = decode_record(p + off + 4, len, ver, &b);
		if (why) {
			snprintf(err, errlen, "snapshot %s: record %zu at offset %zu: %s", path, i,
				 off, why);
			return -1;
		}
		/* Bindings that lapsed while we were down are not restored. */
		if (b.expires_at > now_ms) {
			enum store_result rc = store_save(s, &b);
			if (rc == STORE_ERROR) {
				snprintf(err, errlen,
					 "snapshot %s: record %zu at offset %zu: cannot store it",
					 path, i, off);
				return -1;
			}
			if (rc == STORE_OK)
				(*loaded)++;
		}
		off += 4 + len;
	}
	return 0;
}

int store_snapshot_load(struct store *s, const char *path, int64_t now_ms, size_t *loaded,
			char *err, size_t errlen)
{
	*loaded = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* first start: no snapshot yet */
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	if (size < SNAP_HEADER_LEN) {
		snprintf(err, errlen, "snapshot %s: truncated header at offset %zu", path, size);
		close(fd);
		return -1;
	}
	/* Mapped, not copied (hundreds of MB at 1M bindings). The writer only
	 * ever renames a new file over this one, never truncates it, so the
	 * mapping cannot shrink under us. */
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(errno));
		return -1;
	}
	size_t nrec = 0;
	uint32_t ver = 0;
	int rc = check_frame(map, size, path, &nrec, &ver, err, errlen);
	if (rc == 0)
		rc = apply_records(s, map, nrec, ver, path, now_ms, loaded, err, errlen);
	munmap(map, size);
	return rc < 0 ? -1 : 1;
}
