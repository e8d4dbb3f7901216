// SPDX-License-Identifier: MIT
/*
 * Split virtqueues (virtio 1.x, 2.7). The rings live in guest memory, which
 * the guest may change at any moment: every index and descriptor is read
 * once into a local copy and checked there before use -- ring indices
 * against the queue size, buffer addresses and lengths against guest RAM
 * (never straddling a region), chains against loops and the queue size,
 * indirect tables against nesting and size.
 */
#include <errno.h>
#include <string.h>

#include "guest_mem.h"
#include "virtio.h"

/* Ring sizes with room for the event-idx words. */
static uint64_t desc_size(uint32_t n)
{
	return 16ull * n;
}

static uint64_t avail_size(uint32_t n)
{
	return 6 + 2ull * n;
}

static uint64_t used_size(uint32_t n)
{
	return 6 + 8ull * n;
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem, struct err *e)
{
	uint32_t n = vq->size;

	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return err_set(e, EINVAL, "queue size %u is not a power of two up to %u",
			       n, VIRTQ_MAX_SIZE);
	if (vq->desc_gpa % 16 || vq->avail_gpa % 2 || vq->used_gpa % 4)
		return err_set(e, EINVAL, "queue rings at %#llx/%#llx/%#llx are misaligned",
			       (unsigned long long)vq->desc_gpa,
			       (unsigned long long)vq->avail_gpa,
			       (unsigned long long)vq->used_gpa);
	vq->desc = guest_mem_ptr(mem, vq->desc_gpa, desc_size(n));
	vq->avail = guest_mem_ptr(mem, vq->avail_gpa, avail_size(n));
	vq->used = guest_mem_ptr(mem, vq->used_gpa, used_size(n));
	if (!vq->desc || !vq->avail || !vq->used)
		return err_set(e, EINVAL, "a queue ring at %#llx/%#llx/%#llx is not inside guest RAM",
			       (unsigned long long)vq->desc_gpa,
			       (unsigned long long)vq->avail_gpa,
			       (unsigned long long)vq->used_gpa);
	return 0;
}

static uint16_t load16(const volatile uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Walks one chain; the state the checks need. */
struct chain_walk {
	struct virtq_req *req;
	const struct guest_mem *mem;
	unsigned int count;		/* descriptors seen, for loops */
	struct err *e;
};

static int chain_add(struct chain_walk *w, const struct vring_desc *d)
{
	struct virtq_req *req = w->req;
	bool writable = d->flags & VRING_DESC_F_WRITE;
	uint8_t *p;

	if (req->nr_out + req->nr_in >= VIRTQ_MAX_CHAIN)
		return err_set(w->e, EINVAL, "chain of more than %d buffers",
			       VIRTQ_MAX_CHAIN);
	if (!writable && req->nr_in)
		return err_set(w->e, EINVAL, "a readable buffer after a writable one");
	p = guest_mem_ptr(w->mem, d->addr, d->len);
	if (!p)
		return err_set(w->e, EINVAL, "buffer [%#llx, +%#x) is not inside guest RAM",
			       (unsigned long long)d->addr, d->len);
	req->buf[req->nr_out + req->nr_in] = (struct virtq_buf){ p, d->len };
	if (writable) {
		req->nr_in++;
		req->in_len += d->len;
	} else {
		req->nr_out++;
		req->out_len += d->len;
	}
	return 0;
}

/* The descriptors of an indirect table, which may not nest. */
static int chain_indirect(struct chain_walk *w, const struct vring_desc *d)
{
	const struct vring_desc *table;
	unsigned int n = d->len / 16;
	uint16_t i = 0;

	if (d->len % 16 || !n || n > VIRTQ_MAX_CHAIN)
		return err_set(w->e, EINVAL, "indirect table of %u bytes", d->len);
	table = guest_mem_ptr(w->mem, d->addr, d->len);
	if (!table)
		return err_set(w->e, EINVAL, "indirect table [%#llx, +%#x) is not inside guest RAM",
			       (unsigned long long)d->addr, d->len);
	for (unsigned int seen = 0;; seen++) {
		struct vring_desc copy;
		int ret;

		if (seen >= n)
			return err_set(w->e, EINVAL, "indirect chain loops");
		memcpy(&copy, &table[i], sizeof(copy));
		if (copy.flags & VRING_DESC_F_INDIRECT)
			return err_set(w->e, EINVAL, "indirect table inside an indirect table");
		ret = chain_add(w, &copy);
		if (ret)
			return ret;
		if (!(copy.flags & VRING_DESC_F_NEXT))
			return 0;
		if (copy.next >= n)
			return err_set(w->e, EINVAL, "indirect descriptor %u is past the table's %u",
				       copy.next, n);
		i = copy.next;
	}
}

static int chain_walk(struct virtq *vq, struct chain_walk *w, uint16_t head)
{
	uint16_t i = head;

	for (;;) {
		struct vring_desc copy;
		int ret;

		if (i >= vq->size)
			return err_set(w->e, EINVAL, "descriptor %u is past the queue's %u",
				       i, vq->size);
		if (++w->count > vq->size)
			return err_set(w->e, EINVAL, "chain from descriptor %u loops or exceeds the queue size",
				       head);
		memcpy(&copy, &vq->desc[i], sizeof(copy));
		if (copy.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return err_set(w->e, EINVAL, "indirect descriptor, not negotiated");
			/*
			 * A table ends a chain, which may have direct
			 * descriptors before it: a device MUST take those
			 * (virtio 1.2, 2.7.5.3.2), however rare they are.
			 */
			if (copy.flags & VRING_DESC_F_NEXT)
				return err_set(w->e, EINVAL, "indirect descriptor inside a chain");
			return chain_indirect(w, &copy);
		}
		ret = chain_add(w, &copy);
		if (ret)
			return ret;
		if (!(copy.flags & VRING_DESC_F_NEXT))
			return 0;
		i = copy.next;
	}
}

/* avail_event (the word after the used ring): notify me from last_avail. */
static void virtq_publish_avail_event(struct virtq *vq)
{
	__atomic_store_n((uint16_t *)&vq->used->ring[vq->size], vq->last_avail,
			 __ATOMIC_RELEASE);
}

int virtq_pop(struct virtq *vq, const struct guest_mem *mem,
	      struct virtq_req *req, struct err *e)
{
	struct chain_walk w = { .req = req, .mem = mem, .e = e };
	uint16_t avail_idx, head;

	avail_idx = load16(&vq->avail->idx);
	if (avail_idx == vq->last_avail) {
		if (!vq->event_idx)
			return 0;
		/*
		 * Empty: ask to be notified when the next one comes, then
		 * look once more. The full fence orders that store before
		 * the load: else the driver could add one after our first
		 * look, read the old avail_event and not notify us.
		 */
		virtq_publish_avail_event(vq);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16(&vq->avail->idx);
		if (avail_idx == vq->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return err_set(e, EINVAL, "available index jumped from %u to %u in a queue of %u",
			       vq->last_avail, avail_idx, vq->size);
	head = load16(&vq->avail->ring[vq->last_avail % vq->size]);
	req->head = head;
	req->nr_out = req->nr_in = 0;
	req->out_len = req->in_len = 0;
	if (chain_walk(vq, &w, head))
		return -EINVAL;
	if (req->out_len > UINT32_MAX || req->in_len > UINT32_MAX)
		return err_set(e, EINVAL, "request longer than 4 GiB");
	vq->last_avail++;
	/* Keep the driver's notifications for what is new (no fence: see above). */
	if (vq->event_idx)
		virtq_publish_avail_event(vq);
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
	if (vq->event_idx)
		virtq_publish_avail_event(vq);
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *el = &vq->used->ring[vq->used_idx % vq->size];

	el->id = head;
	el->len = len;
	vq->used_idx++;
	/* The element must be visible before the index that covers it. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	/* used_event: the entry after the avail ring. */
	event = load16(&vq->avail->ring[vq->size]);
	return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/* Copy between buf and the request's readable or writable bytes at off. */
static uint32_t virtq_req_copy(const struct virtq_req *req, bool writable,
			       uint64_t off, uint8_t *buf, uint32_t len)
{
	unsigned int first = writable ? req->nr_out : 0;
	unsigned int end = writable ? req->nr_out + req->nr_in : req->nr_out;
	uint32_t done = 0;

	for (unsigned int i = first; i < end && done < len; i++) {
		const struct virtq_buf *b = &req->buf[i];
		uint32_t n;

		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = MIN((uint64_t)b->len - off, (uint64_t)len - done);
		if (writable)
			memcpy(b->addr + off, buf + done, n);
		else
			memcpy(buf + done, b->addr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint32_t virtq_req_read(const struct virtq_req *req, uint64_t off, void *dst,
			uint32_t len)
{
	return virtq_req_copy(req, false, off, dst, len);
}

uint32_t virtq_req_write(const struct virtq_req *req, uint64_t off,
			 const void *src, uint32_t len)
{
	return virtq_req_copy(req, true, off, (uint8_t *)src, len);
}

int virtq_req_iovec(const struct virtq_req *req, bool writable, uint64_t off,
		    uint64_t len, struct iovec *iov, int max)
{
	unsigned int first = writable ? req->nr_out : 0;
	unsigned int end = writable ? req->nr_out + req->nr_in : req->nr_out;
	int n = 0;

	for (unsigned int i = first; i < end && len; i++) {
		const struct virtq_buf *b = &req->buf[i];
		uint64_t take;

		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		if (n == max)
			return -E2BIG;
		take = MIN((uint64_t)b->len - off, len);
		iov[n++] = (struct iovec){ b->addr + off, take };
		len -= take;
		off = 0;
	}
	return len ? -EINVAL : n;
}
