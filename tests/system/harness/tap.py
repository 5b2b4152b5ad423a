"""A recording relay between dspd and dockerd.

It listens on a unix socket of its own, connects each client to the engine's
socket and copies bytes both ways unchanged, honouring half-close. Every
byte a client (dspd) sent upstream is kept, so a test can show that a
refused request never reached the engine by looking for a marker that only
that request carried.
"""

import os
import selectors
import socket
import threading

RECV_SIZE = 65536		# bytes per read
ACCEPT_POLL = 0.1		# seconds between checks of the stop flag
JOIN_TIMEOUT = 5.0		# seconds to wait for each thread at stop


class _Link:
	"""One relayed connection and what went through it."""

	def __init__(self, client, upstream):
		self.client = client
		self.upstream = upstream
		self.sent = bytearray()		# client to engine
		self.received = bytearray()	# engine to client
		self.threads = []


class Tap:
	def __init__(self, upstream_path, listen_path):
		self.upstream_path = upstream_path
		self.listen_path = listen_path
		self.lock = threading.Lock()
		self.links = []
		self.refused = 0	# clients we could not connect upstream
		self.stopping = threading.Event()
		self.listener = None
		self.thread = None

	def start(self):
		if os.path.exists(self.listen_path):
			os.unlink(self.listen_path)
		self.listener = socket.socket(socket.AF_UNIX,
		    socket.SOCK_STREAM)
		self.listener.bind(self.listen_path)
		self.listener.listen(128)
		self.listener.setblocking(False)
		self.thread = threading.Thread(target=self._accept_loop,
		    name="tap-accept", daemon=True)
		self.thread.start()
		return self

	def _accept_loop(self):
		sel = selectors.DefaultSelector()
		sel.register(self.listener, selectors.EVENT_READ)
		while not self.stopping.is_set():
			if not sel.select(ACCEPT_POLL):
				continue
			try:
				client, _ = self.listener.accept()
			except (BlockingIOError, OSError):
				continue
			client.setblocking(True)
			self._open(client)
		sel.close()

	def _open(self, client):
		upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		try:
			upstream.connect(self.upstream_path)
		except OSError:
			# The engine is down: the client sees the close.
			upstream.close()
			client.close()
			with self.lock:
				self.refused += 1
			return
		link = _Link(client, upstream)
		with self.lock:
			self.links.append(link)
		for src, dst, record in ((client, upstream, link.sent),
		    (upstream, client, link.received)):
			t = threading.Thread(target=self._pump,
			    args=(link, src, dst, record), daemon=True,
			    name="tap-pump")
			link.threads.append(t)
			t.start()

	def _pump(self, link, src, dst, record):
		"""Copy one direction until end of stream, then half-close."""
		while True:
			try:
				data = src.recv(RECV_SIZE)
			except OSError:
				data = b""
			if not data:
				break
			with self.lock:
				record.extend(data)
			try:
				dst.sendall(data)
			except OSError:
				break
		try:
			dst.shutdown(socket.SHUT_WR)
		except OSError:
			pass
		# The second pump to finish closes both sockets.
		with self.lock:
			done = getattr(link, "done", 0) + 1
			link.done = done
		if done == 2:
			for s in (link.client, link.upstream):
				try:
					s.close()
				except OSError:
					pass

	def sent_bytes(self):
		"""What clients sent upstream, one item per connection."""
		with self.lock:
			return [bytes(link.sent) for link in self.links]

	def received_bytes(self):
		with self.lock:
			return [bytes(link.received) for link in self.links]

	def saw(self, marker):
		"""True if any connection carried the marker to the engine."""
		if isinstance(marker, str):
			marker = marker.encode()
		return any(marker in data for data in self.sent_bytes())

	def connections(self):
		with self.lock:
			return len(self.links)

	def stop(self):
		self.stopping.set()
		if self.thread is not None:
			self.thread.join(JOIN_TIMEOUT)
		if self.listener is not None:
			self.listener.close()
		with self.lock:
			links = list(self.links)
		for link in links:
			for s in (link.client, link.upstream):
				try:
					s.shutdown(socket.SHUT_RDWR)
				except OSError:
					pass
		for link in links:
			for t in link.threads:
				t.join(JOIN_TIMEOUT)
		try:
			os.unlink(self.listen_path)
		except OSError:
			pass
