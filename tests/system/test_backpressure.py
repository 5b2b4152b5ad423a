"""Back-pressure: a client that does not read a large response holds the
engine back instead of filling dspd's memory, and gets every byte once it
reads again."""

import socket
import time

import pytest

from harness import checks, rawhttp

LOG_BYTES = 12 * 1000 * 1000	# bytes the container writes to its log
RSS_GROWTH_MAX = 4 * 1024	# KiB dspd may grow while the client stalls


@pytest.mark.rss
def test_stalled_reader_bounds_memory(start_dspd, containers, engine):
	name, _ = containers.run(["sh", "-c", "yes dspdspdspdspdspdspdsp | "
	    "head -c %d" % LOG_BYTES])
	engine.wait_running(name, running=False, timeout=60)
	proxy = start_dspd(env={"CONTAINERS": "1"})
	before = checks.rss_kib(proxy.proc.pid)

	conn = rawhttp.RawConn(proxy.host, proxy.port, timeout=60)
	try:
		# A small receive buffer, so that the kernel holds little.
		conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
		conn.send(rawhttp.request("GET", "/containers/%s/logs?stdout=1"
		    % name))
		time.sleep(2)	# the engine has had time to send it all
		stalled = checks.rss_kib(proxy.proc.pid)
		assert stalled - before < RSS_GROWTH_MAX, (before, stalled)

		resp = conn.read_response(timeout=60)
		assert resp.status == 200
		# Multiplexed log frames: an 8-byte header per 22-byte line,
		# and one more frame for the cut last line.
		lines, rest = divmod(LOG_BYTES, 22)
		want = lines * 30 + (8 + rest if rest else 0)
		assert len(resp.body) == want, (len(resp.body), want)
	finally:
		conn.close()


CHATTY = "while :; do head -c 65536 /dev/zero | tr '\\0' x; echo; " \
    "usleep 10000; done"	# about 6 MB/s of log, until removed
FOLLOW_STALL = 3.0		# seconds the follower does not read
PROMPT = 2.0			# seconds another client may wait meanwhile


@pytest.mark.rss
def test_unread_follow_of_chatty_container(start_dspd, containers, engine):
	# A logs?follow that its client never reads, of a container that
	# never stops writing: dspd's memory stays bounded, and another
	# client is served at once meanwhile.
	name, _ = containers.run(["sh", "-c", CHATTY])
	engine.wait_running(name, running=True, timeout=60)
	proxy = start_dspd(env={"CONTAINERS": "1"})
	before = checks.rss_kib(proxy.proc.pid)

	conn = rawhttp.RawConn(proxy.host, proxy.port, timeout=60)
	try:
		conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
		conn.send(rawhttp.request("GET", "/containers/%s/logs?"
		    "follow=1&stdout=1" % name))
		deadline = time.monotonic() + FOLLOW_STALL
		peak = before
		while time.monotonic() < deadline:
			t0 = time.monotonic()
			resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
			    "/_ping", timeout=PROMPT)
			assert (resp.status, resp.body) == (200, b"OK"), resp
			assert time.monotonic() - t0 < PROMPT
			peak = max(peak, checks.rss_kib(proxy.proc.pid))
			time.sleep(0.3)
		print("VmRSS %d KiB before, %d KiB at most while stalled" %
		    (before, peak))
		assert peak - before < RSS_GROWTH_MAX, (before, peak)
		# The stream is alive: reading it again gets log bytes.
		head = conn.read_head(timeout=10)
		assert head.status == 200, head
		assert len(conn.read_chunk(timeout=10)) > 0
	finally:
		conn.close()
	assert proxy.running()
