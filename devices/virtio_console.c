// SPDX-License-Identifier: MIT
/*
 * virtio-console (--console virtio): one port, hvc0 in a Linux guest, joined
 * to the console (lib/console.c) in place of the UART's input.
 *
 * transmitq: each request's readable buffers go to console_write().
 * receiveq: host input is copied into the buffers the driver made
 * available. A buffer is taken from the ring only when there are bytes for
 * it, so empty buffers wait in the ring, not here. Input that finds no
 * buffer is held back (up to VCON_HELD_MAX bytes, kept in snapshots) and
 * delivered when the driver adds buffers. While the hold is full the sink
 * takes nothing, the console stops reading stdin, and console_sink_ready()
 * restarts it once buffers came back: the UART's flow control, with the
 * hold as its FIFO.
 *
 * Only the mandatory queues: no VIRTIO_CONSOLE_F_MULTIPORT, no
 * VIRTIO_CONSOLE_F_SIZE (the guest keeps its default size). Emergency
 * writes (VIRTIO_CONSOLE_F_EMERG_WRITE) are offered: a byte written to
 * emerg_wr is output at once, also before the queues exist.
 */
#include <errno.h>
#include <linux/virtio_console.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "virtio.h"
#include "vmstate.h"

#define VCON_QUEUE_SIZE 256
#define VCON_RX 0			/* receiveq: host to guest */
#define VCON_TX 1			/* transmitq: guest to host */
#define VCON_HELD_MAX 4096		/* input held back while no buffer */

struct virtio_console {
	struct virtio_dev *vd;
	uint8_t held[VCON_HELD_MAX];	/* undelivered input, oldest first */
	size_t held_len;
	struct virtq_req req;
};

/* Copy held input into receive buffers, as long as both last. Lock held. */
static void vcon_deliver(struct virtio_dev *vd)
{
	struct virtio_console *c = vd->priv;
	struct virtq *vq = &vd->vq[VCON_RX];
	size_t before = c->held_len;
	struct err e = { 0 };
	int ret = 0;

	/* Before DRIVER_OK, and while paused, guest memory is not ours. */
	if (!virtio_live(vd) || !vq->ready)
		return;
	while (c->held_len &&
	       (ret = virtq_pop(vq, vd->dev.host->mem, &c->req, &e)) > 0) {
		uint32_t n = virtq_req_write(&c->req, 0, c->held,
					     MIN((uint64_t)c->held_len, c->req.in_len));

		memmove(c->held, c->held + n, c->held_len - n);
		c->held_len -= n;
		virtio_complete(vd, VCON_RX, c->req.head, n);
	}
	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
	/*
	 * Room again: have the console offer what it kept, or read on (a
	 * regular file on stdin is read only as the sink drains).
	 */
	if (c->held_len < before)
		console_sink_ready(vd->dev.host->console);
}

/* Console input, on the main thread, without the device lock. */
static size_t vcon_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *c = opaque;
	struct virtio_dev *vd = c->vd;
	size_t took;

	pthread_mutex_lock(&vd->dev.lock);
	/* Older input first, so that it keeps its place. */
	vcon_deliver(vd);
	took = MIN(len, VCON_HELD_MAX - c->held_len);
	memcpy(c->held + c->held_len, buf, took);
	c->held_len += took;
	vcon_deliver(vd);
	pthread_mutex_unlock(&vd->dev.lock);
	return took;
}

static void vcon_transmit(struct virtio_dev *vd)
{
	struct virtio_console *c = vd->priv;
	struct err e = { 0 };
	int ret;

	while ((ret = virtq_pop(&vd->vq[VCON_TX], vd->dev.host->mem, &c->req, &e)) > 0) {
		/* Bytes only pass through: nothing here depends on them. */
		for (unsigned int i = 0; i < c->req.nr_out; i++)
			console_write(vd->dev.host->console, c->req.buf[i].addr,
				      c->req.buf[i].len);
		virtio_complete(vd, VCON_TX, c->req.head, 0);
	}
	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
}

static void vcon_notify(struct virtio_dev *vd, unsigned int q)
{
	if (q == VCON_RX)
		vcon_deliver(vd);
	else
		vcon_transmit(vd);
}

/* Input that came before DRIVER_OK, or while paused, goes now. */
static void vcon_activate(struct virtio_dev *vd)
{
	vcon_deliver(vd);
}

static void vcon_config_read(struct virtio_dev *vd, uint32_t off,
			     uint8_t *data, uint32_t len)
{
	/* No size, no ports: every field reads as zero. */
	static const struct virtio_console_config config;

	(void)vd;
	memcpy(data, (const uint8_t *)&config + off, len);
}

static void vcon_config_write(struct virtio_dev *vd, uint32_t off,
			      const uint8_t *data, uint32_t len)
{
	/* emerg_wr: its low byte is a character; the rest is read-only. */
	if (off == offsetof(struct virtio_console_config, emerg_wr) && len)
		console_write(vd->dev.host->console, data, 1);
}

static void vcon_save(struct virtio_dev *vd, struct vmstate_writer *w)
{
	struct virtio_console *c = vd->priv;

	vmstate_put_blob(w, "held-input", c->held, c->held_len);
}

static int vcon_restore(struct virtio_dev *vd, const struct vmstate *vs,
			int node, struct err *e)
{
	struct virtio_console *c = vd->priv;
	const void *held;
	size_t len;

	if (vmstate_get_blob_ptr(vs, node, "held-input", &held, &len,
				 VCON_HELD_MAX, e))
		return -EINVAL;
	memcpy(c->held, held, len);
	c->held_len = len;
	/* virtio_mmio_restore() notifies the receiveq: delivery resumes. */
	return 0;
}

static void vcon_destroy(struct virtio_dev *vd)
{
	free(vd->priv);
}

static const struct virtio_device_ops virtio_console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE,
	.nr_queues = 2,
	.queue_max = VCON_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_console_config),
	.config_read = vcon_config_read,
	.config_write = vcon_config_write,
	.notify = vcon_notify,
	.activate = vcon_activate,
	.save = vcon_save,
	.restore = vcon_restore,
	.destroy = vcon_destroy,
};

static int virtio_console_setup(struct dev_host *host, const struct dev_config *cfg,
				struct err *e)
{
	struct virtio_console *c;
	struct virtio_dev *vd;
	int ret;

	if (!cfg->virtio_console)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(e, ENOMEM, "out of memory for virtio-console");
	ret = virtio_mmio_create(host, &virtio_console_ops, c, &vd, e);
	if (ret)
		return ret;
	c->vd = vd;
	/* Input goes here from now on; the UART keeps only its output. */
	/* The device may exist with its I/O silenced (a restore's --console none). */
	if (cfg->console == CONSOLE_VIRTIO)
		console_set_sink(host->console, &(struct console_sink){ vcon_input, c });
	return 0;
}

/* A restore makes the device again when the snapshot had one. */
static void virtio_console_save_config(const struct device_desc *kind,
				       const struct dev_config *cfg, struct vmstate_writer *w)
{
	(void)kind;
	vmstate_put_u32(w, "virtio-console", cfg->virtio_console);
}

static int virtio_console_load_config(const struct device_desc *kind, struct dev_config *cfg,
				      const struct vmstate *vs, int node, struct err *e)
{
	(void)kind;
	return vmstate_get_flag(vs, node, "virtio-console", &cfg->virtio_console, e);
}

const struct device_desc virtio_console_device = {
	.name = "virtio-console",
	.setup = virtio_console_setup,
	.save_config = virtio_console_save_config,
	.load_config = virtio_console_load_config,
};
