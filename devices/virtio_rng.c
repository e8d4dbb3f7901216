// SPDX-License-Identifier: MIT
/* virtio-rng (--rng): each request's writable buffers filled from getrandom(). */
#include <errno.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "virtio.h"
#include "vmstate.h"

#define RNG_QUEUE_SIZE 256
#define RNG_MAX_REQUEST (64 * 1024)	/* bytes served per request */

struct virtio_rng {
	struct virtq_req req;
};

static uint32_t rng_fill(const struct virtq_req *req)
{
	uint8_t buf[4096];
	uint32_t total = MIN(req->in_len, (uint64_t)RNG_MAX_REQUEST), done = 0;

	while (done < total) {
		ssize_t n = getrandom(buf, MIN(sizeof(buf), (size_t)(total - done)), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		virtq_req_write(req, done, buf, n);
		done += n;
	}
	return done;
}

static void rng_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_rng *rng = vd->priv;
	struct err e = { 0 };
	int ret;

	while ((ret = virtq_pop(&vd->vq[q], vd->dev.host->mem, &rng->req, &e)) > 0)
		virtio_complete(vd, q, rng->req.head, rng_fill(&rng->req));
	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
}

static void rng_destroy(struct virtio_dev *vd)
{
	free(vd->priv);
}

/* getrandom() has no fd to bind it to. */
static unsigned int rng_syscalls(struct virtio_dev *vd, struct device_syscall *calls,
				 unsigned int max)
{
	(void)vd;
	if (!max)
		return 0;
	calls[0] = (struct device_syscall){ SYS_getrandom, -1 };
	return 1;
}

static const struct virtio_device_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.notify = rng_notify,
	.syscalls = rng_syscalls,
	.destroy = rng_destroy,
};

extern const struct device_desc virtio_rng_device;

static int virtio_rng_setup(struct dev_host *host, const struct dev_config *cfg,
			    struct err *e)
{
	struct virtio_rng *rng;
	struct virtio_dev *vd;

	if (!device_flag_on(cfg, &virtio_rng_device))
		return 0;
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return err_set(e, ENOMEM, "out of memory for virtio-rng");
	return virtio_mmio_create(host, &virtio_rng_ops, rng, &vd, e);
}

static const struct device_option virtio_rng_options[] = {
	{
		.name = "rng",
		.help = "a virtio-rng device (entropy from getrandom)",
		.man = ".B \\-\\-rng\n"
		       "A virtio\\-rng device fed by\n"
		       ".BR getrandom (2).\n",
	},
	{ .name = NULL },
};

const struct device_desc virtio_rng_device = {
	.name = "virtio-rng",
	.config_size = sizeof(struct device_flag),
	.options = virtio_rng_options,
	.parse = device_flag_parse,
	.setup = virtio_rng_setup,
	.save_config = device_flag_save_config,
	.load_config = device_flag_load_config,
	.configured = device_flag_configured,
};
