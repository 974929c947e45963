/* bench/blast.c — a cheap TCP source and sink for the benchmarks (not part of omnicat).
 *
 * The benchmarks compare forwarders and clients, so the ends must cost as little CPU as
 * possible (the machine may have only two cores for source, forwarder and sink):
 *
 *   blast send PORT FILE    connect to 127.0.0.1:PORT, sendfile(2) FILE (one kernel copy, no
 *                           user-space buffer), shutdown(SHUT_WR), read until the peer closes.
 *   blast sink PORT [-l]    listen on 127.0.0.1:PORT, accept ONE connection, read it to EOF
 *                           into a 1 MiB buffer and throw the bytes away (-l: also count '\n').
 *
 * Each prints one line of key=value pairs on stdout when done, times in seconds of
 * CLOCK_REALTIME (comparable with `date +%s.%N`):
 *   send: bytes=N t_connect=T t_sent=T t_done=T
 *   sink: bytes=N lines=N reads=N t_accept=T t_first=T t_eof=T
 * Errors go to stderr with exit status 1. Built by bench/lib.sh into a temporary folder. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	printf("bytes=%lld t_connect=%.6f t_sent=%.6f t_done=%.6f\n", (long long)off, t_connect,
	       t_sent, t_done);
	return 0;
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
		if (count_lines) {
			const char *p = buf, *end = buf + n;
			while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
				lines++;
				p++;
			}
		}
	}
	double t_eof = now();
	close(c);
	printf("bytes=%llu lines=%llu reads=%llu t_accept=%.6f t_first=%.6f t_eof=%.6f\n", bytes,
	       lines, reads, t_accept, t_first, t_eof);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "sink"))
		return do_sink(argv[2], argc == 4 && !strcmp(argv[3], "-l"));
	fprintf(stderr, "usage: blast send PORT FILE | blast sink PORT [-l]\n");
	return 2;
}
