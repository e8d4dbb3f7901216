/* SPDX-License-Identifier: MIT */
/* The seed generator's pieces (mkseeds.c, mkseeds_virtio.c). */
#ifndef GMVM_FUZZ_MKSEEDS_H
#define GMVM_FUZZ_MKSEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An input being written. */
struct buf {
	uint8_t *d;
	size_t n, cap;
};

static inline void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->d = realloc(b->d, b->cap);
		if (!b->d)
			abort();
	}
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static inline void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static inline void put16(struct buf *b, uint16_t v)
{
	put(b, &v, 2);
}

static inline void put32(struct buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static inline void put64(struct buf *b, uint64_t v)
{
	put(b, &v, 8);
}

/* Write b as DIR/target/name and empty it. */
void save(const char *target, const char *name, struct buf *b);

void seeds_virtqueue(void);
void seeds_virtio_blk(void);
void seeds_virtio_mmio(void);
void seeds_virtio_net(void);
void seeds_virtio_vsock(void);
void seeds_vmstate(void);

#endif /* GMVM_FUZZ_MKSEEDS_H */
