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
