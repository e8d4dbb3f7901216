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

int cli_parse_with_devices(int argc, char **argv, const char *shortopts,
			   const struct option *own, size_t n, int device_base,
			   bool restore, cli_option_fn fn, void *ctx, struct err *e)
{
	struct option opts[64];

	if (n >= ARRAY_SIZE(opts))
		return err_set(e, E2BIG, "too many options");
	memcpy(opts, own, n * sizeof(*own));
	n += dev_options_getopt(opts + n, ARRAY_SIZE(opts) - n - 1, device_base, restore);
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	return cli_parse(argc, argv, shortopts, opts, fn, ctx, e);
}

void cli_print_usage(const char *usage, bool restore)
{
	const char *at = strstr(usage, "%s");

	fwrite(usage, 1, at - usage, stdout);
	dev_options_help(stdout, restore);
	fputs(at + 2, stdout);
}
