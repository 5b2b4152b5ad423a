"""Start and stop dspd for one test.

Each test starts its own dspd on 127.0.0.1 port 0 with a ready file in a
private folder, and a clean environment that holds only what the test
gives it: the invoking shell's CONTAINERS, POST and DSP_* never leak in.
"""

import os
import signal
import subprocess
import time
import urllib.parse

READY_TIMEOUT = 10.0		# seconds for the ready file to appear
STOP_TIMEOUT = 8.0		# seconds after SIGTERM before SIGKILL
KILL_TIMEOUT = 5.0		# seconds to reap after SIGKILL
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


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
	    listen=("tcp://127.0.0.1:0",)):
		self.binary = binary
		self.workdir = workdir
		os.makedirs(workdir, exist_ok=True)
		self.ready_file = os.path.join(workdir, "ready")
		self.stderr_path = os.path.join(workdir, "stderr")
		self.socket_path = socket_path
		self.env = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8"}
		self.env.update(env or {})
		self.argv = [binary]
		for addr in listen:
			self.argv += ["-l", addr]
		self.argv += ["--ready-file", self.ready_file]
		if socket_path is not None:
			self.argv += ["--socket-path", socket_path]
		self.argv += list(args)
		self.proc = None
		self.addresses = []
		self.rc = None
		self.signalled = False	# a test sent a signal: exit expected

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
		    self.proc.poll() is not None

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


def run_to_exit(binary, workdir, env=None, args=(), timeout=10.0):
	"""Run dspd expecting it to stop by itself: (status, stderr)."""
	d = Dspd(binary, workdir, None, env, args)
	try:
		d.start(timeout)
	except DspdExited as e:
		return e.rc, e.stderr
	rc = d.stop()
	return None, d.stderr() + "\n[still running; stopped, status %s]" % rc
