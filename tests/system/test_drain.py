"""SIGTERM: listeners close, idle connections and streams end at once, an
exchange with an end in sight finishes within the drain time."""

import signal
import socket
import time

from harness import rawhttp


def test_finite_exchange_finishes_during_drain(start_dspd, containers,
    engine):
	# A one-shot stats call takes the engine a second or two: it is
	# answered whole although SIGTERM came while it was in flight.
	name, _ = containers.run(["sleep", "600"])
	engine.wait_running(name)
	proxy = start_dspd(env={"CONTAINERS": "1"})
	idle = rawhttp.RawConn(proxy.host, proxy.port, timeout=10)
	busy = rawhttp.RawConn(proxy.host, proxy.port, timeout=10)
	try:
		idle.send(rawhttp.request("GET", "/_ping"))
		assert idle.read_response().status == 200
		busy.send(rawhttp.request("GET", "/containers/%s/stats"
		    "?stream=false" % name))
		time.sleep(0.2)
		t0 = time.monotonic()
		proxy.signal(signal.SIGTERM)

		# The idle keep-alive connection is closed at once.
		assert idle.wait_closed(1.5)
		# No new connections once draining.
		time.sleep(0.2)
		try:
			socket.create_connection((proxy.host, proxy.port), 1)
			refused = False
		except OSError:
			refused = True
		assert refused
		resp = busy.read_response(timeout=8)
		assert resp.status == 200 and "cpu_stats" in resp.json(), resp
		assert proxy.wait(6) == 0
		assert time.monotonic() - t0 < 6
	finally:
		idle.close()
		busy.close()


def test_drain_timeout_cuts_what_is_left(start_dspd):
	# An exchange that outlasts the drain time is cut, and dspd still
	# exits 0 promptly: docker stop never has to kill it.  Here a create
	# whose body never ends, held by dspd (not a stream, so it gets the
	# drain time).
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1"},
	    args=["--drain-timeout", "1s", "--head-timeout", "30s"])
	conn = rawhttp.RawConn(proxy.host, proxy.port, timeout=10)
	try:
		conn.send(rawhttp.request("POST", "/containers/create",
		    [("Content-Type", "application/json"),
		    ("Content-Length", "100")]) + b'{"Image":')
		time.sleep(0.3)
		t0 = time.monotonic()
		proxy.signal(signal.SIGTERM)
		assert proxy.wait(5) == 0
		elapsed = time.monotonic() - t0
		assert 0.8 < elapsed < 3, elapsed
		assert conn.wait_closed(2)
	finally:
		conn.close()
