// SPDX-License-Identifier: MIT
/* Address-range routing of guest port and MMIO accesses to devices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "util.h"

void device_init(struct device *dev, const struct device_ops *ops,
		 struct dev_host *host)
{
	dev->ops = ops;
	dev->host = host;
	snprintf(dev->id, sizeof(dev->id), "%s", ops->name);
	pthread_mutex_init(&dev->lock, NULL);
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 struct device *dev)
{
	struct bus_range *r;
	unsigned int i;

	if (!len || base + len < base)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		if (ranges_overlap(base, len, bus->ranges[i].base,
				   bus->ranges[i].len))
			return -EBUSY;
		if (bus->ranges[i].base > base)
			break;
	}
	r = realloc(bus->ranges, (bus->nr + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memmove(&r[i + 1], &r[i], (bus->nr - i) * sizeof(*r));
	r[i] = (struct bus_range){ base, len, dev };
	bus->ranges = r;
	bus->nr++;
	return 0;
}

static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr,
					uint32_t len)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return len <= r->len - (addr - r->base) ? r : NULL;
	}
	return NULL;
}

bool bus_access(const struct bus *bus, uint64_t addr, uint8_t *data,
		uint32_t len, bool is_write)
{
	const struct bus_range *r = bus_find(bus, addr, len);
	struct device *dev;

	if (!r)
		return false;
	dev = r->dev;
	pthread_mutex_lock(&dev->lock);
	if (is_write)
		dev->ops->write(dev, addr - r->base, data, len);
	else
		dev->ops->read(dev, addr - r->base, data, len);
	pthread_mutex_unlock(&dev->lock);
	return true;
}

void bus_free(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = 0;
}
