// SPDX-License-Identifier: MIT
/*
 * bench/first_response.c: time from exec of a command to the first answer
 * it prints to a line written on its stdin. Built and run by
 * bench/first-response.sh.
 *
 *   first_response [-a AFTER [-m MARKER2]] [-t SECONDS] [-w SECONDS]
 *                  [-o FILE] LINE MARKER -- COMMAND [ARG]...
 *
 * Takes CLOCK_MONOTONIC, forks and execs COMMAND with its stdin and stdout
 * on pipes (stderr inherited), writes LINE (as given: put the newline in
 * it) at once, and reads COMMAND's stdout until MARKER appears in it. Then
 * it prints one line on stdout:
 *
 *   first_response_us=N next_response_us=M status=S
 *
 * N is the time from just before the fork to the read that brought the end
 * of MARKER. After MARKER, AFTER (if given, as given) is written; with -m,
 * M is the time from that write to the read that brought the end of
 * MARKER2 (the answer of a guest that is running already; "none" without
 * -m or when it did not come within -t SECONDS). Then COMMAND gets -w
 * SECONDS (default 30; 0: none) to exit by itself before it is sent
 * SIGTERM (SIGKILL 10 s later). S is its exit status, 128+N when a
 * signal N ended it, and "sigterm:" before it when this program sent the
 * SIGTERM. Without MARKER within -t SECONDS (default 60) of the start, or
 * when COMMAND closes its stdout first, COMMAND is ended the same way and N
 * is "none"; the exit status is then 1. Everything COMMAND printed goes to
 * FILE (-o). COMMAND dies with this program (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(void)
{
	fprintf(stderr, "usage: first_response [-a AFTER [-m MARKER2]] [-t SECONDS] [-w SECONDS] "
			"[-o FILE] LINE MARKER -- COMMAND [ARG]...\n");
	exit(2);
}

static void write_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "first_response: writing to the command: %s\n", strerror(errno));
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Wait for pid until deadline (us, CLOCK_MONOTONIC), draining out (-1
 * when closed) into copy; returns its wait status, or -1 on the deadline. */
static int wait_until(pid_t pid, int *out, FILE *copy, long long deadline)
{
	char buf[4096];
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (now_us() >= deadline)
			return -1;
		if (*out >= 0) {
			struct pollfd p = { .fd = *out, .events = POLLIN };

			if (poll(&p, 1, 20) > 0) {
				ssize_t n = read(*out, buf, sizeof(buf));

				if (n > 0 && copy)
					fwrite(buf, 1, (size_t)n, copy);
				if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
					close(*out);
					*out = -1;
				}
			}
		} else {
			usleep(2000);
		}
	}
}

/* Read out (copying to copy) until marker appears or the deadline (us)
 * passes; returns the time of the read that brought its end, or -1. */
static long long read_until(int out, FILE *copy, const char *marker, long long deadline)
{
	size_t mlen = strlen(marker), have = 0;
	char buf[4096], *win = malloc(mlen + sizeof(buf));
	long long t = -1;

	/* The last mlen - 1 bytes read and the new ones: a marker split
	 * across reads is still found. */
	while (win && t < 0) {
		long long left = deadline - now_us();
		struct pollfd p = { .fd = out, .events = POLLIN };
		ssize_t n;
		int r;

		if (left <= 0)
			break;
		r = poll(&p, 1, (int)(left / 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read(out, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (copy)
			fwrite(buf, 1, (size_t)n, copy);
		memcpy(win + have, buf, (size_t)n);
		have += (size_t)n;
		if (memmem(win, have, marker, mlen))
			t = now_us();
		else if (have >= mlen) {
			memmove(win, win + have - (mlen - 1), mlen - 1);
			have = mlen - 1;
		}
	}
	free(win);
	return t;
}

int main(int argc, char **argv)
{
	const char *after = NULL, *marker2 = NULL, *copy_path = NULL;
	long long t0, t1, t2 = -1, ta = 0, limit;
	double timeout = 60, grace = 30;
	int in[2], out[2], opt, status, fd, term = 0;
	FILE *copy = NULL;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+a:m:t:w:o:")) != -1) {
		switch (opt) {
		case 'a': after = optarg; break;
		case 'm': marker2 = optarg; break;
		case 't': timeout = atof(optarg); break;
		case 'w': grace = atof(optarg); break;
		case 'o': copy_path = optarg; break;
		default: usage();
		}
	}
	if (argc - optind < 4 || strcmp(argv[optind + 2], "--") != 0 || !argv[optind + 1][0] ||
	    (marker2 && (!after || !marker2[0])))
		usage();
	if (copy_path && !(copy = fopen(copy_path, "w"))) {
		fprintf(stderr, "first_response: %s: %s\n", copy_path, strerror(errno));
		return 2;
	}
	/* Unbuffered: a caller may watch the file while COMMAND runs. */
	if (copy)
		setvbuf(copy, NULL, _IONBF, 0);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		perror("first_response: pipe2");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	limit = (long long)(timeout * 1e6);

	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		perror("first_response: fork");
		return 2;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[optind + 3], argv + optind + 3);
		fprintf(stderr, "first_response: %s: %s\n", argv[optind + 3], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	write_all(in[1], argv[optind]);
	t1 = read_until(out[0], copy, argv[optind + 1], t0 + limit);
	if (t1 >= 0 && after) {
		ta = now_us();
		write_all(in[1], after);
		if (marker2)
			t2 = read_until(out[0], copy, marker2, ta + limit);
	}

	fd = out[0];
	status = wait_until(pid, &fd, copy, now_us() + (long long)((t1 >= 0 ? grace : 0) * 1e6));
	if (status == -1) {
		term = 1;
		kill(pid, SIGTERM);
		status = wait_until(pid, &fd, copy, now_us() + 10000000);
		if (status == -1) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	close(in[1]);
	if (fd >= 0)
		close(fd);
	if (copy)
		fclose(copy);
	if (t1 >= 0)
		printf("first_response_us=%lld", t1 - t0);
	else
		printf("first_response_us=none");
	if (t2 >= 0)
		printf(" next_response_us=%lld", t2 - ta);
	else
		printf(" next_response_us=none");
	printf(" status=%s%d\n", term ? "sigterm:" : "",
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return t1 >= 0 ? 0 : 1;
}
