// SPDX-License-Identifier: MIT
/*
 * virtio-balloon (--balloon): the guest gives memory back to the host.
 *
 * inflateq: arrays of 32-bit page frame numbers (4 KiB pages) the driver
 * took away from its own use. Each is checked against guest RAM, and the
 * pages are given back with guest_mem_discard(), runs of consecutive frames
 * at once. The guest reads zeros there afterwards, and a lazy restore's
 * uffd handler, told by UFFD_EVENT_REMOVE, never fills them from the
 * snapshot. deflateq: frames the driver takes back; they need nothing, as
 * the guest finds zeros when it touches them again.
 * reporting_vq (VIRTIO_BALLOON_F_REPORTING): buffers of free guest memory;
 * the whole pages of each are given back the same way.
 *
 * Queues that do not exist are left out of the numbering, as Linux and
 * QEMU do: with no statsq and no free_page_vq, reporting_vq is queue 2.
 *
 * Config: num_pages, the target, is 0 at start and set through the control
 * socket ({"cmd": "balloon", "pages": N}) with a configuration change
 * interrupt; actual is the driver's to write.
 */
#include <errno.h>
#include <json-c/json.h>
#include <linux/virtio_balloon.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "virtio.h"
#include "vmstate.h"

#define BALLOON_QUEUE_SIZE 256
#define BALLOON_PFN_BATCH 256		/* frame numbers read at a time */
/*
 * Frames taken from one request. Linux sends at most 256; more would only
 * let a guest keep the main thread in madvise() (one call per scattered
 * frame) for as long as its chain is long.
 */
#define BALLOON_MAX_FRAMES 1024
#define BALLOON_CONFIG_SIZE 8		/* num_pages and actual */

enum {
	BALLOON_INFLATE,
	BALLOON_DEFLATE,
	BALLOON_REPORTING,
	BALLOON_NR_QUEUES,
};

/* What went through the balloon, for the stats. */
struct balloon_stats {
	uint32_t target_pages;		/* num_pages: what the host asks for */
	uint32_t actual_pages;		/* actual: what the driver says it holds */
	uint64_t pages_inflated;	/* frames received on inflateq */
	uint64_t pages_deflated;	/* frames received on deflateq */
	uint64_t pages_reported;	/* pages in free page reports */
	uint64_t pages_given_back;	/* of these, discarded from RAM */
	uint64_t ignored;		/* frames outside RAM, reports of no whole page */
};

struct virtio_balloon {
	uint32_t num_pages;		/* config, as the driver reads it */
	uint32_t actual;
	struct balloon_stats st;
	bool logged_ignored;		/* one line each, not a flood */
	bool logged_discard;
	struct virtq_req req;
};

/* Give [gpa, +len) back to the host. Page aligned, checked by the caller. */
static void balloon_discard(struct virtio_dev *vd, uint64_t gpa, uint64_t len)
{
	struct virtio_balloon *b = vd->priv;
	int ret = guest_mem_discard(vd->dev.host->mem, gpa, len);

	if (!ret) {
		b->st.pages_given_back += len / PAGE_SIZE;
		return;
	}
	if (!b->logged_discard) {
		b->logged_discard = true;
		log_warn("%s: cannot give back guest memory [%#llx, +%#llx): %s (logged once)",
			 vd->dev.id, (unsigned long long)gpa,
			 (unsigned long long)len, strerror(-ret));
	}
}

/* Something the driver sent that cannot be used: skip it, say so once. */
static void balloon_ignore(struct virtio_dev *vd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void balloon_ignore(struct virtio_dev *vd, const char *fmt, ...)
{
	struct virtio_balloon *b = vd->priv;
	char what[128];
	va_list ap;

	b->st.ignored++;
	if (b->logged_ignored)
		return;
	b->logged_ignored = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_warn("%s: %s: ignored (logged once)", vd->dev.id, what);
}

/* A run of whole pages to give back, grown frame by frame. */
struct balloon_run {
	uint64_t gpa, len;
};

static void balloon_run_add(struct virtio_dev *vd, struct balloon_run *run,
			    uint64_t gpa)
{
	const struct guest_mem *mem = vd->dev.host->mem;

	/* Consecutive, and still inside one RAM region: one discard. */
	if (run->len && gpa == run->gpa + run->len &&
	    guest_mem_ptr(mem, run->gpa, run->len + PAGE_SIZE)) {
		run->len += PAGE_SIZE;
		return;
	}
	if (run->len)
		balloon_discard(vd, run->gpa, run->len);
	*run = (struct balloon_run){ gpa, PAGE_SIZE };
}

/* Check the frames of an inflate or deflate request; give inflated ones back. */
static void balloon_frames(struct virtio_dev *vd, bool inflate)
{
	struct virtio_balloon *b = vd->priv;
	uint64_t n = b->req.out_len / sizeof(uint32_t);
	struct balloon_run run = { 0 };
	uint32_t pfns[BALLOON_PFN_BATCH];

	if (b->req.out_len % sizeof(uint32_t))
		balloon_ignore(vd, "a request of %llu bytes, not whole 32-bit frame numbers",
			       (unsigned long long)b->req.out_len);
	if (n > BALLOON_MAX_FRAMES) {
		balloon_ignore(vd, "frames past the first %u of a request of %llu",
			       BALLOON_MAX_FRAMES, (unsigned long long)n);
		n = BALLOON_MAX_FRAMES;
	}
	for (uint64_t done = 0; done < n;) {
		uint32_t count = MIN(n - done, (uint64_t)BALLOON_PFN_BATCH);

		/* A copy: the guest may change the array under us. */
		virtq_req_read(&b->req, done * sizeof(uint32_t), pfns,
			       count * sizeof(uint32_t));
		done += count;
		for (uint32_t i = 0; i < count; i++) {
			uint64_t gpa = (uint64_t)pfns[i] << VIRTIO_BALLOON_PFN_SHIFT;

			if (!guest_mem_ptr(vd->dev.host->mem, gpa, PAGE_SIZE)) {
				balloon_ignore(vd, "frame %#x, outside guest RAM", pfns[i]);
				continue;
			}
			if (!inflate) {
				b->st.pages_deflated++;
				continue;
			}
			b->st.pages_inflated++;
			balloon_run_add(vd, &run, gpa);
		}
	}
	if (run.len)
		balloon_discard(vd, run.gpa, run.len);
}

/* The guest physical address of p, a host pointer into a checked buffer. */
static bool balloon_gpa(const struct guest_mem *mem, const uint8_t *p,
			uint64_t *gpa)
{
	uint64_t off = (uint64_t)(p - mem->base);

	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (off >= r->offset && off - r->offset < r->size) {
			*gpa = r->gpa + (off - r->offset);
			return true;
		}
	}
	return false;
}

/* A free page report: the whole pages inside each buffer go back. */
static void balloon_report(struct virtio_dev *vd)
{
	struct virtio_balloon *b = vd->priv;
	const struct guest_mem *mem = vd->dev.host->mem;

	for (unsigned int i = 0; i < b->req.nr_out + b->req.nr_in; i++) {
		const struct virtq_buf *buf = &b->req.buf[i];
		uint64_t gpa, start, end;

		/* virtq_pop() checked the buffer against RAM already. */
		if (!balloon_gpa(mem, buf->addr, &gpa))
			continue;
		start = ALIGN_UP(gpa, PAGE_SIZE);
		end = ALIGN_DOWN(gpa + buf->len, PAGE_SIZE);
		if (end <= start) {
			balloon_ignore(vd, "a report of [%#llx, +%#x), no whole page",
				       (unsigned long long)gpa, buf->len);
			continue;
		}
		b->st.pages_reported += (end - start) / PAGE_SIZE;
		balloon_discard(vd, start, end - start);
	}
}

static void balloon_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_balloon *b = vd->priv;
	struct err e = { 0 };
	int ret;

	if (q == BALLOON_REPORTING &&
	    !virtio_has_feature(vd, VIRTIO_BALLOON_F_REPORTING)) {
		virtio_needs_reset(vd, "notification of reporting_vq, not negotiated");
		return;
	}
	while ((ret = virtq_pop(&vd->vq[q], vd->dev.host->mem, &b->req, &e)) > 0) {
		if (q == BALLOON_REPORTING)
			balloon_report(vd);
		else
			balloon_frames(vd, q == BALLOON_INFLATE);
		virtio_complete(vd, q, b->req.head, 0);
	}
	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
}

static void balloon_config_read(struct virtio_dev *vd, uint32_t off,
				uint8_t *data, uint32_t len)
{
	struct virtio_balloon *b = vd->priv;
	uint32_t config[2] = { b->num_pages, b->actual };

	memcpy(data, (uint8_t *)config + off, len);
}

static void balloon_config_write(struct virtio_dev *vd, uint32_t off,
				 const uint8_t *data, uint32_t len)
{
	struct virtio_balloon *b = vd->priv;
	const uint32_t at = offsetof(struct virtio_balloon_config, actual);

	/* Only actual is the driver's; num_pages is ours. */
	if (off < at)
		return;
	memcpy((uint8_t *)&b->actual + (off - at), data, len);
}

static void balloon_save(struct virtio_dev *vd, struct vmstate_writer *w)
{
	struct virtio_balloon *b = vd->priv;

	vmstate_put_u32(w, "num-pages", b->num_pages);
	vmstate_put_u32(w, "actual", b->actual);
}

static int balloon_restore(struct virtio_dev *vd, const struct vmstate *vs,
			   int node, struct err *e)
{
	struct virtio_balloon *b = vd->priv;
	uint32_t num_pages, actual;

	if (vmstate_get_u32(vs, node, "num-pages", &num_pages, e) ||
	    vmstate_get_u32(vs, node, "actual", &actual, e))
		return -EINVAL;
	if (num_pages > vd->dev.host->mem->size / PAGE_SIZE)
		return err_set(e, EINVAL, "%s: a target of %u pages is more than the guest's RAM",
			       vd->dev.id, num_pages);
	b->num_pages = num_pages;
	/* actual is whatever the driver wrote; nothing relies on it. */
	b->actual = actual;
	return 0;
}

static void balloon_destroy(struct virtio_dev *vd)
{
	free(vd->priv);
}

static void balloon_stats_json(struct virtio_dev *vd, json_object *root);
static int balloon_control(struct virtio_dev *vd, const char *cmd, json_object *req,
			   json_object *reply, struct err *e);

static const struct virtio_device_ops virtio_balloon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.features = 1ull << VIRTIO_BALLOON_F_REPORTING,
	.nr_queues = BALLOON_NR_QUEUES,
	.queue_max = BALLOON_QUEUE_SIZE,
	.config_size = BALLOON_CONFIG_SIZE,
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
	.notify = balloon_notify,
	.save = balloon_save,
	.restore = balloon_restore,
	.stats = balloon_stats_json,
	.control = balloon_control,
	.destroy = balloon_destroy,
};

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* "balloon": its target, what the driver holds and what went through it. */
static void balloon_stats_json(struct virtio_dev *vd, json_object *root)
{
	struct virtio_balloon *b = vd->priv;
	json_object *o = json_object_new_object();
	struct balloon_stats st;

	pthread_mutex_lock(&vd->dev.lock);
	st = b->st;
	st.target_pages = b->num_pages;
	st.actual_pages = b->actual;
	pthread_mutex_unlock(&vd->dev.lock);
	add_u64(o, "target_pages", st.target_pages);
	add_u64(o, "actual_pages", st.actual_pages);
	add_u64(o, "pages_inflated", st.pages_inflated);
	add_u64(o, "pages_deflated", st.pages_deflated);
	add_u64(o, "pages_reported", st.pages_reported);
	add_u64(o, "pages_given_back", st.pages_given_back);
	add_u64(o, "ignored", st.ignored);
	json_object_object_add(root, "balloon", o);
}

/* {"cmd": "balloon", "pages": N}: the balloon's new target. */
static int balloon_control(struct virtio_dev *vd, const char *cmd, json_object *req,
			   json_object *reply, struct err *e)
{
	uint64_t ram_pages = vd->dev.host->mem->size / PAGE_SIZE;
	struct virtio_balloon *b = vd->priv;
	json_object *pages;
	int64_t n;

	if (strcmp(cmd, "balloon"))
		return 1;
	if (!json_object_object_get_ex(req, "pages", &pages) ||
	    !json_object_is_type(pages, json_type_int))
		return err_set(e, EINVAL, "balloon needs \"pages\", a number of 4 KiB pages");
	/* Beyond INT64_MAX json-c gives INT64_MAX: too large all the same. */
	n = json_object_get_int64(pages);
	if (n < 0)
		return err_set(e, EINVAL, "\"pages\" must not be negative");
	if ((uint64_t)n > ram_pages)
		return err_set(e, EINVAL, "a balloon of %llu pages is more than the guest's %llu pages of RAM",
			       (unsigned long long)n, (unsigned long long)ram_pages);
	pthread_mutex_lock(&vd->dev.lock);
	if (b->num_pages != n) {
		b->num_pages = n;
		virtio_config_changed(vd);
	}
	pthread_mutex_unlock(&vd->dev.lock);
	log_info("balloon: target %lld pages", (long long)n);
	json_object_object_add(reply, "pages", json_object_new_int64(n));
	return 0;
}

extern const struct device_desc virtio_balloon_device;

static int virtio_balloon_setup(struct dev_host *host, const struct dev_config *cfg,
				struct err *e)
{
	struct virtio_balloon *b;
	struct virtio_dev *vd;

	if (!device_flag_on(cfg, &virtio_balloon_device))
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return err_set(e, ENOMEM, "out of memory for virtio-balloon");
	return virtio_mmio_create(host, &virtio_balloon_ops, b, &vd, e);
}

static const struct device_option virtio_balloon_options[] = {
	{
		.name = "balloon",
		.help = "a virtio-balloon device",
		.man = ".B \\-\\-balloon\n"
		       "A virtio\\-balloon device. Its target is set with\n"
		       ".BR \"gmvm balloon\" ;\n"
		       "pages the guest inflates or reports free are given back to the host.\n",
	},
	{ .name = NULL },
};

const struct device_desc virtio_balloon_device = {
	.name = "virtio-balloon",
	.config_size = sizeof(struct device_flag),
	.options = virtio_balloon_options,
	.parse = device_flag_parse,
	.setup = virtio_balloon_setup,
	.control_cmd = "balloon",
	.control_missing = "no balloon device: start gmvm with --balloon",
	.save_config = device_flag_save_config,
	.load_config = device_flag_load_config,
	.configured = device_flag_configured,
};
