// SPDX-License-Identifier: MIT
/*
 * bench/uffd_copy_rate.c: the raw rate at which this host serves userfaultfd
 * MISSING faults with UFFDIO_COPY, without a VM in the way. Built and run by
 * bench/uffd.sh (cc -O2 -pthread); not part of the gmvm build.
 *
 * For each kind of memory (anonymous private, memfd shared) and each batch
 * size B, a fresh mapping of SIZE bytes is registered for MISSING faults.
 *
 *   fault:  one thread reads the first byte of every page in address order;
 *           a second thread reads the fault messages and answers each one
 *           with one UFFDIO_COPY of the B-page aligned window holding the
 *           faulting page (the window gmvm's --fault-around B fills; gmvm
 *           copies the faulting page first, then the rest). Timed from the
 *           first touch to the last touch returning.
 *   copy:   no faults: the serving thread alone UFFDIO_COPYs the whole
 *           mapping in B-page ioctls: the ioctl's own rate, no fault round trips.
 *
 * The source is an anonymous buffer of SIZE bytes filled with a pattern and
 * resident before timing (src=anon): the raw rate. With -f DIR there is a
 * second set of runs (src=file) whose source is a file of SIZE bytes in DIR
 * (written, then unlinked), mapped MAP_SHARED read-only afresh for each run:
 * its pages are in the page cache but not mapped yet, which is how gmvm's
 * lazy restore sees the snapshot's memory file. Every fault run checks that
 * each page holds its source afterwards.
 *
 * The REPS runs of each configuration are spread over REPS rounds, each
 * running every configuration once, so that drift of a busy host hits them
 * alike. Output, one line per configuration (times in ns, over REPS):
 *   RESULT mode=fault src=anon mem=anon batch=16 pages=N faults=F median_ns=T min_ns=T max_ns=T
 *
 * Usage: uffd_copy_rate [-s SIZE_MIB] [-r REPS] [-b B,B,...] [-m anon,memfd] [-f DIR]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define PAGE 4096ul
#define MSG_BATCH 64

enum mem_kind { MEM_ANON, MEM_MEMFD };

struct run {
	enum mem_kind kind;
	uint8_t *dst;
	const uint8_t *src;
	size_t pages;
	size_t batch;
	int uffd;
	int stop_pipe[2];
	uint64_t faults;
	uint64_t copied;
	int failed;
	char why[200];
};

static void die(const char *what)
{
	fprintf(stderr, "uffd_copy_rate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int open_uffd(enum mem_kind kind)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	/* Unprivileged users may only have user-mode faults: all we need. */
	if (fd < 0 && (errno == EPERM || errno == EACCES))
		fd = (int)syscall(SYS_userfaultfd,
				  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		die("userfaultfd");
	if (kind == MEM_MEMFD)
		api.features = UFFD_FEATURE_MISSING_SHMEM;
	if (ioctl(fd, UFFDIO_API, &api) < 0)
		die(kind == MEM_MEMFD ? "UFFDIO_API (MISSING_SHMEM)" : "UFFDIO_API");
	return fd;
}

static uint8_t *map_dst(enum mem_kind kind, size_t size)
{
	void *p;

	if (kind == MEM_ANON) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else {
		int fd = memfd_create("uffd-bench", MFD_CLOEXEC);

		if (fd < 0)
			die("memfd_create");
		if (ftruncate(fd, (off_t)size) < 0)
			die("ftruncate");
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, fd, 0);
		close(fd);	/* the mapping keeps the file */
	}
	if (p == MAP_FAILED)
		die("mmap");
	/* Huge pages would change what is measured: gmvm serves 4 KiB. */
	madvise(p, size, MADV_NOHUGEPAGE);
	return p;
}

static void set_failed(struct run *r, const char *what)
{
	if (!r->failed)
		snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(errno));
	r->failed = 1;
}

/* UFFDIO_COPY of [first, first + n) pages; EEXIST means already there. */
static void copy_pages(struct run *r, size_t first, size_t n)
{
	while (n) {
		struct uffdio_copy c = {
			.dst = (uintptr_t)(r->dst + first * PAGE),
			.src = (uintptr_t)(r->src + first * PAGE),
			.len = n * PAGE,
		};
		size_t done;

		if (ioctl(r->uffd, UFFDIO_COPY, &c) == 0) {
			r->copied += n;
			return;
		}
		if (errno == EEXIST) {
			/* Skip the page that exists and wake its waiter. */
			struct uffdio_range w = { c.dst, PAGE };

			ioctl(r->uffd, UFFDIO_WAKE, &w);
			first++;
			n--;
			continue;
		}
		if (errno != EAGAIN) {
			set_failed(r, "UFFDIO_COPY");
			return;
		}
		done = c.copy > 0 ? (size_t)c.copy / PAGE : 0;
		r->copied += done;
		first += done;
		n -= done;
	}
}

static void *server(void *arg)
{
	struct run *r = arg;
	struct pollfd fds[2] = {
		{ .fd = r->uffd, .events = POLLIN },
		{ .fd = r->stop_pipe[0], .events = POLLIN },
	};
	struct uffd_msg msgs[MSG_BATCH];

	while (!r->failed) {
		ssize_t n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			set_failed(r, "poll");
			break;
		}
		if (fds[1].revents)
			break;
		n = read(r->uffd, msgs, sizeof(msgs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			set_failed(r, "read(userfaultfd)");
			break;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
			uint64_t page, first, len;

			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			page = (msgs[i].arg.pagefault.address - (uintptr_t)r->dst) / PAGE;
			first = page / r->batch * r->batch;
			len = r->batch;
			if (first + len > r->pages)
				len = r->pages - first;
			r->faults++;
			copy_pages(r, first, len);
		}
	}
	return NULL;
}

static void check_pages(struct run *r)
{
	for (size_t p = 0; p < r->pages && !r->failed; p++)
		if (memcmp(r->dst + p * PAGE, r->src + p * PAGE, PAGE)) {
			errno = EIO;
			snprintf(r->why, sizeof(r->why),
				 "page %zu differs from its source after the run", p);
			r->failed = 1;
		}
}

/* Where the source pages come from. */
struct source {
	const uint8_t *anon;	/* resident buffer, or NULL */
	int fd;			/* file to map afresh for each run, or -1 */
};

static const uint8_t *map_source(const struct source *s, size_t size)
{
	void *p;

	if (s->anon)
		return s->anon;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED)
		die("mmap (source file)");
	return p;
}

/* One timed run; returns nanoseconds. */
static uint64_t one_run(enum mem_kind kind, const struct source *s,
			size_t pages, size_t batch, int faulting,
			uint64_t *faults)
{
	struct run r = {
		.kind = kind, .pages = pages, .batch = batch,
	};
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	pthread_t thr;
	uint64_t t0, t1;
	volatile uint8_t sink = 0;

	r.src = map_source(s, pages * PAGE);
	r.dst = map_dst(kind, pages * PAGE);
	r.uffd = open_uffd(kind);
	reg.range.start = (uintptr_t)r.dst;
	reg.range.len = pages * PAGE;
	if (ioctl(r.uffd, UFFDIO_REGISTER, &reg) < 0)
		die(kind == MEM_MEMFD ? "UFFDIO_REGISTER (memfd)" : "UFFDIO_REGISTER (anon)");
	if (pipe2(r.stop_pipe, O_CLOEXEC) < 0)
		die("pipe2");
	if (faulting) {
		errno = pthread_create(&thr, NULL, server, &r);
		if (errno)
			die("pthread_create");
		t0 = now_ns();
		for (size_t p = 0; p < pages && !r.failed; p++)
			sink += r.dst[p * PAGE];
		t1 = now_ns();
		if (write(r.stop_pipe[1], "x", 1) != 1)
			die("write(stop pipe)");
		pthread_join(thr, NULL);
		(void)sink;
		check_pages(&r);
	} else {
		t0 = now_ns();
		for (size_t p = 0; p < pages && !r.failed; p += batch)
			copy_pages(&r, p, p + batch > pages ? pages - p : batch);
		t1 = now_ns();
	}
	if (r.failed) {
		fprintf(stderr, "uffd_copy_rate: %s, %s memory, batch %zu: %s\n",
			faulting ? "fault" : "copy",
			kind == MEM_ANON ? "anon" : "memfd", batch, r.why);
		exit(1);
	}
	if (r.copied != pages) {
		fprintf(stderr, "uffd_copy_rate: %zu pages copied, expected %zu\n",
			(size_t)r.copied, pages);
		exit(1);
	}
	*faults = r.faults;
	close(r.uffd);
	close(r.stop_pipe[0]);
	close(r.stop_pipe[1]);
	munmap(r.dst, pages * PAGE);
	if (!s->anon)
		munmap((void *)r.src, pages * PAGE);
	return t1 - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "Usage: uffd_copy_rate [-s SIZE_MIB] [-r REPS] [-b B,B,...] [-m anon,memfd]\n");
	exit(2);
}

static void fill_pattern(uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size / 8; i++)
		((uint64_t *)p)[i] = (i * 0x9e3779b97f4a7c15ull) ^ (i >> 7);
}

/* A file of size bytes holding the pattern, in dir, already unlinked. */
static int make_source_file(const char *dir, size_t size)
{
	char path[4096];
	uint8_t *buf = malloc(1 << 20);
	int fd;

	if (!buf)
		die("malloc");
	snprintf(path, sizeof(path), "%s/uffd-src.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		die(path);
	unlink(path);
	for (size_t off = 0; off < size; off += 1 << 20) {
		/* The same bytes as the anonymous source, chunk by chunk. */
		for (size_t i = 0; i < (1 << 20) / 8; i++) {
			size_t w = (off / 8) + i;

			((uint64_t *)buf)[i] = (w * 0x9e3779b97f4a7c15ull) ^ (w >> 7);
		}
		if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20)
			die("writing the source file");
	}
	free(buf);
	return fd;
}

struct config {
	const char *src_name;
	const struct source *src;
	enum mem_kind mem;
	size_t batch;
	int faulting;
	uint64_t faults;
	uint64_t *ns;		/* one per rep */
};

/*
 * Rep-major: every configuration once per round, so that slow drift of the
 * host (other load) hits all of them alike.
 */
static void measure(struct config *cfg, size_t n, size_t pages, size_t reps)
{
	for (size_t i = 0; i < reps; i++)
		for (size_t c = 0; c < n; c++)
			cfg[c].ns[i] = one_run(cfg[c].mem, cfg[c].src, pages,
					       cfg[c].batch, cfg[c].faulting,
					       &cfg[c].faults);
	for (size_t c = 0; c < n; c++) {
		uint64_t *ns = cfg[c].ns;

		qsort(ns, reps, sizeof(*ns), cmp_u64);
		printf("RESULT mode=%s src=%s mem=%s batch=%zu pages=%zu faults=%llu median_ns=%llu min_ns=%llu max_ns=%llu\n",
		       cfg[c].faulting ? "fault" : "copy", cfg[c].src_name,
		       cfg[c].mem == MEM_ANON ? "anon" : "memfd",
		       cfg[c].batch, pages, (unsigned long long)cfg[c].faults,
		       (unsigned long long)(reps % 2 ? ns[reps / 2] :
					    (ns[reps / 2 - 1] + ns[reps / 2]) / 2),
		       (unsigned long long)ns[0],
		       (unsigned long long)ns[reps - 1]);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	size_t size_mib = 1024, reps = 3, nb = 0, nm = 0;
	size_t batches[16];
	enum mem_kind mems[2];
	const char *blist = "1,16", *mlist = "anon,memfd", *file_dir = NULL;
	struct source anon_src = { .fd = -1 }, file_src = { .fd = -1 };
	struct config *cfg;
	size_t ncfg = 0;
	uint64_t *ns;
	uint8_t *src;
	size_t pages;
	int opt;

	while ((opt = getopt(argc, argv, "s:r:b:m:f:")) != -1) {
		switch (opt) {
		case 's': size_mib = strtoul(optarg, NULL, 10); break;
		case 'r': reps = strtoul(optarg, NULL, 10); break;
		case 'b': blist = optarg; break;
		case 'm': mlist = optarg; break;
		case 'f': file_dir = optarg; break;
		default: usage();
		}
	}
	if (!size_mib || !reps || optind != argc)
		usage();
	for (const char *p = blist; *p && nb < 16;) {
		char *end;
		unsigned long b = strtoul(p, &end, 10);

		if (end == p || !b || b > 512 || (b & (b - 1)))
			usage();
		batches[nb++] = b;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			usage();
	}
	for (const char *p = mlist; *p && nm < 2;) {
		size_t len = strcspn(p, ",");

		if (len == 4 && !strncmp(p, "anon", 4))
			mems[nm++] = MEM_ANON;
		else if (len == 5 && !strncmp(p, "memfd", 5))
			mems[nm++] = MEM_MEMFD;
		else
			usage();
		p += len + (p[len] == ',');
	}
	if (!nb || !nm)
		usage();

	pages = size_mib * 1024 * 1024 / PAGE;
	src = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (src == MAP_FAILED)
		die("mmap (source)");
	fill_pattern(src, pages * PAGE);
	anon_src.anon = src;
	cfg = calloc(3 * nm * nb, sizeof(*cfg));
	ns = calloc(3 * nm * nb * reps, sizeof(*ns));
	if (!cfg || !ns)
		die("calloc");

	if (file_dir)
		file_src.fd = make_source_file(file_dir, pages * PAGE);
	for (int faulting = 1; faulting >= 0; faulting--)
		for (int f = 0; f < (faulting && file_dir ? 2 : 1); f++)
			for (size_t m = 0; m < nm; m++)
				for (size_t b = 0; b < nb; b++) {
					struct config *c = &cfg[ncfg++];

					c->src_name = f ? "file" : "anon";
					c->src = f ? &file_src : &anon_src;
					c->mem = mems[m];
					c->batch = batches[b];
					c->faulting = faulting;
					c->ns = ns + (ncfg - 1) * reps;
				}
	printf("INFO size_mib=%zu pages=%zu reps=%zu configs=%zu\n", size_mib,
	       pages, reps, ncfg);
	fflush(stdout);
	measure(cfg, ncfg, pages, reps);
	munmap(src, pages * PAGE);
	if (file_dir)
		close(file_src.fd);
	free(ns);
	free(cfg);
	return 0;
}
