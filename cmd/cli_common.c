// SPDX-License-Identifier: MIT
/*
 * What `gmvm run` and `gmvm restore` parse alike: the getopt loop with its
 * messages, the options both take (memory backend, console, control socket,
 * statistics, seccomp, privilege drop, verbosity), and words from a list.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vm.h"
#include "guest_mem.h"
#include "log.h"

int parse_choice(const char *option, const char *what, const char *arg,
		 const char *const *names, unsigned int n, struct err *e)
{
	char list[128] = "";
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return (int)i;
	/* "a, b or c", for the message. */
	for (unsigned int i = 0; i < n && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	return err_set(e, EINVAL, "%s: unknown %s '%s' (%s)", option, what, arg, list);
}

static int parse_console(struct vm_options *c, const char *arg, struct err *e)
{
	static const char *const names[] = { "serial", "virtio", "none" };
	static const enum console_mode modes[] = {
		CONSOLE_SERIAL, CONSOLE_VIRTIO, CONSOLE_NONE,
	};
	int i = parse_choice("--console", "mode", arg, names, ARRAY_SIZE(names), e);

	if (i < 0)
		return i;
	c->console = modes[i];
	c->console_given = true;
	return 0;
}

static int parse_seccomp(struct vm_options *c, const char *arg, struct err *e)
{
	if (seccomp_parse_mode(arg, &c->seccomp))
		return err_set(e, EINVAL, "--seccomp: unknown mode '%s' (kill, log or off)",
			       arg);
	return 0;
}

int cli_add_disk(struct disk_config *disks, unsigned int *n, char *arg,
		 struct err *e)
{
	if (*n == VM_MAX_DISKS)
		return err_set(e, EINVAL, "--disk: at most %d disks", VM_MAX_DISKS);
	if (parse_disk_spec(arg, &disks[*n], e))
		return err_prefix(e, "--disk %s", arg);
	(*n)++;
	return 0;
}

int cli_add_net(struct net_config *nets, unsigned int *n, const char *arg,
		struct err *e)
{
	if (*n == VM_MAX_NETS)
		return err_set(e, EINVAL, "--net: at most %d network devices", VM_MAX_NETS);
	if (parse_net_spec(arg, &nets[*n], e))
		return err_prefix(e, "--net %s", arg);
	(*n)++;
	return 0;
}

int cli_common_option(struct vm_options *c, int opt, const char *arg,
		      struct err *e)
{
	switch (opt) {
	case OPT_BACKEND:
		c->backend = guest_mem_backend_find(arg);
		if (!c->backend)
			return err_set(e, EINVAL, "--memory-backend: unknown backend '%s' (gmem, memfd or anon)",
				       arg);
		return 0;
	case OPT_CONSOLE:
		return parse_console(c, arg, e);
	case OPT_CONTROL:
		c->control = arg;
		return 0;
	case OPT_STATS:
		c->stats = arg;
		return 0;
	case OPT_SECCOMP:
		return parse_seccomp(c, arg, e);
	case OPT_ASYNC_TEARDOWN:
		c->async_teardown = true;
		return 0;
	case OPT_CHROOT:
		return parse_privdrop_option(&c->privdrop, "chroot", arg, e);
	case OPT_UID:
		return parse_privdrop_option(&c->privdrop, "uid", arg, e);
	case OPT_GID:
		return parse_privdrop_option(&c->privdrop, "gid", arg, e);
	case 'v':
		log_set_level(log_get_level() < LOG_DEBUG ? log_get_level() + 1 :
			      LOG_DEBUG);
		return 0;
	case 'q':
		log_set_level(LOG_WARN);
		return 0;
	default:
		return 1;
	}
}

static int cli_getopt(int argc, char **argv, const char *shortopts,
		      const struct option *longopts, cli_option_fn fn, void *ctx,
		      struct err *e)
{
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == 'h' || opt == 'V')
			return opt;
		if (opt == '?')
			return err_set(e, EINVAL, "unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			return err_set(e, EINVAL, "option '%s' needs a value",
				       argv[optind - 1]);
		ret = fn(ctx, opt, optarg, e);
		if (ret > 0)
			ret = err_set(e, EINVAL, "unknown option '%s'", argv[optind - 1]);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return err_set(e, EINVAL, "unexpected argument '%s'", argv[optind]);
	return 0;
}

int cli_parse(int argc, char **argv, const char *shortopts,
	      const struct option *longopts, cli_option_fn fn, void *ctx,
	      struct err *e)
{
	int ret = cli_getopt(argc, argv, shortopts, longopts, fn, ctx, e);

	return ret < 0 ? err_mark(e, ERR_USAGE) : ret;
}
