#!/usr/bin/python3
"""dspd against HAProxy and against no proxy at all, in one command.

As root, on loopback and private paths only:

	/usr/bin/python3 tests/bench/bench.py [--smoke] [--out FILE] BUILD-DIR

starts a private dockerd listening on a unix socket and on
tcp://127.0.0.1 (the no-proxy baseline), two dspd from BUILD-DIR in front
of the unix socket with the HAProxy images' defaults plus CONTAINERS=1
(one with the access log on, one with it off), and Debian's HAProxy with
tests/bench/haproxy.cfg, which enforces the same policy the way the
images do.  wrk then loads each target in turn, round after round, and
the medians of the rounds are printed as markdown tables (and written to
FILE); memory and stream throughput follow.

It passes or fails on nothing it measures: the exit status is 1 only when
something could not be measured (a target did not answer, or answered
with the wrong status), which is what the smoke run in tests/run.sh
checks.  Every process it starts is stopped by its pid, dockerd with
SIGTERM and a wait.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import re
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "system"))

from harness.dspd import Dspd				# noqa: E402
from harness.engine import DOCKERD, Engine, EngineError	# noqa: E402

WRK_LUA = os.path.join(HERE, "wrk.lua")
HAPROXY_CFG = os.path.join(HERE, "haproxy.cfg")
HAPROXY = "/usr/sbin/haproxy"
WRK = "/usr/bin/wrk"

THREADS = 2			# wrk threads
CONNECTIONS = 32		# wrk connections at saturation
PACED_CONNECTIONS = 8		# connections of the paced client...
PACED_DELAY_MS = 4		# ...each waiting this long before a request
WRK_TIMEOUT = 10		# seconds before wrk counts a request as lost
START_TIMEOUT = 30.0		# seconds for a proxy or the engine to answer
STREAM_TIMEOUT = 30.0		# seconds for 1,000 /events heads, or a read
EXPORT_CHUNK = 1 << 20		# bytes per read of the export stream
MILLION_MAX_SECONDS = 300	# cap of the long run before the RSS check
SETTLE = 0.5			# seconds before reading a resident size
LOAD_BUSY = 0.5			# load average before the runs that says the
				# machine was not idle

# The section variables of the HAProxy images, with their defaults.
SECTIONS = ("AUTH BUILD COMMIT CONFIGS CONTAINERS DISTRIBUTION EVENTS EXEC "
    "GRPC IMAGES INFO NETWORKS NODES PING PLUGINS SECRETS SERVICES SESSION "
    "SWARM SYSTEM TASKS VERSION VOLUMES").split()
SECTION_DEFAULTS = {"PING": "1", "VERSION": "1", "EVENTS": "1"}
# The policy every proxy gets: the images' defaults plus this.
POLICY = {"CONTAINERS": "1"}

# What one run mode measures.
FULL = {"rounds": 3, "seconds": 10, "containers": 50, "streams": 1000,
    "many": 1000, "requests": 1000000, "export_mib": 256, "paced": "all"}
SMOKE = {"rounds": 1, "seconds": 1, "containers": 5, "streams": 50,
    "many": 1000, "requests": 20000, "export_mib": 8, "paced": "one"}


class Unmeasurable(Exception):
	"""A target did not answer as it must for its figure to mean
	anything."""


def log(msg):
	print("bench: " + msg, file=sys.stderr, flush=True)


def loadavg():
	"""The 1, 5 and 15 minute load averages."""
	with open("/proc/loadavg") as f:
		return [float(x) for x in f.read().split()[:3]]


def rss_kib(pid):
	"""A process's resident set size in KiB, from /proc."""
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])
	raise Unmeasurable("no VmRSS for pid %d" % pid)


def free_port():
	"""A loopback port free now (for the two programs that cannot bind
	port 0 and say which they got)."""
	s = socket.socket()
	try:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]
	finally:
		s.close()


def ask(port, method, path, timeout=10.0):
	"""One request on a new connection: status and body."""
	conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
	try:
		conn.request(method, path, headers={"Host": "bench"})
		resp = conn.getresponse()
		return resp.status, resp.read()
	finally:
		conn.close()


def wait_answer(port, proc, what):
	"""Wait until GET /_ping on port answers 200."""
	deadline = time.monotonic() + START_TIMEOUT
	while time.monotonic() < deadline:
		if proc is not None and proc.poll() is not None:
			raise Unmeasurable("%s exited with status %s" %
			    (what, proc.returncode))
		try:
			if ask(port, "GET", "/_ping", 1.0)[0] == 200:
				return
		except OSError:
			pass
		time.sleep(0.05)
	raise Unmeasurable("%s did not answer in %.0f s" %
	    (what, START_TIMEOUT))


class BenchEngine(Engine):
	"""The test suite's private dockerd, with a TCP listener added for the
	no-proxy baseline (which costs dockerd about a second at start)."""

	def start(self, timeout=START_TIMEOUT):
		self.port = free_port()
		self.logf = open(self.log_path, "ab")
		argv = [DOCKERD, "--config-file", self.config,
		    "--data-root", self.data_root, "--exec-root", self.exec_root,
		    "--pidfile", self.pidfile,
		    "--host", "unix://" + self.socket,
		    "--host", "tcp://127.0.0.1:%d" % self.port,
		    "--iptables=false", "--ip6tables=false", "--bridge=none",
		    "--storage-driver=vfs", "--shutdown-timeout=2"]
		self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
		    stdout=self.logf, stderr=subprocess.STDOUT,
		    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
		    "HOME": self.root}, start_new_session=True)
		wait_answer(self.port, self.proc, "dockerd")


class Haproxy:
	"""Debian's HAProxy with the bench's configuration, in the
	foreground, its per-request log lines going to a file."""

	def __init__(self, workdir, socket_path, policy):
		self.port = free_port()
		self.log_path = os.path.join(workdir, "haproxy.log")
		self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
		    "BENCH_BIND": "127.0.0.1:%d" % self.port,
		    "SOCKET_PATH": socket_path, "LOG_LEVEL": "info",
		    "POST": "0", "ALLOW_START": "0", "ALLOW_STOP": "0",
		    "ALLOW_RESTARTS": "0"}
		for name in SECTIONS:
			self.env[name] = SECTION_DEFAULTS.get(name, "0")
		self.env.update(policy)
		self.proc = None

	def start(self):
		self.logf = open(self.log_path, "wb")
		self.proc = subprocess.Popen([HAPROXY, "-db", "-f", HAPROXY_CFG],
		    env=self.env, stdin=subprocess.DEVNULL, stdout=self.logf,
		    stderr=subprocess.STDOUT)
		wait_answer(self.port, self.proc, "haproxy")

	def stop(self):
		if self.proc is not None and self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait(5)
		if self.proc is not None:
			self.logf.close()


class Target:
	"""One thing wrk loads: a port, and the process whose memory counts."""

	def __init__(self, key, label, port, pid=None):
		self.key = key
		self.label = label
		self.port = port
		self.pid = pid


class Endpoint:
	"""One request the bench repeats, and the status it must get."""

	def __init__(self, key, method, path, status, direct=True):
		self.key = key
		self.method = method
		self.path = path
		self.status = status
		self.direct = direct	# whether the engine alone is a baseline

	@property
	def title(self):
		return "%s %s" % (self.method, self.path)


def run_wrk(target, ep, seconds, conns, delay_ms=0):
	"""One wrk run; its counts and latencies, with the load before it."""
	env = dict(os.environ, BENCH_METHOD=ep.method,
	    BENCH_DELAY_MS=str(delay_ms))
	argv = [WRK, "-t%d" % min(THREADS, conns), "-c%d" % conns,
	    "-d%ds" % seconds, "--timeout", "%ds" % WRK_TIMEOUT,
	    "-s", WRK_LUA, "http://127.0.0.1:%d%s" % (target.port, ep.path)]
	load = loadavg()[0]
	p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
	    capture_output=True, timeout=seconds + WRK_TIMEOUT + 60)
	out = p.stdout.decode("utf-8", "replace")
	m = re.search(r"^BENCH (.*)$", out, re.M)
	if p.returncode != 0 or m is None:
		raise Unmeasurable("wrk on %s %s failed (%d): %s %s" %
		    (target.label, ep.title, p.returncode, out[-500:],
		    p.stderr.decode("utf-8", "replace")[-500:]))
	r = {k: int(v) for k, v in
	    (kv.split("=") for kv in m.group(1).split())}
	r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
	r["load"] = load
	# A status wrk does not count as success (its 2xx and 3xx) is an
	# error; a denial's 403 must be the only answer.
	if r["requests"] == 0:
		raise Unmeasurable("%s answered no %s" % (target.label,
		    ep.title))
	wrong = r["status"] if ep.status < 400 else \
	    r["requests"] - r["status"]
	if wrong:
		raise Unmeasurable("%s: %d of %d answers to %s were not %d" %
		    (target.label, wrong, r["requests"], ep.title, ep.status))
	return r


def check_answers(targets, endpoints, containers):
	"""Ask each target each request once: the status (and for the list,
	the count) must be right before any figure is taken."""
	for ep in endpoints:
		for t in targets:
			if t.key == "direct" and not ep.direct:
				continue
			status, body = ask(t.port, ep.method, ep.path)
			if status != ep.status:
				raise Unmeasurable("%s: %s answered %d, not %d" %
				    (t.label, ep.title, status, ep.status))
			if ep.key == "list" and len(json.loads(body)) != \
			    containers:
				raise Unmeasurable("%s: %s listed %d containers,"
				    " not %d" % (t.label, ep.title,
				    len(json.loads(body)), containers))
	# The proxies must read versioned paths the same way.
	for t in targets[1:]:
		for path, want in (("/v1.41/_ping", 200),
		    ("/V1.41/images/json", 403), ("/v1.41/containers/json", 200)):
			status = ask(t.port, "GET", path)[0]
			if status != want:
				raise Unmeasurable("%s: GET %s answered %d, not "
				    "%d" % (t.label, path, status, want))


def rounds(targets, endpoints, cfg, conns, delay_ms=0):
	"""Each round takes every endpoint and, for each, the targets in turn;
	the results by (endpoint, target), a list of rounds each."""
	res = {}
	for r in range(cfg["rounds"]):
		for ep in endpoints:
			for t in targets:
				if t.key == "direct" and not ep.direct:
					continue
				log("round %d/%d: %s via %s, %d connections%s" %
				    (r + 1, cfg["rounds"], ep.title, t.label,
				    conns, ", paced" if delay_ms else ""))
				res.setdefault((ep.key, t.key), []).append(
				    run_wrk(t, ep, cfg["seconds"], conns,
				    delay_ms))
	return res


def medians(runs):
	"""The medians of a list of wrk results, field by field."""
	return {k: statistics.median(r[k] for r in runs)
	    for k in ("rps", "p50_us", "p99_us", "max_us", "requests")}


def open_streams(port, n):
	"""Open n GET /events streams and wait for every response head; the
	sockets, left open and unread."""
	socks = []
	sel = selectors.DefaultSelector()
	try:
		for _ in range(n):
			s = socket.create_connection(("127.0.0.1", port), 10)
			s.sendall(b"GET /events HTTP/1.1\r\nHost: bench\r\n\r\n")
			s.setblocking(False)
			socks.append(s)
			sel.register(s, selectors.EVENT_READ, bytearray())
		waiting = n
		deadline = time.monotonic() + STREAM_TIMEOUT
		while waiting and time.monotonic() < deadline:
			for key, _ in sel.select(0.5):
				data = key.fileobj.recv(4096)
				key.data.extend(data)
				if not data or b"\r\n\r\n" in key.data:
					sel.unregister(key.fileobj)
					waiting -= 1
					if not key.data.startswith(
					    b"HTTP/1.1 200"):
						raise Unmeasurable("an /events"
						    " stream got %r" %
						    bytes(key.data[:40]))
		if waiting:
			raise Unmeasurable("%d of %d /events streams had no "
			    "answer in %.0f s" % (waiting, n, STREAM_TIMEOUT))
		return socks
	except BaseException:
		for s in socks:
			s.close()
		raise
	finally:
		sel.close()


def stream_memory(target, n):
	"""Resident size of a fresh proxy with n open /events streams."""
	socks = open_streams(target.port, n)
	try:
		time.sleep(SETTLE)
		return rss_kib(target.pid)
	finally:
		for s in socks:
			s.close()


def long_run_memory(target, ping, cfg, rate):
	"""Resident sizes before, half-way through and after a long run of
	requests: two halves of a fixed duration each, long enough at the
	rate the rounds saw for the requests wanted, with a cap."""
	m = {"before": rss_kib(target.pid)}
	half = max(1, min(MILLION_MAX_SECONDS // 2,
	    math.ceil(cfg["requests"] / 2 / max(rate, 1) * 1.4)))
	done = 0
	for name in ("half", "after"):
		log("memory: %s, GET /_ping for %d s" % (target.label, half))
		r = run_wrk(target, ping, half, CONNECTIONS)
		done += r["requests"]
		time.sleep(SETTLE)
		m[name] = rss_kib(target.pid)
		m[name + "_requests"] = done
	return m


def export_stream(port, cid):
	"""Read a container's export to the end: bytes and seconds."""
	buf = bytearray(EXPORT_CHUNK)
	view = memoryview(buf)
	s = socket.create_connection(("127.0.0.1", port), STREAM_TIMEOUT)
	try:
		s.settimeout(STREAM_TIMEOUT)
		t0 = time.monotonic()
		s.sendall(("GET /containers/%s/export HTTP/1.1\r\nHost: bench"
		    "\r\nConnection: close\r\n\r\n" % cid).encode())
		total = 0
		head = b""
		while True:
			n = s.recv_into(view)
			if n == 0:
				break
			if total == 0:
				head = bytes(view[:12])
			total += n
		secs = time.monotonic() - t0
	finally:
		s.close()
	if not head.startswith(b"HTTP/1.1 200"):
		raise Unmeasurable("export answered %r" % head)
	return total, secs


def streams(targets, cid, cfg, want):
	"""Export throughput per target, in bytes a second, rounds in turn."""
	res = {}
	for r in range(cfg["rounds"]):
		for t in targets:
			total, secs = export_stream(t.port, cid)
			if total < want:
				raise Unmeasurable("%s: export gave %d bytes, "
				    "under %d" % (t.label, total, want))
			log("stream %d/%d: %s %.0f MiB/s" % (r + 1,
			    cfg["rounds"], t.label, total / secs / 2**20))
			res.setdefault(t.key, []).append(total / secs)
	return {k: statistics.median(v) for k, v in res.items()}


def version_of(argv):
	try:
		p = subprocess.run(argv, capture_output=True, timeout=10)
	except OSError:
		return "?"
	text = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
	return text.splitlines()[0] if text else "?"


def machine():
	"""What the figures ran on."""
	cpu = "?"
	with open("/proc/cpuinfo") as f:
		for line in f:
			if line.startswith("model name"):
				cpu = line.split(":", 1)[1].strip()
				break
	with open("/proc/meminfo") as f:
		mem = int(f.readline().split()[1]) // 1024
	try:
		with open("/etc/debian_version") as f:
			debian = f.read().strip()
	except OSError:
		debian = "?"
	return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem,
	    "kernel": platform.release(), "debian": debian}


def fmt_ms(us):
	ms = us / 1000
	return "%.2f" % ms if ms < 10 else "%.0f" % ms if ms >= 100 else \
	    "%.1f" % ms


def fmt_ratio(a, b):
	return "%.2f" % (a / b) if b else "n/a"


def table_rate(title, res, targets, ep):
	"""A markdown table of one endpoint's medians."""
	rows = ["### " + title, "",
	    "| target | req/s | p50 ms | p99 ms | max ms | dspd/HAProxy "
	    "| dspd/direct |", "|---|--:|--:|--:|--:|--:|--:|"]
	med = {t.key: medians(res[(ep.key, t.key)]) for t in targets
	    if (ep.key, t.key) in res}
	for t in targets:
		if t.key not in med:
			continue
		m = med[t.key]
		vs_h = vs_d = ""
		if t.key.startswith("dspd"):
			vs_h = fmt_ratio(m["rps"], med["haproxy"]["rps"])
			vs_d = fmt_ratio(m["rps"], med["direct"]["rps"]) \
			    if "direct" in med else "n/a"
		rows.append("| %s | %s | %s | %s | %s | %s | %s |" % (t.label,
		    "{:,.0f}".format(m["rps"]), fmt_ms(m["p50_us"]),
		    fmt_ms(m["p99_us"]), fmt_ms(m["max_us"]), vs_h, vs_d))
	return rows + [""]


def report(info, cfg, targets, endpoints, sat, paced, many, mem, stream):
	"""The results as markdown lines."""
	loads = [r["load"] for res in (sat, paced, many)
	    for runs in res.values() for r in runs]
	mc = info["machine"]
	out = ["## dsp benchmark, %s" % info["date"], "",
	    "- Machine: %s, %d cores, %d MiB, Linux %s, Debian %s." %
	    (mc["cpu"], mc["cores"], mc["mem_mib"], mc["kernel"],
	    mc["debian"]),
	    "- Load average (1 min) before the runs %.2f%s; before each wrk "
	    "run %.2f to %.2f (median %.2f), which is mostly the runs "
	    "before it: load generator, proxy and engine share the "
	    "cores." % (info["load_start"],
	    " (the machine was busy with other work)" if info["load_start"] >
	    LOAD_BUSY else "", min(loads), max(loads),
	    statistics.median(loads)),
	    "- Programs: %s; %s; %s; dspd %s (%s)." % (info["dockerd"],
	    info["haproxy"], info["wrk"], info["dspd"], info["build"]),
	    "- Command: `%s`" % info["command"],
	    "- Each round: wrk -t%d for %d s a target, the targets in turn "
	    "for each endpoint; %d round%s, medians shown.  /containers/json "
	    "lists %d containers.  The denial is refused by both proxies "
	    "(IMAGES=0); the engine alone has no such row.  All processes "
	    "share the %d cores." % (THREADS, cfg["seconds"], cfg["rounds"],
	    "s" if cfg["rounds"] > 1 else "", cfg["containers"], mc["cores"]),
	    ""]
	for ep in endpoints:
		out += table_rate("%s: saturation, %d connections" %
		    (ep.title, CONNECTIONS), sat, targets, ep)
	for ep in endpoints:
		if any(k[0] == ep.key for k in paced):
			out += table_rate("%s: paced, %d connections each "
			    "waiting %d ms between requests" % (ep.title,
			    PACED_CONNECTIONS, PACED_DELAY_MS), paced, targets,
			    ep)
	out += table_rate("GET /_ping: %d connections" % cfg["many"], many,
	    targets, endpoints[1])
	out += ["### Resident memory (RSS, MiB)", "",
	    "Idle and with the streams open: fresh processes, before any "
	    "load.  Then after all the rounds above (the %d-connection ones "
	    "included), and through a long run of GET /_ping in two equal "
	    "halves." % cfg["many"], "",
	    "| proxy | idle | %d open /events | after the rounds "
	    "| after %s more requests | after %s | growth over the second "
	    "half |" %
	    (cfg["streams"], "{:,}".format(min(m["half_requests"]
	    for m in mem.values())), "{:,}".format(min(m["after_requests"]
	    for m in mem.values()))), "|---|--:|--:|--:|--:|--:|--:|"]
	for t in targets:
		if t.key not in mem:
			continue
		m = mem[t.key]
		out.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %+.2f |" %
		    (t.label, m["idle"] / 1024, m["streams"] / 1024,
		    m["before"] / 1024, m["half"] / 1024, m["after"] / 1024,
		    (m["after"] - m["half"]) / 1024))
	out += ["", "### Stream throughput: GET /containers/{id}/export of "
	    "%d MiB" % cfg["export_mib"], "",
	    "| target | MiB/s | /direct |", "|---|--:|--:|"]
	for key, label in (("direct", "direct (dockerd, TCP)"),
	    ("haproxy", "HAProxy"), ("dspd_export", "dspd, ALLOW_EXPORT=1")):
		out.append("| %s | %.0f | %s |" % (label, stream[key] / 2**20,
		    fmt_ratio(stream[key], stream["direct"])))
	return out + [""]


def run(args, cfg, work):
	"""Start everything, measure, stop everything; the report lines."""
	info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime(
	    "%Y-%m-%d %H:%M UTC"), "machine": machine(),
	    "load_start": loadavg()[0],
	    "command": " ".join(["/usr/bin/python3", "tests/bench/bench.py"] +
	    sys.argv[1:]),
	    "dockerd": version_of([DOCKERD, "--version"]),
	    "haproxy": version_of([HAPROXY, "-v"]).split(" - ")[0],
	    "wrk": " ".join(version_of([WRK, "-v"]).split()[:2]),
	    "dspd": version_of([args.dspd, "--version"]),
	    "build": args.build_note}
	procs = []
	engine = BenchEngine(tempfile.mkdtemp(prefix="dsp-bench-",
	    dir="/tmp"))
	try:
		log("starting dockerd")
		engine.start()
		engine.import_busybox()
		for i in range(cfg["containers"]):
			engine.create_container("bench-%d" % i, ["true"],
			    start=False)

		targets = [Target("direct", "direct (dockerd, TCP)",
		    engine.port)]
		h = Haproxy(work, engine.socket, POLICY)
		procs.append(h)
		h.start()
		targets.append(Target("haproxy", "HAProxy", h.port, h.proc.pid))
		dspds = {}
		for key, label, env, extra in (
		    ("dspd_on", "dspd, access log on", POLICY, ["on"]),
		    ("dspd_off", "dspd, access log off", POLICY, ["off"]),
		    ("dspd_export", "dspd, ALLOW_EXPORT=1",
		    dict(POLICY, ALLOW_EXPORT="1"), ["on"])):
			d = Dspd(args.dspd, os.path.join(work, key),
			    engine.socket, env=env,
			    args=["--access-log"] + extra)
			procs.append(d)
			d.start(START_TIMEOUT)
			dspds[key] = Target(key, label, d.port, d.proc.pid)
		targets += [dspds["dspd_on"], dspds["dspd_off"]]
		mem = {}
		for t in (targets[1], dspds["dspd_on"]):
			time.sleep(SETTLE)
			mem[t.key] = {"idle": rss_kib(t.pid)}
			log("memory: %s with %d open /events streams" %
			    (t.label, cfg["streams"]))
			mem[t.key]["streams"] = stream_memory(t, cfg["streams"])

		endpoints = [Endpoint("head", "HEAD", "/_ping", 200),
		    Endpoint("ping", "GET", "/_ping", 200),
		    Endpoint("list", "GET", "/containers/json?all=1", 200),
		    Endpoint("deny", "GET", "/images/json", 403,
		    direct=False)]
		check_answers(targets, endpoints, cfg["containers"])
		# The images log each request: so must the reference.
		time.sleep(SETTLE)
		with open(h.log_path, "rb") as f:
			lines = f.read().count(b"HTTP/1.1\"")
		if lines < len(endpoints) + 3:
			raise Unmeasurable("haproxy logged %d requests" % lines)

		sat = rounds(targets, endpoints, cfg, CONNECTIONS)
		paced_eps = endpoints if cfg["paced"] == "all" else \
		    endpoints[1:2]
		paced = rounds(targets, paced_eps, cfg, PACED_CONNECTIONS,
		    PACED_DELAY_MS)
		many = rounds(targets, endpoints[1:2], cfg, cfg["many"])

		for t in (targets[1], dspds["dspd_on"]):
			rate = medians(sat[("ping", t.key)])["rps"]
			mem[t.key].update(long_run_memory(t, endpoints[1], cfg,
			    rate))

		mib = cfg["export_mib"]
		cid = engine.create_container("bench-export", ["dd",
		    "if=/dev/zero", "of=/big", "bs=1048576", "count=%d" % mib])
		engine.api_json("POST", "/containers/%s/wait" % cid)
		stream = streams([targets[0], targets[1],
		    dspds["dspd_export"]], cid, cfg, mib << 20)
		for t in targets[1:]:
			if t.pid is not None and not os.path.exists(
			    "/proc/%d" % t.pid):
				raise Unmeasurable("%s died" % t.label)
		info["load_end"] = loadavg()[0]
		return report(info, cfg, targets, endpoints, sat, paced, many,
		    mem, stream)
	finally:
		for p in reversed(procs):
			p.stop()
		log("stopping dockerd")
		engine.cleanup()


def build_flags(build):
	"""The build's CFLAGS and whether it is a debug build, from its
	Makefile and config.status."""
	flags = "?"
	try:
		with open(os.path.join(build, "Makefile")) as f:
			for line in f:
				if line.startswith("CFLAGS = "):
					flags = line[9:].strip()
		p = subprocess.run([os.path.join(build, "config.status"),
		    "--config"], capture_output=True, timeout=10)
		debug = b"--enable-debug" in p.stdout
	except OSError:
		return "unknown build flags"
	return "CFLAGS %s%s" % (flags, ", --enable-debug" if debug else "")


def main():
	ap = argparse.ArgumentParser(description="dspd against HAProxy "
	    "and the bare engine (as root; see the file's head).")
	ap.add_argument("build", help="a dsp build directory (core/dspd); "
	    "configure it without --enable-debug for figures")
	ap.add_argument("--smoke", action="store_true", help="one short "
	    "round of everything: checks that each figure can be taken")
	ap.add_argument("--out", help="also write the markdown here")
	args = ap.parse_args()
	args.dspd = os.path.join(os.path.abspath(args.build), "core", "dspd")
	cfg = SMOKE if args.smoke else FULL
	missing = [p for p in (DOCKERD, HAPROXY, WRK, args.dspd)
	    if not os.access(p, os.X_OK)]
	if missing:
		log("missing: %s (contrib/install-deps.sh installs haproxy "
		    "and wrk; build dspd first)" % " ".join(missing))
		return 2
	if os.geteuid() != 0:
		log("must run as root: it starts a private dockerd")
		return 2
	args.build_note = build_flags(args.build)
	soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
	resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
	# A SIGTERM still stops every process started, through finally.
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

	work = tempfile.mkdtemp(prefix="dsp-bw-", dir="/tmp")
	t0 = time.monotonic()
	try:
		lines = run(args, cfg, work)
	except (Unmeasurable, EngineError, OSError,
	    subprocess.TimeoutExpired) as e:
		log("not measured: %s" % e)
		return 1
	finally:
		subprocess.run(["rm", "-rf", work])
	text = "\n".join(lines)
	print(text)
	if args.out:
		with open(args.out, "w") as f:
			f.write(text + "\n")
	log("done in %.0f s" % (time.monotonic() - t0))
	return 0


if __name__ == "__main__":
	sys.exit(main())
