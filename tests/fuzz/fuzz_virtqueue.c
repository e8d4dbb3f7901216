// SPDX-License-Identifier: MIT
/*
 * Split virtqueues (devices/virtqueue.c) over 64 KiB of guest RAM: ring
 * setup, descriptor chains, indirect tables, event idx, and copying to and
 * from requests, with guest memory changing between operations as a
 * hostile driver would change it.
 *
 * Input: a header, then operations until the input ends.
 *   header: u16 queue size, u8 flags (bit 0 event idx, bit 1 indirect),
 *           u64 desc, avail and used addresses, u16 last_avail, u16 used_idx
 *   op 0  MEM   u16 gpa, u8 len, len bytes     the driver writes RAM
 *   op 1  DESC  u16 i, u64 addr, u32 len, u16 flags, u16 next
 *   op 2  AVAIL u16 head                        ring[idx % size] = head, idx++
 *   op 3  POP                                   virtq_pop()
 *   op 4  PUSH  u32 len                         the last request back
 *   op 5  READ  u32 off, u16 len                virtq_req_read()
 *   op 6  WRITE u32 off, u16 len                virtq_req_write()
 *   op 7  IOVEC u8 writable, u32 off, u32 len, u16 max
 *   op 8  INTR                                  virtq_should_interrupt()
 *   op 9  EVENT u16 used_event                  the driver's used_event
 * Every request virtq_pop() hands out is checked against guest RAM and its
 * own totals; a broken queue (virtq_pop() < 0) ends the run, as the device
 * then needs a reset.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define RAM_SIZE (64 * 1024)

static struct virtq_req req;
static uint8_t scratch[65536];

/* Every buffer inside RAM, the totals right, the head a descriptor. */
static void check_request(const struct virtq *vq, const struct guest_mem *mem)
{
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(req.head < vq->size, "head %u of %u", req.head, vq->size);
	FUZZ_CHECK(req.nr_out + req.nr_in >= 1 &&
		   req.nr_out + req.nr_in <= VIRTQ_MAX_CHAIN,
		   "%u + %u buffers", req.nr_out, req.nr_in);
	for (unsigned int i = 0; i < req.nr_out + req.nr_in; i++) {
		const struct virtq_buf *b = &req.buf[i];

		FUZZ_CHECK(b->addr >= mem->base && b->len &&
			   b->addr + b->len <= mem->base + mem->size,
			   "buffer %u outside RAM", i);
		if (i < req.nr_out)
			out += b->len;
		else
			in += b->len;
	}
	FUZZ_CHECK(out == req.out_len && in == req.in_len, "totals");
}

static void check_iovec(struct fuzz_input *in, const struct guest_mem *mem)
{
	static struct iovec iov[VIRTQ_MAX_CHAIN];
	bool writable = fin_u8(in) & 1;
	uint64_t off = fin_u32(in), len = fin_u32(in), sum = 0;
	int max = fin_u16(in) % (VIRTQ_MAX_CHAIN + 1);
	int n = virtq_req_iovec(&req, writable, off, len, iov, max);

	if (n < 0)
		return;
	FUZZ_CHECK(n <= max, "%d iovecs of %d", n, max);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;

		FUZZ_CHECK(p >= mem->base && iov[i].iov_len &&
			   p + iov[i].iov_len <= mem->base + mem->size,
			   "iovec %d outside RAM", i);
		sum += iov[i].iov_len;
	}
	FUZZ_CHECK(sum == len, "iovecs of %llu bytes for %llu",
		   (unsigned long long)sum, (unsigned long long)len);
}

static void driver_avail(struct virtq *vq, uint16_t head)
{
	uint16_t idx = vq->avail->idx;

	vq->avail->ring[idx % vq->size] = head;
	__atomic_store_n(&vq->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

/* One op; false when the queue is broken. */
static bool run_op(struct fuzz_input *in, struct virtq *vq,
		   struct guest_mem *mem, bool *have_req)
{
	struct err e = { 0 };
	const uint8_t *bytes;
	uint64_t gpa, addr;
	uint32_t off, len;
	uint16_t i, flags;
	int ret;

	switch (fin_u8(in) % 10) {
	case 0:
		gpa = fin_u16(in);
		len = fin_bytes(in, fin_u8(in), &bytes);
		fuzz_mem_write(mem, gpa, bytes, len);
		break;
	case 1:
		i = fin_u16(in) % vq->size;
		addr = fin_u64(in);
		len = fin_u32(in);
		flags = fin_u16(in);
		vq->desc[i] = (struct vring_desc){ addr, len, flags, fin_u16(in) };
		break;
	case 2:
		driver_avail(vq, fin_u16(in));
		break;
	case 3:
		ret = virtq_pop(vq, mem, &req, &e);
		if (ret < 0) {
			fuzz_refused(&e, "virtq_pop");
			return false;
		}
		if (ret > 0) {
			check_request(vq, mem);
			*have_req = true;
		}
		break;
	case 4:
		if (*have_req)
			virtq_push(vq, req.head, fin_u32(in));
		break;
	case 5:
		off = fin_u32(in);
		len = fin_u16(in);
		if (*have_req)
			FUZZ_CHECK(virtq_req_read(&req, off, scratch, len) <= len, "read");
		break;
	case 6:
		off = fin_u32(in);
		len = fin_u16(in);
		if (*have_req)
			FUZZ_CHECK(virtq_req_write(&req, off, scratch, len) <= len, "write");
		break;
	case 7:
		if (*have_req)
			check_iovec(in, mem);
		break;
	case 8:
		virtq_should_interrupt(vq);
		break;
	case 9:
		vq->avail->ring[vq->size] = fin_u16(in);
		break;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	struct guest_mem mem;
	struct virtq vq = { 0 };
	struct err e = { 0 };
	bool have_req = false;
	uint8_t flags;

	if (fuzz_mem_init(&mem, RAM_SIZE))
		abort();
	vq.size = fin_u16(&in);
	flags = fin_u8(&in);
	vq.event_idx = flags & 1;
	vq.indirect = flags & 2;
	vq.desc_gpa = fin_u64(&in);
	vq.avail_gpa = fin_u64(&in);
	vq.used_gpa = fin_u64(&in);
	vq.last_avail = fin_u16(&in);
	vq.used_idx = fin_u16(&in);
	/* A queue the driver left where the device stands (a restore). */
	if (!virtq_enable(&vq, &mem, &e)) {
		vq.ready = true;
		vq.avail->idx = vq.last_avail;
		vq.used->idx = vq.used_idx;
		while (!fin_done(&in) && run_op(&in, &vq, &mem, &have_req))
			;
	} else {
		fuzz_refused(&e, "virtq_enable");
	}
	fuzz_mem_free(&mem);
	return 0;
}
