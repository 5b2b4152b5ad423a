"""dspctl check and dspctl selftest against a running dspd in front of the
real engine, with a recording tap between them: the dry run gives the
verdict, status and message the listener gives for the same request
(policy, create guard, malformed targets alike) and sends nothing on;
it answers on the read-only socket too; selftest passes the operator's
checks with the defaults plus CONTAINERS=1, names what Portainer still
needs, fails when POST=1 lets creates through, and the engine sees only
its one read."""

import json
import os
import re

import pytest

from harness import checks, rawhttp
from harness.control import Control, Dspctl

READ = {"CONTAINERS": "1"}
WRITE = {"CONTAINERS": "1", "POST": "1"}
NO_IMAGE = "dsp-check-no-such-image"
REQUEST_LINE = re.compile(rb"(?m)^([A-Z]+) (\S+) HTTP/1\.[01]\r$")


@pytest.fixture
def proxy_ctl(start_dspd, dspctl_bin, tap):
	"""Factory: a dspd behind the tap, a dspctl for it, and the tap."""
	def start(env=None, args=()):
		proxy = start_dspd(env=env, args=args,
		    upstream=tap.listen_path)
		return proxy, Dspctl(dspctl_bin, proxy.control_path)
	return start


def engine_requests(tap):
	"""The request lines the engine received, as (method, target)."""
	return [(m.decode(), t.decode()) for data in tap.sent_bytes()
	    for m, t in REQUEST_LINE.findall(data)]


def body_file(workdir, name, body):
	path = os.path.join(workdir, name)
	with open(path, "w") as f:
		f.write(body)
	return path


PRIVILEGED = json.dumps({"Image": NO_IMAGE, "HostConfig": {
    "Privileged": True, "Binds": ["/:/host"]}})
BENIGN = json.dumps({"Image": NO_IMAGE, "Cmd": ["true"]})
BIND_ETC = json.dumps({"Image": NO_IMAGE, "HostConfig": {
    "Binds": ["/etc:/x"]}})
DUPLICATE = '{"Image": "%s", "Image": "busybox"}' % NO_IMAGE

# (method, target, body): each goes through the listener and through the
# dry run; a marker in the query shows whether the engine received it.
SAME = [
	("GET", "/_ping", None),
	("HEAD", "/_ping", None),
	("GET", "/v1.41/containers/json", None),
	("GET", "/info", None),
	("GET", "/containers/dsp-check/archive", None),
	("GET", "/containers/dsp-check/attach/ws", None),
	("POST", "/containers/dsp-check/exec", '{"Cmd": ["sh"]}'),
	("POST", "/v1.41/containers/create", BENIGN),
	("POST", "/containers/create", PRIVILEGED),
	("POST", "/containers/create", BIND_ETC),
	("POST", "/containers/create", DUPLICATE),
	("POST", "/containers/create", "not json"),
	("DELETE", "/containers/dsp-check-none", None),
	("GET", "/debug/pprof/", None),
	("GET", "/debug/vars", None),
	("OPTIONS", "/containers/json", None),
	("GET", "/containers/../info", None),
	("GET", "/containers/%2e%2e/info", None),
	("GET", "/containers//json", None),
	("GET", "/containers/json%", None),
	("GET", "/containers\\json", None),
	("GET", "/containers/j\x01son", None),
	("GET", "http://docker/containers/json", None),
]


def listener_verdict(proxy, tap, method, target, body, mark):
	"""(forwarded, status, message) of the request sent to the listener;
	status and message are dsp's own when it refused."""
	sep = "&" if "?" in target else "?"
	# A target dsp refuses as written keeps its form: the marker goes
	# into a header instead, which only a forwarded request carries.
	headers = [("X-Dsp-Check", mark)]
	data = body.encode() if body is not None else b""
	if body is not None:
		headers.append(("Content-Type", "application/json"))
	resp = rawhttp.exchange(proxy.host, proxy.port, method, target,
	    headers, data)
	forwarded = tap.saw(mark)
	if forwarded:
		return True, None, None
	return False, resp.status, checks.dsp_reply(resp, resp.status)


@pytest.mark.parametrize("method,target,body", SAME,
    ids=["%s %s%s" % (m, t.encode("unicode_escape").decode(),
    " +body" if b else "") for m, t, b in SAME])
def test_check_gives_the_listeners_verdict(proxy_ctl, tap, workdir, method,
    target, body):
	proxy, ctl = proxy_ctl(env=WRITE)
	mark = "dsp-check-%d" % (abs(hash((method, target, body))) % 10**9)
	fwd, status, message = listener_verdict(proxy, tap, method, target,
	    body, mark)
	before = len(tap.sent_bytes())

	args = ["--json", "check", method, target]
	if body is not None:
		args += ["--body", body_file(workdir, "body.json", body)]
	rc, out, err = ctl.run(*args)
	r = json.loads(out)
	assert r["forwarded"] == fwd, (r, status, message)
	assert rc == (0 if fwd else 1), err
	if not fwd:
		assert r["status"] == status
		assert r["message"] == message
		assert r["verdict"] == "deny"
	else:
		assert r["status"] is None and r["verdict"] == "allow"
	# The dry run sent nothing to the engine.
	assert len(tap.sent_bytes()) == before


def test_check_explains_and_names_the_fix(proxy_ctl, workdir):
	proxy, ctl = proxy_ctl(env=READ)
	rc, out, err = ctl.run("check", "POST", "/containers/create",
	    "--body", body_file(workdir, "b.json", BENIGN))
	assert rc == 1, err
	assert "refused (403)" in out
	assert "containers.create (group containers)" in out
	assert "fix      CONTAINERS=1 POST=1" in out

	r = ctl.json("check", "GET", "/v1.41/containers/json")
	assert (r["group"], r["action"], r["path"], r["api_version"]) == (
	    "containers", "containers.list", "/containers/json", "1.41")
	assert r["forwarded"] and r["fix"] is None

	# The guard's refusal names its field and the option that allows it.
	proxy, ctl = proxy_ctl(env=WRITE)
	r = json.loads(ctl.run("--json", "check", "POST", "/containers/create",
	    "--body", body_file(workdir, "p.json", PRIVILEGED))[1])
	assert (r["stage"], r["status"]) == ("guard", 403)
	assert r["guard"] == "HostConfig.Privileged"
	assert "--allow-privileged" in r["fix"]


def test_check_on_the_read_only_socket(proxy_ctl, workdir):
	ro = os.path.join(workdir, "ro.sock")
	proxy, ctl = proxy_ctl(env=READ, args=("--control-ro", ro))
	before = ctl.json("status")["revision"]
	rc, out, err = ctl.run("--json", "check", "GET", "/info",
	    socket_path=ro)
	assert rc == 1, err
	r = json.loads(out)
	assert r["status"] == 403 and "INFO=1" in r["fix"]
	with Control(ro) as c:
		r = c.result("check", method="GET", target="/containers/json")
	assert r["forwarded"] is True
	assert ctl.json("status")["revision"] == before


def test_check_refuses_what_is_no_request_line(proxy_ctl):
	proxy, ctl = proxy_ctl(env=READ)
	with Control(proxy.control_path) as c:
		err = c.call("check", method="GET", target="/x\r\nHost: y")
		assert err["error"]["code"] == "bad_argument"
		err = c.call("check", method="G ET", target="/_ping")
		assert err["error"]["code"] == "bad_argument"
		err = c.call("check", target="/_ping")
		assert err["error"]["code"] == "bad_argument"


def test_selftest_defaults_with_containers(proxy_ctl, tap):
	proxy, ctl = proxy_ctl(env=READ)
	rc, out, err = ctl.run("selftest")
	assert rc == 0, out + err
	assert re.search(r"(?m)^traefik +docker provider +works$", out), out
	m = re.search(r"(?m)^portainer +view +would be refused:", out)
	assert m, out
	for var in ("INFO=1", "IMAGES=1", "VOLUMES=1", "NETWORKS=1"):
		assert var in out[m.start():], out

	r = ctl.json("selftest")
	assert r["passed"] is True
	assert {c["check"]: c["result"] for c in r["checks"]} == {
	    "allowed read through the listener": "pass",
	    "container create": "pass", "container delete": "pass",
	    "exec in a container": "pass",
	    "privileged create binding /": "pass"}
	rows = {(c["client"], c["use"]): c for c in r["clients"]}
	assert rows[("traefik", "docker provider")]["works"] is True
	view = rows[("portainer", "view")]
	assert view["works"] is False
	needed = {f["target"] for f in view["refused"]}
	assert needed == {"/info", "/images/json", "/volumes", "/networks",
	    "/images/busybox:latest/json", "/networks/dsp-selftest",
	    "/volumes/dsp-selftest"}
	assert rows[("homepage", "status")]["works"] is True
	assert rows[("dozzle", "logs")]["works"] is False

	# The engine saw pings only (status asks it one), and one live
	# read from each of the two selftests.
	assert {r for r in engine_requests(tap)} == {("GET", "/_ping")}
	assert sum(data.count(b"User-Agent: dspctl-selftest")
	    for data in tap.sent_bytes()) == 2


def test_selftest_fails_when_post_lets_creates_through(proxy_ctl, tap):
	proxy, ctl = proxy_ctl(env=WRITE)
	rc, out, err = ctl.run("--json", "selftest")
	assert rc == 1, out + err
	r = json.loads(out)
	assert r["passed"] is False
	result = {c["check"]: c["result"] for c in r["checks"]}
	assert result["container create"] == "fail"
	assert result["container delete"] == "fail"
	assert result["exec in a container"] == "pass"
	assert result["privileged create binding /"] == "pass"
	rc, out, err = ctl.run("selftest")
	assert rc == 1
	assert re.search(r"container create: POST /containers/create +"
	    r"refused +allowed +fail", out), out
	for method, target in engine_requests(tap):
		assert (method, target) == ("GET", "/_ping")


def test_selftest_one_client_and_the_live_read(proxy_ctl, start_dspd,
    dspctl_bin, tap, workdir):
	proxy, ctl = proxy_ctl(env={"CONTAINERS": "1", "INFO": "1"})
	r = ctl.json("selftest", "--client", "Dozzle")
	assert {c["client"] for c in r["clients"]} == {"dozzle"}
	assert [c["works"] for c in r["clients"] if c["use"] == "logs"] == \
	    [True]
	rc, out, err = ctl.run("selftest", "--client", "kubernetes")
	assert rc == 2 and "no client named" in err

	# No read allowed: nothing to send, the row is skipped.
	proxy, ctl = proxy_ctl(env={"PING": "0", "VERSION": "0"})
	r = ctl.json("selftest")
	assert r["checks"][0]["result"] == "skip" and r["passed"] is True

	# A listener nobody answers on fails the live read.
	proxy, ctl = proxy_ctl(env=READ)
	rc, out, err = ctl.run("--json", "selftest", "--proxy",
	    "unix://" + os.path.join(workdir, "nobody.sock"))
	assert rc == 1
	assert json.loads(out)["checks"][0]["result"] == "fail"

	# A unix listener given with --proxy carries the read.
	sock = os.path.join(workdir, "d.sock")
	proxy = start_dspd(env=READ, upstream=tap.listen_path,
	    listen=("unix://" + sock,))
	ctl = Dspctl(dspctl_bin, proxy.control_path)
	r = ctl.json("selftest", "--proxy", "unix://" + sock)
	assert r["checks"][0]["result"] == "pass"
	assert r["checks"][0]["status"] == 200


def test_check_under_a_bypass(proxy_ctl, tap):
	proxy, ctl = proxy_ctl(env=READ)
	ctl.ok("--yes", "rollback", "--for", "5m", "--group", "containers")
	fwd, status, _ = listener_verdict(proxy, tap, "DELETE",
	    "/containers/dsp-check-none", None, "dsp-check-bypass")
	assert fwd
	rc, out, err = ctl.run("--json", "check", "DELETE",
	    "/containers/dsp-check-none")
	r = json.loads(out)
	assert rc == 0 and r["forwarded"] is True
	assert (r["verdict"], r["policy_verdict"]) == ("bypass", "deny")
	# Outside the bypassed group the policy still refuses.
	r = json.loads(ctl.run("--json", "check", "GET", "/info")[1])
	assert r["verdict"] == "deny" and r["status"] == 403
	rc, out, err = ctl.run("selftest")
	assert rc == 1 and "BYPASS IN FORCE" in out
