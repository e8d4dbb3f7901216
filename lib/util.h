/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every subsystem. */
#ifndef GMVM_UTIL_H
#define GMVM_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define PAGE_SIZE 4096ull

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* True when [start, start + len) does not wrap and ends at or below limit. */
static inline bool range_within(uint64_t start, uint64_t len, uint64_t limit)
{
	return start <= limit && len <= limit - start;
}

/* True when [a, a + alen) and [b, b + blen) share at least one byte. */
static inline bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
				  uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* CRC32C (Castagnoli) of len bytes, continuing from crc (start with 0). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Block every signal in the calling thread but those a fault raises on it
 * (SIGSYS from seccomp, SIGBUS, SIGSEGV, ...): a helper thread that must not
 * take a SIGTERM meant for the main thread's signalfd, by its default action.
 */
void block_async_signals(void);

struct stat;

/*
 * Open path to read it as a regular file, so that nothing else can trap
 * gmvm: O_NONBLOCK (a FIFO returns at once, no writer needed), O_NOCTTY,
 * O_NOFOLLOW when nofollow (files gmvm made itself: a link there is not
 * its own), then anything but a regular file is refused. Returns the fd
 * (blocking again) with *st filled, or -errno: -ELOOP for a link, -EISDIR,
 * -EINVAL for another kind (file_kind() names it).
 */
int open_regular(const char *path, bool nofollow, struct stat *st);

/*
 * Open path to write it from the start as a regular file, created 0644 if
 * missing (user-named outputs such as --stats): a FIFO, a device or a
 * directory is refused (-EINVAL, -EISDIR) before anything is written.
 */
int open_regular_output(const char *path, struct stat *st);

/*
 * Open a disk image (user-named: links followed) read-only or read-write,
 * as open_regular does, a block device allowed too.
 */
int open_image(const char *path, bool writable, struct stat *st);

/* Words for a failure of any of them: "is a FIFO, not a regular file", ... */
const char *open_regular_error(int ret, const struct stat *st);

/*
 * in, with every byte that is not printable ASCII written as \xNN, into out
 * (always terminated): a name from a snapshot or a guest cannot forge a
 * line of output or drive the terminal. Returns out.
 */
char *str_escape(char *out, size_t size, const char *in);

/*
 * A UNIX stream socket (close-on-exec, and type_flags such as
 * SOCK_NONBLOCK) with path's address in *addr. Returns the socket, or
 * -errno with e naming option and path.
 */
struct sockaddr_un;
struct err;
int unix_socket(const char *path, const char *option, int type_flags,
		struct sockaddr_un *addr, struct err *e);

/*
 * Make way for a listening socket at addr: nothing there, or a socket file
 * nobody answers on (left by a process that died), which is removed.
 * Returns 0, or -errno with e naming option and path (another process
 * serves it, or it is not a socket).
 */
int unix_socket_claim(const struct sockaddr_un *addr, const char *option,
		      struct err *e);

/* "a FIFO", "a directory", "a character device", ... for st_mode. */
const char *file_kind(unsigned int mode);

/*
 * pthread_join() that gives up after timeout_ns: true once the thread has
 * ended and been joined, false when it still runs.
 */
bool thread_join_within(pthread_t thread, uint64_t timeout_ns);

/* Monotonic clock in nanoseconds. */
uint64_t time_now_ns(void);

/* The wall clock (CLOCK_REALTIME) in nanoseconds since the epoch. */
uint64_t time_realtime_ns(void);

/*
 * Read exactly len bytes at offset from fd. Returns 0, -errno on failure, or
 * -EIO when the file ends first.
 */
int read_full_at(int fd, void *buf, size_t len, uint64_t offset);

/* Write all of buf to fd, retrying on EINTR and short writes. */
int write_full(int fd, const void *buf, size_t len);

/* pwrite() all of buf at offset. Returns 0 or -errno. */
int pwrite_full(int fd, const void *buf, size_t len, uint64_t offset);

#endif /* GMVM_UTIL_H */
