// SPDX-License-Identifier: MIT
/* Workloads that drive gmvm's virtio devices (see user.c). */
#include "virtio.h"

/* rng: two reads of 64 bytes; each non-zero, and they differ. */
int workload_rng(const char *arg, size_t len)
{
	static uint8_t a[64], b[64];
	struct vdev d;
	struct vbuf ba = { a, sizeof(a), true }, bb = { b, sizeof(b), true };
	int64_t na, nb;
	bool zero = true;

	(void)arg;
	(void)len;
	if (!virtio_find(VIRTIO_ID_RNG, 0, &d) || !virtio_init(&d, 0, 1)) {
		printf("rng: no virtio-rng device\n");
		return -1;
	}
	na = virtio_request(&d, 0, &ba, 1);
	nb = virtio_request(&d, 0, &bb, 1);
	for (unsigned int i = 0; i < sizeof(a); i++)
		zero &= !a[i];
	printf("rng: read %ld and %ld bytes, %s, %s\n", na, nb,
	       zero ? "all zero" : "not all zero",
	       memcmp(a, b, sizeof(a)) ? "different" : "THE SAME");
	return na == 64 && nb == 64 && !zero && memcmp(a, b, sizeof(a)) ? 0 : -1;
}
