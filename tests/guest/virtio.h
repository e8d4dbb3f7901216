/* SPDX-License-Identifier: MIT */
/*
 * The test guest's virtio-mmio driver: polling, at CPL3, one device per
 * struct vdev. Enough to drive gmvm's devices and to misbehave on purpose.
 */
#ifndef TESTGUEST_VIRTIO_H
#define TESTGUEST_VIRTIO_H

#include "guest.h"

#define VIRTIO_MMIO_BASE 0xc0001000ul
#define VIRTIO_MMIO_SLOTS 16
#define VQ_SIZE 64

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4

/* Register offsets. */
#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_INTERRUPT_STATUS 0x060
#define VM_INTERRUPT_ACK 0x064
#define VM_STATUS 0x070
#define VM_QUEUE_DESC 0x080
#define VM_QUEUE_AVAIL 0x090
#define VM_QUEUE_USED 0x0a0
#define VM_CONFIG 0x100

#define VS_ACKNOWLEDGE 1
#define VS_DRIVER 2
#define VS_DRIVER_OK 4
#define VS_FEATURES_OK 8
#define VS_NEEDS_RESET 64

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[VQ_SIZE];
	uint16_t used_event;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[VQ_SIZE];
	uint16_t avail_event;
};

struct vq {
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t next_avail;		/* our avail->idx */
	uint16_t last_used;
};

struct vdev {
	uintptr_t base;
	uint32_t device_id;
	uint64_t features;		/* agreed */
	unsigned int nr_queues;
	struct vq vq[4];
};

/* A buffer of a request: device-readable unless writable. */
struct vbuf {
	void *addr;
	uint32_t len;
	bool writable;
};

static inline uint32_t vdev_read(const struct vdev *d, uint32_t off)
{
	return mmio_read32(d->base + off);
}

static inline void vdev_write(const struct vdev *d, uint32_t off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}

/* virtio_cmdline.c: the windows to look for devices in (see there). */
unsigned int virtio_windows(const uintptr_t **bases);

/* The n-th device with this ID (0 first); false when there is none. */
bool virtio_find(uint32_t device_id, unsigned int n, struct vdev *d);

/*
 * Reset, negotiate (VERSION_1 plus wanted & offered), set up nr_queues
 * queues and set DRIVER_OK. Returns false, saying why, on failure.
 */
bool virtio_init(struct vdev *d, uint64_t wanted, unsigned int nr_queues);

/*
 * Post one request of n buffers on queue q and notify; returns its head.
 * virtio_wait() then waits (bounded) for the next used entry.
 */
uint16_t virtio_post(struct vdev *d, unsigned int q, const struct vbuf *b,
		     unsigned int n);
bool virtio_wait(struct vdev *d, unsigned int q, uint32_t *len);

/* Post and wait: a request's used length, or -1 on a timeout. */
int64_t virtio_request(struct vdev *d, unsigned int q, const struct vbuf *b,
		       unsigned int n);

/* virtio_net.c, for netbench: net=GIP,HIP's device up, HIP resolved. */
struct net_link {
	struct vdev *d;
	uint8_t mac[6], host_mac[6], ip[4], host_ip[4];
};
bool net_link_open(const char *arg, size_t len, struct net_link *l);

#endif /* TESTGUEST_VIRTIO_H */
