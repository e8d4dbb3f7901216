// SPDX-License-Identifier: MIT
/*
 * Snapshot state of the virtio-mmio transport: negotiation, interrupt
 * status, and every queue's addresses and indices, then the device's own.
 * Restored values are checked like a driver's writes (feature subsets, queue
 * sizes, rings inside guest RAM). Requests the driver had made available but
 * the device had not taken are served after the restore: each ready queue
 * is notified once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "virtio.h"
#include "vmstate.h"

static void queue_name(char *buf, size_t len, unsigned int q, const char *what)
{
	snprintf(buf, len, "queue%u-%s", q, what);
}

static void save_queue(struct vmstate_writer *w, const struct virtq *vq,
		       unsigned int q)
{
	char name[32];

	queue_name(name, sizeof(name), q, "size");
	vmstate_put_u32(w, name, vq->size);
	queue_name(name, sizeof(name), q, "ready");
	vmstate_put_u32(w, name, vq->ready);
	queue_name(name, sizeof(name), q, "desc");
	vmstate_put_u64(w, name, vq->desc_gpa);
	queue_name(name, sizeof(name), q, "avail");
	vmstate_put_u64(w, name, vq->avail_gpa);
	queue_name(name, sizeof(name), q, "used");
	vmstate_put_u64(w, name, vq->used_gpa);
	queue_name(name, sizeof(name), q, "indices");
	vmstate_put_u64(w, name, (uint64_t)vq->last_avail |
			(uint64_t)vq->used_idx << 16 |
			(uint64_t)vq->signalled_used << 32 |
			(uint64_t)vq->signalled_valid << 48);
}

void virtio_mmio_save(struct device *dev, struct vmstate_writer *w)
{
	struct virtio_dev *vd = (struct virtio_dev *)dev;

	vmstate_put_u32(w, "status", vd->status);
	vmstate_put_u64(w, "driver-features", vd->driver_features);
	vmstate_put_u32(w, "device-features-sel", vd->device_features_sel);
	vmstate_put_u32(w, "driver-features-sel", vd->driver_features_sel);
	vmstate_put_u32(w, "queue-sel", vd->queue_sel);
	vmstate_put_u32(w, "int-status", vd->int_status);
	vmstate_put_u32(w, "config-generation", vd->config_generation);
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		save_queue(w, &vd->vq[q], q);
	if (vd->ops->save)
		vd->ops->save(vd, w);
}

static int restore_queue(struct virtio_dev *vd, const struct vmstate *vs,
			 int node, unsigned int q, struct err *e)
{
	struct virtq *vq = &vd->vq[q];
	uint32_t size, ready;
	uint64_t idx;
	char name[32];

	queue_name(name, sizeof(name), q, "size");
	if (vmstate_get_u32(vs, node, name, &size, e))
		return -EINVAL;
	queue_name(name, sizeof(name), q, "ready");
	if (vmstate_get_u32(vs, node, name, &ready, e))
		return -EINVAL;
	queue_name(name, sizeof(name), q, "desc");
	if (vmstate_get_u64(vs, node, name, &vq->desc_gpa, e))
		return -EINVAL;
	queue_name(name, sizeof(name), q, "avail");
	if (vmstate_get_u64(vs, node, name, &vq->avail_gpa, e))
		return -EINVAL;
	queue_name(name, sizeof(name), q, "used");
	if (vmstate_get_u64(vs, node, name, &vq->used_gpa, e))
		return -EINVAL;
	queue_name(name, sizeof(name), q, "indices");
	if (vmstate_get_u64(vs, node, name, &idx, e))
		return -EINVAL;
	/*
	 * QueueNum is checked when the queue is made ready, not before:
	 * until then it holds any 32-bit value the driver wrote.
	 */
	if ((ready && size > vd->ops->queue_max) || ready > 1 || idx >> 49)
		return err_set(e, EINVAL, "%s: queue %u state out of range", vd->dev.id, q);
	vq->size = size;
	vq->last_avail = idx;
	vq->used_idx = idx >> 16;
	vq->signalled_used = idx >> 32;
	vq->signalled_valid = (idx >> 48) & 1;
	vq->event_idx = virtio_has_feature(vd, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = virtio_has_feature(vd, VIRTIO_RING_F_INDIRECT_DESC);
	vq->ready = ready;
	if (ready && virtq_enable(vq, vd->dev.host->mem, e))
		return err_prefix(e, "%s: queue %u", vd->dev.id, q);
	return 0;
}

static int restore_transport(struct virtio_dev *vd, const struct vmstate *vs,
			     int node, struct err *e)
{
	uint64_t offered = vd->ops->features | (1ull << VIRTIO_F_VERSION_1) |
			   (1ull << VIRTIO_RING_F_EVENT_IDX) |
			   (1ull << VIRTIO_RING_F_INDIRECT_DESC);

	if (vmstate_get_u32(vs, node, "status", &vd->status, e) ||
	    vmstate_get_u64(vs, node, "driver-features", &vd->driver_features, e) ||
	    vmstate_get_u32(vs, node, "device-features-sel", &vd->device_features_sel, e) ||
	    vmstate_get_u32(vs, node, "driver-features-sel", &vd->driver_features_sel, e) ||
	    vmstate_get_u32(vs, node, "queue-sel", &vd->queue_sel, e) ||
	    vmstate_get_u32(vs, node, "int-status", &vd->int_status, e) ||
	    vmstate_get_u32(vs, node, "config-generation", &vd->config_generation, e))
		return -EINVAL;
	/*
	 * What a driver's writes can leave: any status bits (only the
	 * defined ones mean anything), any features until FEATURES_OK,
	 * which is only set for a subset of those offered.
	 */
	if (((vd->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	     (vd->driver_features & ~offered)) ||
	    vd->int_status & ~(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
		return err_set(e, EINVAL, "%s: transport state out of range", vd->dev.id);
	return 0;
}

int virtio_mmio_restore(struct device *dev, const struct vmstate *vs, int node,
			struct err *e)
{
	struct virtio_dev *vd = (struct virtio_dev *)dev;
	uint64_t one = 1;
	int ret;

	ret = restore_transport(vd, vs, node, e);
	for (unsigned int q = 0; !ret && q < vd->ops->nr_queues; q++)
		ret = restore_queue(vd, vs, node, q, e);
	if (!ret && vd->ops->restore)
		ret = vd->ops->restore(vd, vs, node, e);
	if (ret)
		return ret;
	/* Serve what was made available before the snapshot. */
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		if (vd->vq[q].ready && write(vd->notify[q].src.fd, &one, sizeof(one)) < 0)
			return err_set(e, errno, "%s: eventfd: %s", vd->dev.id,
				       strerror(errno));
	return 0;
}
