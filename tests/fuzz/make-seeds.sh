#!/bin/sh
#
# make-seeds.sh: write the fuzz targets' seed corpora under
# tests/fuzz/corpus/TARGET/, one file per input named by its SHA-1 as
# libFuzzer names its own.  Sources: dockerd's route table (extracted by
# tests/unit/oracle.sh from golang-github-docker-docker-dev), the
# requests the system tests send (read from tests/system/*.py), and the
# responses, framings and variables those tests meet.  Run it again when
# either changes; the files it writes are committed.

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/tests/fuzz/corpus

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# oracle.sh hands its "METHOD TARGET PATTERN" lines to a checker: cat
# keeps them.  Without the Go sources the routes are left out.
if ROUTE_CHECK=/bin/cat sh "$top/tests/unit/oracle.sh" >"$tmp/oracle" \
    2>"$tmp/oracle.err"; then
	grep -v '^oracle.sh:' "$tmp/oracle" >"$tmp/routes" || :
else
	echo "make-seeds.sh: no routes from oracle.sh:" \
	    "$(cat "$tmp/oracle.err" "$tmp/oracle")" >&2
	: >"$tmp/routes"
fi

PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$top" "$tmp/routes" "$out" \
    <<'EOF'
import ast
import hashlib
import json
import os
import sys

top, routes_file, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests", "system"))
from harness import rawhttp

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
UA = ("User-Agent", "Docker-Client/20.10.24 (linux)")
seeds = {"fuzz_head": set(), "fuzz_response": set(), "fuzz_env": set(),
    "fuzz_query": set(), "fuzz_guard": set(), "fuzz_judge": set()}
# The create-class actions in fuzz_guard.c's order, by their paths.
GUARD_PATHS = (("/containers/create", ""), ("/containers/", "/update"),
    ("/containers/", "/exec"), ("/services/create", ""),
    ("/services/", "/update"), ("/volumes/create", ""),
    ("/plugins/pull", ""), ("/plugins/", "/upgrade"))


def add_check(method, target, body=None, sel=0):
	"""A dry run for fuzz_judge: policy byte, method, target, body."""
	seed = bytes([sel]) + method.encode() + b"\0" + target.encode()
	if body is not None:
		seed += b"\0" + body
	seeds["fuzz_judge"].add(seed)


def add_target(t):
	"""A target: bare, in a head, and its query for fuzz_query."""
	t = t.replace("{m}", "c0ffee")
	if not t.startswith("/") or any(c.isspace() for c in t):
		return
	seeds["fuzz_head"].add(t.encode())
	seeds["fuzz_head"].add(rawhttp.request("GET", t, [UA]))
	if "?" in t:
		q = t.split("?", 1)[1].encode()
		for name in (b"follow", b"stream"):
			seeds["fuzz_query"].add(name + b"\0" + q)


# dockerd's routes, unversioned and versioned; writes with a body, in
# both framings, since create-class bodies are held and re-framed.
with open(routes_file) as f:
	for line in f:
		parts = line.split()
		if len(parts) < 2:
			continue
		method, target = parts[0], parts[1]
		for t in (target, "/v1.41" + target):
			seeds["fuzz_head"].add(t.encode())
			seeds["fuzz_head"].add(rawhttp.request(method, t, [UA]))
			add_check(method, t)
		if method in ("POST", "PUT"):
			body = b'{"Image":"dsp-busybox","Cmd":["true"]}'
			seeds["fuzz_head"].add(rawhttp.request(method, target,
			    [("Content-Type", "application/json")], body))
			seeds["fuzz_head"].add(rawhttp.request(method,
			    "/v1.41" + target,
			    [("Transfer-Encoding", "chunked"),
			    ("Expect", "100-continue")],
			    b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)))


class Unknown(ast.NodeTransformer):
	"""Anything computed at run time becomes a sample identifier."""

	def _sample(self, node):
		return ast.copy_location(ast.Constant("c0ffee"), node)

	visit_Name = visit_Attribute = visit_Call = visit_Subscript = _sample


def value(node):
	tree = ast.Expression(Unknown().visit(ast.fix_missing_locations(
	    ast.parse(ast.unparse(node), mode="eval").body)))
	ast.fix_missing_locations(tree)
	return eval(compile(tree, "<seed>", "eval"), {"__builtins__": {}})


def add_body(target, body):
	"""A body for fuzz_guard, for the action its target names."""
	if isinstance(body, (dict, list)):
		body = json.dumps(body).encode()
	elif isinstance(body, str):
		body = body.encode()
	if not isinstance(body, bytes):
		return
	path = target.split("?", 1)[0] if isinstance(target, str) else ""
	for i, (start, end) in enumerate(GUARD_PATHS):
		if start in path and path.endswith(end):
			break
	else:
		i = 0
	seeds["fuzz_guard"].add(bytes([i, 0]) + body)
	if path.startswith("/"):
		add_check("POST", path, body, 1)


# The system tests' requests: calls of rawhttp's request and exchange,
# raw heads written out as bytes, and every literal target; the bodies
# of the guard's tests (post() calls and (name, target, body) rows).
for name in sorted(os.listdir(os.path.join(top, "tests", "system"))):
	if not name.endswith(".py"):
		continue
	with open(os.path.join(top, "tests", "system", name)) as f:
		tree = ast.parse(f.read())
	for node in ast.walk(tree):
		if isinstance(node, ast.Tuple) and len(node.elts) >= 3:
			try:
				row = [value(x) for x in node.elts[:3]]
			except Exception:
				row = []
			if row and isinstance(row[1], str) and \
			    isinstance(row[2], (dict, list, bytes)):
				add_body(row[1], row[2])
			continue
		if isinstance(node, ast.Constant):
			v = node.value
			if isinstance(v, str):
				add_target(v)
				v = v.encode("latin-1", "replace")
			if isinstance(v, bytes) and \
			    v.split(b" ", 1)[0].decode("latin-1") in METHODS \
			    and b"HTTP/1." in v:
				seeds["fuzz_head"].add(v)
			continue
		if not isinstance(node, ast.Call):
			continue
		fn = node.func.attr if isinstance(node.func, ast.Attribute) \
		    else getattr(node.func, "id", "")
		if fn == "post" and len(node.args) >= 3:
			try:
				add_body(value(node.args[1]),
				    value(node.args[2]))
			except Exception:
				pass
			continue
		args = node.args[2:] if fn == "exchange" else node.args
		if fn not in ("request", "exchange") or len(args) < 2:
			continue
		try:
			a = [value(x) for x in args]
			kw = {k.arg: value(k.value) for k in node.keywords
			    if k.arg in ("headers", "body")}
			if isinstance(kw.get("body", b""), str):
				kw["body"] = kw["body"].encode()
			req = rawhttp.request(*a[:4], **kw)
		except Exception:
			continue
		seeds["fuzz_head"].add(req)
		add_target(a[1])

# Framings two parsers could read two ways, and pipelining.
post = b"POST /containers/create HTTP/1.1\r\nHost: x\r\n"
for framing, body in (
    (b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
	b"2\r\n{}\r\n0\r\n\r\n"),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
	b"2\r\n{}\r\n0\r\n\r\n"),
    (b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"),
    (b"Content-Length: \r\n", b""),
    (b"Transfer-Encoding: chunked\r\n", b"2;x=y\r\n{}\r\n0\r\nT: 1\r\n\r\n"),
    (b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"),
    (b"Transfer-Encoding: chunked\r\n", b"ffffffffffffffffff\r\n"),
    (b"Transfer-Encoding: chunked\r\n", b"2\r\n{}0\r\n\r\n"),
    (b"Content-Length: 2\r\nExpect: 100-continue\r\n", b"{}"),
    (b"Content-Length: 2\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n",
	b"{}")):
	seeds["fuzz_head"].add(post + framing + b"\r\n" + body +
	    rawhttp.request("GET", "/_ping"))
seeds["fuzz_head"].add(b"GET /_ping HTTP/1.1\nHost: x\r\n\r\n")
seeds["fuzz_head"].add(b"GET /_ping HTTP/1.1\r\nHost: x\r\n X: y\r\n\r\n")
seeds["fuzz_head"].add(b"GET /_ping HTTP/1.1\r\nHost : x\r\n\r\n")
seeds["fuzz_head"].add(b"GET /_ping HTTP/1.0\r\n\r\n")
seeds["fuzz_head"].add(rawhttp.request("POST", "/v1.41/exec/c0ffee/start",
    [("Connection", "Upgrade"), ("Upgrade", "tcp")], b'{"Tty":true}') +
    b"ls\n")

# The engine's answers: byte 0 says whether the request was HEAD.
for head, response in (
    (0, b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain"
	b"; charset=utf-8\r\nDocker-Experimental: false\r\nOstype: linux\r\n"
	b"Server: Docker/20.10.24 (linux)\r\nContent-Length: 2\r\n\r\nOK"),
    (1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
    (0, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	b"Transfer-Encoding: chunked\r\n\r\n"
	b"1d\r\n{\"status\":\"start\",\"id\":\"c\"}\n\r\n0\r\n\r\n"),
    (0, b"HTTP/1.1 204 No Content\r\n\r\n"),
    (0, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
    (0, b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker."
	b"raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
	b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"),
    (0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
	b"Content-Length: 2\r\n\r\n{}"),
    (0, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
	b"{\"no\":\"length\"}"),
    (0, b"HTTP/1.0 200 OK\r\n\r\nclose-delimited"),
    (0, b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
	b"Content-Length: 29\r\n\r\n{\"message\":\"page not found\"}\n"),
    (0, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOKHTTP/1.1 200 OK"
	b"\r\n\r\n"),
    (0, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: "
	b"chunked\r\n\r\n0\r\n\r\n")):
	seeds["fuzz_response"].add(bytes([head]) + response)

# Bodies the clients send, the engine's inspect of a container, host paths.
for i, body in ((0, {"Image": "dsp-busybox", "Cmd": ["true"],
    "HostConfig": {"Binds": ["/srv/data:/data:ro", "named:/v"],
    "Mounts": [{"Type": "bind", "Source": "/srv/data/x", "Target": "/x"},
    {"Type": "volume", "Source": "v", "Target": "/y",
    "VolumeOptions": {"DriverConfig": {"Name": "local", "Options":
    {"type": "none", "o": "bind", "device": "/etc"}}}}],
    "CapAdd": ["NET_ADMIN"], "CapDrop": ["ALL"], "VolumesFrom": ["other:ro"],
    "SecurityOpt": ["no-new-privileges"], "Sysctls": {"net.ipv4.ip_forward":
    "1"}}}),
    (1, {"Memory": 1048576, "Devices": []}),
    (2, {"Cmd": ["sh"], "Privileged": False, "User": "root"}),
    (3, {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "x",
    "Mounts": [{"Type": "bind", "Source": "/", "Target": "/h"}],
    "Privileges": {"SELinuxContext": {"Disable": True}}}},
    "Networks": [{"Target": "host"}]}),
    (5, {"Name": "v", "Driver": "local", "DriverOpts": {"type": "none",
    "o": "bind", "device": "/var/lib"}}),
    (6, [{"Name": "network", "Value": ["host"]}, {"Name": "mount",
    "Value": ["/var/lib/docker"]}, {"Name": "device", "Value": ["/dev/fuse"]},
    {"Name": "capabilities", "Value": ["CAP_SYS_ADMIN"]}])):
	add_body(GUARD_PATHS[i][0] + ("c0ffee" + GUARD_PATHS[i][1]
	    if GUARD_PATHS[i][1] else ""), body)
seeds["fuzz_guard"].add(b"\0\0" + json.dumps({"Name": "/other",
    "HostConfig": {"Binds": ["/etc:/e"]}, "Mounts": [{"Type": "bind",
    "Source": "/run/docker.sock", "Destination": "/s"}]}).encode())
for path in (b"/srv/../etc/./x//y/", b"/", b"/..", b"relative", b"/a\\b"):
	seeds["fuzz_guard"].add(b"\0\0" + path)
seeds["fuzz_guard"].add(b"\0\x7f{\"HostConfig\":{\"Privileged\":true,"
    b"\"PidMode\":\"host\",\"CapAdd\":[\"ALL\"]}}")

# Dry runs that each stage refuses: the head, the target, the policy,
# the guard, the body's size.
for sel, method, target, body in (
    (0, "GET", "/_ping", None), (0, "HEAD", "/v1.41/_ping", None),
    (2, "GET", "/containers/json?all=1&filters=" + "x" * 40, None),
    (0, "GET", "/containers/../images/json", None),
    (0, "GET", "/v1.41/containers/%2e%2e/json", None),
    (0, "GET", "http://dsp/info", None), (0, "GET", "/info#x", None),
    (0, "GET /x HTTP/1.1\r\nHost: y\r\n\r\nGET", "/_ping", None),
    (0, "GET", "/_ping HTTP/1.1\r\nX: y", None),
    (0, "BREW", "/_ping", None), (0, "get", "/_ping", None),
    (1, "POST", "/containers/create", b'{"Image":"x"}'),
    (1, "POST", "/v1.41/containers/create", b'{"image":"x","Image":"y"}'),
    (1, "POST", "/containers/create", b'{"HostConfig":{"Privileged":true,'
	b'"Binds":["/:/host"]}}'),
    (5, "POST", "/containers/create", b'{"Image":"' + b"x" * 80 + b'"}'),
    (1, "POST", "/containers/c0ffee/exec", b'{"Cmd":["sh"]}'),
    (1, "POST", "/exec/c0ffee/start", b'{"Detach":false,"Tty":true}'),
    (0, "DELETE", "/containers/c0ffee?force=1", None)):
	add_check(method, target, body, sel)

# The images' variables and the values the parsers take.
names = ["AUTH", "BUILD", "COMMIT", "CONFIGS", "CONTAINERS", "DISTRIBUTION",
    "EVENTS", "EXEC", "GRPC", "IMAGES", "INFO", "NETWORKS", "NODES", "PING",
    "PLUGINS", "SECRETS", "SERVICES", "SESSION", "SWARM", "SYSTEM", "TASKS",
    "VERSION", "VOLUMES", "POST", "ALLOW_START", "ALLOW_STOP",
    "ALLOW_RESTARTS", "ALLOW_KILL", "ALLOW_PAUSE", "ALLOW_UNPAUSE",
    "ALLOW_ARCHIVE", "ALLOW_EXPORT", "ALLOW_LOGS", "ALLOW_TOP",
    "ALLOW_CHANGES", "DISABLE_IPV6"]
for i, n in enumerate(names):
	v = ("1", "0", "true", "No", "YES", "2", "-0", "maybe")[i % 8]
	seeds["fuzz_env"].add(("%s=%s" % (n, v)).encode())
seeds["fuzz_env"].add(b"CONTAINERS=1\0POST=1\0ALLOW_RESTARTS=1\0"
    b"ALLOW_KILL=0\0ALLOW_LOGS=0\0LOG_LEVEL=warning")
seeds["fuzz_env"].add(b"LOG_LEVEL=loud\0CONTAINERS=maybe")
for v in ("10s", "500ms", "2m", "1h", "60", "64KiB", "16M", "1g",
    "9223372036854775807", "9223372036854775808ms", "emerg", "Notice"):
	seeds["fuzz_env"].add(v.encode())

seeds["fuzz_query"].update([b"follow\0follow=1&tail=10",
    b"stream\0stream=0", b"follow\0follow=true&follow=0",
    b"follow\0fo%6Clow=%20No%E3%80%80", b"stream\0stream;x=1&stream=false",
    b"follow\0follow", b"follow\0follow=none&"])

for target, inputs in seeds.items():
	d = os.path.join(out, target)
	os.makedirs(d, exist_ok=True)
	for old in os.listdir(d):
		os.unlink(os.path.join(d, old))
	for data in inputs:
		with open(os.path.join(d, hashlib.sha1(data).hexdigest()),
		    "wb") as f:
			f.write(data)
	print("make-seeds.sh: %s: %d inputs" % (target, len(inputs)))
EOF
