// SPDX-License-Identifier: MIT
/*
 * hostile: the devices it attacks, a normal request for each, and attacks
 * on one device's own rules.
 */
#include "hostile.h"

/* --- The devices, and what a normal request is for each ------------------ */

static uint8_t rng_buf[64];

static unsigned int rng_request(struct vbuf *b)
{
	memset(rng_buf, 0, sizeof(rng_buf));
	b[0] = (struct vbuf){ rng_buf, sizeof(rng_buf), true };
	return 1;
}

static bool rng_check(uint32_t len)
{
	for (unsigned int i = 0; i < sizeof(rng_buf); i++)
		if (rng_buf[i])
			return len == sizeof(rng_buf);
	return false;
}

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct blk_hdr blk_hdr;
static char blk_id[64];
static uint8_t blk_status;

/* GET_ID into a buffer longer than the 20 bytes of an ID. */
static unsigned int blk_request(struct vbuf *b)
{
	blk_hdr = (struct blk_hdr){ BLK_T_GET_ID, 0, 0 };
	memset(blk_id, 0, sizeof(blk_id));
	blk_status = 0xff;
	b[0] = (struct vbuf){ &blk_hdr, sizeof(blk_hdr), false };
	b[1] = (struct vbuf){ blk_id, sizeof(blk_id), true };
	b[2] = (struct vbuf){ &blk_status, 1, true };
	return 3;
}

static bool blk_check(uint32_t len)
{
	return blk_status == BLK_S_OK && len == 21 &&
	       !memcmp(blk_id, "gmvm-disk0", 11);
}

/* Bats looks for this line on stdout: it went through transmitq. */
static char hvc_text[] =
	"hostile: this line went through virtio-console, after the attack\n";

static unsigned int console_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ hvc_text, sizeof(hvc_text) - 1, false };
	return 1;
}

/* A transmitted buffer comes back with nothing written into it. */
static bool nothing_written(uint32_t len)
{
	return len == 0;
}

/* Inflate one page (16 times over): the host gives it back, it reads zero. */
static uint8_t balloon_page[PAGE] __attribute__((aligned(4096)));
static uint32_t balloon_pfns[16];

static unsigned int balloon_request(struct vbuf *b)
{
	memset(balloon_page, 0xa5, sizeof(balloon_page));
	for (unsigned int i = 0; i < 16; i++)
		balloon_pfns[i] = (uint64_t)balloon_page >> 12;
	b[0] = (struct vbuf){ balloon_pfns, sizeof(balloon_pfns), false };
	return 1;
}

static bool balloon_check(uint32_t len)
{
	for (unsigned int i = 0; i < sizeof(balloon_page); i++)
		if (*(volatile uint8_t *)&balloon_page[i])
			return false;
	return len == 0;
}

/* net: one frame on transmitq, to nobody (a local experimental EtherType). */
static uint8_t net_hdr[12];
static uint8_t net_frame[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x88, 0xb5, 'h', 'o', 's', 't', 'i', 'l', 'e',
};

static unsigned int net_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ net_hdr, sizeof(net_hdr), false };
	b[1] = (struct vbuf){ net_frame, sizeof(net_frame), false };
	return 2;
}

const struct target targets[] = {
	{ "rng", VIRTIO_ID_RNG, 1, 0, rng_request, rng_check },
	{ "blk", VIRTIO_ID_BLOCK, 1, 0, blk_request, blk_check },
	{ "console", VIRTIO_ID_CONSOLE, 2, 1, console_request, nothing_written },
	/* No VIRTIO_BALLOON_F_REPORTING: queue 2 exists, unnegotiated. */
	{ "balloon", VIRTIO_ID_BALLOON, 3, 0, balloon_request, balloon_check },
	{ "net", VIRTIO_ID_NET, 2, 1, net_request, nothing_written },
};

const unsigned int nr_targets =
	sizeof(targets) / sizeof(targets[0]);

/* --- One device's own rules ------------------------------------------------ */

/* blk: one request with header h and data of len bytes; its status. */
static int blk_try(struct vdev *d, struct blk_hdr h, uint32_t hdr_len,
		   uint32_t len, bool with_status, uint32_t *used)
{
	struct vbuf b[3];
	unsigned int n = 0;

	blk_hdr = h;
	blk_status = 0xff;
	b[n++] = (struct vbuf){ &blk_hdr, hdr_len, false };
	if (len)
		b[n++] = (struct vbuf){ scratch, len, h.type != BLK_T_OUT };
	if (with_status)
		b[n++] = (struct vbuf){ &blk_status, 1, true };
	lay(d->vq[0].desc, VQ_SIZE, 0, b, n);
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, used))
		return -1;
	return blk_status;
}

/*
 * Requests a disk must refuse with an error status (5.2.6): sectors past
 * the end (also where sector + count wraps), lengths that are no multiple
 * of a sector, short headers, unknown types. One without a status byte
 * has nothing written: its used length must be 0 (2.7.8.2).
 */
int attack_blkbad(const struct target *t, struct vdev *d)
{
	static const struct {
		struct blk_hdr h;
		uint32_t hdr_len, len;
		int want;
	} cases[] = {
		{ { BLK_T_IN, 0, ~0ull }, 16, 512, BLK_S_IOERR },
		{ { BLK_T_IN, 0, 2047 }, 16, 1024, BLK_S_IOERR },
		{ { BLK_T_OUT, 0, 1ull << 55 }, 16, 512, BLK_S_IOERR },
		{ { BLK_T_OUT, 0, 0 }, 16, 100, BLK_S_IOERR },
		{ { BLK_T_IN, 0, 0 }, 8, 512, BLK_S_IOERR },
		{ { 0x1234, 0, 0 }, 16, 0, BLK_S_UNSUPP },
	};
	uint32_t used;
	int st;

	if (!dev_open(t, d, 0))
		return -1;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = blk_try(d, cases[i].h, cases[i].hdr_len, cases[i].len, true, &used);
		if (st != cases[i].want || used != 1) {
			printf("hostile: blk case %u: status %d, used %u\n", i, st, used);
			return -1;
		}
	}
	st = blk_try(d, (struct blk_hdr){ BLK_T_OUT, 0, 0 }, 16, 512, false, &used);
	if (st != 0xff || used) {
		printf("hostile: blk without a status byte: %d, used %u\n", st, used);
		return -1;
	}
	printf("hostile: bad block requests refused with an error status\n");
	return needs_reset(d) ? -1 : 0;
}

/* balloon: frames outside RAM are skipped, the request completes. */
int attack_pfn(const struct target *t, struct vdev *d)
{
	struct vbuf b = { balloon_pfns, 4 * sizeof(balloon_pfns[0]), false };
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	balloon_pfns[0] = ram_top() >> 12;
	balloon_pfns[1] = (3ul << 30) >> 12;
	balloon_pfns[2] = 0xffffffff;
	balloon_pfns[3] = 0xfee00;
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: frames outside RAM: request not completed\n");
		return -1;
	}
	printf("hostile: frames outside RAM skipped, the request completed\n");
	return normal(t, d, "after bad frames") ? 0 : -1;
}

/*
 * balloon: one request of more frames than Linux ever sends (gmvm takes
 * 1024): the first 1024 name page a, the rest page b. Page a comes back
 * zero, page b keeps its contents: the frames past the cap were not taken.
 */
#define MANY_PFNS 1100
static uint8_t many_page[2][PAGE] __attribute__((aligned(4096)));
static uint32_t many_pfns[MANY_PFNS];

int attack_manypfn(const struct target *t, struct vdev *d)
{
	struct vbuf b = { many_pfns, sizeof(many_pfns), false };
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	memset(many_page, 0xa5, sizeof(many_page));
	for (unsigned int i = 0; i < MANY_PFNS; i++)
		many_pfns[i] = (uint64_t)many_page[i >= 1024] >> 12;
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: %u frames: request not completed\n", MANY_PFNS);
		return -1;
	}
	for (unsigned int i = 0; i < PAGE; i++) {
		if (*(volatile uint8_t *)&many_page[0][i] ||
		    *(volatile uint8_t *)&many_page[1][i] != 0xa5) {
			printf("hostile: %u frames: page a byte %u is %#x, page b %#x\n",
			       MANY_PFNS, i, many_page[0][i], many_page[1][i]);
			return -1;
		}
	}
	printf("hostile: %u frames: the first 1024 given back, the rest left\n",
	       MANY_PFNS);
	return normal(t, d, "after a long request") ? 0 : -1;
}

/* balloon: reporting_vq used though VIRTIO_BALLOON_F_REPORTING was not agreed. */
int attack_reportq(const struct target *t, struct vdev *d)
{
	struct vbuf b = { scratch, PAGE, true };

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	lay(d->vq[2].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 2, 0);
	return expect_needs_reset(&(struct target){ .q = 2,
		.request = t->request }, d, true);
}

/*
 * console: a receive chain that loops, found when input comes (from the
 * console's input path, not a notification). The input is held through
 * the reset and arrives once there is a good buffer.
 */
static char rx_buf[16];

static unsigned int rx_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ rx_buf, sizeof(rx_buf), true };
	return 1;
}

int attack_rxloop(const struct target *t, struct vdev *d)
{
	const struct target rx = { .q = 0, .request = rx_request };
	struct vbuf b;
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	submit(d, 0, lay_loop(d->vq[0].desc));
	if (expect_needs_reset(&rx, d, true) || !dev_open(t, d, 0))
		return -1;
	memset(rx_buf, 0, sizeof(rx_buf));
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, rx_request(&b));
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, &len) || !len ||
	    len > sizeof(rx_buf)) {
		printf("hostile: no input after the reset\n");
		return -1;
	}
	printf("hostile: input after the reset: \"%.*s\"\n", (int)len, rx_buf);
	return 0;
}

/* net: a frame to transmit in a buffer the device may write. */
static uint16_t lay_tx_writable(struct vring_desc *desc)
{
	struct vbuf b[2];

	net_request(b);
	b[1].writable = true;
	lay(desc, VQ_SIZE, 0, b, 2);
	return 0;
}

int attack_txwritable(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_tx_writable);
}
