"""The create guard against a real engine, with CONTAINERS=1 POST=1: the
bodies that would take the host are refused with a 403 naming the field,
and never reach the engine (a recording tap sits between dspd and
dockerd); the creates of the docker CLI, docker-compose, Watchtower and
Portainer go through and their containers run; a body over --body-max
gets 413; a chunked create reaches the engine whole, with a length."""

import json
import os
import shutil
import subprocess
import urllib.parse

import pytest

from conftest import marker
from harness import checks, rawhttp
from harness.dspd import run_to_exit

WRITE = {"CONTAINERS": "1", "POST": "1"}
# Everything a create-class body may be sent to, so the guard, not the
# policy, answers.
ALL_BODIES = {"CONTAINERS": "1", "POST": "1", "EXEC": "1", "VOLUMES": "1",
    "SERVICES": "1", "PLUGINS": "1"}
COMPOSE = shutil.which("docker-compose", path="/usr/bin:/usr/local/bin")
COMPOSE_TIMEOUT = 120		# seconds for one docker-compose command
JSON_TYPE = [("Content-Type", "application/json")]


def post(proxy, target, body, headers=JSON_TYPE, timeout=30):
	"""One POST of a JSON body (a dict, or bytes as they are)."""
	if not isinstance(body, bytes):
		body = json.dumps(body).encode()
	return rawhttp.exchange(proxy.host, proxy.port, "POST", target,
	    headers, body, timeout=timeout)


def refused(resp, field):
	"""A 403 of the guard: "dsp: " and the field it names."""
	message = checks.dsp_reply(resp, 403)
	assert message.startswith("dsp: "), message
	assert field in message, "%r does not name %s" % (message, field)
	assert "allows it" in message, message
	return message


def created(resp):
	"""The engine's 201 to a create: the new container's ID."""
	assert resp.status == 201, resp
	return resp.json()["Id"]


@pytest.fixture
def cleanup(engine):
	"""Containers (by name or ID) and volumes to remove at teardown."""
	made = {"containers": [], "volumes": []}
	yield made
	for c in made["containers"]:
		engine.remove_container(c)
	for v in made["volumes"]:
		engine.api("DELETE", "/volumes/%s?force=1" %
		    urllib.parse.quote(v))


def test_haproxy_attack_refused(start_dspd, tap):
	# The create of the HAProxy case: root on the host in one request.
	proxy = start_dspd(env=WRITE, upstream=tap.listen_path)
	for prefix in ("", "/v1.41", "/v1.25"):
		m = marker()
		resp = post(proxy, prefix + "/containers/create?name=" + m,
		    {"Image": "dsp-busybox", "HostConfig": {"Privileged": True,
		    "Binds": ["/:/host"]}})
		message = refused(resp, "HostConfig.Privileged")
		assert "--allow-privileged" in message
		assert not tap.saw(m)
	assert not any(tap.sent_bytes())


# Each rule the guard applies by default: where the body goes, the body
# (MARK is replaced by a marker), and the field the refusal names.
DEFAULT_RULES = [
	("privileged-top-level", "/containers/create?name=MARK",
	    {"Image": "dsp-busybox", "Privileged": True}, "Privileged"),
	("pid-host", "/containers/create?name=MARK",
	    {"HostConfig": {"PidMode": "host"}}, "HostConfig.PidMode"),
	("ipc-host", "/containers/create?name=MARK",
	    {"HostConfig": {"IpcMode": "host"}}, "HostConfig.IpcMode"),
	("network-host", "/containers/create?name=MARK",
	    {"HostConfig": {"NetworkMode": "host"}}, "HostConfig.NetworkMode"),
	("uts-host", "/containers/create?name=MARK",
	    {"HostConfig": {"UTSMode": "host"}}, "HostConfig.UTSMode"),
	("userns-host", "/containers/create?name=MARK",
	    {"HostConfig": {"UsernsMode": "host"}}, "HostConfig.UsernsMode"),
	("pid-join", "/containers/create?name=MARK",
	    {"HostConfig": {"PidMode": "container:x"}}, "HostConfig.PidMode"),
	("network-join", "/containers/create?name=MARK",
	    {"HostConfig": {"NetworkMode": "container:x"}},
	    "HostConfig.NetworkMode"),
	("cap-add", "/containers/create?name=MARK",
	    {"HostConfig": {"CapAdd": ["SYS_ADMIN"]}}, "HostConfig.CapAdd[0]"),
	("cap-add-string", "/containers/create?name=MARK",
	    {"HostConfig": {"CapAdd": "sys_module"}}, "HostConfig.CapAdd"),
	("devices", "/containers/create?name=MARK",
	    {"HostConfig": {"Devices": [{"PathOnHost": "/dev/sda",
	    "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]}},
	    "HostConfig.Devices[0]"),
	("device-cgroup-rules", "/containers/create?name=MARK",
	    {"HostConfig": {"DeviceCgroupRules": ["b *:* rwm"]}},
	    "HostConfig.DeviceCgroupRules[0]"),
	("device-requests", "/containers/create?name=MARK",
	    {"HostConfig": {"DeviceRequests": [{"Driver": "nvidia",
	    "Count": -1, "Capabilities": [["gpu"]]}]}},
	    "HostConfig.DeviceRequests[0]"),
	("seccomp-unconfined", "/containers/create?name=MARK",
	    {"HostConfig": {"SecurityOpt": ["seccomp=unconfined"]}},
	    "HostConfig.SecurityOpt[0]"),
	("apparmor-unconfined", "/containers/create?name=MARK",
	    {"HostConfig": {"SecurityOpt": ["apparmor:unconfined"]}},
	    "HostConfig.SecurityOpt[0]"),
	("label-disable", "/containers/create?name=MARK",
	    {"HostConfig": {"SecurityOpt": ["label=disable"]}},
	    "HostConfig.SecurityOpt[0]"),
	("no-new-privileges-false", "/containers/create?name=MARK",
	    {"HostConfig": {"SecurityOpt": ["no-new-privileges=false"]}},
	    "HostConfig.SecurityOpt[0]"),
	("systempaths-unconfined", "/containers/create?name=MARK",
	    {"HostConfig": {"MaskedPaths": [], "ReadonlyPaths": []}},
	    "HostConfig.MaskedPaths"),
	("sysctl-kernel", "/containers/create?name=MARK",
	    {"HostConfig": {"Sysctls": {"kernel.core_pattern": "|/x"}}},
	    "HostConfig.Sysctls.kernel.core_pattern"),
	("bind-root", "/containers/create?name=MARK",
	    {"HostConfig": {"Binds": ["/:/host"]}}, "HostConfig.Binds[0]"),
	("bind-etc-dotdot", "/containers/create?name=MARK",
	    {"HostConfig": {"Binds": ["/srv/../etc:/e:ro"]}},
	    "HostConfig.Binds[0]"),
	("bind-socket", "/containers/create?name=MARK",
	    {"HostConfig": {"Binds": ["/var/run/../run/docker.sock:/s"]}},
	    "HostConfig.Binds[0]"),
	("bind-parent", "/containers/create?name=MARK",
	    {"HostConfig": {"Binds": ["/var:/v"]}}, "HostConfig.Binds[0]"),
	("mount-bind", "/containers/create?name=MARK",
	    {"HostConfig": {"Mounts": [{"Type": "bind", "Source": "//etc/",
	    "Target": "/e"}]}}, "HostConfig.Mounts[0].Source"),
	("mount-local-bind-volume", "/containers/create?name=MARK",
	    {"HostConfig": {"Mounts": [{"Type": "volume", "Source": "v",
	    "Target": "/v", "VolumeOptions": {"DriverConfig": {"Name": "local",
	    "Options": {"type": "none", "o": "bind", "device": "/"}}}}]}},
	    "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options.device"),
	("folded-keys", "/containers/create?name=MARK",
	    {"hostconfig": {"privileged": True}}, "HostConfig.Privileged"),
	("long-s-key", "/containers/create?name=MARK",
	    {"Ho\u017ftConfig": {"Bind\u017f": ["/:/h"]}},
	    "HostConfig.Binds[0]"),
	("exec-privileged", "/containers/MARK/exec",
	    {"Cmd": ["sh"], "Privileged": True}, "Privileged"),
	("update-devices", "/containers/MARK/update",
	    {"Devices": [{"PathOnHost": "/dev/mem"}]}, "Devices[0]"),
	("volume-local-bind", "/volumes/create?m=MARK",
	    {"Name": "v", "DriverOpts": {"type": "none", "o": "bind",
	    "device": "/etc"}}, "DriverOpts.device"),
	("service-bind", "/services/create?m=MARK",
	    {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "x",
	    "Mounts": [{"Type": "bind", "Source": "/", "Target": "/h"}]}}},
	    "TaskTemplate.ContainerSpec.Mounts[0].Source"),
	("service-cap", "/services/create?m=MARK",
	    {"TaskTemplate": {"ContainerSpec": {"CapabilityAdd":
	    ["CAP_SYS_ADMIN"]}}},
	    "TaskTemplate.ContainerSpec.CapabilityAdd[0]"),
	("service-host-network", "/services/MARK/update?version=1",
	    {"TaskTemplate": {"Networks": [{"Target": "host"}]}},
	    "TaskTemplate.Networks[0].Target"),
	("plugin-mount", "/plugins/pull?remote=MARK",
	    [{"Name": "mount", "Value": ["/var/lib/docker"]}],
	    "[0].Value[0]"),
	("plugin-host-network", "/plugins/MARK/upgrade?remote=x",
	    [{"Name": "network", "Value": ["host"]}], "[0].Value[0]"),
]


@pytest.mark.parametrize("target,body,field",
    [r[1:] for r in DEFAULT_RULES], ids=[r[0] for r in DEFAULT_RULES])
def test_default_rule_refused(start_dspd, tap, target, body, field):
	proxy = start_dspd(env=ALL_BODIES, upstream=tap.listen_path)
	m = marker()
	resp = post(proxy, "/v1.41" + target.replace("MARK", m), body)
	refused(resp, field)
	assert not tap.saw(m)


# Bodies the guard cannot read the way dockerd would: 400, and nothing
# of them reaches the engine.
MALFORMED = [
	("empty", b""),
	("not-json", b"Image=busybox"),
	("trailing-value", b'{"Image":"x"} {"HostConfig":{"Privileged":true}}'),
	("duplicate-key", b'{"HostConfig":{"Privileged":false,'
	    b'"Privileged":true}}'),
	("folded-duplicate", b'{"HostConfig":{"Privileged":false,'
	    b'"privileged":true}}'),
	("kelvin-duplicate", b'{"HostConfig":{"NetworkMode":"none",'
	    b'"Networ\\u212aMode":"host"}}'),
	("nul-in-string", b'{"Image":"a\\u0000b"}'),
	("array-for-object", b'{"HostConfig":[]}'),
	("string-for-bool", b'{"HostConfig":{"Privileged":"true"}}'),
]


@pytest.mark.parametrize("body", [b for _, b in MALFORMED],
    ids=[i for i, _ in MALFORMED])
def test_malformed_body_400(start_dspd, tap, body):
	proxy = start_dspd(env=WRITE, upstream=tap.listen_path)
	m = marker()
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("POST", "/v1.41/containers/create?"
		    "name=" + m, JSON_TYPE + [("Content-Length",
		    str(len(body)))], body))
		resp = conn.read_response("POST")
	message = checks.dsp_reply(resp, 400)
	assert message.startswith("dsp: "), message
	assert not tap.saw(m)


def test_docker_run_named_volume_and_allowed_bind(start_dspd, docker_cli,
    engine, workdir, cleanup):
	# `docker run -d -v NAME:/data -v HOSTDIR:/app` with HOSTDIR under an
	# --allow-bind path: created, started, both mounts in place.
	allowed = os.path.join(workdir, "allowed")
	app = os.path.join(allowed, "app")
	os.makedirs(app)
	with open(os.path.join(app, "hello"), "w") as f:
		f.write("from the host\n")
	proxy = start_dspd(env=WRITE, args=["--allow-bind", allowed])
	name, vol = marker(), marker()
	cleanup["containers"].append(name)
	cleanup["volumes"].append(vol)
	proc = docker_cli.run(proxy.url, ["run", "-d", "--network", "none",
	    "--name", name, "-v", vol + ":/data", "-v", app + ":/app",
	    "dsp-busybox:latest", "sh", "-c",
	    "cat /app/hello > /data/copy; exec sleep 600"])
	assert proc.returncode == 0, proc.stderr
	info = engine.wait_running(name)
	mounts = {mt["Destination"]: mt for mt in info["Mounts"]}
	assert mounts["/app"]["Type"] == "bind"
	assert mounts["/app"]["Source"] == app
	assert mounts["/data"]["Type"] == "volume"
	assert mounts["/data"]["Name"] == vol


def test_docker_run_bind_outside_allowed_refused(start_dspd, docker_cli,
    tap, workdir):
	allowed = os.path.join(workdir, "allowed")
	os.makedirs(allowed)
	proxy = start_dspd(env=WRITE, args=["--allow-bind", allowed],
	    upstream=tap.listen_path)
	name = marker()
	proc = docker_cli.run(proxy.url, ["run", "-d", "--network", "none",
	    "--name", name, "-v", workdir + ":/w", "dsp-busybox:latest",
	    "true"])
	out = proc.stdout + proc.stderr
	assert proc.returncode != 0, out
	assert "HostConfig.Binds[0]" in out and "--allow-bind" in out, out
	assert not checks.sent_request(tap, "POST", name)


COMPOSE_FILE = """version: "3"
services:
  app:
    image: dsp-busybox:latest
    command: ["sh", "-c", "echo ok > /data/ok; exec sleep 600"]
    network_mode: none
    volumes:
      - data:/data
volumes:
  data:
"""


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose not installed")
def test_compose_up(start_dspd, engine, workdir, cleanup):
	# Debian's docker-compose (v1, Python) brings a small project up and
	# down through dspd.
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "VOLUMES": "1",
	    "NETWORKS": "1", "IMAGES": "1", "INFO": "1"})
	project = marker()
	cleanup["containers"].append(project + "_app_1")
	cleanup["volumes"].append(project + "_data")
	folder = os.path.join(workdir, "compose")
	os.makedirs(folder)
	with open(os.path.join(folder, "docker-compose.yml"), "w") as f:
		f.write(COMPOSE_FILE)
	env = {"PATH": "/usr/bin:/bin", "HOME": folder,
	    "DOCKER_HOST": proxy.url, "LANG": "C.UTF-8"}

	def compose(*args):
		return subprocess.run([COMPOSE, "-p", project] + list(args),
		    cwd=folder, env=env, capture_output=True, text=True,
		    timeout=COMPOSE_TIMEOUT)

	up = compose("up", "-d")
	assert up.returncode == 0, up.stdout + up.stderr
	info = engine.wait_running(project + "_app_1")
	assert info["HostConfig"]["NetworkMode"] == "none"
	assert [mt["Name"] for mt in info["Mounts"]] == [project + "_data"]
	down = compose("down", "-v")
	assert down.returncode == 0, down.stdout + down.stderr
	assert engine.inspect(project + "_app_1") is None


def watchtower_body(info):
	"""The create Watchtower sends to re-create a container: its inspected
	Config and HostConfig as they are (MaskedPaths, Devices and all), and
	its first network's endpoint."""
	config = dict(info["Config"])
	config["Hostname"] = ""
	config["HostConfig"] = info["HostConfig"]
	nets = info["NetworkSettings"]["Networks"]
	first = sorted(nets)[0]
	config["NetworkingConfig"] = {"EndpointsConfig": {first: nets[first]}}
	return config


def test_watchtower_recreate(start_dspd, engine, workdir, cleanup):
	src = os.path.join(workdir, "www")
	os.makedirs(src)
	old, new, vol = marker(), marker(), marker()
	cleanup["containers"] += [old, new]
	cleanup["volumes"].append(vol)
	engine.api_json("POST", "/containers/create?name=" + old,
	    {"Image": "dsp-busybox:latest", "Cmd": ["sleep", "600"],
	    "Labels": {"com.centurylinklabs.watchtower.enable": "true"},
	    "HostConfig": {"NetworkMode": "none", "RestartPolicy":
	    {"Name": "unless-stopped"}, "Binds": [src + ":/www:ro",
	    vol + ":/cache"]}})
	body = watchtower_body(engine.inspect(old))
	# What makes the re-create worth testing: dockerd filled these in.
	assert body["HostConfig"]["MaskedPaths"], body["HostConfig"]
	assert body["HostConfig"]["ReadonlyPaths"], body["HostConfig"]

	proxy = start_dspd(env=WRITE)
	cid = created(post(proxy, "/v1.25/containers/create?name=" + new,
	    body))
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/v1.25/containers/%s/start" % cid)
	assert resp.status == 204, resp
	info = engine.wait_running(new)
	assert info["HostConfig"]["Binds"] == [src + ":/www:ro",
	    vol + ":/cache"]


def test_portainer_create(start_dspd, engine, cleanup):
	# Portainer's "deploy the container" form: empty lists everywhere.
	proxy = start_dspd(env=WRITE)
	name = marker()
	cleanup["containers"].append(name)
	cid = created(post(proxy, "/containers/create?name=" + name,
	    {"Image": "dsp-busybox:latest", "Env": [], "Cmd": ["sleep", "600"],
	    "MacAddress": "", "Labels": {}, "OpenStdin": False, "Tty": False,
	    "Volumes": {}, "HostConfig": {"RestartPolicy": {"Name": "no"},
	    "PortBindings": {}, "PublishAllPorts": False, "Binds": [],
	    "AutoRemove": False, "NetworkMode": "none", "Privileged": False,
	    "Init": False, "ExtraHosts": [], "Devices": [],
	    "DeviceRequests": [], "Sysctls": {}, "CapAdd": [], "CapDrop": [],
	    "Memory": 0, "NanoCpus": 0},
	    "NetworkingConfig": {"EndpointsConfig": {}}}))
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/containers/%s/start" % cid)
	assert resp.status == 204, resp
	engine.wait_running(name)


def test_volumes_from(start_dspd, engine, tap, workdir, cleanup):
	# A create may take the volumes of a container whose binds pass, not
	# of one that binds a protected path: dspd reads its inspect first.
	safe_dir = os.path.join(workdir, "safe")
	os.makedirs(safe_dir)
	safe, bad, ok, nok = marker(), marker(), marker(), marker()
	cleanup["containers"] += [safe, bad, ok, nok]
	for name, bind in ((safe, safe_dir + ":/d"), (bad, "/etc:/d:ro")):
		engine.api_json("POST", "/containers/create?name=" + name,
		    {"Image": "dsp-busybox:latest", "Cmd": ["true"],
		    "HostConfig": {"NetworkMode": "none", "Binds": [bind]}})
	proxy = start_dspd(env=WRITE, upstream=tap.listen_path)
	created(post(proxy, "/v1.41/containers/create?name=" + ok,
	    {"Image": "dsp-busybox:latest", "Cmd": ["true"], "HostConfig":
	    {"NetworkMode": "none", "VolumesFrom": [safe + ":ro"]}}))
	message = refused(post(proxy, "/v1.41/containers/create?name=" + nok,
	    {"Image": "dsp-busybox:latest", "Cmd": ["true"], "HostConfig":
	    {"NetworkMode": "none", "VolumesFrom": [bad]}}),
	    "HostConfig.VolumesFrom")
	assert bad in message and "/etc" in message, message
	assert not checks.sent_request(tap, "POST", nok)


def test_relaxations(start_dspd, engine, workdir, cleanup):
	# Each switch lets its own rule through, and nothing else.
	proxy = start_dspd(env=dict(WRITE, DSP_ALLOW_PRIVILEGED="1",
	    DSP_ALLOW_CAP="NET_ADMIN,sys_time"), args=["--allow-bind",
	    workdir])
	name = marker()
	cleanup["containers"].append(name)
	created(post(proxy, "/containers/create?name=" + name,
	    {"Image": "dsp-busybox:latest", "Cmd": ["true"], "HostConfig":
	    {"NetworkMode": "none", "Privileged": True,
	    "CapAdd": ["NET_ADMIN", "SYS_TIME"], "Binds": [workdir + ":/w"]}}))
	refused(post(proxy, "/containers/create", {"HostConfig":
	    {"CapAdd": ["SYS_ADMIN"]}}), "HostConfig.CapAdd[0]")
	refused(post(proxy, "/containers/create", {"HostConfig":
	    {"Binds": ["/srv:/srv"]}}), "HostConfig.Binds[0]")
	refused(post(proxy, "/containers/create", {"HostConfig":
	    {"PidMode": "host"}}), "HostConfig.PidMode")


def test_bad_relaxation_stops_start(dspd_bin, workdir):
	rc, err = run_to_exit(dspd_bin, workdir, env={"DSP_ALLOW_CAP":
	    "NET_ADMIN,SYS_WHATEVER"})
	assert rc == 1, err
	assert "DSP_ALLOW_CAP" in err and "SYS_WHATEVER" in err, err


def test_body_over_cap_413(start_dspd, tap, engine, cleanup):
	proxy = start_dspd(env=WRITE, args=["--body-max", "4KiB"],
	    upstream=tap.listen_path)
	small, big = marker(), marker()
	cleanup["containers"].append(small)
	body = {"Image": "dsp-busybox:latest", "Cmd": ["true"],
	    "HostConfig": {"NetworkMode": "none"}, "Labels": {"pad": ""}}
	body["Labels"]["pad"] = "x" * (4096 - len(json.dumps(body)))
	assert len(json.dumps(body)) == 4096
	created(post(proxy, "/containers/create?name=" + small, body))
	body["Labels"]["pad"] += "x"
	resp = post(proxy, "/containers/create?name=" + big, body)
	message = checks.dsp_reply(resp, 413)
	assert "--body-max" in message, message
	assert not tap.saw(big)
	# Announced as chunked, the cap holds too.
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("POST", "/containers/create?name=" +
		    big, JSON_TYPE + [("Transfer-Encoding", "chunked")]))
		for _ in range(5):
			conn.send(b"400\r\n" + b" " * 1024 + b"\r\n")
		resp = conn.read_response("POST")
	checks.dsp_reply(resp, 413)
	assert not tap.saw(big)


def test_chunked_create_arrives_whole(start_dspd, tap, engine, cleanup):
	# A chunked create is held, checked and sent on with a Content-Length:
	# the engine gets exactly the bytes that were checked.
	proxy = start_dspd(env=WRITE, upstream=tap.listen_path)
	name = marker()
	cleanup["containers"].append(name)
	body = json.dumps({"Image": "dsp-busybox:latest", "Cmd": ["true"],
	    "Labels": {"m": name}, "HostConfig": {"NetworkMode": "none"}},
	    separators=(",", ":")).encode()
	pieces = [body[i:i + 7] for i in range(0, len(body), 7)]
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("POST", "/v1.41/containers/create?"
		    "name=" + name, JSON_TYPE +
		    [("Transfer-Encoding", "chunked")]))
		for p in pieces:
			conn.send(b"%x\r\n%s\r\n" % (len(p), p))
		conn.send(b"0\r\n\r\n")
		resp = conn.read_response("POST", timeout=30)
	created(resp)
	sent = [d for d in tap.sent_bytes() if name.encode() in d]
	assert len(sent) == 1, sent
	head, _, rest = sent[0].partition(b"\r\n\r\n")
	lines = [l.lower() for l in head.split(b"\r\n")[1:]]
	assert b"content-length: %d" % len(body) in lines, head
	assert not any(l.startswith(b"transfer-encoding") for l in lines), head
	assert rest[:len(body)] == body
	assert engine.inspect(name)["Config"]["Labels"]["m"] == name
