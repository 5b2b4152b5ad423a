"""The docker CLIs installed here, called by absolute path.

/usr/local/bin/docker (28.x) comes first on PATH and Debian's
/usr/bin/docker is 20.10; the CLI scenarios run with each one present,
each with a private DOCKER_CONFIG so no user setting or context leaks in.
"""

import os
import queue
import re
import subprocess
import threading
import time

CANDIDATES = ("/usr/local/bin/docker", "/usr/bin/docker")
CLI_TIMEOUT = 60.0		# seconds for one CLI command
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def present():
	"""(path, version) of every docker CLI installed."""
	found = []
	for path in CANDIDATES:
		if not os.access(path, os.X_OK):
			continue
		try:
			out = subprocess.run([path, "--version"],
			    capture_output=True, timeout=10,
			    env={"PATH": CLEAN_PATH}).stdout.decode()
		except (OSError, subprocess.TimeoutExpired):
			continue
		m = re.search(r"version ([^\s,]+)", out)
		found.append((path, m.group(1) if m else out.strip()))
	return found


class DockerCLI:
	def __init__(self, path, version, config_dir):
		self.path = path
		self.version = version
		self.config_dir = config_dir
		os.makedirs(config_dir, exist_ok=True)

	def env(self, docker_host, extra=None):
		env = {"PATH": CLEAN_PATH, "HOME": self.config_dir,
		    "DOCKER_CONFIG": self.config_dir,
		    "DOCKER_HOST": docker_host, "LANG": "C.UTF-8"}
		env.update(extra or {})
		return env

	def run(self, docker_host, args, input=None, timeout=CLI_TIMEOUT,
	    env=None, cwd=None):
		"""Run to completion; a CompletedProcess with text output."""
		return subprocess.run([self.path] + list(args),
		    input=input, capture_output=True, timeout=timeout,
		    env=self.env(docker_host, env), text=True,
		    cwd=cwd or self.config_dir)

	def popen(self, docker_host, args, env=None):
		"""Start a long-running command (read it with LineReader)."""
		return subprocess.Popen([self.path] + list(args),
		    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE, env=self.env(docker_host, env),
		    cwd=self.config_dir)

	def __repr__(self):
		return "docker %s (%s)" % (self.version, self.path)


class LineReader:
	"""Lines of a pipe read on a thread, so a test can wait with a limit."""

	def __init__(self, pipe):
		self.q = queue.Queue()
		self.lines = []
		self.eof = threading.Event()
		self.t = threading.Thread(target=self._run, args=(pipe,),
		    daemon=True)
		self.t.start()

	def _run(self, pipe):
		for line in iter(pipe.readline, b""):
			self.q.put(line.decode("utf-8", "replace"))
		self.eof.set()
		self.q.put(None)

	def wait_for(self, needle, timeout):
		"""The first line (from now on) holding needle, or None."""
		deadline = time.monotonic() + timeout
		while True:
			left = deadline - time.monotonic()
			if left <= 0:
				return None
			try:
				line = self.q.get(timeout=left)
			except queue.Empty:
				return None
			if line is None:
				self.q.put(None)
				return None
			self.lines.append(line)
			if needle in line:
				return line


def stop_process(proc, timeout=5.0):
	"""Terminate a child by its pid; kill it if it lingers."""
	if proc.poll() is None:
		proc.terminate()
		try:
			proc.wait(timeout)
		except subprocess.TimeoutExpired:
			proc.kill()
			proc.wait(timeout)
	for pipe in (proc.stdout, proc.stderr, proc.stdin):
		if pipe is not None:
			try:
				pipe.close()
			except OSError:
				pass
