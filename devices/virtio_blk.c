// SPDX-License-Identifier: MIT
/*
 * virtio-blk (--disk PATH[,ro]) on a raw image file or block device.
 *
 * Requests are served on the main thread, never a vCPU's: reads and writes
 * go straight between the file and the guest's buffers (preadv/pwritev),
 * flush is fdatasync(), and where the file system can punch holes DISCARD
 * and WRITE_ZEROES become fallocate(). Every request is checked: sector
 * ranges against the capacity, lengths against the sector size, segment
 * counts against what the config space promised. A request refused gets
 * IOERR and a warning saying why, at most one a second (a guest can send
 * them at will).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "virtio.h"
#include "vmstate.h"

#define BLK_QUEUE_SIZE 256
#define BLK_SECTOR 512ull
#define BLK_SEG_MAX (BLK_QUEUE_SIZE - 2)	/* minus header and status */
#define BLK_IOV_MAX 1024
#define BLK_DISCARD_SEGS 32
#define BLK_DISCARD_MAX_SECTORS (1u << 22)	/* 2 GiB per range */

struct virtio_blk {
	struct virtio_dev *vd;
	int fd;
	const char *path;
	bool readonly;
	bool can_punch;			/* DISCARD and WRITE_ZEROES offered */
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtio_device_ops ops;	/* features depend on the file */
	struct virtq_req req;
	struct iovec iov[BLK_IOV_MAX];
	struct log_limit refusals;
};

/* A request refused: IOERR for the guest, the reason for the log. */
__attribute__((format(printf, 2, 3)))
static uint8_t blk_refuse(struct virtio_blk *b, const char *fmt, ...)
{
	unsigned int held;
	char why[160];
	va_list ap;

	if (!log_limit_pass(&b->refusals, &held))
		return VIRTIO_BLK_S_IOERR;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (held)
		log_warn("%s: %s: answered IOERR (and %u more refused in the last second)",
			 b->vd->dev.id, why, held);
	else
		log_warn("%s: %s: answered IOERR", b->vd->dev.id, why);
	return VIRTIO_BLK_S_IOERR;
}

int parse_disk_spec(char *s, struct disk_config *d, struct err *e)
{
	char *comma = strrchr(s, ',');

	d->readonly = false;
	if (comma && (!strcmp(comma, ",ro") || !strcmp(comma, ",rw"))) {
		d->readonly = comma[1] == 'r' && comma[2] == 'o';
		*comma = '\0';
	} else if (comma) {
		return err_set(e, EINVAL, "'%s' is not an option of a disk (ro or rw)",
			       comma + 1);
	}
	if (!*s)
		return err_set(e, EINVAL, "no file given");
	d->path = s;
	return 0;
}

/* [sector, +count) inside the disk, without overflow. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector,
			 uint64_t count)
{
	return sector <= b->sectors && count <= b->sectors - sector;
}

static uint8_t blk_rw(struct virtio_blk *b, uint64_t sector, bool write,
		      uint32_t *written)
{
	const struct virtq_req *req = &b->req;
	uint64_t len = write ? req->out_len - sizeof(struct virtio_blk_outhdr) :
			       req->in_len - 1;
	ssize_t n;
	int nr;

	const char *op = write ? "write" : "read";

	if (write && b->readonly)
		return blk_refuse(b, "write to the read-only disk %s", b->path);
	if (len % BLK_SECTOR)
		return blk_refuse(b, "%s of %" PRIu64 " bytes, not whole sectors", op, len);
	if (!blk_range_ok(b, sector, len / BLK_SECTOR))
		return blk_refuse(b, "%s of sectors [%" PRIu64 ", +%" PRIu64 ") past the disk's %" PRIu64 " sectors",
				  op, sector, (uint64_t)(len / BLK_SECTOR), b->sectors);
	nr = virtq_req_iovec(req, !write, write ? sizeof(struct virtio_blk_outhdr) : 0,
			     len, b->iov, BLK_IOV_MAX);
	if (nr < 0)
		return blk_refuse(b, "%s through more than %d buffers", op, BLK_IOV_MAX);
	if (!nr)
		return VIRTIO_BLK_S_OK;
	do
		n = write ? pwritev(b->fd, b->iov, nr, sector * BLK_SECTOR) :
			    preadv(b->fd, b->iov, nr, sector * BLK_SECTOR);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return blk_refuse(b, "%s of sectors [%" PRIu64 ", +%" PRIu64 ") of %s: %s", op,
				  sector, (uint64_t)(len / BLK_SECTOR), b->path,
				  n < 0 ? strerror(errno) : "short transfer");
	if (!write)
		*written = len;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD or WRITE_ZEROES: ranges follow the header. */
static uint8_t blk_ranges(struct virtio_blk *b, bool zeroes)
{
	const struct virtq_req *req = &b->req;
	uint64_t len = req->out_len - sizeof(struct virtio_blk_outhdr);
	struct virtio_blk_discard_write_zeroes r;

	const char *op = zeroes ? "write-zeroes" : "discard";

	if (!b->can_punch)
		return VIRTIO_BLK_S_UNSUPP;
	if (b->readonly)
		return blk_refuse(b, "%s on the read-only disk %s", op, b->path);
	if (!len || len % sizeof(r) || len / sizeof(r) > BLK_DISCARD_SEGS)
		return blk_refuse(b, "%s with %" PRIu64 " bytes of ranges, not 1 to %d ranges",
				  op, len, BLK_DISCARD_SEGS);
	for (uint64_t off = 0; off < len; off += sizeof(r)) {
		int mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;

		virtq_req_read(req, sizeof(struct virtio_blk_outhdr) + off, &r, sizeof(r));
		if (r.num_sectors > BLK_DISCARD_MAX_SECTORS ||
		    !blk_range_ok(b, r.sector, r.num_sectors))
			return blk_refuse(b, "%s of sectors [%" PRIu64 ", +%u) past the disk's %" PRIu64 " or over %u",
					  op, (uint64_t)r.sector, r.num_sectors, b->sectors,
					  BLK_DISCARD_MAX_SECTORS);
		if (r.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return blk_refuse(b, "%s with flags %#x", op, r.flags);
		/* Both leave zeros behind; without unmap, keep blocks allocated. */
		if (zeroes && !(r.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE;
		if (r.num_sectors &&
		    fallocate(b->fd, mode, r.sector * BLK_SECTOR,
			      r.num_sectors * BLK_SECTOR) < 0)
			return blk_refuse(b, "%s of sectors [%" PRIu64 ", +%u) of %s: %s", op,
					  (uint64_t)r.sector, r.num_sectors, b->path,
					  strerror(errno));
	}
	return VIRTIO_BLK_S_OK;
}

/* Serve b->req; returns the status byte and the data bytes written. */
static uint8_t virtio_blk_handle_request(struct virtio_blk *b, uint32_t *written)
{
	struct virtio_blk_outhdr hdr;

	*written = 0;
	if (b->req.in_len < 1 ||
	    virtq_req_read(&b->req, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return blk_refuse(b, "a request without a %zu-byte header or a status byte",
				  sizeof(hdr));
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return blk_rw(b, hdr.sector, hdr.type == VIRTIO_BLK_T_OUT, written);
	case VIRTIO_BLK_T_FLUSH:
		if (fdatasync(b->fd) < 0)
			return blk_refuse(b, "flush of %s: %s", b->path, strerror(errno));
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		*written = virtq_req_write(&b->req, 0, b->id,
					   MIN((uint64_t)sizeof(b->id), b->req.in_len - 1));
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_ranges(b, hdr.type == VIRTIO_BLK_T_WRITE_ZEROES);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_blk *b = vd->priv;
	struct err e = { 0 };
	int ret;

	while ((ret = virtq_pop(&vd->vq[q], vd->dev.host->mem, &b->req, &e)) > 0) {
		uint32_t written;
		uint8_t status = virtio_blk_handle_request(b, &written);

		/*
		 * The status byte is the last writable one. Without one
		 * nothing was written, and the used length must not claim
		 * a byte (virtio 1.2, 2.7.8.2).
		 */
		if (b->req.in_len)
			virtq_req_write(&b->req, b->req.in_len - 1, &status, 1);
		virtio_complete(vd, q, b->req.head, b->req.in_len ? written + 1 : 0);
	}
	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
}

static void blk_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *data,
			    uint32_t len)
{
	struct virtio_blk *b = vd->priv;

	memcpy(data, (uint8_t *)&b->config + off, len);
}

static void blk_destroy(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;

	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

/* Reads, writes, flushes and punched holes, on its image only. */
static unsigned int blk_syscalls(struct virtio_dev *vd, struct device_syscall *calls,
				 unsigned int max)
{
	static const int nrs[] = { SYS_preadv, SYS_pwritev, SYS_fdatasync, SYS_fallocate };
	struct virtio_blk *b = vd->priv;
	unsigned int n = 0;

	for (; n < ARRAY_SIZE(nrs) && n < max; n++)
		calls[n] = (struct device_syscall){ nrs[n], b->fd };
	return n;
}

/* Open, lock and size the image; refuse what cannot be a disk. */
static int blk_open(struct virtio_blk *b, struct err *e)
{
	struct stat st;
	uint64_t bytes;

	/* A FIFO would block the open of a read-only disk: refused first. */
	b->fd = open_image(b->path, !b->readonly, &st);
	if (b->fd == -EINVAL || b->fd == -EISDIR)
		return err_set(e, EINVAL, "is %s, not a regular file or a block device",
			       file_kind(st.st_mode));
	if (b->fd < 0)
		return err_set(e, -b->fd, "%s", strerror(-b->fd));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
			return err_set(e, errno, "BLKGETSIZE64: %s", strerror(errno));
	} else {
		bytes = st.st_size;
	}
	if (bytes < BLK_SECTOR)
		return err_set(e, EINVAL, "smaller than one %llu-byte sector", BLK_SECTOR);
	if (flock(b->fd, (b->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		return err_set(e, errno, errno == EWOULDBLOCK ?
			       "in use by another process (locked)" : "flock: %s",
			       strerror(errno));
	b->sectors = bytes / BLK_SECTOR;
	/* A hole punched past the end changes nothing: a safe probe. */
	b->can_punch = S_ISREG(st.st_mode) && !b->readonly &&
		       fallocate(b->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
				 ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE) == 0;
	return 0;
}

/* The guest knows the disk's size: a restore must give it the same. */
static void blk_save(struct virtio_dev *vd, struct vmstate_writer *w)
{
	struct virtio_blk *b = vd->priv;

	vmstate_put_u64(w, "blk-sectors", b->sectors);
}

static int blk_restore(struct virtio_dev *vd, const struct vmstate *vs,
		       int node, struct err *e)
{
	struct virtio_blk *b = vd->priv;
	uint64_t sectors;

	/* Snapshots from before the size was kept: nothing to check. */
	if (!vmstate_has(vs, node, "blk-sectors"))
		return 0;
	if (vmstate_get_u64(vs, node, "blk-sectors", &sectors, e))
		return -EINVAL;
	if (sectors != b->sectors)
		return err_set(e, EINVAL, "%s: disk %s has %llu bytes, the snapshot's had %llu: give it a disk of that size",
			       vd->dev.id, b->path,
			       (unsigned long long)(b->sectors * BLK_SECTOR),
			       (unsigned long long)(sectors * BLK_SECTOR));
	return 0;
}

static bool blk_configured(const void *config)
{
	return ((const struct disks_config *)config)->nr > 0;
}

static void blk_describe(struct virtio_blk *b, unsigned int index)
{
	uint64_t f = (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		     (1ull << VIRTIO_BLK_F_BLK_SIZE);
	struct virtio_blk_config *c = &b->config;

	if (b->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	if (b->can_punch) {
		f |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
		c->max_discard_sectors = BLK_DISCARD_MAX_SECTORS;
		c->max_discard_seg = BLK_DISCARD_SEGS;
		c->discard_sector_alignment = PAGE_SIZE / BLK_SECTOR;
		c->max_write_zeroes_sectors = BLK_DISCARD_MAX_SECTORS;
		c->max_write_zeroes_seg = BLK_DISCARD_SEGS;
		c->write_zeroes_may_unmap = 1;
	}
	c->capacity = b->sectors;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = BLK_SECTOR;
	snprintf(b->id, sizeof(b->id), "gmvm-disk%u", index);
	b->ops = (struct virtio_device_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.features = f,
		.nr_queues = 1,
		.queue_max = BLK_QUEUE_SIZE,
		.config_size = sizeof(*c),
		.config_read = blk_config_read,
		.notify = blk_notify,
		.save = blk_save,
		.restore = blk_restore,
		.syscalls = blk_syscalls,
		.destroy = blk_destroy,
	};
}

static struct disks_config *blk_config(const struct dev_config *cfg)
{
	return device_config(cfg, &virtio_blk_device);
}

/* --disk PATH[,ro], for gmvm run and (this VM's disks) gmvm restore. */
static int blk_parse(void *config, const char *name, char *arg, bool restore,
		     struct err *e)
{
	struct disks_config *c = config;

	(void)name;
	(void)restore;
	if (c->nr == VM_MAX_DISKS)
		return err_set(e, EINVAL, "--disk: at most %d disks", VM_MAX_DISKS);
	if (parse_disk_spec(arg, &c->disks[c->nr], e))
		return err_prefix(e, "--disk %s", arg);
	c->nr++;
	return 0;
}

/*
 * A restore's disks: the guest knows their number and whether each is
 * read-only (and virtio-blk checks the size at its restore), so the --disk
 * given must match; or the ones the snapshot recorded, when asked for.
 */
static int blk_take_resources(void *config, const void *given_config, bool recorded,
			      struct err *e)
{
	struct disks_config *c = config;
	const struct disks_config *given = given_config;
	char first[128];

	if (recorded)
		return 0;
	if (given->nr != c->nr)
		return err_set(e, EINVAL, "the snapshot has %u virtio-blk disk(s)%s%s%s, and %u --disk given: give one --disk per disk, or --recorded-resources to reopen those it recorded",
			       c->nr, c->nr ? " (the first was " : "",
			       c->nr ? str_escape(first, sizeof(first), c->disks[0].path) : "",
			       c->nr ? ")" : "", given->nr);
	for (unsigned int i = 0; i < c->nr; i++)
		if (given->disks[i].readonly != c->disks[i].readonly)
			return err_set(e, EINVAL, "--disk %s: %s, but the snapshot's disk %u was %s",
				       given->disks[i].path,
				       given->disks[i].readonly ? "read-only" : "read-write",
				       i + 1, c->disks[i].readonly ? "read-only (add ,ro)" :
				       "read-write (drop ,ro)");
	*c = *given;
	return 0;
}

static void blk_print_resources(const void *config, FILE *out)
{
	const struct disks_config *c = config;
	char path[4 * 256];

	for (unsigned int i = 0; i < c->nr; i++)
		fprintf(out, "    disk %u: %s (%s)\n", i + 1,
			str_escape(path, sizeof(path), c->disks[i].path),
			c->disks[i].readonly ? "read-only" : "read-write");
}

static int virtio_blk_setup(struct dev_host *host, const struct dev_config *cfg,
			    struct err *e)
{
	for (unsigned int i = 0; i < blk_config(cfg)->nr; i++) {
		struct virtio_blk *b = calloc(1, sizeof(*b));
		struct virtio_dev *vd;
		int ret;

		if (!b)
			return err_set(e, ENOMEM, "out of memory for a disk");
		b->path = blk_config(cfg)->disks[i].path;
		b->readonly = blk_config(cfg)->disks[i].readonly;
		ret = blk_open(b, e);
		if (ret) {
			if (b->fd >= 0)
				close(b->fd);
			free(b);
			return err_prefix(e, "disk %s", blk_config(cfg)->disks[i].path);
		}
		blk_describe(b, i);
		ret = virtio_mmio_create(host, &b->ops, b, &vd, e);
		if (ret)
			return ret;
		b->vd = vd;
		log_info("disk %s: %llu sectors%s%s", b->path,
			 (unsigned long long)b->sectors, b->readonly ? ", read-only" : "",
			 b->can_punch ? ", discard" : "");
	}
	return 0;
}

/*
 * The disks' paths and read-only settings: the device count and settings
 * are the guest's to keep; a restore reopens the paths only when asked to
 * (--recorded-resources), else takes the user's --disk in their place.
 */
static void virtio_blk_save_config(const struct device_desc *kind,
				   const struct dev_config *cfg, struct vmstate_writer *w)
{
	char name[32];

	(void)kind;
	vmstate_put_u32(w, "disks", blk_config(cfg)->nr);
	for (unsigned int i = 0; i < blk_config(cfg)->nr; i++) {
		snprintf(name, sizeof(name), "disk%u-path", i);
		vmstate_put_str(w, name, blk_config(cfg)->disks[i].path);
		snprintf(name, sizeof(name), "disk%u-readonly", i);
		vmstate_put_u32(w, name, blk_config(cfg)->disks[i].readonly);
	}
}

static int virtio_blk_load_config(const struct device_desc *kind, struct dev_config *cfg,
				  const struct vmstate *vs, int node, struct err *e)
{
	char name[32];

	(void)kind;
	if (vmstate_get_u32(vs, node, "disks", &blk_config(cfg)->nr, e))
		return -EINVAL;
	if (blk_config(cfg)->nr > VM_MAX_DISKS)
		return err_set(e, EINVAL, "config: %u disks", blk_config(cfg)->nr);
	for (unsigned int i = 0; i < blk_config(cfg)->nr; i++) {
		snprintf(name, sizeof(name), "disk%u-path", i);
		if (vmstate_get_str(vs, node, name, &blk_config(cfg)->disks[i].path, PATH_MAX, e))
			return -EINVAL;
		snprintf(name, sizeof(name), "disk%u-readonly", i);
		if (vmstate_get_flag(vs, node, name, &blk_config(cfg)->disks[i].readonly, e))
			return -EINVAL;
	}
	return 0;
}

static const struct device_option blk_options[] = {
	{
		.name = "disk",
		.arg = "PATH[,ro]",
		.help = "a virtio-blk disk on the raw image PATH (repeat\nfor more, up to 8)",
		.restore_help = "this VM's disk image for the snapshot's next\n"
				"virtio-blk device: as many as it has, each the\n"
				"same size and ro as there (clones of one snapshot\n"
				"each get their own copy)",
		.man = ".BI \\-\\-disk \" PATH\\fR[\\fP,ro\\fR]\\fP\"\n"
		       "A virtio\\-blk disk on the raw image\n"
		       ".I PATH\n"
		       "(up to 8), locked with\n"
		       ".BR flock (2)\n"
		       "against a second writer;\n"
		       ".B ro\n"
		       "refuses writes. Discard and write\\-zeroes punch or zero ranges of the file.\n",
		.restore_man = ".BI \\-\\-disk \" PATH\\fR[\\fP,ro\\fR]\\fP\"\n"
			       "This VM's disk image for the snapshot's next virtio\\-blk device, in order:\n"
			       "as many as the snapshot has, each of the same size and read\\-only setting.\n"
			       "Clones of one snapshot each get their own copy; the snapshot's recorded\n"
			       "paths are never reopened unless asked for.\n",
	},
	{ .name = NULL },
};

const struct device_desc virtio_blk_device = {
	.name = "virtio-blk",
	.config_size = sizeof(struct disks_config),
	.options = blk_options,
	.parse = blk_parse,
	.setup = virtio_blk_setup,
	.save_config = virtio_blk_save_config,
	.load_config = virtio_blk_load_config,
	.take_resources = blk_take_resources,
	.describe = blk_print_resources,
	.configured = blk_configured,
};
