"""dspd's control socket from a test: a raw client that speaks the line
protocol byte for byte, and dspctl run the way an operator runs it (as
root or as another user, with or without a terminal)."""

import json
import os
import pty
import socket
import subprocess
import time

DEFAULT_TIMEOUT = 5.0		# seconds for any one read
RUN_TIMEOUT = 30.0		# seconds for a dspctl run


class Closed(Exception):
	"""dspd closed the control connection."""


class Control:
	"""One raw connection to a control socket.  The greeting is read
	on connect; replies are matched by id, events kept in order."""

	def __init__(self, path, timeout=DEFAULT_TIMEOUT, rcvbuf=None):
		self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		if rcvbuf is not None:
			self.sock.setsockopt(socket.SOL_SOCKET,
			    socket.SO_RCVBUF, rcvbuf)
		self.sock.settimeout(timeout)
		self.sock.connect(path)
		self.buf = bytearray()
		self.next_id = 0
		self.events = []
		self.greeting = self.read()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()

	def close(self):
		try:
			self.sock.close()
		except OSError:
			pass

	def send_raw(self, data):
		self.sock.sendall(data)

	def read_line(self, timeout=DEFAULT_TIMEOUT):
		"""The next line without its newline; Closed at the end."""
		deadline = time.monotonic() + timeout
		while b"\n" not in self.buf:
			left = deadline - time.monotonic()
			if left <= 0:
				raise TimeoutError("no line from dspd")
			self.sock.settimeout(left)
			try:
				data = self.sock.recv(65536)
			except ConnectionResetError:
				data = b""
			if not data:
				raise Closed(bytes(self.buf))
			self.buf += data
		i = self.buf.index(b"\n")
		line = bytes(self.buf[:i])
		del self.buf[:i + 1]
		return line

	def read(self, timeout=DEFAULT_TIMEOUT):
		"""The next message, parsed."""
		return json.loads(self.read_line(timeout))

	def request(self, name, **members):
		"""Send a request; its id."""
		self.next_id += 1
		msg = dict(members, id=self.next_id, request=name)
		self.send_raw(json.dumps(msg).encode() + b"\n")
		return self.next_id

	def reply(self, rid, timeout=DEFAULT_TIMEOUT):
		"""The reply to request rid; events that come first are kept."""
		deadline = time.monotonic() + timeout
		while True:
			msg = self.read(max(0.01, deadline - time.monotonic()))
			if msg.get("id") == rid and ("result" in msg or
			    "error" in msg):
				return msg
			self.events.append(msg)

	def call(self, name, timeout=DEFAULT_TIMEOUT, **members):
		return self.reply(self.request(name, **members), timeout)

	def result(self, name, **members):
		"""The result of a request that must succeed."""
		msg = self.call(name, **members)
		assert "result" in msg, msg
		return msg["result"]

	def closed(self, timeout=DEFAULT_TIMEOUT):
		"""True if dspd closes the connection within the timeout; the
		lines read meanwhile are kept in events."""
		deadline = time.monotonic() + timeout
		try:
			while time.monotonic() < deadline:
				self.events.append(json.loads(self.read_line(
				    deadline - time.monotonic())))
		except Closed:
			return True
		except (TimeoutError, socket.timeout):
			return False
		return False


class Dspctl:
	"""dspctl pointed at one dspd's control socket."""

	def __init__(self, binary, socket_path):
		self.binary = binary
		self.socket_path = socket_path

	def argv(self, args, user=None, socket_path=None):
		argv = [self.binary, "--socket", socket_path or
		    self.socket_path] + list(args)
		if user is not None:
			argv = ["setpriv", "--reuid", str(user.pw_uid),
			    "--regid", str(user.pw_gid),
			    "--clear-groups"] + argv
		return argv

	def run(self, *args, user=None, socket_path=None, stdin=None,
	    timeout=RUN_TIMEOUT):
		"""Run without a terminal: (status, stdout, stderr)."""
		proc = subprocess.run(self.argv(args, user, socket_path),
		    stdin=stdin if stdin is not None else subprocess.DEVNULL,
		    capture_output=True, text=True, timeout=timeout,
		    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
		    "TZ": "UTC"})
		return proc.returncode, proc.stdout, proc.stderr

	def ok(self, *args, **kw):
		"""Run a command that must succeed; its standard output."""
		rc, out, err = self.run(*args, **kw)
		assert rc == 0, "dspctl %s: status %d\n%s%s" % (
		    " ".join(args), rc, out, err)
		assert err == "", err
		return out

	def json(self, *args, **kw):
		return json.loads(self.ok("--json", *args, **kw))

	def run_tty(self, args, typed, timeout=RUN_TIMEOUT):
		"""Run with a terminal on standard input and type typed into
		it (b"\\x04" is end of input): (status, stdout, stderr)."""
		master, slave = pty.openpty()
		try:
			proc = subprocess.Popen(self.argv(args), stdin=slave,
			    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
			    text=True, env={"PATH": "/usr/bin:/bin",
			    "TZ": "UTC"})
			os.close(slave)
			slave = None
			os.write(master, typed)
			out, err = proc.communicate(timeout=timeout)
		finally:
			if slave is not None:
				os.close(slave)
			os.close(master)
		return proc.returncode, out, err
