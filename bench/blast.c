/* bench/blast.c — a cheap TCP source and sink for the benchmarks (not part of omnicat).
 *
 * The benchmarks compare forwarders and clients, so the ends must cost as little CPU as
 * possible (the machine may have only two cores for source, forwarder and sink):
 *
 *   blast send PORT FILE    connect to 127.0.0.1:PORT, sendfile(2) FILE (one kernel copy, no
 *                           user-space buffer), shutdown(SHUT_WR), read until the peer closes.
 *   blast sink PORT [-l]    listen on 127.0.0.1:PORT, accept ONE connection, read it to EOF
 *                           into a 1 MiB buffer and throw the bytes away (-l: also count '\n').
 *   blast run OUT CMD...    run CMD (stdin/stdout inherited) as a child; SIGINT/SIGTERM/SIGHUP
 *                           are passed on to it; when it exits, write its peak RSS (wait4's
 *                           ru_maxrss: the kernel's high-water mark, VmHWM at exit) to OUT and
 *                           exit with its status. Unlike polling /proc/PID/status, this also
 *                           catches processes that live only a few milliseconds.
 *
 * Each prints one line of key=value pairs on stdout when done, times in seconds of
 * CLOCK_REALTIME (comparable with `date +%s.%N`):
 *   send: bytes=N t_connect=T t_sent=T t_done=T cpu_s=C
 *   sink: bytes=N lines=N reads=N t_accept=T t_first=T t_eof=T cpu_s=C
 * (cpu_s: the process's own user + system CPU seconds, to show the ends were not the limit.)
 *   run (to OUT): maxrss_kib=N status=S user_s=T sys_s=T   (the child's CPU time)
 * Errors go to stderr with exit status 1. Built by bench/lib.sh into a temporary folder. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "blast: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in loopback(const char *port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* CPU seconds (user + system) this process used so far. */
static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int do_send(const char *port, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		die("fstat");
	struct sockaddr_in a = loopback(port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	double t_connect = now();
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	off_t off = 0;
	while (off < st.st_size) {
		size_t want = (size_t)(st.st_size - off);
		if (want > (1u << 30))
			want = 1u << 30;
		ssize_t n = sendfile(s, fd, &off, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("sendfile");
		if (n == 0)
			break;
	}
	double t_sent = now();
	shutdown(s, SHUT_WR);
	/* Wait for the far end to close, so the forwarder saw everything through. */
	char buf[4096];
	for (;;) {
		ssize_t n = read(s, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
	double t_done = now();
	printf("bytes=%lld t_connect=%.6f t_sent=%.6f t_done=%.6f cpu_s=%.3f\n", (long long)off,
	       t_connect, t_sent, t_done, cpu_self());
	return 0;
}

/* Newlines in buf, eight bytes at a time (SWAR: a byte of x ^ "\n\n..." is zero exactly where
 * x has '\n'; the expression sets the high bit of exactly those bytes). Built with
 * -march=native this is ~9 GB/s, so counting never makes the sink the bottleneck; memchr per
 * line (8-byte lines) ran at ~1.2 GB/s. */
static unsigned long long count_nl(const char *buf, size_t n)
{
	const uint64_t nl = 0x0a0a0a0a0a0a0a0aull, low7 = 0x7f7f7f7f7f7f7f7full;
	unsigned long long c = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, buf + i, 8);
		uint64_t t = x ^ nl;
		uint64_t y = ~(((t & low7) + low7) | t | low7);
		c += (unsigned long long)__builtin_popcountll(y);
	}
	for (; i < n; i++)
		c += buf[i] == '\n';
	return c;
}

static int do_sink(const char *port, int count_lines)
{
	struct sockaddr_in a = loopback(port);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (listen(l, 16) < 0)
		die("listen");
	int c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	double t_accept = now(), t_first = 0;
	close(l);
	static char buf[1 << 20];
	unsigned long long bytes = 0, lines = 0, reads = 0;
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		if (!reads)
			t_first = now();
		reads++;
		bytes += (unsigned long long)n;
		if (count_lines)
			lines += count_nl(buf, (size_t)n);
	}
	double t_eof = now();
	close(c);
	printf("bytes=%llu lines=%llu reads=%llu t_accept=%.6f t_first=%.6f t_eof=%.6f cpu_s=%.3f\n",
	       bytes, lines, reads, t_accept, t_first, t_eof, cpu_self());
	return 0;
}

static pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int do_run(const char *out, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pass_on;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[0], argv);
		die(argv[0]);
	}
	int status;
	struct rusage ru;
	while (wait4(child, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	FILE *f = fopen(out, "w");
	if (!f)
		die(out);
	fprintf(f, "maxrss_kib=%ld status=%d user_s=%.3f sys_s=%.3f\n", ru.ru_maxrss, code,
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	fclose(f);
	return code;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "run"))
		return do_run(argv[2], argv + 3);
	if (argc == 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "sink"))
		return do_sink(argv[2], argc == 4 && !strcmp(argv[3], "-l"));
	fprintf(stderr, "usage: blast send PORT FILE | blast sink PORT [-l] | blast run OUT CMD...\n");
	return 2;
}
