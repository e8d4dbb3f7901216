// SPDX-License-Identifier: MIT
/*
 * blkbench=MODE,DEPTH,SECONDS: keep DEPTH requests in flight on the first
 * virtio-blk disk's queue for SECONDS, then print requests, bytes, ops/s
 * and MB/s. MODE is rand4k-read, rand4k-write (4 KiB at random 4 KiB
 * blocks) or seq1m-read, seq1m-write (1 MiB after 1 MiB, wrapping), over
 * the first 64 MiB of the disk (or less, if the disk is smaller).
 *
 * Every sector written starts with a tag: a magic number, its LBA and the
 * stamp of the request that wrote it, which is remembered per 4 KiB block.
 * Read modes first write the whole region (untimed), then check every
 * sector each read brings back; all modes end by reading the region back
 * and checking every block written. Two requests in flight never touch the
 * same block, so the last stamp written is the one to find.
 *
 * Requests are polled for, notifications follow event idx (bench.c):
 * the figures are the device's and the monitor's, not an interrupt path's.
 */
#include "bench.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define SECTOR 512u
#define BLOCK 4096u
#define SEQ_SIZE (1u << 20)
#define REGION_MAX (64ull << 20)
#define DESCS_PER_REQ 3		/* header, data, status */
#define MAX_DEPTH (VQ_SIZE / DESCS_PER_REQ)
#define TAG_MAGIC 0x42564d47u	/* "GMVB" */

struct mode {
	const char *name;
	uint32_t size;
	bool write, seq;
};

static const struct mode modes[] = {
	{ "rand4k-read", BLOCK, false, false },
	{ "rand4k-write", BLOCK, true, false },
	{ "seq1m-read", SEQ_SIZE, false, true },
	{ "seq1m-write", SEQ_SIZE, true, true },
};

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct tag {
	uint32_t magic;
	uint32_t stamp;
	uint64_t lba;
};

struct slot {
	struct blk_hdr hdr __attribute__((aligned(16)));
	uint8_t status;
	bool busy, write;
	uint32_t len;
	uint32_t stamp;		/* what a write puts in its tags */
	uint8_t *buf;
};

struct blkbench {
	struct vdev d;
	const struct mode *m;
	unsigned int depth;
	uint64_t seconds, hz;
	uint64_t region_blocks;
	uint32_t *stamps;	/* per 4 KiB block; 0: not written this boot */
	uint8_t *bulk;		/* SEQ_SIZE, for the untimed fill and check */
	uint32_t next_stamp;
	uint64_t seq_next;	/* next sector, sequential modes */
	uint64_t rng;
	struct slot slot[MAX_DEPTH];
};

static struct blkbench bb;

static uint64_t rand64(void)
{
	bb.rng ^= bb.rng << 13;
	bb.rng ^= bb.rng >> 7;
	bb.rng ^= bb.rng << 17;
	return bb.rng;
}

static void parse_args(const char *arg, size_t len)
{
	size_t c1 = 0, c2;
	uint64_t depth;

	while (arg && c1 < len && arg[c1] != ',')
		c1++;
	for (c2 = c1 + 1; arg && c2 < len && arg[c2] != ','; c2++)
		;
	if (!arg || c2 >= len)
		goto bad;
	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strlen(modes[i].name) == c1 && !strncmp(modes[i].name, arg, c1))
			bb.m = &modes[i];
	if (!bb.m || !parse_u64(arg + c1 + 1, c2 - c1 - 1, &depth) || !depth ||
	    depth > MAX_DEPTH)
		goto bad;
	bb.depth = depth;
	bb.seconds = bench_seconds("blkbench", arg + c2 + 1, len - c2 - 1);
	return;
bad:
	printf("blkbench: needs MODE,DEPTH,SECONDS: MODE rand4k-read, rand4k-write, seq1m-read or seq1m-write, DEPTH 1 to %u\n",
	       MAX_DEPTH);
	guest_exit(EXIT_BAD_CMDLINE);
}

/* The disk, its region, and RAM for stamps and buffers. */
static bool blk_setup(void)
{
	uint64_t sectors, region, stamps_size, need;
	uint8_t *arena;

	if (!virtio_find(VIRTIO_ID_BLOCK, 0, &bb.d) ||
	    !virtio_init(&bb.d, 1ull << VIRTIO_RING_F_EVENT_IDX, 1)) {
		printf("blkbench: no virtio-blk device\n");
		return false;
	}
	sectors = (uint64_t)vdev_read(&bb.d, VM_CONFIG) |
		  (uint64_t)vdev_read(&bb.d, VM_CONFIG + 4) << 32;
	region = sectors * SECTOR;
	if (region > REGION_MAX)
		region = REGION_MAX;
	region &= ~(uint64_t)(SEQ_SIZE - 1);
	if (region < (uint64_t)bb.depth * SEQ_SIZE || !region) {
		printf("blkbench: a disk of %lu sectors is too small: needs %u MiB\n",
		       sectors, bb.depth);
		return false;
	}
	bb.region_blocks = region / BLOCK;
	stamps_size = (bb.region_blocks * 4 + BLOCK - 1) & ~(uint64_t)(BLOCK - 1);
	need = stamps_size + SEQ_SIZE + (uint64_t)bb.depth * bb.m->size;
	arena = bench_arena(need);
	if (!arena)
		return false;
	bb.stamps = (uint32_t *)arena;
	memset(bb.stamps, 0, bb.region_blocks * 4);
	bb.bulk = arena + stamps_size;
	for (unsigned int i = 0; i < bb.depth; i++)
		bb.slot[i] = (struct slot){ .buf = bb.bulk + SEQ_SIZE + (uint64_t)i * bb.m->size };
	bb.next_stamp = 1;
	bb.rng = 0x9e3779b97f4a7c15ull;
	printf("blkbench: %lu sectors, %lu MiB region, %s, depth %u, %lu s\n",
	       sectors, region >> 20, bb.m->name, bb.depth, bb.seconds);
	return true;
}

/* Tag every sector of a write, or clear the tags a read must fill. */
static void tags_prepare(uint8_t *buf, uint64_t sector, uint32_t len,
			 uint32_t stamp, bool write)
{
	for (uint32_t off = 0; off < len; off += SECTOR) {
		struct tag *t = (struct tag *)(buf + off);

		*t = write ? (struct tag){ TAG_MAGIC, stamp, sector + off / SECTOR } :
			     (struct tag){ 0, 0, ~0ull };
	}
}

/*
 * Sectors read back carry the tags last written there (written_only: skip
 * blocks not written this boot). Counts the sectors checked; -1 said why.
 */
static int tags_check(const uint8_t *buf, uint64_t sector, uint32_t len,
		      bool written_only, uint64_t *checked)
{
	for (uint32_t off = 0; off < len; off += SECTOR) {
		const struct tag *t = (const struct tag *)(buf + off);
		uint64_t lba = sector + off / SECTOR;
		uint32_t want = bb.stamps[lba / (BLOCK / SECTOR)];

		if (written_only && !want)
			continue;
		if (t->magic != TAG_MAGIC || t->lba != lba || t->stamp != want) {
			printf("blkbench: sector %lu holds tag %#x/%lu/%u, expected %#x/%lu/%u\n",
			       lba, t->magic, t->lba, t->stamp, TAG_MAGIC, lba, want);
			return -1;
		}
		(*checked)++;
	}
	return 0;
}

/* Queue slot i's request: header, data, status, in descriptors 3i to 3i+2. */
static void slot_post(unsigned int i, bool write, uint64_t sector, uint32_t len,
		      uint8_t *buf)
{
	struct slot *s = &bb.slot[i];
	struct vring_desc *desc = &bb.d.vq[0].desc[i * DESCS_PER_REQ];
	uint16_t head = i * DESCS_PER_REQ;

	*s = (struct slot){ .hdr = { write ? BLK_T_OUT : BLK_T_IN, 0, sector },
			    .status = 0xff, .busy = true, .write = write,
			    .len = len, .buf = buf };
	if (write)
		s->stamp = bb.next_stamp++;
	tags_prepare(buf, sector, len, s->stamp, write);
	desc[0] = (struct vring_desc){ (uint64_t)(uintptr_t)&s->hdr, sizeof(s->hdr),
				       VRING_DESC_F_NEXT, head + 1 };
	desc[1] = (struct vring_desc){ (uint64_t)(uintptr_t)buf, len,
				       VRING_DESC_F_NEXT | (write ? 0 : VRING_DESC_F_WRITE),
				       head + 2 };
	desc[2] = (struct vring_desc){ (uint64_t)(uintptr_t)&s->status, 1,
				       VRING_DESC_F_WRITE, 0 };
	bench_queue(&bb.d, 0, head);
}

/* Does another request in flight touch a block of [sector, +len)? */
static bool in_flight(uint64_t sector, uint32_t len)
{
	for (unsigned int i = 0; i < bb.depth; i++) {
		const struct slot *s = &bb.slot[i];

		if (s->busy && s->hdr.sector < sector + len / SECTOR &&
		    sector < s->hdr.sector + s->len / SECTOR)
			return true;
	}
	return false;
}

/* The mode's next request into slot i. */
static void post_next(unsigned int i)
{
	uint64_t sector;

	if (bb.m->seq) {
		sector = bb.seq_next;
		bb.seq_next += SEQ_SIZE / SECTOR;
		if (bb.seq_next * SECTOR >= bb.region_blocks * BLOCK)
			bb.seq_next = 0;
	} else {
		do
			sector = rand64() % bb.region_blocks * (BLOCK / SECTOR);
		while (in_flight(sector, BLOCK));
	}
	slot_post(i, bb.m->write, sector, bb.m->size, bb.slot[i].buf);
}

/* A used entry: its slot, done and its status checked; NULL said why. */
static struct slot *reap(const struct vring_used_elem *el)
{
	unsigned int i = el->id / DESCS_PER_REQ;
	struct slot *s = &bb.slot[i];

	if (el->id % DESCS_PER_REQ || i >= bb.depth || !s->busy) {
		printf("blkbench: used entry %u was not in flight\n", el->id);
		return NULL;
	}
	s->busy = false;
	if (s->status || el->len != (s->write ? 1 : s->len + 1)) {
		printf("blkbench: request at sector %lu: status %u, used length %u\n",
		       s->hdr.sector, s->status, el->len);
		return NULL;
	}
	if (s->write)
		for (uint64_t b = s->hdr.sector / 8; b < (s->hdr.sector + s->len / SECTOR) / 8; b++)
			bb.stamps[b] = s->stamp;
	return s;
}

/* Wait for the next used entry, up to BENCH_STALL_SECONDS. */
static bool wait_used(struct vring_used_elem *el)
{
	uint64_t t0 = rdtsc();

	while (!bench_used(&bb.d, 0, el)) {
		if (rdtsc() - t0 > BENCH_STALL_SECONDS * bb.hz) {
			printf("blkbench: no request completed in %u s\n",
			       BENCH_STALL_SECONDS);
			return false;
		}
		cpu_relax();
	}
	return true;
}

/* One 1 MiB request alone, through slot 0 and the bulk buffer. */
static bool run_one(bool write, uint64_t sector)
{
	uint8_t *buf = bb.slot[0].buf;
	uint16_t old = bb.d.vq[0].next_avail;
	struct vring_used_elem el;
	bool ok;

	slot_post(0, write, sector, SEQ_SIZE, bb.bulk);
	bench_kick(&bb.d, 0, old);
	ok = wait_used(&el) && reap(&el);
	bb.slot[0].buf = buf;
	return ok;
}

/* Read modes: every block of the region gets its tags first (untimed). */
static int fill_region(void)
{
	for (uint64_t s = 0; s < bb.region_blocks * (BLOCK / SECTOR); s += SEQ_SIZE / SECTOR)
		if (!run_one(true, s))
			return -1;
	return 0;
}

/* The end: read the region back, every block written has its tags. */
static int check_region(void)
{
	uint64_t checked = 0, written = 0;

	for (uint64_t b = 0; b < bb.region_blocks; b++)
		written += bb.stamps[b] != 0;
	for (uint64_t s = 0; s < bb.region_blocks * (BLOCK / SECTOR); s += SEQ_SIZE / SECTOR)
		if (!run_one(false, s) ||
		    tags_check(bb.bulk, s, SEQ_SIZE, true, &checked))
			return -1;
	if (checked != written * (BLOCK / SECTOR)) {
		printf("blkbench: checked %lu sectors, expected %lu\n", checked,
		       written * (BLOCK / SECTOR));
		return -1;
	}
	printf("blkbench: read back %lu written blocks of %lu: every sector right\n",
	       written, bb.region_blocks);
	return 0;
}

/*
 * The timed phase: DEPTH requests in flight; each completion is checked
 * and replaced at once until SECONDS are up, then the last ones drain.
 * *ticks runs from the first notification to the last completion.
 */
static int run_timed(uint64_t *done, uint64_t *ticks, uint64_t *checked)
{
	uint16_t old = bb.d.vq[0].next_avail;
	uint64_t t0 = rdtsc(), end = t0 + bb.seconds * bb.hz, last = t0;
	unsigned int busy = bb.depth;
	struct vring_used_elem el;

	for (unsigned int i = 0; i < bb.depth; i++)
		post_next(i);
	bench_kick(&bb.d, 0, old);
	while (busy) {
		bool more = last < end;
		struct slot *s;

		if (!wait_used(&el) || !(s = reap(&el)))
			return -1;
		last = rdtsc();
		old = bb.d.vq[0].next_avail;
		do {
			if (!s->write && tags_check(s->buf, s->hdr.sector, s->len, false, checked))
				return -1;
			(*done)++;
			busy--;
			if (more) {
				post_next(s - bb.slot);
				busy++;
			}
		} while (bench_used(&bb.d, 0, &el) && (s = reap(&el)));
		if (!s)
			return -1;
		bench_kick(&bb.d, 0, old);
	}
	*ticks = last - t0;
	return 0;
}

int workload_blkbench(const char *arg, size_t len)
{
	uint64_t done = 0, ticks = 0, checked = 0, us, bytes;

	parse_args(arg, len);
	bb.hz = bench_tsc_hz();
	if (!bb.hz || !blk_setup())
		return -1;
	if (!bb.m->write && fill_region())
		return -1;
	printf("blkbench: start\n");
	if (run_timed(&done, &ticks, &checked))
		return -1;
	us = bench_us(ticks, bb.hz);
	bytes = done * bb.m->size;
	printf("blkbench: %s depth %u: %lu requests, %lu bytes in %lu us: %lu ops/s, %lu.%lu MB/s\n",
	       bb.m->name, bb.depth, done, bytes, us, us ? done * 1000000 / us : 0,
	       us ? bytes / us : 0, us ? bytes * 10 / us % 10 : 0);
	if (!bb.m->write)
		printf("blkbench: %lu sectors read, every one with its tag\n", checked);
	return check_region();
}
