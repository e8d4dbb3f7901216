// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport, version 2 (virtio 1.x, section 4.2). Registers
 * are 32-bit; an access of another size or alignment is ignored (and logged
 * once), as is anything the state machine does not allow at that moment.
 * Queue notifications arrive on ioeventfds, on the main thread; the
 * interrupt goes out through an irqfd. Neither passes through a vCPU thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch_layout.h"
#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "virtio.h"

#define VIRTIO_MMIO_MAGIC 0x74726976u	/* "virt" */
#define VIRTIO_MMIO_VERSION_MODERN 2
#define VIRTIO_VENDOR_GMVM 0x4d564d47u	/* "GMVM" */

/* Transport features every device offers. */
#define TRANSPORT_FEATURES                                                      \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |    \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC))

static struct virtio_dev *to_vd(struct device *dev)
{
	return (struct virtio_dev *)dev;
}

static uint64_t device_features(const struct virtio_dev *vd)
{
	return vd->ops->features | TRANSPORT_FEATURES;
}

bool virtio_has_feature(const struct virtio_dev *vd, unsigned int bit)
{
	return bit < 64 && (vd->driver_features >> bit) & 1;
}

bool virtio_live(const struct virtio_dev *vd)
{
	return (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vd->status & VIRTIO_CONFIG_S_NEEDS_RESET) && !vd->paused;
}

static void virtio_raise(struct virtio_dev *vd, uint32_t why)
{
	uint64_t one = 1;

	vd->int_status |= why;
	if (write(vd->irqfd, &one, sizeof(one)) < 0)
		log_warn("%s: cannot raise its interrupt: %s", vd->dev.id,
			 strerror(errno));
}

void virtio_interrupt(struct virtio_dev *vd)
{
	virtio_raise(vd, VIRTIO_MMIO_INT_VRING);
}

void virtio_complete(struct virtio_dev *vd, unsigned int q, uint16_t head,
		     uint32_t len)
{
	virtq_push(&vd->vq[q], head, len);
	if (virtq_should_interrupt(&vd->vq[q]))
		virtio_interrupt(vd);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	vd->config_generation++;
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_raise(vd, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_needs_reset(struct virtio_dev *vd, const char *why)
{
	if (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	log_warn("%s: %s; the device needs a reset", vd->dev.id, why);
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_raise(vd, VIRTIO_MMIO_INT_CONFIG);
}

static void virtio_bad_access(struct virtio_dev *vd, const char *what,
			      uint64_t off, uint32_t len)
{
	if (vd->logged_bad_access)
		return;
	vd->logged_bad_access = true;
	log_warn("%s: guest %s at offset %#llx (%u bytes) ignored (logged once)",
		 vd->dev.id, what, (unsigned long long)off, len);
}

static void virtio_reset(struct virtio_dev *vd)
{
	if (vd->ops->quiesce)
		vd->ops->quiesce(vd);
	vd->status = 0;
	vd->device_features_sel = vd->driver_features_sel = vd->queue_sel = 0;
	vd->driver_features = 0;
	vd->int_status = 0;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vd->vq[i] = (struct virtq){ 0 };
}

static struct virtq *selected_queue(struct virtio_dev *vd)
{
	return vd->queue_sel < vd->ops->nr_queues ? &vd->vq[vd->queue_sel] : NULL;
}

static uint32_t read_queue_reg(struct virtio_dev *vd, uint64_t off)
{
	struct virtq *vq = selected_queue(vd);

	if (!vq)
		return 0;	/* a queue that does not exist reads as 0 */
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vd->ops->queue_max;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq->ready;
	default:
		return 0;
	}
}

static uint32_t virtio_read_reg(struct virtio_dev *vd, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:
		return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR_GMVM;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return vd->device_features_sel > 1 ? 0 :
		       (uint32_t)(device_features(vd) >> (32 * vd->device_features_sel));
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vd->int_status;
	case VIRTIO_MMIO_STATUS:
		return vd->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vd->config_generation;
	default:
		return read_queue_reg(vd, off);
	}
}

/* FEATURES_OK only for a subset of what is offered, with VERSION_1. */
static void virtio_set_status(struct virtio_dev *vd, uint32_t v)
{
	uint32_t added = v & ~vd->status;

	if (v == 0) {
		virtio_reset(vd);
		return;
	}
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((vd->driver_features & ~device_features(vd)) ||
	     !virtio_has_feature(vd, VIRTIO_F_VERSION_1)))
		v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(v & VIRTIO_CONFIG_S_FEATURES_OK))
		v &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	/* The device alone sets NEEDS_RESET; the driver cannot clear it. */
	v = (v & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
	    (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	vd->status = v;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && virtio_live(vd) &&
	    vd->ops->activate)
		vd->ops->activate(vd);
}

static void virtio_set_ready(struct virtio_dev *vd, struct virtq *vq,
			     uint32_t v)
{
	struct err e = { 0 };

	if (!v) {
		vq->ready = false;
		return;
	}
	vq->event_idx = virtio_has_feature(vd, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = virtio_has_feature(vd, VIRTIO_RING_F_INDIRECT_DESC);
	if (vq->size > vd->ops->queue_max)
		err_set(&e, EINVAL, "queue size %u is above the maximum %u",
			vq->size, vd->ops->queue_max);
	else
		virtq_enable(vq, vd->dev.host->mem, &e);
	if (e.errnum) {
		virtio_needs_reset(vd, e.msg);
		return;
	}
	vq->ready = true;
}

static void set_half(uint64_t *v, bool high, uint32_t half)
{
	*v = high ? (*v & 0xffffffffull) | (uint64_t)half << 32 :
		    (*v & ~0xffffffffull) | half;
}

static void write_queue_reg(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	struct virtq *vq = selected_queue(vd);

	/*
	 * Nothing to set up, or set up already: the driver errs. Except
	 * that it stops a queue by writing 0 to QueueReady (4.2.2.2).
	 */
	if (!vq || (vq->ready && !(off == VIRTIO_MMIO_QUEUE_READY && !v))) {
		virtio_bad_access(vd, vq ? "queue setup while ready" :
				  "setup of a queue that does not exist", off, 4);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->size = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_set_ready(vd, vq, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&vq->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&vq->avail_gpa, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, v);
		break;
	default:
		set_half(&vq->used_gpa, off == VIRTIO_MMIO_QUEUE_USED_HIGH, v);
		break;
	}
}

static void virtio_write_reg(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vd->device_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (vd->status & VIRTIO_CONFIG_S_FEATURES_OK)
			virtio_bad_access(vd, "feature write after FEATURES_OK", off, 4);
		else if (vd->driver_features_sel <= 1)
			set_half(&vd->driver_features, vd->driver_features_sel, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vd->driver_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vd->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Valid ones go to the ioeventfds; this one matched none. */
		virtio_bad_access(vd, "notification of a queue that does not exist", off, 4);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vd->int_status &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(vd, v);
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		write_queue_reg(vd, off, v);
		break;
	default:
		virtio_bad_access(vd, "write to a read-only or unknown register", off, 4);
		break;
	}
}

static bool config_access_ok(struct virtio_dev *vd, uint64_t off, uint32_t len)
{
	uint64_t rel = off - VIRTIO_MMIO_CONFIG;

	return rel < vd->ops->config_size && len <= vd->ops->config_size - rel;
}

static void virtio_mmio_read(struct device *dev, uint64_t off, uint8_t *data,
			     uint32_t len)
{
	struct virtio_dev *vd = to_vd(dev);
	uint32_t v;

	memset(data, 0, len);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (config_access_ok(vd, off, len) && vd->ops->config_read)
			vd->ops->config_read(vd, off - VIRTIO_MMIO_CONFIG, data, len);
		else
			virtio_bad_access(vd, "config read out of range", off, len);
		return;
	}
	if (len != 4 || off % 4) {
		virtio_bad_access(vd, "register read of the wrong size", off, len);
		return;
	}
	v = virtio_read_reg(vd, off);
	memcpy(data, &v, 4);
}

static void virtio_mmio_write(struct device *dev, uint64_t off,
			      const uint8_t *data, uint32_t len)
{
	struct virtio_dev *vd = to_vd(dev);
	uint32_t v;

	if (off >= VIRTIO_MMIO_CONFIG) {
		if (config_access_ok(vd, off, len) && vd->ops->config_write)
			vd->ops->config_write(vd, off - VIRTIO_MMIO_CONFIG, data, len);
		else
			virtio_bad_access(vd, "config write out of range or read-only", off, len);
		return;
	}
	if (len != 4 || off % 4) {
		virtio_bad_access(vd, "register write of the wrong size", off, len);
		return;
	}
	memcpy(&v, data, 4);
	virtio_write_reg(vd, off, v);
}

/* Main thread: a queue's ioeventfd fired. */
static void virtio_queue_event(struct event_source *src, uint32_t events)
{
	struct virtio_queue_notify *n = src->opaque;
	struct virtio_dev *vd = n->vd;
	uint64_t count;

	(void)events;
	if (read(src->fd, &count, sizeof(count)) < 0)
		return;
	pthread_mutex_lock(&vd->dev.lock);
	if (!(vd->status & VIRTIO_CONFIG_S_DRIVER_OK))
		virtio_bad_access(vd, "queue notification before DRIVER_OK",
				  VIRTIO_MMIO_QUEUE_NOTIFY, 4);
	else if (virtio_live(vd) && vd->vq[n->index].ready)
		vd->ops->notify(vd, n->index);
	pthread_mutex_unlock(&vd->dev.lock);
}

/* Main thread, VM pausing or resuming: no device work while paused. */
static void virtio_mmio_pause(struct device *dev, bool paused)
{
	struct virtio_dev *vd = to_vd(dev);
	struct event_loop *loop = dev->host->loop;

	pthread_mutex_lock(&dev->lock);
	vd->paused = paused;
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		event_loop_modify(loop, &vd->notify[q].src, paused ? 0 : EPOLLIN);
	if (paused && vd->ops->quiesce)
		vd->ops->quiesce(vd);
	else if (!paused && virtio_live(vd) && vd->ops->activate)
		vd->ops->activate(vd);
	pthread_mutex_unlock(&dev->lock);
}

static void virtio_mmio_reset(struct device *dev)
{
	virtio_reset(to_vd(dev));
}

static void virtio_mmio_destroy(struct device *dev)
{
	struct virtio_dev *vd = to_vd(dev);

	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		if (vd->notify[q].src.fd >= 0)
			close(vd->notify[q].src.fd);
	if (vd->irqfd >= 0)
		close(vd->irqfd);
	if (vd->ops->destroy)
		vd->ops->destroy(vd);
	free(vd);
}

static int virtio_mmio_wire(struct dev_host *host, struct virtio_dev *vd,
			    struct err *e)
{
	int ret;

	vd->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->irqfd < 0)
		return err_set(e, errno, "%s: eventfd: %s", vd->dev.id, strerror(errno));
	ret = host_add_irqfd(host, vd->irqfd, vd->gsi, e);
	for (unsigned int q = 0; !ret && q < vd->ops->nr_queues; q++) {
		struct virtio_queue_notify *n = &vd->notify[q];

		n->vd = vd;
		n->index = q;
		n->src = (struct event_source){
			.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
			.handler = virtio_queue_event,
			.opaque = n,
		};
		if (n->src.fd < 0)
			return err_set(e, errno, "%s: eventfd: %s", vd->dev.id,
				       strerror(errno));
		ret = host_add_ioeventfd(host, n->src.fd,
				       vd->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q, e);
		if (!ret && event_loop_add(host->loop, &n->src, EPOLLIN))
			ret = err_set(e, EIO, "%s: cannot watch its queue %u", vd->dev.id, q);
	}
	return ret;
}

static void virtio_mmio_stats(struct device *dev, struct json_object *root)
{
	struct virtio_dev *vd = (struct virtio_dev *)dev;

	if (vd->ops->stats)
		vd->ops->stats(vd, root);
}

static int virtio_mmio_control(struct device *dev, const char *cmd,
			       struct json_object *req, struct json_object *reply,
			       struct err *e)
{
	struct virtio_dev *vd = (struct virtio_dev *)dev;

	return vd->ops->control ? vd->ops->control(vd, cmd, req, reply, e) : 1;
}

static unsigned int virtio_mmio_syscalls(struct device *dev,
					 struct device_syscall *calls,
					 unsigned int max)
{
	struct virtio_dev *vd = (struct virtio_dev *)dev;

	return vd->ops->syscalls ? vd->ops->syscalls(vd, calls, max) : 0;
}

static const struct device_ops virtio_mmio_ops = {
	.name = "virtio-mmio",
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
	.reset = virtio_mmio_reset,
	.pause = virtio_mmio_pause,
	.save = virtio_mmio_save,
	.restore = virtio_mmio_restore,
	.stats = virtio_mmio_stats,
	.control = virtio_mmio_control,
	.syscalls = virtio_mmio_syscalls,
	.destroy = virtio_mmio_destroy,
};

int virtio_mmio_create(struct dev_host *host, const struct virtio_device_ops *ops,
		       void *priv, struct virtio_dev **out, struct err *e)
{
	struct virtio_dev *vd = calloc(1, sizeof(*vd));
	int ret, slot;

	if (!vd) {
		ret = err_set(e, ENOMEM, "out of memory for %s", ops->name);
	} else if (ops->nr_queues > VIRTIO_MAX_QUEUES ||
		   ops->queue_max > VIRTQ_MAX_SIZE) {
		ret = err_set(e, EINVAL, "%s: too many or too large queues", ops->name);
	} else {
		device_init(&vd->dev, &virtio_mmio_ops, host);
		vd->ops = ops;
		vd->priv = priv;
		vd->irqfd = -1;
		for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
			vd->notify[q].src.fd = -1;
		ret = host_add_device(host, &vd->dev) ?
		      err_set(e, ENOMEM, "out of memory for %s", ops->name) : 0;
	}
	if (ret) {
		/*
		 * Not on the VM's list: free priv here, through the device
		 * (a bare one when even that could not be allocated).
		 */
		struct virtio_dev bare = { .ops = ops };

		if (!vd)
			vd = &bare;
		vd->priv = priv;
		if (ops->destroy)
			ops->destroy(vd);
		if (vd == &bare)
			vd = NULL;
		free(vd);
		return ret;
	}
	/* Its window and interrupt follow from its place among them. */
	slot = host_add_virtio(host, vd, e);
	if (slot < 0)
		return slot;
	snprintf(vd->dev.id, sizeof(vd->dev.id), "%s@%d", ops->name, slot);
	vd->base = LAYOUT_VIRTIO_BASE + (uint64_t)slot * VIRTIO_MMIO_WINDOW;
	vd->gsi = LAYOUT_VIRTIO_GSI_BASE + slot;
	ret = virtio_mmio_wire(host, vd, e);
	if (!ret)
		ret = host_add_mmio(host, vd->base, VIRTIO_MMIO_WINDOW, &vd->dev, e);
	if (ret)
		return ret;
	*out = vd;
	return 0;
}
