"""The pieces of dsp's container image that the tests assemble on the host.

There is no registry here, so the image's runtime stage is built on a base
made from what the host has installed: the Debian packages that hold the
shared libraries dspd, dspctl and dsptui link (their files as dpkg lists
them, which is what the shipped Dockerfile's apt-get line unpacks), static
busybox for the stage's RUN line, and dspd's user.  The programs come from
`make install DESTDIR=` of the build under test.
"""

import io
import os
import re
import subprocess
import tarfile
import time

BUSYBOX = "/bin/busybox"
# Debian 12's merged /usr: these top-level names are links into /usr.
MERGED = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib",
    "lib64": "usr/lib64"}
# Package files an image needs none of.
SKIP_PREFIXES = ("/usr/share/doc", "/usr/share/man", "/usr/share/info",
    "/usr/share/lintian", "/usr/share/locale", "/usr/share/bug")
DSP_UID = 65532		# the shipped Dockerfile's user and group
TOOL_TIMEOUT = 60.0	# seconds for ldd, dpkg-query


def linked_libraries(binary, direct=False):
	"""Absolute paths of the shared libraries a program loads: all of
	them, or only those it names itself (its DT_NEEDED entries)."""
	out = subprocess.run(["ldd", binary], capture_output=True, text=True,
	    check=True, timeout=TOOL_TIMEOUT).stdout
	libs = {}
	for line in out.splitlines():
		m = re.search(r"^\s*(\S+)\s+(?:=>\s*)?(/\S+)\s+\(0x", line)
		if m:
			libs[os.path.basename(m.group(1))] = m.group(2)
	if not direct:
		return list(libs.values())
	dyn = subprocess.run(["readelf", "-d", binary], capture_output=True,
	    text=True, check=True, timeout=TOOL_TIMEOUT).stdout
	needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
	    dyn)
	return [libs[n] for n in needed if n in libs]


def owning_package(path):
	"""The installed package that holds a file, trying both sides of
	merged /usr (ldd says /lib/..., packages may say /usr/lib/...)."""
	candidates = [path]
	if path.startswith("/usr/"):
		candidates.append(path[4:])
	else:
		candidates.append("/usr" + path)
	candidates.append(os.path.realpath(path))
	for p in candidates:
		r = subprocess.run(["dpkg-query", "-S", p], capture_output=True,
		    text=True, timeout=TOOL_TIMEOUT)
		if r.returncode == 0 and r.stdout:
			return r.stdout.split(":", 1)[0].strip()
	raise LookupError("no installed package holds %s" % path)


def runtime_packages(binaries, direct=False):
	"""Package names holding the libraries the programs load (direct:
	those they name themselves, which apt-get completes)."""
	pkgs = set()
	for b in binaries:
		for lib in linked_libraries(b, direct):
			pkgs.add(owning_package(lib))
	return pkgs


def essential_closure():
	"""Installed packages every Debian image holds: the Essential ones
	and what they depend on, as dpkg records it here."""
	out = subprocess.run(["dpkg-query", "-W", "-f",
	    "${Package}\t${Essential}\t${Pre-Depends}\t${Depends}\n"],
	    capture_output=True, text=True, check=True,
	    timeout=TOOL_TIMEOUT).stdout
	deps = {}
	todo = []
	for line in out.splitlines():
		fields = (line.split("\t") + ["", "", ""])[:4]
		name, essential, pre, dep = fields
		names = []
		for item in (pre + "," + dep).split(","):
			first = item.split("|")[0].strip()
			if first:
				names.append(re.split(r"[\s:(]", first)[0])
		deps[name] = names
		if essential == "yes":
			todo.append(name)
	seen = set()
	while todo:
		p = todo.pop()
		if p in seen or p not in deps:
			continue
		seen.add(p)
		todo.extend(deps[p])
	return seen


def package_files(pkg):
	"""Regular files and links a package installed, canonical paths."""
	out = subprocess.run(["dpkg-query", "-L", pkg], capture_output=True,
	    text=True, check=True, timeout=TOOL_TIMEOUT).stdout
	files = []
	for path in out.splitlines():
		if not path.startswith("/") or path.startswith(SKIP_PREFIXES):
			continue
		if not os.path.lexists(path) or (os.path.isdir(path) and
		    not os.path.islink(path)):
			continue
		# The folder as it really is (/lib is /usr/lib here).
		real = os.path.join(os.path.realpath(os.path.dirname(path)),
		    os.path.basename(path))
		files.append((path, real))
	return files


class RootFS:
	"""A tar of a root file system, built up entry by entry."""

	def __init__(self):
		self.buf = io.BytesIO()
		self.tar = tarfile.open(fileobj=self.buf, mode="w")
		self.now = int(time.time())
		self.names = set()

	def _info(self, name, kind, mode):
		info = tarfile.TarInfo(name)
		info.type = kind
		info.mode = mode
		info.mtime = self.now
		return info

	def dir(self, name, mode=0o755):
		name = name.strip("/")
		if not name or name in self.names:
			return
		parent = os.path.dirname(name)
		if parent:
			self.dir(parent)
		self.names.add(name)
		self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode))

	def link(self, name, target):
		name = name.strip("/")
		if name in self.names:
			return
		self.dir(os.path.dirname(name))
		self.names.add(name)
		info = self._info(name, tarfile.SYMTYPE, 0o777)
		info.linkname = target
		self.tar.addfile(info)

	def data(self, name, data, mode=0o644):
		name = name.strip("/")
		if name in self.names:
			return
		self.dir(os.path.dirname(name))
		self.names.add(name)
		info = self._info(name, tarfile.REGTYPE, mode)
		info.size = len(data)
		self.tar.addfile(info, io.BytesIO(data))

	def host_file(self, name, path):
		"""A host file or link, at name in the image."""
		if os.path.islink(path):
			self.link(name, os.readlink(path))
			return
		with open(path, "rb") as f:
			data = f.read()
		self.data(name, data, os.stat(path).st_mode & 0o7777)

	def bytes(self):
		self.tar.close()
		return self.buf.getvalue()


def base_rootfs(packages):
	"""A tar: Debian's layout, the packages' files, busybox, dsp's user."""
	fs = RootFS()
	for top, target in sorted(MERGED.items()):
		fs.dir(target)
		fs.link(top, target)
	for d in ("etc", "proc", "sys", "dev", "root", "var/lib", "var/tmp",
	    "run", "usr/local/bin", "usr/local/sbin"):
		fs.dir(d, 0o700 if d == "root" else 0o755)
	fs.dir("tmp", 0o1777)
	fs.link("var/run", "/run")
	for pkg in sorted(packages):
		for _, real in package_files(pkg):
			fs.host_file(real, real)
	fs.host_file("usr/bin/busybox", BUSYBOX)
	applets = subprocess.run([BUSYBOX, "--list"], capture_output=True,
	    text=True, check=True, timeout=TOOL_TIMEOUT).stdout.split()
	for name in applets:
		if name != "busybox" and "/" not in name:
			fs.link("usr/bin/" + name, "busybox")
	fs.data("etc/passwd", ("root:x:0:0:root:/root:/bin/sh\n"
	    "dsp:x:%d:%d:dsp:/var/lib/dsp:/usr/sbin/nologin\n" %
	    (DSP_UID, DSP_UID)).encode())
	fs.data("etc/group", ("root:x:0:\ndsp:x:%d:\n" % DSP_UID).encode())
	return fs.bytes()


def dockerfile_stages(path):
	"""The global lines (ARGs before the first FROM) and each stage's
	lines by stage name, with continuation lines kept as they are."""
	with open(path) as f:
		lines = f.read().splitlines()
	head, stages, current = [], {}, None
	for line in lines:
		m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?\s*$", line, re.I)
		if m:
			current = m.group(1) or "stage%d" % len(stages)
			stages[current] = [line]
		elif current is None:
			head.append(line)
		else:
			stages[current].append(line)
	return head, stages


def apt_packages(stage_lines):
	"""Package names an apt-get install in a stage's lines names."""
	text = "\n".join(stage_lines).replace("\\\n", " ")
	pkgs = set()
	for m in re.finditer(r"apt-get install ([^&;]*)", text):
		for word in m.group(1).split():
			if not word.startswith("-"):
				pkgs.add(word)
	return pkgs
