// SPDX-License-Identifier: MIT
/*
 * virtio-net (--net tap=NAME[,mac=MAC]) on a tap device that already exists.
 *
 * Queue 0 receives, queue 1 transmits; both are served on the main thread.
 * Every frame on the tap carries a 12-byte virtio_net_hdr_v1
 * (IFF_VNET_HDR, TUNSETVNETHDRSZ), the header VIRTIO_F_VERSION_1 implies.
 * No checksum or segmentation offload is offered, and the tap's are off, so
 * a header only ever says "a whole frame, checksums done".
 *
 * Receiving: the tap is watched in the event loop only while the device is
 * live and the driver has given receive buffers; when the ring runs dry it
 * is left alone until the driver notifies queue 0 again, so frames wait in
 * the tap's own queue and nothing spins. Without VIRTIO_NET_F_MRG_RXBUF one
 * frame goes into one buffer chain, which should hold 1526 bytes (the spec
 * makes that a SHOULD for the driver): a frame that does not fit is dropped,
 * the way a NIC drops an oversized frame, and the chain stays available for
 * the next one. A chain that cannot even hold the header, or that has
 * device-readable buffers, is malformed: the device needs a reset.
 *
 * Every frame is moved while the device lock is held, from the tap to a
 * used ring entry or from an available entry to the tap: nothing is ever in
 * flight when the VM pauses, so a snapshot (whose queue indices are the
 * transport's) neither loses nor repeats a frame the guest saw.
 */
#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "parse.h"
#include "virtio.h"
#include "vmstate.h"

#define NET_RXQ 0
#define NET_TXQ 1
#define NET_QUEUE_SIZE 256
#define NET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr_v1))
/* Without an MTU feature Linux lets its MTU go up to 64 KiB on transmit. */
#define NET_TX_MAX_FRAME (64u * 1024 + ETH_HLEN)
/* Frames per wake-up, so that other event sources get their turn. */
#define NET_RX_BUDGET 64
#define NET_TX_BUDGET 256
/*
 * What readv() and writev() take: the header copy, the buffers after the
 * header and, on receive, one overflow byte must fit, so a receive chain of
 * more than IOV_MAX - 2 buffers after its header needs a reset and a frame
 * to transmit in more than IOV_MAX - 1 is dropped. Only an indirect table
 * makes such a chain, longer than the queue size, which drivers must not
 * (virtio 1.2, 2.7.5.3.1); no driver we know does.
 */
#define NET_IOV_MAX IOV_MAX
/* Config space: mac and status; the fields after need features not offered. */
#define NET_CONFIG_SIZE offsetof(struct virtio_net_config, max_virtqueue_pairs)

struct virtio_net {
	struct virtio_dev *vd;
	int tap_fd;
	char tap[IFNAMSIZ];
	struct virtio_net_config config;
	struct event_source rx_src;	/* the tap, for EPOLLIN */
	bool rx_registered;		/* rx_src is in the event loop */
	struct event_source kick_src;	/* an eventfd: see net_rx_kick() */
	bool rx_armed;			/* ... and waits for EPOLLIN */
	bool logged_rx_drop, logged_tx_drop;
	uint64_t rx_frames, rx_dropped, tx_frames, tx_dropped;
	struct virtq_req req;
	struct iovec iov[NET_IOV_MAX];
};

int parse_net_spec(const char *s, struct net_config *n, struct err *e)
{
	const char *p = s;

	memset(n, 0, sizeof(*n));
	while (*p) {
		const char *end = strchrnul(p, ',');
		size_t len = end - p;

		if (len > 4 && !strncmp(p, "tap=", 4)) {
			if (len - 4 >= sizeof(n->tap))
				return err_set(e, EINVAL, "tap name '%.*s' is longer than %zu characters",
					       (int)(len - 4), p + 4, sizeof(n->tap) - 1);
			memcpy(n->tap, p + 4, len - 4);
		} else if (len == 21 && !strncmp(p, "mac=", 4)) {
			char mac[18];

			memcpy(mac, p + 4, 17);
			mac[17] = '\0';
			if (parse_mac(mac, n->mac, e))
				return -EINVAL;
			n->mac_set = true;
		} else {
			return err_set(e, EINVAL, "'%.*s' is not tap=NAME or mac=MAC",
				       (int)len, p);
		}
		if (*end && !end[1])
			return err_set(e, EINVAL, "'%s' ends with a comma", s);
		p = *end ? end + 1 : end;
	}
	if (!n->tap[0])
		return err_set(e, EINVAL, "'%s' names no tap device (tap=NAME)", s);
	return 0;
}

static void net_drop(struct virtio_net *n, bool rx, const char *why)
{
	bool *logged = rx ? &n->logged_rx_drop : &n->logged_tx_drop;

	if (rx)
		n->rx_dropped++;
	else
		n->tx_dropped++;
	if (*logged)
		return;
	*logged = true;
	log_warn("%s: tap %s: %s frame dropped: %s (logged once)", n->vd->dev.id,
		 n->tap, rx ? "a received" : "a transmitted", why);
}

/*
 * The next chain of queue q (virtq_pop() orders its avail_event store
 * before any later look at the ring). Returns 1, 0 (empty) or -EINVAL,
 * having marked the device as needing a reset.
 */
static int net_pop(struct virtio_dev *vd, unsigned int q, struct virtq_req *req)
{
	struct err e = { 0 };
	int ret = virtq_pop(&vd->vq[q], vd->dev.host->mem, req, &e);

	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
	return ret;
}

/* Has the driver receive buffers the device has not taken? */
static bool net_rx_has_buffers(const struct virtq *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

/* Watch the tap for frames, or stop. Main thread, device lock held. */
static void net_rx_watch(struct virtio_net *n, bool on)
{
	int ret;

	if (!n->rx_registered || n->rx_armed == on)
		return;
	ret = event_loop_modify(n->vd->dev.host->loop, &n->rx_src, on ? EPOLLIN : 0);
	if (ret) {
		log_warn("%s: cannot %s tap %s: %s", n->vd->dev.id,
			 on ? "watch" : "stop watching", n->tap, strerror(-ret));
		return;
	}
	n->rx_armed = on;
}

/* Watch the tap exactly when frames could be delivered. */
static void net_rx_update(struct virtio_net *n)
{
	struct virtio_dev *vd = n->vd;
	const struct virtq *vq = &vd->vq[NET_RXQ];

	net_rx_watch(n, virtio_live(vd) && vq->ready && net_rx_has_buffers(vq));
}

/*
 * readv() of the tap, retried on EINTR; -errno on failure. Out of line:
 * inlined, GCC's -Wstringop-overread misjudges the iovec array's size.
 */
static __attribute__((noinline)) ssize_t
net_tap_readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t got;

	do
		got = readv(fd, iov, cnt);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

/*
 * Read one frame from the tap into n->req. Returns the bytes written into
 * the chain (header included), 0 when the frame was dropped, -EAGAIN when
 * the tap has nothing, -E2BIG for a chain of more buffers than readv()
 * takes, or another -errno when the tap is broken.
 */
static ssize_t net_rx_frame(struct virtio_net *n)
{
	const struct virtq_req *req = &n->req;
	struct virtio_net_hdr_v1 hdr;
	char why[96];
	uint8_t overflow;
	ssize_t got;
	int nr;

	/* The header goes to a local copy first, to be checked and rewritten. */
	n->iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	nr = virtq_req_iovec(req, true, NET_HDR_LEN, req->in_len - NET_HDR_LEN,
			     n->iov + 1, NET_IOV_MAX - 2);
	if (nr < 0)
		return -E2BIG;
	/* A frame that reaches this byte did not fit, whatever tun reports. */
	n->iov[nr + 1] = (struct iovec){ &overflow, 1 };
	got = net_tap_readv(n->tap_fd, n->iov, nr + 2);
	if (got < 0)
		return got;
	if ((uint64_t)got > req->in_len) {
		snprintf(why, sizeof(why), "receive buffers of %llu bytes are too small",
			 (unsigned long long)req->in_len);
	} else if ((uint64_t)got < NET_HDR_LEN + ETH_HLEN) {
		snprintf(why, sizeof(why), "%zd bytes are not a frame", got);
	} else if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM ||
		   hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* The tap's offloads are off; its checksum would be missing. */
		snprintf(why, sizeof(why), "the tap sent it unfinished (offload flags %#x/%#x)",
			 hdr.flags, hdr.gso_type);
	} else {
		/* Nothing negotiated lets flags say more; one buffer, no merging. */
		hdr = (struct virtio_net_hdr_v1){ .gso_type = VIRTIO_NET_HDR_GSO_NONE,
						  .num_buffers = 1 };
		virtq_req_write(req, 0, &hdr, sizeof(hdr));
		return got;
	}
	net_drop(n, true, why);
	return 0;
}

/*
 * The tap broke (deleted, most likely): stop watching it, transmits drop,
 * and the driver learns that the link is down.
 */
static void net_tap_broken(struct virtio_net *n, const char *why)
{
	log_warn("%s: tap %s: %s; the link is down", n->vd->dev.id, n->tap, why);
	if (n->rx_registered)
		event_loop_remove(n->vd->dev.host->loop, &n->rx_src);
	n->rx_registered = n->rx_armed = false;
	n->config.status &= ~VIRTIO_NET_S_LINK_UP;
	virtio_config_changed(n->vd);
}

/* The tap has frames: one into each receive chain, up to the budget. */
static void net_rx(struct virtio_net *n)
{
	struct virtio_dev *vd = n->vd;
	struct virtq *vq = &vd->vq[NET_RXQ];

	for (unsigned int i = 0; i < NET_RX_BUDGET; i++) {
		ssize_t got;

		if (net_pop(vd, NET_RXQ, &n->req) <= 0)
			break;	/* dry (or broken): wait for the driver */
		if (n->req.nr_out || n->req.in_len < NET_HDR_LEN) {
			virtio_needs_reset(vd, "a receive chain has device-readable buffers or no room for the header");
			break;
		}
		got = net_rx_frame(n);
		if (got == -E2BIG) {
			/* The driver's fault, not the tap's: the link stays up. */
			virtio_needs_reset(vd, "a receive chain has more than 1022 buffers after its header");
			break;
		}
		if (got <= 0)
			virtq_unpop(vq);
		if (got == -EAGAIN)
			return;	/* stay armed: epoll says when more comes */
		if (got < 0) {
			net_tap_broken(n, strerror(-got));
			return;
		}
		if (got > 0) {
			n->rx_frames++;
			virtio_complete(vd, NET_RXQ, n->req.head, got);
		}
	}
	net_rx_update(n);
}

/* Main thread: the tap is readable (or broken). */
static void net_tap_event(struct event_source *src, uint32_t events)
{
	struct virtio_net *n = src->opaque;
	struct virtio_dev *vd = n->vd;

	pthread_mutex_lock(&vd->dev.lock);
	if (events & (EPOLLERR | EPOLLHUP))
		net_tap_broken(n, "it reports an error (deleted?)");
	else if (n->rx_armed && virtio_live(vd) && vd->vq[NET_RXQ].ready)
		net_rx(n);
	else
		net_rx_watch(n, false);	/* fetched just before a quiesce */
	pthread_mutex_unlock(&vd->dev.lock);
}

/* Why the frame in n->req cannot go out (hdr filled), or NULL. */
static const char *net_tx_check(const struct virtq_req *req,
				struct virtio_net_hdr_v1 *hdr)
{
	if (req->out_len < NET_HDR_LEN + ETH_HLEN)
		return "shorter than the header and an Ethernet header";
	if (req->out_len - NET_HDR_LEN > NET_TX_MAX_FRAME)
		return "longer than 64 KiB";
	/* Read once: the guest may change its copy while the tap reads ours. */
	virtq_req_read(req, 0, hdr, sizeof(*hdr));
	if (hdr->flags || hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return "its header asks for an offload that was not offered";
	return NULL;
}

static void net_tx_frame(struct virtio_net *n)
{
	const struct virtq_req *req = &n->req;
	struct virtio_net_hdr_v1 hdr;
	const char *why = net_tx_check(req, &hdr);
	ssize_t put;
	int nr;

	if (!why) {
		n->iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
		nr = virtq_req_iovec(req, false, NET_HDR_LEN, req->out_len - NET_HDR_LEN,
				     n->iov + 1, NET_IOV_MAX - 1);
		do
			put = nr < 0 ? -1 : writev(n->tap_fd, n->iov, nr + 1);
		while (put < 0 && errno == EINTR);
		/* A full or downed tap drops the frame, as a busy link would. */
		if (put < 0)
			why = nr < 0 ? "more than 1023 buffers after its header" : strerror(errno);
	}
	if (why)
		net_drop(n, false, why);
	else
		n->tx_frames++;
}

static void net_tx(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;
	uint64_t one = 1;

	for (unsigned int done = 0; net_pop(vd, NET_TXQ, &n->req) > 0; done++) {
		if (n->req.nr_in) {
			virtio_needs_reset(vd, "a transmit chain has device-writable buffers");
			return;
		}
		net_tx_frame(n);
		virtio_complete(vd, NET_TXQ, n->req.head, 0);
		if (done + 1 == NET_TX_BUDGET) {
			/* The rest in the loop's next round: notify ourselves. */
			if (write(vd->notify[NET_TXQ].src.fd, &one, sizeof(one)) < 0)
				log_warn("%s: eventfd: %s", vd->dev.id, strerror(errno));
			return;
		}
	}
}

static void net_notify(struct virtio_dev *vd, unsigned int q)
{
	if (q == NET_TXQ)
		net_tx(vd);
	else
		net_rx_update(vd->priv);	/* new receive buffers */
}

/*
 * Have the main thread decide again whether to watch the tap. Activate and
 * quiesce also come from vCPU threads (a status write), whose seccomp
 * filter has no epoll_ctl; until the main thread gets to it, a frame
 * arriving for a device that is no longer live is left in the tap by
 * net_tap_event().
 */
static void net_rx_kick(struct virtio_net *n)
{
	uint64_t one = 1;

	if (write(n->kick_src.fd, &one, sizeof(one)) < 0)
		log_warn("%s: eventfd: %s", n->vd->dev.id, strerror(errno));
}

static void net_kick_event(struct event_source *src, uint32_t events)
{
	struct virtio_net *n = src->opaque;
	uint64_t count;

	(void)events;
	if (read(src->fd, &count, sizeof(count)) < 0)
		return;
	pthread_mutex_lock(&n->vd->dev.lock);
	net_rx_update(n);
	pthread_mutex_unlock(&n->vd->dev.lock);
}

static void net_activate(struct virtio_dev *vd)
{
	net_rx_kick(vd->priv);
}

/* Reset or pause: no frame moves until the next activate. */
static void net_quiesce(struct virtio_dev *vd)
{
	net_rx_kick(vd->priv);
}

static void net_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *data,
			    uint32_t len)
{
	struct virtio_net *n = vd->priv;

	memcpy(data, (uint8_t *)&n->config + off, len);
}

/* The MAC, which may have been made up: the guest must keep seeing it. */
static void net_save(struct virtio_dev *vd, struct vmstate_writer *w)
{
	struct virtio_net *n = vd->priv;

	vmstate_put_blob(w, "net-mac", n->config.mac, ETH_ALEN);
}

static bool mac_usable(const uint8_t *mac)
{
	static const uint8_t zero[ETH_ALEN];

	return !(mac[0] & 1) && memcmp(mac, zero, ETH_ALEN);
}

static int net_restore(struct virtio_dev *vd, const struct vmstate *vs,
		       int node, struct err *e)
{
	struct virtio_net *n = vd->priv;
	uint8_t mac[ETH_ALEN];

	if (vmstate_get_blob(vs, node, "net-mac", mac, ETH_ALEN, e))
		return -EINVAL;
	if (!mac_usable(mac))
		return err_set(e, EINVAL, "%s: net-mac is not a unicast address", vd->dev.id);
	memcpy(n->config.mac, mac, ETH_ALEN);
	log_info("%s: mac %02x:%02x:%02x:%02x:%02x:%02x from the snapshot", vd->dev.id,
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return 0;
}

static void net_destroy(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;

	if (n->rx_registered)
		event_loop_remove(vd->dev.host->loop, &n->rx_src);
	if (n->kick_src.fd >= 0) {
		event_loop_remove(vd->dev.host->loop, &n->kick_src);
		close(n->kick_src.fd);
	}
	if (n->tap_fd >= 0) {
		log_info("%s: tap %s: %llu frames received (%llu dropped), %llu sent (%llu dropped)",
			 vd->dev.id, n->tap, (unsigned long long)n->rx_frames,
			 (unsigned long long)n->rx_dropped,
			 (unsigned long long)n->tx_frames,
			 (unsigned long long)n->tx_dropped);
		close(n->tap_fd);
	}
	free(n);
}

/*
 * "net": one entry per device, its tap and frame counts (which only the
 * main thread changes, and it is the one asking).
 */
static void net_stats_json(struct virtio_dev *vd, json_object *root)
{
	struct virtio_net *n = vd->priv;
	json_object *list, *o = json_object_new_object();

	if (!json_object_object_get_ex(root, "net", &list)) {
		list = json_object_new_array();
		json_object_object_add(root, "net", list);
	}
	json_object_object_add(o, "device", json_object_new_string(vd->dev.id));
	json_object_object_add(o, "tap", json_object_new_string(n->tap));
	json_object_object_add(o, "rx_frames", json_object_new_uint64(n->rx_frames));
	json_object_object_add(o, "rx_dropped", json_object_new_uint64(n->rx_dropped));
	json_object_object_add(o, "tx_frames", json_object_new_uint64(n->tx_frames));
	json_object_object_add(o, "tx_dropped", json_object_new_uint64(n->tx_dropped));
	json_object_array_add(list, o);
}

/* Frames in and out of its tap, and nothing else. */
static unsigned int net_syscalls(struct virtio_dev *vd, struct device_syscall *calls,
				 unsigned int max)
{
	struct virtio_net *n = vd->priv;
	unsigned int i = 0;

	if (i < max)
		calls[i++] = (struct device_syscall){ SYS_readv, n->tap_fd };
	if (i < max)
		calls[i++] = (struct device_syscall){ SYS_writev, n->tap_fd };
	return i;
}

static const struct virtio_device_ops virtio_net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
	.nr_queues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.config_size = NET_CONFIG_SIZE,
	.config_read = net_config_read,
	.notify = net_notify,
	.activate = net_activate,
	.quiesce = net_quiesce,
	.save = net_save,
	.restore = net_restore,
	.syscalls = net_syscalls,
	.stats = net_stats_json,
	.destroy = net_destroy,
};

/* Its tap, opened by the host (it may be a fake one, for the fuzz target). */
static int net_open_tap(struct virtio_net *n, struct dev_host *host, struct err *e)
{
	n->tap_fd = host_open_tap(host, n->tap, NET_HDR_LEN, e);
	return n->tap_fd < 0 ? n->tap_fd : 0;
}

/*
 * The configured MAC, or a locally administered unicast one from this
 * process (no two VMs running at once share a pid) and the device index.
 * A restore brings a made-up one back from the device state (net_restore).
 */
static int net_pick_mac(struct virtio_net *n, const struct net_config *nc,
			unsigned int index)
{
	uint8_t *mac = n->config.mac;
	uint32_t pid = getpid();

	if (nc->mac_set) {
		memcpy(mac, nc->mac, ETH_ALEN);
		return mac_usable(mac) ? 0 : -EINVAL;
	}
	mac[0] = 0x52;	/* bit 1: locally administered; bit 0 clear: unicast */
	mac[1] = 0x54;
	mac[2] = pid >> 16;
	mac[3] = pid >> 8;
	mac[4] = pid;
	mac[5] = index;
	return 0;
}

static int net_create(struct dev_host *host, const struct net_config *nc,
		      unsigned int index, struct err *e)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	struct virtio_dev *vd;
	const uint8_t *m;
	int ret;

	if (!n)
		return err_set(e, ENOMEM, "out of memory for virtio-net");
	n->tap_fd = -1;
	n->kick_src.fd = -1;
	snprintf(n->tap, sizeof(n->tap), "%.*s", (int)sizeof(nc->tap) - 1, nc->tap);
	if (net_pick_mac(n, nc, index))
		ret = err_set(e, EINVAL, "mac %02x:%02x:%02x:%02x:%02x:%02x is not a unicast address",
			      nc->mac[0], nc->mac[1], nc->mac[2], nc->mac[3],
			      nc->mac[4], nc->mac[5]);
	else
		ret = net_open_tap(n, host, e);
	if (ret) {
		if (n->tap_fd >= 0)
			close(n->tap_fd);
		free(n);
		return err_prefix(e, "tap %s", nc->tap);
	}
	n->config.status = VIRTIO_NET_S_LINK_UP;
	ret = virtio_mmio_create(host, &virtio_net_ops, n, &vd, e);
	if (ret)
		return ret;
	n->vd = vd;
	/* In the loop from the start, but waiting for nothing until armed. */
	n->rx_src = (struct event_source){ .fd = n->tap_fd, .handler = net_tap_event,
					   .opaque = n };
	ret = event_loop_add(host->loop, &n->rx_src, 0);
	if (ret)
		return err_set(e, -ret, "%s: cannot watch tap %s: %s", vd->dev.id,
			       n->tap, strerror(-ret));
	n->rx_registered = true;
	n->kick_src = (struct event_source){ .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
					     .handler = net_kick_event, .opaque = n };
	if (n->kick_src.fd < 0)
		return err_set(e, errno, "%s: eventfd: %s", vd->dev.id, strerror(errno));
	ret = event_loop_add(host->loop, &n->kick_src, EPOLLIN);
	if (ret)
		return err_set(e, -ret, "%s: cannot watch its eventfd: %s", vd->dev.id,
			       strerror(-ret));
	m = n->config.mac;
	log_info("%s: tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x", vd->dev.id, n->tap,
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return 0;
}

static struct nets_config *net_config(const struct dev_config *cfg)
{
	return device_config(cfg, &virtio_net_device);
}

/* --net tap=NAME[,mac=MAC]; a restored guest keeps its MAC: tap=NAME only. */
static int net_parse(void *config, const char *name, char *arg, bool restore,
		     struct err *e)
{
	struct nets_config *c = config;
	struct net_config *n = &c->nets[c->nr];

	(void)name;
	if (c->nr == VM_MAX_NETS)
		return err_set(e, EINVAL, "--net: at most %d network devices", VM_MAX_NETS);
	if (parse_net_spec(arg, n, e))
		return err_prefix(e, "--net %s", arg);
	if (restore && n->mac_set)
		return err_set(e, EINVAL, "--net tap=%s: a restored guest keeps the MAC it has (mac= does not apply)",
			       n->tap);
	c->nr++;
	return 0;
}

/* A restore's taps: one --net per device the guest has, or the recorded ones. */
static int net_take_resources(void *config, const void *given_config, bool recorded,
			      struct err *e)
{
	struct nets_config *c = config;
	const struct nets_config *given = given_config;
	char first[64];

	if (recorded)
		return 0;
	if (given->nr != c->nr)
		return err_set(e, EINVAL, "the snapshot has %u virtio-net device(s)%s%s%s, and %u --net given: give one --net per device, or --recorded-resources to reopen the taps it recorded",
			       c->nr, c->nr ? " (the first was on tap " : "",
			       c->nr ? str_escape(first, sizeof(first), c->nets[0].tap) : "",
			       c->nr ? ")" : "", given->nr);
	/* The guest keeps the MAC it has: only the taps change. */
	for (unsigned int i = 0; i < c->nr; i++)
		memcpy(c->nets[i].tap, given->nets[i].tap, sizeof(c->nets[i].tap));
	return 0;
}

static bool net_configured(const void *config)
{
	return ((const struct nets_config *)config)->nr > 0;
}

static void net_print_resources(const void *config, FILE *out)
{
	const struct nets_config *c = config;
	char tap[64];

	for (unsigned int i = 0; i < c->nr; i++)
		fprintf(out, "    net %u: tap %s\n", i + 1,
			str_escape(tap, sizeof(tap), c->nets[i].tap));
}

static int virtio_net_setup(struct dev_host *host, const struct dev_config *cfg,
			    struct err *e)
{
	for (unsigned int i = 0; i < net_config(cfg)->nr; i++) {
		int ret = net_create(host, &net_config(cfg)->nets[i], i, e);

		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The taps' names and the MACs that were given (a made-up one is the
 * device's state): a restore reopens the taps only when asked to
 * (--recorded-resources), else takes the user's --net in their place.
 */
static void virtio_net_save_config(const struct device_desc *kind,
				   const struct dev_config *cfg, struct vmstate_writer *w)
{
	char name[32];

	(void)kind;
	vmstate_put_u32(w, "nets", net_config(cfg)->nr);
	for (unsigned int i = 0; i < net_config(cfg)->nr; i++) {
		snprintf(name, sizeof(name), "net%u-tap", i);
		vmstate_put_str(w, name, net_config(cfg)->nets[i].tap);
		snprintf(name, sizeof(name), "net%u-mac", i);
		if (net_config(cfg)->nets[i].mac_set)
			vmstate_put_blob(w, name, net_config(cfg)->nets[i].mac, 6);
	}
}

static int virtio_net_load_config(const struct device_desc *kind, struct dev_config *cfg,
				  const struct vmstate *vs, int node, struct err *e)
{
	char name[32];

	(void)kind;
	if (vmstate_get_u32(vs, node, "nets", &net_config(cfg)->nr, e))
		return -EINVAL;
	if (net_config(cfg)->nr > VM_MAX_NETS)
		return err_set(e, EINVAL, "config: %u network devices", net_config(cfg)->nr);
	for (unsigned int i = 0; i < net_config(cfg)->nr; i++) {
		struct net_config *n = &net_config(cfg)->nets[i];
		const char *tap;

		snprintf(name, sizeof(name), "net%u-tap", i);
		if (vmstate_get_str(vs, node, name, &tap, sizeof(n->tap), e))
			return -EINVAL;
		strcpy(n->tap, tap);
		snprintf(name, sizeof(name), "net%u-mac", i);
		n->mac_set = vmstate_has(vs, node, name);
		if (n->mac_set && vmstate_get_blob(vs, node, name, n->mac, 6, e))
			return -EINVAL;
	}
	return 0;
}

static const struct device_option net_options[] = {
	{
		.name = "net",
		.arg = "tap=NAME[,mac=MAC]",
		.help = "a virtio-net device on the tap NAME (up to 4)",
		.restore_help = "this VM's tap for the snapshot's next virtio-net\n"
				"device (the guest keeps its MAC)",
		.restore_arg = "tap=NAME",
		.man = ".BI \\-\\-net \" tap=NAME\\fR[\\fP,mac=MAC\\fR]\\fP\"\n"
		       "A virtio\\-net device on the existing tap device\n"
		       ".I NAME\n"
		       "(up to 4). The MAC defaults to 52:54 followed by four bytes from gmvm's pid\n"
		       "and the device's index.\n",
		.restore_man = ".BI \\-\\-net \" tap=NAME\"\n"
			       "This VM's tap for the snapshot's next virtio\\-net device, in order; the\n"
			       "guest keeps the MAC address it had.\n",
	},
	{ .name = NULL },
};

const struct device_desc virtio_net_device = {
	.name = "virtio-net",
	.config_size = sizeof(struct nets_config),
	.options = net_options,
	.parse = net_parse,
	.setup = virtio_net_setup,
	.save_config = virtio_net_save_config,
	.load_config = virtio_net_load_config,
	.take_resources = net_take_resources,
	.describe = net_print_resources,
	.configured = net_configured,
};
