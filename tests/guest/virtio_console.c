// SPDX-License-Identifier: MIT
/*
 * Workloads on virtio-console (gmvm --console virtio): receiveq is queue 0,
 * transmitq queue 1. What goes through the device is not printed on the
 * UART, so that output on stdout proves the path it took.
 */
#include "virtio.h"

#define HVC_RX 0
#define HVC_TX 1
#define HVC_MAX 4096

static bool hvc_open(struct vdev *d, const char *who)
{
	if (virtio_find(VIRTIO_ID_CONSOLE, 0, d) && virtio_init(d, 0, 2))
		return true;
	printf("%s: no virtio-console device\n", who);
	return false;
}

/* Send len bytes through transmitq; false when the device does not answer. */
static bool hvc_write(struct vdev *d, const char *who, void *buf, uint32_t len)
{
	struct vbuf b = { buf, len, false };

	if (virtio_request(d, HVC_TX, &b, 1) >= 0)
		return true;
	printf("%s: transmitq request not completed\n", who);
	return false;
}

/* hvc=TEXT: TEXT and a newline through transmitq. */
int workload_hvc(const char *arg, size_t len)
{
	static char line[HVC_MAX + 1];
	struct vdev d;

	if (!arg || !len || len > HVC_MAX) {
		printf("hvc: needs a text of 1 to %d bytes, e.g. hvc=hello\n", HVC_MAX);
		guest_exit(EXIT_BAD_CMDLINE);
	}
	if (!hvc_open(&d, "hvc"))
		return -1;
	memcpy(line, arg, len);
	line[len] = '\n';
	if (!hvc_write(&d, "hvc", line, len + 1))
		return -1;
	printf("hvc: wrote %lu bytes through transmitq\n", (uint64_t)len + 1);
	return 0;
}

/* Fill buf with n bytes from receiveq, one buffer posted at a time. */
static bool hvc_read(struct vdev *d, uint8_t *buf, uint64_t n)
{
	uint64_t got = 0;

	while (got < n) {
		struct vbuf b = { buf + got, n - got, true };
		uint32_t used;

		virtio_post(d, HVC_RX, &b, 1);
		if (!virtio_wait(d, HVC_RX, &used)) {
			printf("hvcecho: no more input after %lu bytes\n", got);
			return false;
		}
		if (used > n - got) {
			printf("hvcecho: %u bytes written into a %lu-byte buffer\n",
			       used, n - got);
			return false;
		}
		got += used;
	}
	return true;
}

/* hvcecho=N: read N bytes from receiveq, write them back and a newline. */
int workload_hvcecho(const char *arg, size_t len)
{
	static uint8_t buf[HVC_MAX + 1];
	struct vdev d;
	uint64_t n;

	if (!arg || !parse_u64(arg, len, &n) || !n || n > HVC_MAX) {
		printf("hvcecho: needs a byte count from 1 to %d\n", HVC_MAX);
		guest_exit(EXIT_BAD_CMDLINE);
	}
	if (!hvc_open(&d, "hvcecho"))
		return -1;
	printf("hvcecho: waiting for %lu bytes\n", n);
	if (!hvc_read(&d, buf, n))
		return -1;
	buf[n] = '\n';
	if (!hvc_write(&d, "hvcecho", buf, n + 1))
		return -1;
	printf("hvcecho: echoed %lu bytes\n", n);
	return 0;
}
