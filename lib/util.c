// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "util.h"

void block_async_signals(void)
{
	static const int synchronous[] = { SIGSYS, SIGBUS, SIGSEGV, SIGFPE,
					   SIGILL, SIGTRAP, SIGABRT };
	sigset_t set;

	sigfillset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(synchronous); i++)
		sigdelset(&set, synchronous[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

char *str_escape(char *out, size_t size, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!size)
		return out;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f;

		if (n + (plain ? 1 : 4) >= size)
			break;
		if (plain) {
			out[n++] = *p;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return out;
}

int unix_socket(const char *path, const char *option, int type_flags,
		struct sockaddr_un *addr, struct err *e)
{
	int fd;

	*addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr->sun_path))
		return err_set(e, ENAMETOOLONG, "%s %s: path too long", option, path);
	strcpy(addr->sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
	if (fd < 0)
		return err_set(e, errno, "%s %s: socket: %s", option, path, strerror(errno));
	return fd;
}

int unix_socket_claim(const struct sockaddr_un *addr, const char *option,
		      struct err *e)
{
	struct stat st;
	int fd, live;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : err_set(e, errno, "%s %s: %s", option,
						     addr->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, EEXIST, "%s %s: exists and is not a socket", option,
			       addr->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	live = fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	if (fd >= 0)
		close(fd);
	if (live)
		return err_set(e, EADDRINUSE, "%s %s: another process is serving it",
			       option, addr->sun_path);
	unlink(addr->sun_path);
	return 0;
}

const char *file_kind(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "not a file";
	}
}

const char *open_regular_error(int ret, const struct stat *st)
{
	static const struct {
		unsigned int mode;
		const char *why;
	} kinds[] = {
		{ S_IFDIR, "is a directory, not a regular file" },
		{ S_IFIFO, "is a FIFO, not a regular file" },
		{ S_IFCHR, "is a character device, not a regular file" },
		{ S_IFBLK, "is a block device, not a regular file" },
		{ S_IFSOCK, "is a socket, not a regular file" },
	};

	if (ret == -ELOOP)
		return "is a symbolic link, not a regular file";
	if (ret == -EINVAL || ret == -EISDIR)
		for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
			if ((st->st_mode & S_IFMT) == kinds[i].mode)
				return kinds[i].why;
	return strerror(-ret);
}

/*
 * stat(), then open() with O_NONBLOCK, then the fd back to blocking once it
 * is known to be a regular file (or a block device when block_ok). A socket, or a FIFO
 * without a reader opened for writing, fails to open (ENXIO): then say
 * what it is.
 */
static int open_checked(const char *path, int flags, bool block_ok,
			struct stat *st)
{
	int fd, fl, ret = 0;

	memset(st, 0, sizeof(*st));
	/*
	 * What is there now is looked at first, so that a device is refused
	 * without being opened (some act on open). What may be put there
	 * after this look is caught by the checks on the opened file.
	 */
	if (((flags & O_NOFOLLOW) ? lstat(path, st) : stat(path, st)) == 0) {
		if (S_ISLNK(st->st_mode))
			return -ELOOP;
		if (S_ISDIR(st->st_mode))
			return -EISDIR;
		if (!S_ISREG(st->st_mode) && !(block_ok && S_ISBLK(st->st_mode)))
			return -EINVAL;
	}
	fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		/* Say what it is: opened for writing, a directory is EISDIR. */
		if ((ret == -ENXIO || ret == -EISDIR) && stat(path, st) == 0 &&
		    !S_ISREG(st->st_mode))
			ret = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
		return ret;
	}
	if (fstat(fd, st) < 0)
		ret = -errno;
	else if (!S_ISREG(st->st_mode) && !(block_ok && S_ISBLK(st->st_mode)))
		ret = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
	else if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int open_regular(const char *path, bool nofollow, struct stat *st)
{
	return open_checked(path, O_RDONLY | (nofollow ? O_NOFOLLOW : 0), false, st);
}

int open_image(const char *path, bool writable, struct stat *st)
{
	return open_checked(path, writable ? O_RDWR : O_RDONLY, true, st);
}

int open_regular_output(const char *path, struct stat *st)
{
	int fd = open_checked(path, O_WRONLY | O_CREAT, false, st);

	if (fd >= 0 && ftruncate(fd, 0) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

bool thread_join_within(pthread_t thread, uint64_t timeout_ns)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ns / 1000000000ull;
	until.tv_nsec += timeout_ns % 1000000000ull;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(thread, NULL, &until) == 0;
}

uint64_t time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t time_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * All of len bytes through read/write (offset < 0) or pread/pwrite, retried
 * after short transfers and EINTR. A read that meets the end: -EIO.
 */
static int io_full(int fd, void *buf, size_t len, int64_t offset, bool is_write)
{
	char *p = buf;

	while (len) {
		ssize_t n;

		if (is_write)
			n = offset < 0 ? write(fd, p, len) : pwrite(fd, p, len, offset);
		else
			n = offset < 0 ? read(fd, p, len) : pread(fd, p, len, offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 && !is_write)
			return -EIO;
		p += n;
		len -= n;
		if (offset >= 0)
			offset += n;
	}
	return 0;
}

int read_full_at(int fd, void *buf, size_t len, uint64_t offset)
{
	return io_full(fd, buf, len, (int64_t)offset, false);
}

int write_full(int fd, const void *buf, size_t len)
{
	return io_full(fd, (void *)buf, len, -1, true);
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t offset)
{
	return io_full(fd, (void *)buf, len, (int64_t)offset, true);
}

static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return ~crc;
}

/* SSE4.2's crc32 instruction computes CRC32C: gigabytes a second. */
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = ~crc;

	for (; len && ((uintptr_t)p & 7); len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, sizeof(w));
		c = __builtin_ia32_crc32di(c, w);
	}
	for (; len; len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* Both cheap: the CPU is probed once, by the C library's start-up. */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_sse42(crc, buf, len);
	return crc32c_bitwise(crc, buf, len);
}
