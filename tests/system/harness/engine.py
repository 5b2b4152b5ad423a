"""A private dockerd for the system tests, and a small client for it.

The engine runs as root on paths of its own under /tmp (unix socket paths
must stay under 107 bytes, and dockerd nests containerd's sockets below its
exec root), with no iptables, no bridge and the vfs driver, so that it
neither touches the host's networking nor collides with another engine.
"""

import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.parse

DOCKERD = "/usr/sbin/dockerd"
BUSYBOX = "/bin/busybox"
IMAGE = "dsp-busybox:latest"

START_TIMEOUT = 30.0		# seconds until /_ping answers
STOP_TIMEOUT = 20.0		# seconds after SIGTERM before SIGKILL
API_TIMEOUT = 60.0		# seconds for one engine API call
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class UnixHTTPConnection(http.client.HTTPConnection):
	"""http.client on a unix socket: fine for setup calls to the engine."""

	def __init__(self, path, timeout=API_TIMEOUT):
		super().__init__("localhost", timeout=timeout)
		self.unix_path = path

	def connect(self):
		sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		sock.settimeout(self.timeout)
		sock.connect(self.unix_path)
		self.sock = sock


class EngineError(Exception):
	pass


class Engine:
	"""A dockerd of our own, restartable on the same socket path."""

	def __init__(self, root=None):
		self.root = root or tempfile.mkdtemp(prefix="dsp-eng-",
		    dir="/tmp")
		self.data_root = os.path.join(self.root, "data")
		self.exec_root = os.path.join(self.root, "exec")
		self.pidfile = os.path.join(self.root, "docker.pid")
		self.socket = os.path.join(self.root, "docker.sock")
		self.config = os.path.join(self.root, "daemon.json")
		self.log_path = os.path.join(self.root, "dockerd.log")
		self.proc = None
		self.logf = None
		if len(self.socket) >= 100:
			raise EngineError("socket path too long: %s" %
			    self.socket)
		with open(self.config, "w") as f:
			f.write("{}\n")

	def start(self, timeout=START_TIMEOUT):
		"""Launch dockerd and wait until /_ping answers OK."""
		if self.running():
			raise EngineError("dockerd already running")
		self.logf = open(self.log_path, "ab")
		argv = [DOCKERD,
		    "--config-file", self.config,
		    "--data-root", self.data_root,
		    "--exec-root", self.exec_root,
		    "--pidfile", self.pidfile,
		    "--host", "unix://" + self.socket,
		    "--iptables=false", "--ip6tables=false",
		    "--bridge=none", "--storage-driver=vfs",
		    "--shutdown-timeout=2"]
		self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
		    stdout=self.logf, stderr=subprocess.STDOUT,
		    env={"PATH": CLEAN_PATH, "HOME": self.root},
		    start_new_session=True)
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise EngineError("dockerd exited %d; log: %s" %
				    (self.proc.returncode, self.log_tail()))
			if self.ping():
				return
			time.sleep(0.05)
		self.stop()
		raise EngineError("dockerd not ready in %.0f s; log: %s" %
		    (timeout, self.log_tail()))

	def running(self):
		return self.proc is not None and self.proc.poll() is None

	def ping(self):
		try:
			status, _, body = self.api("GET", "/_ping", timeout=1.0)
		except OSError:
			return False
		return status == 200 and body == b"OK"

	def _children(self, pid):
		"""Direct children of a process, from /proc."""
		kids = []
		try:
			for tid in os.listdir("/proc/%d/task" % pid):
				with open("/proc/%d/task/%s/children" %
				    (pid, tid)) as f:
					kids += map(int, f.read().split())
		except OSError:
			pass
		return kids

	def stop(self, timeout=STOP_TIMEOUT):
		"""SIGTERM dockerd and wait; late, SIGKILL it and containerd."""
		if self.proc is None:
			return
		if self.proc.poll() is None:
			kids = self._children(self.proc.pid)
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait(5)
				for pid in kids:
					try:
						os.kill(pid, signal.SIGKILL)
					except OSError:
						pass
		self.proc = None
		if self.logf is not None:
			self.logf.close()
			self.logf = None

	def cleanup(self):
		"""Stop, lazily unmount what is left below the root, remove."""
		self.stop()
		mounts = []
		with open("/proc/self/mountinfo") as f:
			for line in f:
				point = line.split()[4]
				point = point.encode().decode("unicode_escape")
				if point == self.root or \
				    point.startswith(self.root + "/"):
					mounts.append(point)
		for point in sorted(mounts, key=len, reverse=True):
			subprocess.run(["umount", "-l", point], timeout=10,
			    stdout=subprocess.DEVNULL,
			    stderr=subprocess.DEVNULL)
		shutil.rmtree(self.root, ignore_errors=True)

	def log_tail(self, size=4000):
		try:
			with open(self.log_path, "rb") as f:
				f.seek(0, io.SEEK_END)
				f.seek(max(0, f.tell() - size))
				return f.read().decode("utf-8", "replace")
		except OSError:
			return ""

	def api(self, method, path, body=None, headers=None,
	    timeout=API_TIMEOUT):
		"""One call on the engine's socket: status, headers, body."""
		conn = UnixHTTPConnection(self.socket, timeout)
		try:
			hdrs = dict(headers or {})
			if isinstance(body, (dict, list)):
				body = json.dumps(body).encode()
				hdrs.setdefault("Content-Type",
				    "application/json")
			conn.request(method, path, body=body, headers=hdrs)
			resp = conn.getresponse()
			return resp.status, dict(resp.getheaders()), resp.read()
		finally:
			conn.close()

	def api_json(self, method, path, body=None, expect=(200, 201)):
		status, _, data = self.api(method, path, body)
		if status not in expect:
			raise EngineError("%s %s: %d %r" % (method, path,
			    status, data[:500]))
		return json.loads(data) if data else None

	def version(self):
		return self.api_json("GET", "/version")

	def import_busybox(self, tag=IMAGE):
		"""Import a root fs of busybox and its applets as an image."""
		repo, _, tagname = tag.partition(":")
		query = urllib.parse.urlencode([("fromSrc", "-"),
		    ("repo", repo), ("tag", tagname or "latest"),
		    ("changes", 'CMD ["sh"]'),
		    ("changes", "ENV PATH=/bin")])
		status, _, data = self.api("POST", "/images/create?" + query,
		    body=busybox_rootfs(),
		    headers={"Content-Type": "application/x-tar"})
		if status != 200 or b'"error' in data:
			raise EngineError("import failed: %d %r" % (status,
			    data[:500]))
		return self.api_json("GET", "/images/%s/json" % tag)["Id"]

	def create_container(self, name, cmd, image=IMAGE, start=True,
	    tty=False, open_stdin=False):
		"""Create (and start) a container with no network; its ID."""
		body = {"Image": image, "Cmd": cmd, "Tty": tty,
		    "OpenStdin": open_stdin, "AttachStdin": False,
		    "HostConfig": {"NetworkMode": "none"}}
		cid = self.api_json("POST", "/containers/create?name=" +
		    urllib.parse.quote(name), body)["Id"]
		if start:
			self.api_json("POST", "/containers/%s/start" % cid,
			    expect=(204,))
		return cid

	def inspect(self, name):
		"""Container inspect, or None when it does not exist."""
		status, _, data = self.api("GET", "/containers/%s/json" %
		    urllib.parse.quote(name))
		if status == 404:
			return None
		if status != 200:
			raise EngineError("inspect %s: %d %r" % (name, status,
			    data[:300]))
		return json.loads(data)

	def remove_container(self, name):
		self.api("DELETE", "/containers/%s?force=1&v=1" %
		    urllib.parse.quote(name))

	def wait_running(self, name, running=True, timeout=15.0):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			info = self.inspect(name)
			if info and info["State"]["Running"] == running:
				return info
			time.sleep(0.1)
		raise EngineError("%s: Running never became %s" %
		    (name, running))


def busybox_rootfs():
	"""A tar of a minimal root fs: static busybox and its applet links."""
	applets = subprocess.run([BUSYBOX, "--list"], capture_output=True,
	    check=True, timeout=10).stdout.decode().split()
	out = io.BytesIO()
	now = int(time.time())
	with tarfile.open(fileobj=out, mode="w") as tar:
		for d, mode in (("bin", 0o755), ("dev", 0o755),
		    ("etc", 0o755), ("proc", 0o555), ("sys", 0o555),
		    ("root", 0o700), ("tmp", 0o1777), ("var", 0o755)):
			info = tarfile.TarInfo(d)
			info.type = tarfile.DIRTYPE
			info.mode = mode
			info.mtime = now
			tar.addfile(info)
		with open(BUSYBOX, "rb") as f:
			data = f.read()
		info = tarfile.TarInfo("bin/busybox")
		info.size = len(data)
		info.mode = 0o755
		info.mtime = now
		tar.addfile(info, io.BytesIO(data))
		for name in applets:
			if name == "busybox" or "/" in name:
				continue
			info = tarfile.TarInfo("bin/" + name)
			info.type = tarfile.SYMTYPE
			info.linkname = "busybox"
			info.mtime = now
			tar.addfile(info)
		for path, text in (("etc/passwd",
		    "root:x:0:0:root:/root:/bin/sh\n"),
		    ("etc/group", "root:x:0:\n")):
			data = text.encode()
			info = tarfile.TarInfo(path)
			info.size = len(data)
			info.mode = 0o644
			info.mtime = now
			tar.addfile(info, io.BytesIO(data))
	return out.getvalue()
