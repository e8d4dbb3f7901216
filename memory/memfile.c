// SPDX-License-Identifier: MIT
/*
 * The snapshot memory file: guest RAM at its backing offsets. Only pages that
 * are resident (mincore) and not all zero are written, so a guest that
 * touched 256 MiB of 4 GiB leaves a file with 256 MiB of data and holes.
 * Pages are read through the monitor's mapping, which never faults in what
 * the guest did not touch. RAM mapped privately from a memory file (a
 * restore with --restore file) has data mincore cannot see, the file's
 * pages nobody has read yet: those in the file's data extents count too,
 * and are read from it through the mapping.
 *
 * Each region's checksum covers what the file holds of it, independent of
 * how it is stored: CRC32C over every 4 KiB page that is not all zeros, in
 * order, each as its page number in the file (8 bytes, little-endian) then
 * its bytes. The writer computes it as it writes; the same sum over guest
 * RAM after an eager restore, or over the file (inspect), must match it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_mem.h"
#include "memfile.h"
#include "util.h"
#include "uffd.h"

#define MEMFILE_CHUNK (64 * MIB)	/* mincore window */

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/* One data page into a region's checksum. */
static uint32_t memfile_crc_page(uint32_t crc, uint64_t off, const uint8_t *page)
{
	uint64_t index = htole64(off / PAGE_SIZE);

	crc = crc32c(crc, &index, sizeof(index));
	return crc32c(crc, page, PAGE_SIZE);
}

/* Mark in vec the pages of [off, off + len) in a data extent of src. */
static int memfile_mark_data(int src, uint64_t off, uint64_t len, unsigned char *vec)
{
	uint64_t end = off + len, pos = off;

	while (pos < end) {
		off_t data = lseek(src, pos, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		if ((uint64_t)data >= end)
			return 0;
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		for (uint64_t p = ALIGN_DOWN(data, PAGE_SIZE); p < MIN((uint64_t)hole, end);
		     p += PAGE_SIZE)
			vec[(p - off) / PAGE_SIZE] |= 1;
		pos = hole;
	}
	return 0;
}

/*
 * The non-zero resident pages of [p, p + len), at file offset off (and,
 * with src >= 0, those in src's data extents there): into *crc, and
 * written to fd unless fd < 0. Returns the bytes of such pages.
 */
static long long memfile_write_chunk(int fd, const uint8_t *p, uint64_t len,
				     uint64_t off, int src, unsigned char *vec,
				     uint32_t *crc)
{
	uint64_t pages = len / PAGE_SIZE, run = 0;
	long long written = 0;
	int ret;

	if (mincore((void *)p, len, vec) < 0)
		return -errno;
	if (src >= 0 && (ret = memfile_mark_data(src, off, len, vec)))
		return ret;
	for (uint64_t i = 0; i <= pages; i++) {
		bool data = i < pages && (vec[i] & 1) &&
			    !page_is_zero(p + i * PAGE_SIZE);
		uint64_t start;

		if (data) {
			*crc = memfile_crc_page(*crc, off + i * PAGE_SIZE, p + i * PAGE_SIZE);
			run++;
			continue;
		}
		if (!run)
			continue;
		start = (i - run) * PAGE_SIZE;
		ret = fd < 0 ? 0 : pwrite_full(fd, p + start, run * PAGE_SIZE, off + start);
		if (ret)
			return ret;
		written += run * PAGE_SIZE;
		run = 0;
	}
	return written;
}

/* Guest RAM's data pages, region by region: each one's checksum, and to fd. */
static long long memfile_walk(const struct guest_mem *mem, int fd,
			      unsigned char *vec, uint32_t *crcs)
{
	int src = mem->backend == &guest_mem_backend_snapshot_file ? mem->private_fd : -1;
	long long total = 0;

	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		const struct guest_mem_region *reg = &mem->regions[r];

		crcs[r] = 0;
		for (uint64_t done = 0; done < reg->size; done += MEMFILE_CHUNK) {
			uint64_t len = MIN(MEMFILE_CHUNK, reg->size - done);
			long long n = memfile_write_chunk(fd,
				mem->base + reg->offset + done, len,
				reg->offset + done, src, vec, &crcs[r]);

			if (n < 0)
				return n;
			total += n;
		}
	}
	return total;
}

long long memfile_detach(struct guest_mem *mem, struct err *e)
{
	unsigned char *vec = malloc(MEMFILE_CHUNK / PAGE_SIZE);
	uint8_t *copy;
	long long copied = 0;
	int ret = 0;

	if (mem->backend != &guest_mem_backend_snapshot_file)
		return 0;
	copy = mmap(NULL, mem->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!vec || copy == MAP_FAILED) {
		ret = err_set(e, ENOMEM, "no memory for a copy of guest RAM (%llu MiB)",
			      (unsigned long long)(mem->size >> 20));
		goto out;
	}
	for (uint64_t off = 0; off < mem->size && !ret; off += MEMFILE_CHUNK) {
		uint64_t len = MIN(MEMFILE_CHUNK, mem->size - off);

		if (mincore(mem->base + off, len, vec) < 0)
			ret = -errno;
		else
			ret = memfile_mark_data(mem->private_fd, off, len, vec);
		for (uint64_t i = 0; !ret && i < len / PAGE_SIZE; i++) {
			const uint8_t *page = mem->base + off + i * PAGE_SIZE;

			if ((vec[i] & 1) && !page_is_zero(page)) {
				memcpy(copy + off + i * PAGE_SIZE, page, PAGE_SIZE);
				copied += PAGE_SIZE;
			}
		}
		if (ret)
			err_set(e, -ret, "reading guest RAM: %s", strerror(-ret));
	}
	/* The copy takes RAM's place, addresses and all: the file is let go. */
	if (!ret && mremap(copy, mem->size, mem->size, MREMAP_MAYMOVE | MREMAP_FIXED,
			   mem->base) == MAP_FAILED)
		ret = err_set(e, errno, "mremap of guest RAM's copy: %s", strerror(errno));
	if (!ret) {
		copy = MAP_FAILED;
		close(mem->private_fd);
		mem->private_fd = -1;
		mem->backend = &guest_mem_backend_anon;
	}
out:
	if (copy != MAP_FAILED)
		munmap(copy, mem->size);
	free(vec);
	return ret ? ret : copied;
}

static long long memfile_write_fd(const struct guest_mem *mem, int fd,
				  unsigned char *vec, uint32_t *crcs)
{
	long long total;

	if (ftruncate(fd, mem->size) < 0)
		return -errno;
	total = memfile_walk(mem, fd, vec, crcs);
	if (total < 0)
		return total;
	return fsync(fd) < 0 ? -errno : total;
}

long long memfile_write(const struct guest_mem *mem, const char *path,
			uint32_t *crcs, struct err *e)
{
	unsigned char *vec = malloc(MEMFILE_CHUNK / PAGE_SIZE);
	long long ret;
	int fd;

	if (!vec)
		return err_set(e, ENOMEM, "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(vec);
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	}
	ret = memfile_write_fd(mem, fd, vec, crcs);
	close(fd);
	free(vec);
	if (ret < 0)
		return err_set(e, -ret, "%s: %s", path, strerror(-ret));
	return ret;
}

long long memfile_checksum_ram(const struct guest_mem *mem, uint32_t *crcs,
			       struct err *e)
{
	unsigned char *vec = malloc(MEMFILE_CHUNK / PAGE_SIZE);
	long long ret;

	if (!vec)
		return err_set(e, ENOMEM, "out of memory");
	ret = memfile_walk(mem, -1, vec, crcs);
	free(vec);
	if (ret < 0)
		return err_set(e, -ret, "guest RAM: mincore: %s", strerror(-ret));
	return ret;
}

#define VERIFY_CHUNK (1 * MIB)

/* [data, end) of fd into *crc, a page at a time, zero pages skipped. */
static long long memfile_crc_range(int fd, uint64_t data, uint64_t end,
				   uint8_t *buf, uint32_t *crc)
{
	long long bytes = 0;

	while (data < end) {
		uint64_t len = MIN((uint64_t)VERIFY_CHUNK, end - data);
		ssize_t n = pread(fd, buf, len, data);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if ((uint64_t)n != len)
			return -EIO;	/* shorter than when it was checked */
		for (uint64_t i = 0; i < len; i += PAGE_SIZE)
			if (!page_is_zero(buf + i)) {
				*crc = memfile_crc_page(*crc, data + i, buf + i);
				bytes += PAGE_SIZE;
			}
		data += len;
	}
	return bytes;
}

long long memfile_checksum_file(int fd, const struct guest_mem *layout,
				uint32_t *crcs, struct err *e)
{
	uint8_t *buf = malloc(VERIFY_CHUNK);
	long long total = 0, n = 0;

	if (!buf)
		return err_set(e, ENOMEM, "out of memory");
	for (unsigned int r = 0; r < layout->nr_regions && n >= 0; r++) {
		uint64_t pos = layout->regions[r].offset;
		uint64_t end = pos + layout->regions[r].size;

		crcs[r] = 0;
		/* Holes are zero pages: only the data extents are read. */
		while (pos < end) {
			off_t data = lseek(fd, pos, SEEK_DATA), hole;

			if (data < 0 && errno == ENXIO)
				break;
			if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0) {
				n = -errno;
				break;
			}
			if ((uint64_t)data >= end)
				break;
			/* Pages, since blocks may be smaller. */
			data = MAX(ALIGN_DOWN((uint64_t)data, PAGE_SIZE), pos);
			hole = MIN(ALIGN_UP((uint64_t)hole, PAGE_SIZE), end);
			n = memfile_crc_range(fd, data, hole, buf, &crcs[r]);
			if (n < 0)
				break;
			total += n;
			pos = hole;
		}
	}
	free(buf);
	if (n < 0)
		return err_set(e, -n, "reading the memory file: %s",
			       n == -EIO ? "it ends early" : strerror(-n));
	return total;
}

/* Eager restore: data extents of the file copied into RAM by workers. */
#define LOAD_JOB (32 * MIB)
#define LOAD_MAX_THREADS 8

struct load_job {
	uint64_t off, len;
};

struct memfile_loader {
	const struct guest_mem *mem;
	int fd;
	struct load_job *jobs;
	size_t nr_jobs;
	size_t next;			/* atomic: next job to take */
	int err;			/* first failure, -errno */
	long long bytes;		/* atomic */
};

static void *memfile_load_worker(void *arg)
{
	struct memfile_loader *l = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED)) < l->nr_jobs) {
		const struct load_job *j = &l->jobs[i];
		int ret = read_full_at(l->fd, l->mem->base + j->off, j->len, j->off);

		if (ret) {
			int none = 0;

			__atomic_compare_exchange_n(&l->err, &none, ret, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
			break;
		}
		__atomic_fetch_add(&l->bytes, (long long)j->len, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int memfile_add_jobs(struct memfile_loader *l, uint64_t off,
			    uint64_t end, size_t *cap)
{
	for (; off < end; off += LOAD_JOB) {
		if (l->nr_jobs == *cap) {
			size_t n = *cap ? *cap * 2 : 64;
			struct load_job *j = realloc(l->jobs, n * sizeof(*j));

			if (!j)
				return -ENOMEM;
			l->jobs = j;
			*cap = n;
		}
		l->jobs[l->nr_jobs++] = (struct load_job){ off, MIN(LOAD_JOB, end - off) };
	}
	return 0;
}

/* Split the file's data extents below the RAM size into jobs. */
/*
 * Holes found while the file shrinks under us would read as zero pages:
 * after the scan, the file must still hold all of RAM (-ESTALE if not).
 */
static int memfile_still_whole(int fd, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return (uint64_t)st.st_size < size ? -ESTALE : 0;
}

static int memfile_plan(struct memfile_loader *l)
{
	off_t end = l->mem->size, pos = 0;
	size_t cap = 0;

	while (pos < end) {
		off_t data = lseek(l->fd, pos, SEEK_DATA), hole;
		int ret;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return -errno;
		if (data >= end)
			break;
		hole = lseek(l->fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		hole = MIN(hole, end);
		ret = memfile_add_jobs(l, data, hole, &cap);
		if (ret)
			return ret;
		pos = hole;
	}
	return memfile_still_whole(l->fd, l->mem->size);
}

long long memfile_load(const struct guest_mem *mem, int fd, struct err *e)
{
	struct memfile_loader l = { .mem = mem, .fd = fd };
	pthread_t threads[LOAD_MAX_THREADS];
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = 0, want;
	int ret;

	ret = memfile_plan(&l);
	if (ret) {
		free(l.jobs);
		return err_set(e, -ret, "cannot map the memory file's data: %s",
			       ret == -ESTALE ? "it shrank while it was read" : strerror(-ret));
	}
	want = MIN((size_t)MAX(nproc, 1L), MIN(l.nr_jobs, (size_t)LOAD_MAX_THREADS));
	for (; n + 1 < want; n++)
		if (pthread_create(&threads[n], NULL, memfile_load_worker, &l))
			break;
	memfile_load_worker(&l);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	free(l.jobs);
	if (l.err)
		return err_set(e, -l.err, "reading the memory file: %s",
			       l.err == -EIO ? "it ends early" : strerror(-l.err));
	return l.bytes;
}

int memfile_extents(int fd, uint64_t size, const uint8_t *map,
		    struct uffd_extent **out, size_t *n, struct err *e)
{
	struct uffd_extent *ext = NULL;
	size_t cap = 0, nr = 0;
	off_t pos = 0;

	while ((uint64_t)pos < size) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0) {
			free(ext);
			return err_set(e, errno, "cannot map the memory file's holes: %s",
				       strerror(errno));
		}
		if ((uint64_t)data >= size)
			break;
		hole = MIN((uint64_t)hole, size);
		pos = hole;
		/*
		 * Widened to pages, extents of a file system with blocks under
		 * 4 KiB can share a page with the one before: one extent then.
		 */
		data = ALIGN_DOWN((uint64_t)data, PAGE_SIZE);
		if (nr && (uint64_t)data / PAGE_SIZE <= ext[nr - 1].page + ext[nr - 1].nr_pages) {
			ext[nr - 1].nr_pages = ALIGN_UP((uint64_t)hole, PAGE_SIZE) / PAGE_SIZE -
					       ext[nr - 1].page;
			continue;
		}
		if (nr == cap) {
			struct uffd_extent *x;

			cap = cap ? cap * 2 : 64;
			x = realloc(ext, cap * sizeof(*x));
			if (!x) {
				free(ext);
				return err_set(e, ENOMEM, "out of memory");
			}
			ext = x;
		}
		ext[nr++] = (struct uffd_extent){
			.page = data / PAGE_SIZE,
			.nr_pages = (ALIGN_UP((uint64_t)hole, PAGE_SIZE) - data) / PAGE_SIZE,
			.src = map + data,
		};
	}
	if (memfile_still_whole(fd, size)) {
		free(ext);
		return err_set(e, ESTALE, "the memory file shrank while its holes were mapped");
	}
	*out = ext;
	*n = nr;
	return 0;
}
