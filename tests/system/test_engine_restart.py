"""The engine goes away and comes back under one running dspd; and dspd
stops cleanly on SIGTERM while a stream is open."""

import signal
import sqlite3
import time

from harness import checks, rawhttp

SIGTERM_EXIT = 6.0		# seconds dspd may take to exit on SIGTERM
ROW_WAIT = 10.0			# seconds for an access row to be written


def close_reason(proxy, target):
	"""How the last exchange on this target ended, by its access row."""
	deadline = time.monotonic() + ROW_WAIT
	while True:
		with sqlite3.connect("file:%s?mode=ro" % proxy.db_path,
		    uri=True) as db:
			row = db.execute("SELECT close_reason FROM access_log "
			    "WHERE target = ? ORDER BY id DESC LIMIT 1",
			    (target,)).fetchone()
		if row is not None or time.monotonic() > deadline:
			return row[0] if row else None
		time.sleep(0.2)


def test_engine_down_then_back(engine, start_dspd):
	proxy = start_dspd(args=["--connect-timeout", "1s"])
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/_ping")
	assert (resp.status, resp.body) == (200, b"OK"), resp

	stream = rawhttp.RawConn(proxy.host, proxy.port, timeout=10)
	try:
		stream.send(rawhttp.request("GET", "/events"))
		assert stream.read_head().status == 200
		engine.stop()

		# The stream that was open ends; it does not hang.
		_, closed = stream.read_until_close(10)
		assert closed, "events stream open after the engine stopped"

		# A request while the engine is away: 502, promptly.
		t0 = time.monotonic()
		resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
		    "/version", timeout=10)
		assert time.monotonic() - t0 < 5
		checks.dsp_reply(resp, 502)
	finally:
		stream.close()
		if not engine.running():
			engine.start()

	# Back: the same dspd serves again, without a restart.
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/_ping")
	assert (resp.status, resp.body) == (200, b"OK"), resp
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/version")
	assert resp.status == 200 and "ApiVersion" in resp.json(), resp
	assert proxy.running()
	# The stream's record says the engine ended it.
	assert close_reason(proxy, "/events") == "engine-closed"


def test_sigterm_with_events_open(start_dspd):
	proxy = start_dspd()
	stream = rawhttp.RawConn(proxy.host, proxy.port, timeout=10)
	try:
		stream.send(rawhttp.request("GET", "/events"))
		assert stream.read_head().status == 200
		t0 = time.monotonic()
		proxy.signal(signal.SIGTERM)
		rc = proxy.wait(SIGTERM_EXIT)
		elapsed = time.monotonic() - t0
		assert rc == 0, "exit %s after %.1f s" % (rc, elapsed)
		assert stream.wait_closed(2)
		assert close_reason(proxy, "/events") == "drain"
	finally:
		stream.close()
