/* tests/unit/test_url.c — core/url.c: every URL form of url.h, scheme splitting, password
 * masking, and errors (which must name the URL, without its password). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "unit.h"
#include "url.h"

/* Expected fields of a parsed URL; port -1 = none; a NULL string field must be NULL. */
struct want {
	const char *scheme, *user, *password, *host;
	int port;
	const char *path, *query, *command;
};

#define CHECK_URL(s, form, ...)                                                                    \
	do {                                                                                       \
		struct want w_ = { __VA_ARGS__ };                                                  \
		check_url(__FILE__, __LINE__, (s), (form), &w_);                                   \
	} while (0)

static void check_url(const char *file, int line, const char *s, enum oc_urlform form,
		      const struct want *w)
{
	struct oc_url u;
	char err[256] = "";
	int r = oc_url_parse(s, form, &u, err, sizeof(err));
	unit_checks++;
	if (r) {
		unit_fail(file, line);
		fprintf(stderr, "'%s' did not parse: %s\n", s, err);
		oc_url_release(&u);
		return;
	}
	const char *names[] = { "scheme", "user", "password", "host", "path", "query", "command" };
	const char *want[] = { w->scheme, w->user, w->password, w->host, w->path, w->query, w->command };
	const char *got[] = { u.scheme, u.user, u.password, u.host, u.path, u.query, u.command };
	for (int i = 0; i < 7; i++) {
		unit_checks++;
		if (!want[i] || !got[i] ? want[i] != got[i] : strcmp(want[i], got[i])) {
			unit_fail(file, line);
			fprintf(stderr, "'%s': %s is \"%s\", expected \"%s\"\n", s, names[i],
				got[i] ? got[i] : "(null)", want[i] ? want[i] : "(null)");
		}
	}
	unit_checks++;
	if (u.port != w->port) {
		unit_fail(file, line);
		fprintf(stderr, "'%s': port is %d, expected %d\n", s, u.port, w->port);
	}
	unit_checks++;
	if (!u.raw || strcmp(u.raw, s)) {
		unit_fail(file, line);
		fprintf(stderr, "'%s': raw is \"%s\"\n", s, u.raw ? u.raw : "(null)");
	}
	oc_url_release(&u);
}

/* s must fail with OC_EUSAGE; the message names the URL (password masked) and contains
 * `why` when given. */
#define CHECK_BAD(s, form, why) check_bad(__FILE__, __LINE__, (s), (form), (why), NULL)
#define CHECK_BAD_NAMED(s, form, why, shown) check_bad(__FILE__, __LINE__, (s), (form), (why), (shown))

static void check_bad(const char *file, int line, const char *s, enum oc_urlform form,
		      const char *why, const char *shown)
{
	struct oc_url u;
	char err[256] = "";
	int r = oc_url_parse(s, form, &u, err, sizeof(err));
	oc_url_release(&u);
	unit_checks++;
	if (r != OC_EUSAGE) {
		unit_fail(file, line);
		fprintf(stderr, "'%s' gave %d, expected OC_EUSAGE (%d)\n", s, r, OC_EUSAGE);
		return;
	}
	unit_checks++;
	if (!strstr(err, shown ? shown : s)) {
		unit_fail(file, line);
		fprintf(stderr, "error for '%s' does not name it: \"%s\"\n", shown ? shown : s, err);
	}
	unit_checks++;
	if (why && !strstr(err, why)) {
		unit_fail(file, line);
		fprintf(stderr, "error for '%s' lacks \"%s\": \"%s\"\n", s, why, err);
	}
	unit_checks++;
	if (strchr(err, '\n')) {
		unit_fail(file, line);
		fprintf(stderr, "error for '%s' is not one line: \"%s\"\n", s, err);
	}
}

static void check_display(const char *file, int line, const char *s, enum oc_urlform form,
			  const char *want)
{
	struct oc_url u;
	char err[256] = "";
	int r = oc_url_parse(s, form, &u, err, sizeof(err));
	unit_checks++;
	if (r) {
		unit_fail(file, line);
		fprintf(stderr, "'%s' did not parse: %s\n", s, err);
	} else if (!u.display || strcmp(u.display, want)) {
		unit_fail(file, line);
		fprintf(stderr, "display of '%s' is \"%s\", expected \"%s\"\n", s,
			u.display ? u.display : "(null)", want);
	}
	oc_url_release(&u);
}
#define CHECK_DISPLAY(s, form, want) check_display(__FILE__, __LINE__, (s), (form), (want))

/* ---- oc_url_scheme ---- */

static void test_scheme(void)
{
	char out[32], err[256];
	CHECK_EQ_INT(oc_url_scheme("tcp://h:1", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "tcp");
	CHECK_EQ_INT(oc_url_scheme("-", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "stdio");
	CHECK_EQ_INT(oc_url_scheme("stdio:", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "stdio");
	CHECK_EQ_INT(oc_url_scheme("Redis+Stream://h/s", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "redis+stream");
	CHECK_EQ_INT(oc_url_scheme("TCP-LISTEN://:1", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "tcp-listen");
	CHECK_EQ_INT(oc_url_scheme("exec:cat -n", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "exec");
	CHECK_EQ_INT(oc_url_scheme("unix:/tmp/x", out, sizeof(out), err, sizeof(err)), 0);
	CHECK_EQ_STR(out, "unix");

	const char *bad[] = { "", "no-colon", ":x", "1tcp://h", "-tcp://h", "tc p://h", "/tmp/x",
			      "--", NULL };
	for (const char **b = bad; *b; b++) {
		err[0] = '\0';
		int r = oc_url_scheme(*b, out, sizeof(out), err, sizeof(err));
		CHECK_EQ_INT(r, OC_EUSAGE);
		CHECK(strstr(err, "is not a URL") != NULL);
	}
	/* a scheme longer than the buffer is an error, not a truncation */
	char small[4];
	CHECK_EQ_INT(oc_url_scheme("abcdef://h", small, sizeof(small), err, sizeof(err)), OC_EUSAGE);
	CHECK_EQ_INT(oc_url_scheme("abc://h", small, sizeof(small), err, sizeof(err)), 0);
	CHECK_EQ_STR(small, "abc");
}

/* ---- authority form ---- */

static void test_authority(void)
{
	const enum oc_urlform A = OC_URL_AUTHORITY;
	CHECK_URL("tcp://example.com:80", A, .scheme = "tcp", .host = "example.com", .port = 80);
	CHECK_URL("tcp://127.0.0.1:9000/some/path?x=1&y=2", A, .scheme = "tcp",
		  .host = "127.0.0.1", .port = 9000, .path = "/some/path", .query = "x=1&y=2");
	CHECK_URL("tcp://h", A, .scheme = "tcp", .host = "h", .port = -1);
	CHECK_URL("tcp://h:0", A, .scheme = "tcp", .host = "h", .port = 0);
	CHECK_URL("tcp://h:65535", A, .scheme = "tcp", .host = "h", .port = 65535);
	CHECK_URL("tcp://h:1/", A, .scheme = "tcp", .host = "h", .port = 1, .path = "/");
	CHECK_URL("tcp://h:1?q", A, .scheme = "tcp", .host = "h", .port = 1, .query = "q");
	CHECK_URL("TCP://h:1", A, .scheme = "tcp", .host = "h", .port = 1);
	/* IPv6 in brackets: the host comes without them */
	CHECK_URL("tcp://[::1]:8080", A, .scheme = "tcp", .host = "::1", .port = 8080);
	CHECK_URL("tcp://[::]:9000", A, .scheme = "tcp", .host = "::", .port = 9000);
	CHECK_URL("tcp://[2001:db8::7]/p", A, .scheme = "tcp", .host = "2001:db8::7", .port = -1,
		  .path = "/p");
	/* credentials, percent-decoded */
	CHECK_URL("tcp://alice:s3cret@h:1", A, .scheme = "tcp", .user = "alice",
		  .password = "s3cret", .host = "h", .port = 1);
	CHECK_URL("tcp://al%40ice:p%3Ass@h:1", A, .scheme = "tcp", .user = "al@ice",
		  .password = "p:ss", .host = "h", .port = 1);
	CHECK_URL("tcp://bob@h:1", A, .scheme = "tcp", .user = "bob", .host = "h", .port = 1);
	CHECK_URL("tcp://u:p@[::1]:7", A, .scheme = "tcp", .user = "u", .password = "p",
		  .host = "::1", .port = 7);

	/* listeners with an empty host (curl has no notion of one: split by hand) */
	CHECK_URL("tcp-listen://:9000", A, .scheme = "tcp-listen", .port = 9000);
	CHECK_URL("tcp://:9000", A, .scheme = "tcp", .port = 9000);
	CHECK_URL("udp-listen://:53/x?y", A, .scheme = "udp-listen", .port = 53, .path = "/x",
		  .query = "y");
	CHECK_URL("tcp-listen://0.0.0.0:1", A, .scheme = "tcp-listen", .host = "0.0.0.0", .port = 1);
	CHECK_URL("tcp-listen://[::]:1", A, .scheme = "tcp-listen", .host = "::", .port = 1);

	/* errors */
	CHECK_BAD("tcp://h:99999", A, NULL);
	CHECK_BAD("tcp://h:65536", A, NULL);
	CHECK_BAD("tcp://h:-1", A, NULL);
	CHECK_BAD("tcp://h:12ab", A, NULL);
	CHECK_BAD("tcp://[::1:80", A, NULL);
	CHECK_BAD("tcp://[::1]x:80", A, NULL);
	CHECK_BAD("tcp://[zz::1]:80", A, NULL);
	CHECK_BAD("tcp-listen://:99999", A, "port");
	CHECK_BAD("tcp-listen://:", A, "port");
	CHECK_BAD("tcp-listen://:x1", A, "port");
	CHECK_BAD("tcp:h:1", A, NULL);
	CHECK_BAD("tcp:/h:1", A, NULL);
	CHECK_BAD("nocolon", A, NULL);
	CHECK_BAD("tcp://h h:1", A, NULL);
}

/* ---- topic form: '#' and '+' are literal ---- */

static void test_topic(void)
{
	const enum oc_urlform T = OC_URL_TOPIC;
	CHECK_URL("mqtt://broker/a/#", T, .scheme = "mqtt", .host = "broker", .port = -1,
		  .path = "/a/#");
	CHECK_URL("mqtt://user:pw@broker:1883/sensors/+/temp/#", T, .scheme = "mqtt",
		  .user = "user", .password = "pw", .host = "broker", .port = 1883,
		  .path = "/sensors/+/temp/#");
	CHECK_URL("mqtt://broker/+/+?qos=1", T, .scheme = "mqtt", .host = "broker", .port = -1,
		  .path = "/+/+", .query = "qos=1");
	CHECK_URL("mqtt://[::1]:1883/t", T, .scheme = "mqtt", .host = "::1", .port = 1883,
		  .path = "/t");
	CHECK_URL("mqtt://broker", T, .scheme = "mqtt", .host = "broker", .port = -1);
	CHECK_URL("mqtts://broker:8883/#", T, .scheme = "mqtts", .host = "broker", .port = 8883,
		  .path = "/#");
	/* a '@' in the password: the last '@' of the authority ends the credentials */
	CHECK_URL("mqtt://u:p@ss@h/t", T, .scheme = "mqtt", .user = "u", .password = "p@ss",
		  .host = "h", .port = -1, .path = "/t");
	/* a '@' or ':' in the topic is not a credential */
	CHECK_URL("mqtt://h/a@b:c", T, .scheme = "mqtt", .host = "h", .port = -1, .path = "/a@b:c");
	/* percent-encoded credentials */
	CHECK_URL("mqtt://u%3A1:p%2F2@h/t", T, .scheme = "mqtt", .user = "u:1", .password = "p/2",
		  .host = "h", .port = -1, .path = "/t");

	CHECK_BAD("mqtt://[::1/t", T, "IPv6");
	CHECK_BAD("mqtt://[::1]x/t", T, "IPv6");
	CHECK_BAD("mqtt://broker:99999/t", T, "port");
	CHECK_BAD("mqtt://broker:abc/t", T, "port");
	CHECK_BAD("mqtt:broker/t", T, NULL);
}

/* ---- hostlist form ---- */

static void test_hostlist(void)
{
	const enum oc_urlform H = OC_URL_HOSTLIST;
	CHECK_URL("kafka://b1:9092,b2/topic?group=g", H, .scheme = "kafka", .host = "b1:9092,b2",
		  .port = -1, .path = "/topic", .query = "group=g");
	CHECK_URL("kafka://b1", H, .scheme = "kafka", .host = "b1", .port = -1);
	CHECK_URL("kafka://u:p@b1,b2,b3:1/t", H, .scheme = "kafka", .user = "u", .password = "p",
		  .host = "b1,b2,b3:1", .port = -1, .path = "/t");
	CHECK_URL("kafka://[::1]:9092,[::2]:9092/t", H, .scheme = "kafka",
		  .host = "[::1]:9092,[::2]:9092", .port = -1, .path = "/t");
	CHECK_BAD("kafka:///t", H, "no host");
	CHECK_BAD("kafka://", H, "no host");
	CHECK_BAD("kafka://u@/t", H, "no host");
}

/* ---- path form ---- */

static void test_path(void)
{
	const enum oc_urlform P = OC_URL_PATH;
	CHECK_URL("file:/x", P, .scheme = "file", .port = -1, .path = "/x");
	CHECK_URL("file:///x", P, .scheme = "file", .port = -1, .path = "/x");
	CHECK_URL("file:///var/log/syslog", P, .scheme = "file", .port = -1,
		  .path = "/var/log/syslog");
	CHECK_URL("file:relative/x", P, .scheme = "file", .port = -1, .path = "relative/x");
	CHECK_URL("unix:/x", P, .scheme = "unix", .port = -1, .path = "/x");
	CHECK_URL("unix:/tmp/x.sock", P, .scheme = "unix", .port = -1, .path = "/tmp/x.sock");
	CHECK_URL("unix-listen:/run/a b.sock", P, .scheme = "unix-listen", .port = -1,
		  .path = "/run/a b.sock");
	CHECK_URL("fifo:/tmp/p", P, .scheme = "fifo", .port = -1, .path = "/tmp/p");
	CHECK_URL("dir:/spool/", P, .scheme = "dir", .port = -1, .path = "/spool/");
	/* '#', '?' and '%' are part of a file name */
	CHECK_URL("file:/tmp/a#b", P, .scheme = "file", .port = -1, .path = "/tmp/a#b");
	CHECK_URL("file:/tmp/100%", P, .scheme = "file", .port = -1, .path = "/tmp/100%");
	CHECK_URL("FILE:/x", P, .scheme = "file", .port = -1, .path = "/x");
	/* a query holds the adapter's options */
	CHECK_URL("dir:/spool?keep=/k", P, .scheme = "dir", .port = -1, .path = "/spool",
		  .query = "keep=/k");
	CHECK_URL("file:///var/log/x?follow=1&a=b", P, .scheme = "file", .port = -1,
		  .path = "/var/log/x", .query = "follow=1&a=b");
	CHECK_URL("file:/x?", P, .scheme = "file", .port = -1, .path = "/x", .query = "");

	CHECK_BAD("file:", P, "no path");
	CHECK_BAD("unix:", P, "no path");
	CHECK_BAD("file://", P, "no path");
	CHECK_BAD("file:?follow=1", P, "no path");
}

/* ---- command form ---- */

static void test_command(void)
{
	const enum oc_urlform C = OC_URL_COMMAND;
	CHECK_URL("exec:cat -n", C, .scheme = "exec", .port = -1, .command = "cat -n");
	CHECK_URL("exec:  sort -r", C, .scheme = "exec", .port = -1, .command = "sort -r");
	CHECK_URL("exec:sh -c 'echo a:b://c?d#e'", C, .scheme = "exec", .port = -1,
		  .command = "sh -c 'echo a:b://c?d#e'");
	CHECK_URL("exec:/bin/true", C, .scheme = "exec", .port = -1, .command = "/bin/true");
	CHECK_BAD("exec:", C, "no command");
	CHECK_BAD("exec:   ", C, "no command");
}

/* ---- none: - and stdio: ---- */

static void test_none(void)
{
	const enum oc_urlform N = OC_URL_NONE;
	CHECK_URL("-", N, .scheme = "stdio", .port = -1);
	CHECK_URL("stdio:", N, .scheme = "stdio", .port = -1);
	CHECK_BAD("stdio:foo", N, NULL);
	CHECK_BAD("stdio://x", N, NULL);
}

/* ---- display: passwords masked ---- */

static void test_display(void)
{
	CHECK_DISPLAY("mqtt://u:secret@h/t", OC_URL_TOPIC, "mqtt://u:***@h/t");
	CHECK_DISPLAY("mqtt://u@h/t", OC_URL_TOPIC, "mqtt://u@h/t");
	CHECK_DISPLAY("mqtt://h/a@b:c", OC_URL_TOPIC, "mqtt://h/a@b:c");
	CHECK_DISPLAY("mqtt://u:p@ss@h/t", OC_URL_TOPIC, "mqtt://u:***@h/t");
	CHECK_DISPLAY("tcp://u:p@[::1]:80", OC_URL_AUTHORITY, "tcp://u:***@[::1]:80");
	CHECK_DISPLAY("tcp://alice:s3cret@h:1/x?y=z", OC_URL_AUTHORITY, "tcp://alice:***@h:1/x?y=z");
	CHECK_DISPLAY("kafka://u:pw@b1,b2/t", OC_URL_HOSTLIST, "kafka://u:***@b1,b2/t");
	CHECK_DISPLAY("tcp://h:1", OC_URL_AUTHORITY, "tcp://h:1");
	CHECK_DISPLAY("file:/a:b@c", OC_URL_PATH, "file:/a:b@c");
	CHECK_DISPLAY("-", OC_URL_NONE, "stdio");
	CHECK_DISPLAY("stdio:", OC_URL_NONE, "stdio");
	CHECK_DISPLAY("tcp://u:@h:1", OC_URL_AUTHORITY, "tcp://u:***@h:1");

	/* the display is set even when parsing fails, so a caller can name the URL */
	struct oc_url u;
	char err[256];
	CHECK_EQ_INT(oc_url_parse("tcp://u:pw@h:99999", OC_URL_AUTHORITY, &u, err, sizeof(err)),
		     OC_EUSAGE);
	CHECK_EQ_STR(u.display, "tcp://u:***@h:99999");
	oc_url_release(&u);

	/* error messages never show the password */
	CHECK_BAD_NAMED("tcp://u:topsecret@h:99999", OC_URL_AUTHORITY, NULL, "tcp://u:***@h:99999");
	CHECK_BAD_NAMED("mqtt://u:topsecret@[::1/t", OC_URL_TOPIC, NULL, "mqtt://u:***@[::1/t");
	CHECK_BAD_NAMED("tcp-listen://u:topsecret@:99999", OC_URL_AUTHORITY, NULL,
			"tcp-listen://u:***@:99999");
}

/* ---- release and hostport ---- */

static void test_release_hostport(void)
{
	struct oc_url u;
	char err[256], buf[64];
	CHECK_EQ_INT(oc_url_parse("tcp://u:p@h:1/x?y", OC_URL_AUTHORITY, &u, err, sizeof(err)), 0);
	oc_url_release(&u);
	CHECK(u.raw == NULL && u.host == NULL && u.password == NULL && u.display == NULL);
	oc_url_release(&u); /* twice is harmless */

	oc_url_hostport("::1", 80, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "[::1]:80");
	oc_url_hostport("127.0.0.1", 9000, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "127.0.0.1:9000");
	oc_url_hostport("example.com", 0, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "example.com:0");
	char tiny[8];
	oc_url_hostport("example.com", 443, tiny, sizeof(tiny));
	CHECK_EQ_INT(strlen(tiny), sizeof(tiny) - 1); /* truncated, terminated */
}

int main(void)
{
	test_scheme();
	test_authority();
	test_topic();
	test_hostlist();
	test_path();
	test_command();
	test_none();
	test_display();
	test_release_hostport();
	UNIT_END("test_url");
}
