// SPDX-License-Identifier: MIT
/* Workloads that drive gmvm's virtio devices (see user.c). */
#include "virtio.h"

/* rng: two reads of 64 bytes; each non-zero, and they differ. */
int workload_rng(const char *arg, size_t len)
{
	static uint8_t a[64], b[64];
	struct vdev d;
	struct vbuf ba = { a, sizeof(a), true }, bb = { b, sizeof(b), true };
	int64_t na, nb;
	bool zero = true;

	(void)arg;
	(void)len;
	if (!virtio_find(VIRTIO_ID_RNG, 0, &d) || !virtio_init(&d, 0, 1)) {
		printf("rng: no virtio-rng device\n");
		return -1;
	}
	na = virtio_request(&d, 0, &ba, 1);
	nb = virtio_request(&d, 0, &bb, 1);
	for (unsigned int i = 0; i < sizeof(a); i++)
		zero &= !a[i];
	printf("rng: read %ld and %ld bytes, %s, %s\n", na, nb,
	       zero ? "all zero" : "not all zero",
	       memcmp(a, b, sizeof(a)) ? "different" : "THE SAME");
	return na == 64 && nb == 64 && !zero && memcmp(a, b, sizeof(a)) ? 0 : -1;
}

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_FIRST_SECTOR 8

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static uint8_t blk_data[128 * 512] __attribute__((aligned(4096)));
static uint8_t blk_check[128 * 512] __attribute__((aligned(4096)));

/* Sector s's contents: "gmvm sector S\n" then dots up to 511, then '\n'. */
static void blk_fill(uint8_t *p, uint64_t s)
{
	char head[32];
	int n = 0;
	uint64_t v = s;
	char digits[24];
	int nd = 0;

	memcpy(head, "gmvm sector ", 12);
	n = 12;
	do {
		digits[nd++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (nd)
		head[n++] = digits[--nd];
	head[n++] = '\n';
	memset(p, '.', 512);
	memcpy(p, head, n);
	p[511] = '\n';
}

static int64_t blk_io(struct vdev *d, uint32_t type, uint64_t sector,
		      void *data, uint32_t len, uint8_t *status)
{
	static struct blk_hdr hdr;
	static uint8_t st;
	struct vbuf b[3] = {
		{ &hdr, sizeof(hdr), false },
		{ data, len, type != BLK_T_OUT },
		{ &st, 1, true },
	};

	hdr = (struct blk_hdr){ type, 0, sector };
	st = 0xff;
	if (!len) {
		b[1] = b[2];
		int64_t n = virtio_request(d, 0, b, 2);
		*status = st;
		return n;
	}
	int64_t n = virtio_request(d, 0, b, 3);
	*status = st;
	return n;
}

static bool blk_open(struct vdev *d)
{
	if (!virtio_find(VIRTIO_ID_BLOCK, 0, d) || !virtio_init(d, 0, 1)) {
		printf("blk: no virtio-blk device\n");
		return false;
	}
	printf("blk: %lu sectors\n", (uint64_t)vdev_read(d, VM_CONFIG) |
	       (uint64_t)vdev_read(d, VM_CONFIG + 4) << 32);
	return true;
}

/* Read sectors back and compare them with what blk_fill() writes. */
static int blk_verify(struct vdev *d, uint64_t n)
{
	uint8_t st;

	memset(blk_check, 0, n * 512);
	if (blk_io(d, BLK_T_IN, BLK_FIRST_SECTOR, blk_check, n * 512, &st) < 0 || st) {
		printf("blk: read failed, status %u\n", st);
		return -1;
	}
	for (uint64_t s = 0; s < n; s++) {
		blk_fill(blk_data + s * 512, BLK_FIRST_SECTOR + s);
		if (memcmp(blk_data + s * 512, blk_check + s * 512, 512)) {
			printf("blk: sector %lu reads back wrong\n", BLK_FIRST_SECTOR + s);
			return -1;
		}
	}
	printf("blk: %lu sectors read back right\n", n);
	return 0;
}

static uint64_t blk_count(const char *arg, size_t len)
{
	uint64_t n = 128;

	if (arg && (!parse_u64(arg, len, &n) || !n || n > 128)) {
		printf("blk: the sector count must be 1 to 128\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	return n;
}

/* blk[=N]: write N sectors from sector 8, flush, read them back. */
int workload_blk(const char *arg, size_t len)
{
	uint64_t n = blk_count(arg, len);
	static char id[21];
	struct vdev d;
	uint8_t st;

	if (!blk_open(&d))
		return -1;
	for (uint64_t s = 0; s < n; s++)
		blk_fill(blk_data + s * 512, BLK_FIRST_SECTOR + s);
	if (blk_io(&d, BLK_T_OUT, BLK_FIRST_SECTOR, blk_data, n * 512, &st) < 0 || st) {
		printf("blk: write failed, status %u\n", st);
		return -1;
	}
	if (blk_io(&d, BLK_T_FLUSH, 0, NULL, 0, &st) < 0 || st) {
		printf("blk: flush failed, status %u\n", st);
		return -1;
	}
	if (blk_io(&d, BLK_T_GET_ID, 0, id, 20, &st) < 0 || st) {
		printf("blk: get id failed, status %u\n", st);
		return -1;
	}
	printf("blk: wrote %lu sectors, flushed, id \"%s\"\n", n, id);
	return blk_verify(&d, n);
}

/* blkcheck[=N]: only read back what blk wrote (e.g. after a restore). */
int workload_blkcheck(const char *arg, size_t len)
{
	uint64_t n = blk_count(arg, len);
	struct vdev d;

	if (!blk_open(&d))
		return -1;
	return blk_verify(&d, n);
}
