"""Caps and deadlines: a client that sends half a head is answered 408 at
the head deadline; clients past --max-clients are refused while the ones
held are still served."""

import time

from conftest import marker
from harness import checks, rawhttp

CAP = 3


def test_slow_head_gets_408(start_dspd):
	proxy = start_dspd(args=["--head-timeout", "1s"])
	with rawhttp.RawConn(proxy.host, proxy.port, timeout=10) as conn:
		conn.send(b"GET /_ping HTTP/1.1\r\nHo")
		t0 = time.monotonic()
		resp = conn.read_response(timeout=6)
		elapsed = time.monotonic() - t0
		checks.dsp_reply(resp, 408)
		assert 0.8 <= elapsed <= 3.5, "408 after %.2f s" % elapsed
		assert conn.wait_closed(3)


def test_head_deadline_spares_prompt_clients(start_dspd):
	# The deadline is per head: a keep-alive client that sends whole
	# requests half a second apart is served across it.
	proxy = start_dspd(args=["--head-timeout", "1s"])
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		for _ in range(4):
			conn.send(rawhttp.request("GET", "/_ping"))
			resp = conn.read_response()
			assert (resp.status, resp.body) == (200, b"OK"), resp
			time.sleep(0.5)


def test_idle_keepalive_closed(start_dspd):
	proxy = start_dspd(args=["--idle-timeout", "1s"])
	with rawhttp.RawConn(proxy.host, proxy.port, timeout=10) as conn:
		conn.send(rawhttp.request("GET", "/_ping"))
		assert conn.read_response().status == 200
		t0 = time.monotonic()
		assert conn.wait_closed(6), "idle connection kept past 6 s"
		elapsed = time.monotonic() - t0
		assert 0.8 <= elapsed <= 3.5, "closed after %.2f s" % elapsed


def _refused(conn):
	"""True if a connection past the cap got 503 or was closed."""
	try:
		conn.send(rawhttp.request("GET", "/_ping"))
	except OSError:
		return True
	try:
		resp = conn.read_response(timeout=5)
	except rawhttp.ConnectionClosed:
		return True
	except OSError:
		return True
	if resp.status == 503:
		checks.dsp_reply(resp, 503)
		return True
	return False


def test_client_cap(start_dspd):
	proxy = start_dspd(args=["--max-clients", str(CAP)])
	held = []
	try:
		for _ in range(CAP):
			conn = rawhttp.RawConn(proxy.host, proxy.port)
			held.append(conn)
			conn.send(rawhttp.request("GET", "/_ping"))
			assert conn.read_response().status == 200

		extra = rawhttp.RawConn(proxy.host, proxy.port)
		held.append(extra)
		assert _refused(extra), "client past the cap was served"

		conn = held[0]
		conn.send(rawhttp.request("GET", "/_ping"))
		resp = conn.read_response()
		assert (resp.status, resp.body) == (200, b"OK"), resp

		# One held client leaves: a new one is served again.
		held.pop(1).close()
		deadline = time.monotonic() + 3
		while True:
			try:
				resp = rawhttp.exchange(proxy.host, proxy.port,
				    "GET", "/_ping")
			except (rawhttp.ConnectionClosed, OSError):
				resp = None
			if resp is not None and resp.status == 200:
				break
			assert time.monotonic() < deadline, \
			    "cap not released: %r" % resp
			time.sleep(0.1)
	finally:
		for conn in held:
			conn.close()


def test_slow_held_body_gets_408(start_dspd, tap):
	# A create body is held until whole: it must come within the head
	# deadline, and the engine never sees a part of it.
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1"},
	    args=["--head-timeout", "1s"], upstream=tap.listen_path)
	m = marker()
	with rawhttp.RawConn(proxy.host, proxy.port, timeout=10) as conn:
		conn.send(rawhttp.request("POST", "/containers/create?name=" + m,
		    [("Content-Type", "application/json"),
		    ("Content-Length", "100")]) + b'{"Image":')
		t0 = time.monotonic()
		resp = conn.read_response(timeout=6)
		elapsed = time.monotonic() - t0
		checks.dsp_reply(resp, 408)
		assert 0.8 <= elapsed <= 3.5, "408 after %.2f s" % elapsed
	assert not tap.saw(m)


def test_stalled_streamed_body_gets_408(start_dspd):
	# A body that is streamed to the engine (an image load) and stops
	# coming ends after the idle time, freeing the engine's connection.
	proxy = start_dspd(env={"IMAGES": "1", "POST": "1"},
	    args=["--idle-timeout", "1s"])
	with rawhttp.RawConn(proxy.host, proxy.port, timeout=10) as conn:
		conn.send(rawhttp.request("POST", "/images/load",
		    [("Content-Type", "application/x-tar"),
		    ("Content-Length", "100000")]) + b"x" * 512)
		t0 = time.monotonic()
		resp = conn.read_response(timeout=6)
		elapsed = time.monotonic() - t0
		checks.dsp_reply(resp, 408)
		assert 0.8 <= elapsed <= 3.5, "408 after %.2f s" % elapsed
		assert conn.wait_closed(3)
