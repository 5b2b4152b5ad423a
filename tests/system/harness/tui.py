"""dsptui in a terminal for a test: a tmux server of its own (its socket
in the test's folder), one window of a given size, keys sent with
send-keys, the screen read back with capture-pane."""

import os
import subprocess
import time

TMUX = "/usr/bin/tmux"
WAIT_TIMEOUT = 10.0	# seconds for the screen to show what a test waits for
POLL = 0.1		# seconds between two captures while waiting
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


class ScreenTimeout(AssertionError):
	"""The screen did not show what was waited for."""


class Tui:
	"""One dsptui run inside a private tmux server."""

	def __init__(self, binary, socket_path, workdir, term="xterm-256color",
	    lang="C.UTF-8", width=80, height=24, user=None):
		self.tmux_socket = os.path.join(workdir, "tmux.sock")
		self.status_path = os.path.join(workdir, "dsptui.status")
		argv = ["env", "TERM=" + term, "LANG=" + lang, "LC_ALL=" + lang,
		    "TZ=UTC", binary, "--socket", socket_path]
		if user is not None:
			argv = ["setpriv", "--reuid", str(user.pw_uid),
			    "--regid", str(user.pw_gid), "--clear-groups"] + argv
		# The exit status is kept in a file; the pane stays for reading.
		self.command = "%s; echo $? > %s" % (" ".join(argv),
		    self.status_path)
		self.width = width
		self.height = height

	def tmux(self, *args, check=True):
		return subprocess.run([TMUX, "-S", self.tmux_socket,
		    "-f", "/dev/null"] + list(args), capture_output=True,
		    text=True, timeout=10, check=check,
		    env={"PATH": CLEAN_PATH, "TERM": "xterm"})

	def start(self):
		# The pane stays after dsptui ends, for its last screen.
		self.tmux("start-server", ";", "set-option", "-g",
		    "remain-on-exit", "on", ";", "new-session", "-d", "-x",
		    str(self.width), "-y", str(self.height), self.command)
		return self

	def stop(self):
		"""Kill this test's tmux server, by its own socket."""
		self.tmux("kill-server", check=False)

	def screen(self):
		"""The visible screen as text, one string per line."""
		return self.tmux("capture-pane", "-p").stdout.splitlines()

	def text(self):
		return "\n".join(self.screen())

	def keys(self, *keys):
		"""Keys by tmux's names (Enter, Up, Space, C-c) or characters."""
		self.tmux("send-keys", *keys)

	def type(self, text):
		"""Characters typed literally."""
		self.tmux("send-keys", "-l", text)

	def wait_for(self, check, timeout=WAIT_TIMEOUT, what=None):
		"""Wait until check(lines) is true (a string: is on screen);
		the lines then.  ScreenTimeout shows the last screen."""
		if isinstance(check, str):
			needle = check
			what = what or repr(needle)
			check = lambda lines: any(needle in l for l in lines)
		deadline = time.monotonic() + timeout
		while True:
			lines = self.screen()
			if check(lines):
				return lines
			if time.monotonic() > deadline:
				raise ScreenTimeout("screen never showed %s:\n%s" %
				    (what or "what was expected", "\n".join(lines)))
			time.sleep(POLL)

	def exit_status(self, timeout=WAIT_TIMEOUT):
		"""dsptui's exit status once it has ended, or None."""
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			try:
				with open(self.status_path) as f:
					text = f.read().strip()
				if text:
					return int(text)
			except OSError:
				pass
			time.sleep(POLL)
		return None

	def resize(self, width, height):
		self.tmux("resize-window", "-x", str(width), "-y", str(height))
