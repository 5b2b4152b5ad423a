"""Start and stop dspd for one test.

Each test starts its own dspd on 127.0.0.1 port 0 with a ready file in a
private folder, and a clean environment that holds only what the test
gives it: the invoking shell's CONTAINERS, POST and DSP_* never leak in.
"""

import os
import re
import signal
import subprocess
import time
import urllib.parse

READY_TIMEOUT = 10.0		# seconds for the ready file to appear
STOP_TIMEOUT = 8.0		# seconds after SIGTERM before SIGKILL
KILL_TIMEOUT = 5.0		# seconds to reap after SIGKILL
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

# A sanitizer build reads its options from the environment, which is
# otherwise kept clean: these pass through.
SANITIZER_OPTIONS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
# The first line of an ASan, LSan or UBSan report.
SANITIZER_REPORT = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|"
    r"\S+:\d+:\d+: runtime error: )", re.M)

# DSP_VALGRIND=1: dspd runs under valgrind, and an invalid access or a
# definite leak at exit is an error (exit status 99, and in its log).
VALGRIND = os.environ.get("DSP_VALGRIND") == "1"
VALGRIND_ARGV = ["valgrind", "--error-exitcode=99", "--leak-check=full",
    "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
    "--num-callers=30"]
# Whether dspd's memory use is a checker's as much as its own (ASan keeps
# freed memory in quarantine): what measures it cannot tell here.
MEMORY_CHECKER = VALGRIND or any(n in os.environ for n in SANITIZER_OPTIONS)


class DspdExited(Exception):
	"""dspd ended before it was ready."""

	def __init__(self, rc, stderr):
		super().__init__("dspd exited %s before ready; stderr:\n%s" %
		    (rc, stderr))
		self.rc = rc
		self.stderr = stderr


class Dspd:
	"""One dspd process and where it listens."""

	def __init__(self, binary, workdir, socket_path, env=None, args=(),
	    listen=("tcp://127.0.0.1:0",), wrap=()):
		self.binary = binary
		self.workdir = workdir
		os.makedirs(workdir, exist_ok=True)
		self.ready_file = os.path.join(workdir, "ready")
		self.stderr_path = os.path.join(workdir, "stderr")
		self.socket_path = socket_path
		self.env = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8"}
		for name in SANITIZER_OPTIONS:
			if name in os.environ:
				self.env[name] = os.environ[name]
		self.env.update(env or {})
		self.valgrind_log = os.path.join(workdir, "valgrind.log")
		self.argv = list(wrap) + [binary]
		if VALGRIND:
			self.argv = list(wrap) + VALGRIND_ARGV + \
			    ["--log-file=" + self.valgrind_log, binary]
		for addr in listen:
			self.argv += ["-l", addr]
		self.argv += ["--ready-file", self.ready_file]
		if socket_path is not None:
			self.argv += ["--socket-path", socket_path]
		# Private database and control socket, unless the test says.
		self.db_path = os.path.join(workdir, "dsp.db")
		self.control_path = os.path.join(workdir, "control.sock")
		if "--db" not in args and "DSP_DB" not in self.env:
			self.argv += ["--db", self.db_path]
		if "--control" not in args:
			self.argv += ["--control", self.control_path]
		self.argv += list(args)
		self.proc = None
		self.addresses = []
		self.rc = None
		self.signalled = False	# a test sent a signal: exit expected
		self.refused_start = False	# ended before ready: the test knows

	def start(self, timeout=READY_TIMEOUT):
		"""Launch and wait for the ready file; DspdExited if it ends."""
		if os.path.exists(self.ready_file):
			os.unlink(self.ready_file)
		self.errf = open(self.stderr_path, "wb")
		self.proc = subprocess.Popen(self.argv, env=self.env,
		    stdin=subprocess.DEVNULL, stdout=self.errf,
		    stderr=self.errf, cwd=self.workdir)
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			rc = self.proc.poll()
			if rc is not None:
				self.rc = rc
				self.errf.close()
				self.refused_start = True
				raise DspdExited(rc, self.stderr())
			lines = self._ready_lines()
			if lines:
				self.addresses = lines
				return self
			time.sleep(0.02)
		self.stop()
		raise TimeoutError("dspd not ready in %.0f s; stderr:\n%s" %
		    (timeout, self.stderr()))

	def _ready_lines(self):
		try:
			with open(self.ready_file) as f:
				text = f.read()
		except OSError:
			return None
		# Written line by line: wait for the last newline.
		if not text.endswith("\n"):
			return None
		return [l.strip() for l in text.splitlines() if l.strip()]

	def _tcp(self):
		for addr in self.addresses:
			u = urllib.parse.urlsplit(addr)
			if u.scheme == "tcp":
				return u
		raise ValueError("no tcp listener in %r" % self.addresses)

	@property
	def host(self):
		return self._tcp().hostname

	@property
	def port(self):
		return self._tcp().port

	@property
	def url(self):
		"""The base URL a docker CLI takes in DOCKER_HOST."""
		return "tcp://%s:%d" % (self.host, self.port)

	def running(self):
		return self.proc is not None and self.proc.poll() is None

	def signal(self, sig):
		self.signalled = True
		self.proc.send_signal(sig)

	def died(self):
		"""True if dspd ended with no signal of ours asking it to."""
		return self.proc is not None and not self.signalled and \
		    not self.refused_start and self.proc.poll() is not None

	def wait(self, timeout):
		"""Wait for the exit; its status, or None if still running."""
		try:
			self.rc = self.proc.wait(timeout)
		except subprocess.TimeoutExpired:
			return None
		return self.rc

	def stop(self, timeout=STOP_TIMEOUT):
		"""SIGTERM, wait, SIGKILL if needed; the exit status."""
		if self.proc is None:
			return self.rc
		self.signalled = True
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait(KILL_TIMEOUT)
		self.rc = self.proc.returncode
		if not self.errf.closed:
			self.errf.close()
		return self.rc

	def stderr(self):
		try:
			with open(self.stderr_path, "rb") as f:
				return f.read().decode("utf-8", "replace")
		except OSError:
			return ""

	def memory_errors(self):
		"""What a sanitizer or valgrind reported about this dspd after
		it ended, or "" when nothing."""
		found = []
		text = self.stderr()
		m = SANITIZER_REPORT.search(text)
		if m:
			found.append(text[m.start():m.start() + 8000])
		if VALGRIND and self.proc is not None:
			try:
				with open(self.valgrind_log) as f:
					log = f.read()
			except OSError:
				log = ""
			errors = re.search(r"ERROR SUMMARY: (\d+) errors", log)
			if self.rc == 99 or (errors and errors.group(1) != "0"):
				found.append("valgrind (exit %s):\n%s" %
				    (self.rc, log[-8000:]))
			elif errors is None and self.rc is not None and \
			    self.rc >= 0:
				found.append("valgrind wrote no summary:\n" +
				    log[-2000:])
		return "\n".join(found)


def run_to_exit(binary, workdir, env=None, args=(), timeout=10.0):
	"""Run dspd expecting it to stop by itself: (status, stderr)."""
	d = Dspd(binary, workdir, None, env, args)
	try:
		d.start(timeout)
	except DspdExited as e:
		report = d.memory_errors()
		assert not report, report
		return e.rc, e.stderr
	rc = d.stop()
	report = d.memory_errors()
	assert not report, report
	return None, d.stderr() + "\n[still running; stopped, status %s]" % rc
