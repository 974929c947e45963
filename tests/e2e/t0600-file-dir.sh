#!/usr/bin/env bash
# t0600-file-dir — file:/path (sub reads and ends; --follow like tail -F through rotation and
# truncation; pub appends) and dir:/spool (one file per message; consumers take each file
# exactly once, in name order; --keep). The peers are coreutils and the shell.
. "$(dirname "$0")/lib.sh"

# ---- file ---------------------------------------------------------------------------------

t_sub_file_eof() {
	seq 1 1000 >f
	expect_code 0 oc sub file:"$T/f"
	assert_file_eq f out
	assert_empty err
	# the three spellings of a path
	expect_code 0 oc sub "file://$T/f"
	assert_file_eq f out
	(cd "$T" && expect_code 0 oc sub file:f)
	assert_file_eq f out
}
run_test "sub file: without --follow ends at EOF (file:/x, file:///x, file:rel)" t_sub_file_eof

t_sub_file_long_line() {
	{
		echo first
		head -c 3000000 /dev/zero | tr '\0' x
		echo
		echo last
	} >f
	expect_code 0 oc sub file:"$T/f" --format '%S\n'
	assert_content out "5
3000000
4
"
	expect_code 0 oc pub file:"$T/copy" <f
	assert_file_eq f copy
}
run_test "sub/pub file: a 3 MB line is one message" t_sub_file_long_line

t_sub_file_framing() {
	printf 'a\0bb\0ccc\0' >nul
	expect_code 0 oc sub --framing nul file:"$T/nul" --format '%S:%s\n'
	assert_content out "1:a
2:bb
3:ccc
"
	"$PY" -c 'import struct,sys
out = open("len32", "wb")
for p in [b"one", b"", b"three\n3"]:
    out.write(struct.pack(">I", len(p)) + p)' 
	expect_code 0 oc sub --framing len32 file:"$T/len32" --jsonl
	"$PY" - out <<'EOF'
import json, sys
got = [json.loads(l)["payload"] for l in open(sys.argv[1])]
assert got == ["one", "", "three\n3"], got
EOF
	# raw bytes that are not UTF-8 come out as payload_b64
	printf '\377\376\n' >bin
	expect_code 0 oc sub file:"$T/bin" --jsonl
	assert_grep out '"payload_b64": *"//4="'
}
run_test "sub file: with --framing nul / len32, --format and --jsonl" t_sub_file_framing

t_follow_rotation() {
	printf 'l1\nl2\n' >log
	bg sub oc sub --follow file:"$T/log"
	wait_line sub.out '^l2$'
	echo l3 >>log
	wait_line sub.out '^l3$'
	# rotation: the file is renamed, a new one appears at the path
	mv log log.1
	echo l4 >log
	wait_line sub.out '^l4$'
	echo l5 >>log
	wait_line sub.out '^l5$'
	# truncation: shorter content than before, read from the start
	: >log
	echo l6 >>log
	wait_line sub.out '^l6$'
	# the path disappears, then comes back
	rm log
	echo l7 >log.tmp
	mv log.tmp log
	wait_line sub.out '^l7$'
	running sub || fail "sub --follow ended"
	assert_content sub.out "l1
l2
l3
l4
l5
l6
l7
"
}
run_test "sub --follow file: survives rotation, truncation and removal like tail -F" t_follow_rotation

t_follow_partial_line() {
	: >log
	bg sub oc sub --follow file:"$T/log"
	printf 'hal' >>log
	printf 'f\nnext\n' >>log
	wait_line sub.out '^next$'
	# a line written in two pieces is one message
	assert_content sub.out "half
next
"
}
run_test "sub --follow file: a line written in two pieces is one message" t_follow_partial_line

t_follow_missing() {
	bg sub oc sub --follow -c 2 file:"$T/later"
	# wait until it watches (an inotify fd is open), then create the file
	wait_for has_inotify sub
	printf 'x\ny\nz\n' >later.tmp
	mv later.tmp later
	expect_exit sub 0
	assert_content sub.out "x
y
"
}
run_test "sub --follow -c 2 file: waits for a missing file" t_follow_missing

t_pub_appends() {
	echo existing >f
	printf 'a\nb\n' | oc pub file:"$T/f"
	printf 'c\n' | oc pub file:"$T/f"
	# -d is one message; the file's framing (line) terminates it, raw does not
	oc pub -d 'exact' file:"$T/f"
	oc pub -d 'raw' --framing raw file:"$T/f"
	assert_content f "existing
a
b
c
exact
raw"
	# a new file
	printf 'n\n' | oc pub file:"$T/new"
	assert_content new "n
"
}
run_test "pub file: appends (and creates)" t_pub_appends

t_pub_file_concurrent_tail() {
	: >f
	bg tail tail -F -n +1 f
	seq 1 500 | oc pub file:"$T/f"
	wait_lines tail.out 500
	seq 1 500 >want
	assert_file_eq want tail.out
}
run_test "pub file: read by tail -F" t_pub_file_concurrent_tail

# ---- dir ----------------------------------------------------------------------------------

# spool_files DIR: the message files in DIR (not hidden), in name order.
spool_files() { find "$1" -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | LC_ALL=C sort; }

t_pub_dir() {
	mkdir spool
	printf 'm1\nm2\nm3\n' | oc pub dir:"$T/spool"
	assert_eq 3 "$(spool_files spool | wc -l)" "files in the spool"
	# one message per file, names in arrival order
	local got=""
	for f in $(spool_files spool); do got="$got$(cat "spool/$f")|"; done
	assert_eq "m1|m2|m3|" "$got"
	# no temp files left behind
	assert_eq 0 "$(find spool -name '.*' -type f | wc -l)" "hidden files"
}
run_test "pub dir: one file per message, names in arrival order" t_pub_dir

t_sub_dir() {
	mkdir spool
	seq 1 50 | oc pub dir:"$T/spool"
	expect_code 0 oc sub -c 20 dir:"$T/spool"
	assert_content out "$(seq 1 20)
"
	# consumed files are gone, the rest wait
	assert_eq 30 "$(spool_files spool | wc -l)" "files left"
	expect_code 0 oc sub dir:"$T/spool"
	assert_content out "$(seq 21 50)
"
	assert_eq 0 "$(find spool -type f | wc -l)" "files left"
}
run_test "sub dir: consumes in name order, removes what it delivered" t_sub_dir

t_sub_dir_foreign_files() {
	mkdir spool
	# files written by other programs count too; name order decides
	printf 'second' >spool/b
	printf 'first' >spool/a
	printf 'third\n' >spool/c
	expect_code 0 oc sub dir:"$T/spool" --jsonl
	"$PY" - out <<'EOF'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
assert [g["payload"] for g in got] == ["first", "second", "third\n"], got
EOF
}
run_test "sub dir: files dropped in by cp/printf, in name order" t_sub_dir_foreign_files

t_keep() {
	mkdir spool kept
	printf 'k1\nk2\n' | oc pub dir:"$T/spool"
	spool_files spool >names
	expect_code 0 oc sub dir:"$T/spool" --keep "$T/kept"
	assert_content out "k1
k2
"
	assert_eq 0 "$(spool_files spool | wc -l)" "files left in the spool"
	spool_files kept >kept_names
	assert_file_eq names kept_names
	assert_content "kept/$(head -1 names)" "k1"
}
run_test "sub dir: --keep DIR moves consumed files there" t_keep

# check_union N FILES...: the lines of FILES are exactly 1..N, each once.
check_union() {
	local n=$1
	shift
	cat "$@" | sort -n >union
	seq 1 "$n" >want
	local dups
	dups=$(uniq -d union | head -5 | tr '\n' ' ')
	[ -z "$dups" ] || fail "delivered twice: $dups"
	assert_eq "$n" "$(wc -l <union)" "messages delivered"
	assert_file_eq want union
}

t_two_consumers() {
	mkdir spool
	seq 1 2000 | oc pub dir:"$T/spool"
	assert_eq 2000 "$(spool_files spool | wc -l)"
	# two consumers started together on the full spool
	bg c1 oc sub dir:"$T/spool"
	bg c2 oc sub dir:"$T/spool"
	expect_exit c1 0
	expect_exit c2 0
	check_union 2000 c1.out c2.out
	assert_eq 0 "$(find spool -type f | wc -l)" "files left (claims included)"
	# each consumer saw its share in name order
	sort -n -c c1.out || fail "c1 out of order"
	sort -n -c c2.out || fail "c2 out of order"
	note "shares: $(wc -l <c1.out) + $(wc -l <c2.out)"
}
run_test "dir: 2000 messages, two consumers started together: each exactly once" t_two_consumers

t_two_followers() {
	mkdir spool
	bg c1 oc sub --follow dir:"$T/spool"
	bg c2 oc sub --follow dir:"$T/spool"
	# the producer writes while both consume
	seq 1 2000 | oc pub dir:"$T/spool"
	_all_out() { [ "$(cat c1.out c2.out | wc -l)" -ge 2000 ]; }
	WAIT_MAX=60 wait_for _all_out
	_spool_empty() { [ "$(find spool -type f | wc -l)" = 0 ]; }
	wait_for _spool_empty
	running c1 || fail "c1 ended"
	running c2 || fail "c2 ended"
	check_union 2000 c1.out c2.out
	note "shares: $(wc -l <c1.out) + $(wc -l <c2.out)"
}
run_test "dir: producer + two --follow consumers at once: 2000 messages, each exactly once" t_two_followers

t_dir_closed_stdout() {
	mkdir spool
	seq 1 10 | oc pub dir:"$T/spool"
	local rc
	set +e
	oc sub dir:"$T/spool" 2>err | head -1 >out
	rc=${PIPESTATUS[0]}
	set -e
	assert_eq 0 "$rc" "exit status"
	assert_empty err
	assert_content out "1
"
	# whatever was not written downstream is still in the spool: nothing is lost
	local left
	left=$(spool_files spool | wc -l)
	[ "$left" -le 9 ] || fail "$left files left, the delivered one was not removed"
	note "$left of 10 left"
	local first
	if [ "$left" -gt 0 ]; then
		first=$(cat "spool/$(spool_files spool | head -1)")
		assert_eq $((11 - left)) "$first" "first message left"
	fi
	assert_eq 0 "$(find spool -name '.claim*' | wc -l)" "claims left behind"
}
run_test "sub dir: | head -1: quiet exit 0, undelivered files stay" t_dir_closed_stdout

t_dir_missing() {
	# a missing spool is created (by either side)
	expect_code 0 oc pub -d x dir:"$T/new-spool"
	assert_eq 1 "$(spool_files new-spool | wc -l)" "files in the new spool"
	expect_code 0 oc sub dir:"$T/other-spool"
	test -d other-spool || fail "sub dir: did not create its spool"
	# one that cannot be created: exit 12
	echo file >plain
	expect_code 12 oc sub dir:"$T/plain/spool"
	assert_one_line_error err
	assert_grep err "plain/spool"
	expect_code 12 oc pub -d x dir:"$T/plain/spool"
	assert_one_line_error err
	expect_code 12 oc pub -d x dir:"$T/plain"
	assert_one_line_error err
}
run_test "dir: a missing spool is created; one that cannot be: exit 12" t_dir_missing

t_dir_query_options() {
	mkdir spool kept
	printf 'q1\nq2\n' | oc pub dir:"$T/spool"
	# adapter options in the URL query, as --opt would set them
	expect_code 0 oc sub "dir:$T/spool?keep=$T/kept"
	assert_content out "q1
q2
"
	assert_eq 2 "$(spool_files kept | wc -l)" "files kept"
	expect_code 2 oc sub "dir:$T/spool?nosuch=1"
	assert_one_line_error err
	assert_grep err nosuch
}
run_test "dir: adapter options in the URL query (?keep=DIR); unknown ones are usage errors" t_dir_query_options

done_testing
