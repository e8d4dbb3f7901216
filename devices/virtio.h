/* SPDX-License-Identifier: MIT */
/*
 * virtio over MMIO (virtio 1.x, transport version 2, split virtqueues).
 *
 * A virtio device is a struct virtio_device_ops plus private state; the
 * transport (devices/virtio_mmio.c) owns the register window, feature and
 * status negotiation, the queues, notifications (KVM ioeventfds, served on
 * the main thread) and the interrupt (a KVM irqfd). Queues are walked with
 * devices/virtqueue.c, which checks every value the guest wrote before it
 * is used: a device never touches host memory outside guest RAM.
 */
#ifndef GMVM_VIRTIO_H
#define GMVM_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "device.h"
#include "err.h"
#include "event_loop.h"

struct guest_mem;
struct json_object;
struct vmstate;
struct vmstate_writer;

#define VIRTIO_MAX_QUEUES 8
#define VIRTQ_MAX_SIZE 1024		/* largest queue a device offers */
#define VIRTQ_MAX_CHAIN 1024		/* buffers in one request */
#define VIRTIO_MMIO_WINDOW 0x1000

/* A split virtqueue, as the driver set it up. */
struct virtq {
	/* QueueNum, all 32 bits of it: no bigger value may pass as its low half. */
	uint32_t size;			/* a power of two once ready */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, mapped (and checked) by virtq_enable(). */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	bool signalled_valid;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX agreed */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC agreed */
};

/* One buffer of a request, in host memory (inside guest RAM). */
struct virtq_buf {
	uint8_t *addr;
	uint32_t len;
};

/* A request: nr_out device-readable buffers, then nr_in device-writable. */
struct virtq_req {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;
	struct virtq_buf buf[VIRTQ_MAX_CHAIN];
};

/* Check and map the rings of vq in mem. 0, or -EINVAL with e naming why. */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem, struct err *e);

/*
 * Take the next available request. Returns 1 with req filled, 0 when the
 * ring is empty, -EINVAL (e says why) when the driver broke the rules: the
 * caller then puts the device in NEEDS_RESET and stops using the queue.
 */
int virtq_pop(struct virtq *vq, const struct guest_mem *mem,
	      struct virtq_req *req, struct err *e);

/*
 * Give back the chain just popped, unused: it is again the next available
 * one (the driver cannot reuse its slot before the device has used it), and
 * the driver is asked to notify from it again.
 */
void virtq_unpop(struct virtq *vq);

/* Hand request head back with len bytes written into its buffers. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* After pushes: does the driver want an interrupt (event idx aware)? */
bool virtq_should_interrupt(struct virtq *vq);

/* Copy up to len bytes from a request's readable buffers, from offset. */
uint32_t virtq_req_read(const struct virtq_req *req, uint64_t off, void *dst,
			uint32_t len);
/* Copy len bytes into its writable buffers at offset; returns bytes copied. */
uint32_t virtq_req_write(const struct virtq_req *req, uint64_t off,
			 const void *src, uint32_t len);

/*
 * Describe len bytes from off of the request's readable (or writable)
 * buffers as at most max iovecs. Returns their number, -EINVAL when the
 * buffers are shorter, -E2BIG when more than max are needed.
 */
int virtq_req_iovec(const struct virtq_req *req, bool writable, uint64_t off,
		    uint64_t len, struct iovec *iov, int max);

struct virtio_dev;

struct virtio_device_ops {
	const char *name;		/* "virtio-rng": also the vmstate node */
	uint32_t device_id;		/* VIRTIO_ID_* */
	uint64_t features;		/* device-specific features offered */
	unsigned int nr_queues;
	uint16_t queue_max;
	uint32_t config_size;
	/* Config space access, bounds already checked. May be NULL. */
	void (*config_read)(struct virtio_dev *vd, uint32_t off, uint8_t *data,
			    uint32_t len);
	void (*config_write)(struct virtio_dev *vd, uint32_t off,
			     const uint8_t *data, uint32_t len);
	/* Queue q has new requests. Main thread, device lock held. */
	void (*notify)(struct virtio_dev *vd, unsigned int q);
	/* DRIVER_OK was set, or a paused device resumes. May be NULL. */
	void (*activate)(struct virtio_dev *vd);
	/* The driver reset the device, or the VM pauses. May be NULL. */
	void (*quiesce)(struct virtio_dev *vd);
	/* As device_ops.stats, .control and .syscalls. May be NULL. */
	unsigned int (*syscalls)(struct virtio_dev *vd, struct device_syscall *calls,
				 unsigned int max);
	void (*stats)(struct virtio_dev *vd, struct json_object *root);
	int (*control)(struct virtio_dev *vd, const char *cmd, struct json_object *req,
		       struct json_object *reply, struct err *e);
	/* Device-specific state beyond the transport's. May be NULL. */
	void (*save)(struct virtio_dev *vd, struct vmstate_writer *w);
	int (*restore)(struct virtio_dev *vd, const struct vmstate *vs,
		       int node, struct err *e);
	void (*destroy)(struct virtio_dev *vd);
};

struct virtio_queue_notify {
	struct event_source src;	/* the queue's ioeventfd */
	struct virtio_dev *vd;
	unsigned int index;
};

struct virtio_dev {
	struct device dev;		/* the MMIO window on the bus */
	const struct virtio_device_ops *ops;
	void *priv;
	uint64_t base;
	uint32_t gsi;
	int irqfd;
	uint32_t status;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t int_status;
	uint32_t config_generation;
	bool paused;
	bool logged_bad_access;		/* one line per device, not a flood */
	struct virtq vq[VIRTIO_MAX_QUEUES];
	struct virtio_queue_notify notify[VIRTIO_MAX_QUEUES];
};

/*
 * Create a virtio-mmio device for ops in the next free window of host's VM
 * (its address and GSI follow from its slot there) and register it. priv
 * belongs to the device from here on, freed by ops->destroy, also when this
 * fails. Returns 0 and *out, or -errno with e set.
 */
int virtio_mmio_create(struct dev_host *host, const struct virtio_device_ops *ops,
		       void *priv, struct virtio_dev **out, struct err *e);

/* Transport state to and from a vmstate node (devices/virtio_state.c). */
void virtio_mmio_save(struct device *dev, struct vmstate_writer *w);
int virtio_mmio_restore(struct device *dev, const struct vmstate *vs, int node,
			struct err *e);

/*
 * The device changed its configuration space: a new generation, and the
 * configuration-change interrupt once the driver is up. Device lock held.
 */
void virtio_config_changed(struct virtio_dev *vd);

/* Raise the interrupt for used buffers (VIRTIO_MMIO_INT_VRING). */
void virtio_interrupt(struct virtio_dev *vd);

/* Push, then interrupt if the driver wants one. */
void virtio_complete(struct virtio_dev *vd, unsigned int q, uint16_t head,
		     uint32_t len);

/* The driver broke the rules: log once, set NEEDS_RESET, tell the driver. */
void virtio_needs_reset(struct virtio_dev *vd, const char *why);

/* True when feature bit is agreed with the driver. */
bool virtio_has_feature(const struct virtio_dev *vd, unsigned int bit);

/* DRIVER_OK set and not paused: requests may be served. */
bool virtio_live(const struct virtio_dev *vd);

#endif /* GMVM_VIRTIO_H */
