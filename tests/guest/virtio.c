// SPDX-License-Identifier: MIT
/*
 * A polling virtio-mmio driver for the test guest (CPL3). Rings come from a
 * static pool; each device gets its queues once. Requests are posted and
 * their completion awaited by watching the used index (with a time limit),
 * so no interrupt is needed.
 */
#include "virtio.h"

#define WAIT_CYCLES 20000000000ull	/* a few seconds */
#define POOL_QUEUES 32

struct ring_set {
	struct vring_desc desc[VQ_SIZE] __attribute__((aligned(16)));
	struct vring_avail avail __attribute__((aligned(4096)));
	struct vring_used used __attribute__((aligned(4096)));
};

static struct ring_set pool[POOL_QUEUES] __attribute__((aligned(4096)));
static unsigned int pool_used;

bool virtio_find(uint32_t device_id, unsigned int n, struct vdev *d)
{
	const uintptr_t *bases;
	unsigned int nr = virtio_windows(&bases);

	for (unsigned int i = 0; i < nr; i++) {
		uintptr_t base = bases[i];

		if (mmio_read32(base + VM_MAGIC) != 0x74726976 ||
		    mmio_read32(base + VM_DEVICE_ID) != device_id)
			continue;
		/* QEMU's virtio-mmio is legacy unless told force-legacy=false. */
		if (mmio_read32(base + VM_VERSION) != 2) {
			printf("virtio: device %u at %#lx is not version 2 (legacy?): skipped\n",
			       device_id, (uint64_t)base);
			continue;
		}
		if (n--)
			continue;
		*d = (struct vdev){ .base = base, .device_id = device_id };
		return true;
	}
	return false;
}

static uint64_t read_features(const struct vdev *d)
{
	uint64_t f;

	vdev_write(d, VM_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vdev_read(d, VM_DEVICE_FEATURES) << 32;
	vdev_write(d, VM_DEVICE_FEATURES_SEL, 0);
	return f | vdev_read(d, VM_DEVICE_FEATURES);
}

static bool setup_queue(struct vdev *d, unsigned int q)
{
	struct ring_set *r;
	uint32_t max;

	vdev_write(d, VM_QUEUE_SEL, q);
	max = vdev_read(d, VM_QUEUE_NUM_MAX);
	if (max < VQ_SIZE || pool_used >= POOL_QUEUES) {
		printf("virtio: queue %u of device %u: max size %u\n", q,
		       d->device_id, max);
		return false;
	}
	r = &pool[pool_used++];
	memset(r, 0, sizeof(*r));
	d->vq[q] = (struct vq){ VQ_SIZE, r->desc, &r->avail, &r->used, 0, 0 };
	vdev_write(d, VM_QUEUE_NUM, VQ_SIZE);
	vdev_write(d, VM_QUEUE_DESC, (uint32_t)(uintptr_t)r->desc);
	vdev_write(d, VM_QUEUE_DESC + 4, (uint32_t)((uintptr_t)r->desc >> 32));
	vdev_write(d, VM_QUEUE_AVAIL, (uint32_t)(uintptr_t)&r->avail);
	vdev_write(d, VM_QUEUE_AVAIL + 4, (uint32_t)((uintptr_t)&r->avail >> 32));
	vdev_write(d, VM_QUEUE_USED, (uint32_t)(uintptr_t)&r->used);
	vdev_write(d, VM_QUEUE_USED + 4, (uint32_t)((uintptr_t)&r->used >> 32));
	vdev_write(d, VM_QUEUE_READY, 1);
	return vdev_read(d, VM_QUEUE_READY) == 1;
}

bool virtio_init(struct vdev *d, uint64_t wanted, unsigned int nr_queues)
{
	uint64_t offered;

	vdev_write(d, VM_STATUS, 0);
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE);
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER);
	offered = read_features(d);
	d->features = (offered & wanted) | (1ull << VIRTIO_F_VERSION_1);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 0);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)d->features);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 1);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER | VS_FEATURES_OK);
	if (!(vdev_read(d, VM_STATUS) & VS_FEATURES_OK)) {
		printf("virtio: device %u refused features %#lx\n", d->device_id,
		       d->features);
		return false;
	}
	d->nr_queues = nr_queues;
	for (unsigned int q = 0; q < nr_queues; q++)
		if (!setup_queue(d, q))
			return false;
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER | VS_FEATURES_OK |
			       VS_DRIVER_OK);
	return true;
}

uint16_t virtio_post(struct vdev *d, unsigned int q, const struct vbuf *b,
		     unsigned int n)
{
	struct vq *vq = &d->vq[q];
	/* Descriptors from a rotating window: one request in flight each. */
	uint16_t head = (vq->next_avail * 8) % vq->size;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = (head + i) % vq->size;

		vq->desc[slot] = (struct vring_desc){
			.addr = (uint64_t)(uintptr_t)b[i].addr,
			.len = b[i].len,
			.flags = (b[i].writable ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = (slot + 1) % vq->size,
		};
	}
	vq->avail->ring[vq->next_avail % vq->size] = head;
	__atomic_store_n(&vq->avail->idx, ++vq->next_avail, __ATOMIC_RELEASE);
	vdev_write(d, VM_QUEUE_NOTIFY, q);
	return head;
}

bool virtio_wait(struct vdev *d, unsigned int q, uint32_t *len)
{
	struct vq *vq = &d->vq[q];
	uint64_t start = rdtsc();

	while (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) == vq->last_used) {
		if (rdtsc() - start > WAIT_CYCLES)
			return false;
		cpu_relax();
	}
	if (len)
		*len = vq->used->ring[vq->last_used % vq->size].len;
	vq->last_used++;
	return true;
}

int64_t virtio_request(struct vdev *d, unsigned int q, const struct vbuf *b,
		       unsigned int n)
{
	uint32_t len;

	virtio_post(d, q, b, n);
	return virtio_wait(d, q, &len) ? (int64_t)len : -1;
}
