"""HTTP/1.1 over a bare socket, byte for byte.

http.client rewrites targets, merges headers and refuses odd framing; the
system tests need to send exactly the bytes they mean and to see exactly
what came back, so this module does the little parsing they need.
"""

import json
import socket
import time

DEFAULT_TIMEOUT = 5.0		# seconds for any one read
READ_CHUNK = 65536		# bytes per recv


class ConnectionClosed(Exception):
	"""The peer closed before a whole response arrived."""


class Response:
	"""One parsed response: status, reason, headers in order, body."""

	def __init__(self, version, status, reason, headers, body, raw_head):
		self.version = version
		self.status = status
		self.reason = reason
		self.headers = headers
		self.body = body
		self.raw_head = raw_head

	def header(self, name, default=None):
		"""First value of a header, matched without case."""
		lname = name.lower()
		for key, value in self.headers:
			if key.lower() == lname:
				return value
		return default

	def header_all(self, name):
		lname = name.lower()
		return [v for k, v in self.headers if k.lower() == lname]

	def json(self):
		return json.loads(self.body.decode("utf-8"))

	def __repr__(self):
		body = self.body if len(self.body) < 300 else \
		    self.body[:300] + b"..."
		return "<Response %d %s %r %r>" % (self.status, self.reason,
		    self.headers, body)


class RawConn:
	"""A client connection that sends raw bytes and parses responses."""

	def __init__(self, host=None, port=None, unix=None,
	    timeout=DEFAULT_TIMEOUT):
		if unix is not None:
			self.sock = socket.socket(socket.AF_UNIX,
			    socket.SOCK_STREAM)
			self.sock.settimeout(timeout)
			self.sock.connect(unix)
		else:
			self.sock = socket.create_connection((host, port),
			    timeout=timeout)
		# A bytearray: taking from its front is cheap, so a body of
		# many small chunks is read in linear time.
		self.buf = bytearray()
		self.eof = False

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()

	def close(self):
		try:
			self.sock.close()
		except OSError:
			pass

	def send(self, data):
		self.sock.sendall(data)

	def shutdown_write(self):
		self.sock.shutdown(socket.SHUT_WR)

	def _fill(self, deadline):
		"""Read more bytes into the buffer; False at end of stream."""
		if self.eof:
			return False
		left = deadline - time.monotonic()
		if left <= 0:
			raise socket.timeout("deadline passed")
		self.sock.settimeout(left)
		try:
			data = self.sock.recv(READ_CHUNK)
		except ConnectionResetError:
			data = b""
		if not data:
			self.eof = True
			return False
		self.buf += data
		return True

	def _take_line(self, deadline):
		while b"\n" not in self.buf:
			if not self._fill(deadline):
				raise ConnectionClosed("closed in a line: %r" %
				    self.buf[:200])
		i = self.buf.index(b"\n")
		line = bytes(self.buf[:i])
		del self.buf[:i + 1]
		return line.rstrip(b"\r")

	def _take(self, n, deadline):
		while len(self.buf) < n:
			if not self._fill(deadline):
				raise ConnectionClosed("closed after %d of %d "
				    "body bytes" % (len(self.buf), n))
		data = bytes(self.buf[:n])
		del self.buf[:n]
		return data

	def read_head(self, timeout=DEFAULT_TIMEOUT):
		"""Read a status line and headers; the body stays unread."""
		deadline = time.monotonic() + timeout
		while b"\r\n\r\n" not in self.buf:
			if not self._fill(deadline):
				if not self.buf:
					raise ConnectionClosed("closed before "
					    "any response")
				raise ConnectionClosed("closed in a head: %r" %
				    self.buf[:200])
		i = self.buf.index(b"\r\n\r\n")
		head = bytes(self.buf[:i])
		del self.buf[:i + 4]
		lines = head.split(b"\r\n")
		parts = lines[0].decode("latin-1").split(" ", 2)
		if len(parts) < 2 or not parts[0].startswith("HTTP/"):
			raise ValueError("bad status line %r" % lines[0])
		version, status = parts[0], int(parts[1])
		reason = parts[2] if len(parts) > 2 else ""
		headers = []
		for line in lines[1:]:
			name, sep, value = line.decode("latin-1").partition(":")
			if not sep:
				raise ValueError("bad header line %r" % line)
			headers.append((name, value.strip()))
		return Response(version, status, reason, headers, b"", head)

	def read_body(self, resp, request_method="GET",
	    timeout=DEFAULT_TIMEOUT):
		"""Read the body that the response's framing announces."""
		deadline = time.monotonic() + timeout
		if request_method == "HEAD" or resp.status in (204, 304) or \
		    100 <= resp.status < 200:
			return b""
		te = (resp.header("Transfer-Encoding") or "").lower()
		if "chunked" in te:
			return self._read_chunked(deadline)
		cl = resp.header("Content-Length")
		if cl is not None:
			return self._take(int(cl), deadline)
		while self._fill(deadline):
			pass
		data, self.buf = bytes(self.buf), bytearray()
		return data

	def _read_chunked(self, deadline):
		parts = []
		while True:
			size = int(self._take_line(deadline).split(b";")[0], 16)
			if size == 0:
				while self._take_line(deadline) != b"":
					pass
				return b"".join(parts)
			parts.append(self._take(size, deadline))
			self._take_line(deadline)

	def read_chunk(self, timeout=DEFAULT_TIMEOUT):
		"""Read one chunk of a chunked body; b"" at its last chunk."""
		deadline = time.monotonic() + timeout
		size = int(self._take_line(deadline).split(b";")[0], 16)
		if size == 0:
			return b""
		data = self._take(size, deadline)
		self._take_line(deadline)
		return data

	def read_response(self, request_method="GET",
	    timeout=DEFAULT_TIMEOUT):
		"""A whole response; interim 1xx other than 101 skipped."""
		deadline = time.monotonic() + timeout
		while True:
			resp = self.read_head(max(0.01,
			    deadline - time.monotonic()))
			if 100 <= resp.status < 200 and resp.status != 101:
				continue
			break
		resp.body = self.read_body(resp, request_method,
		    max(0.01, deadline - time.monotonic()))
		return resp

	def read_until_close(self, timeout=DEFAULT_TIMEOUT):
		"""Read until the peer closes: the bytes, and if it closed."""
		deadline = time.monotonic() + timeout
		try:
			while self._fill(deadline):
				pass
		except (socket.timeout, TimeoutError):
			data, self.buf = bytes(self.buf), bytearray()
			return data, False
		data, self.buf = bytes(self.buf), bytearray()
		return data, True

	def wait_closed(self, timeout=DEFAULT_TIMEOUT):
		"""True if the peer closes within the timeout."""
		_, closed = self.read_until_close(timeout)
		return closed


def request(method, target, headers=None, body=b"", host_header="dsp-test",
    version="HTTP/1.1"):
	"""Build request bytes: CRLF lines, a Host header, a length if body."""
	lines = ["%s %s %s" % (method, target, version)]
	if host_header is not None:
		lines.append("Host: %s" % host_header)
	for name, value in (headers or []):
		lines.append("%s: %s" % (name, value))
	if body and not any(n.lower() in ("content-length",
	    "transfer-encoding") for n, _ in (headers or [])):
		lines.append("Content-Length: %d" % len(body))
	return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(host, port, method, target, headers=None, body=b"",
    timeout=DEFAULT_TIMEOUT):
	"""One request on a fresh connection; the response."""
	with RawConn(host, port, timeout=timeout) as conn:
		conn.send(request(method, target, headers, body))
		return conn.read_response(method, timeout)
