"""Assertions shared by the system tests."""

import json
import re


def dsp_reply(resp, status):
	"""A reply dspd wrote itself: status, JSON type, {"message": str}."""
	assert resp.status == status, resp
	ctype = resp.header("Content-Type") or ""
	assert ctype.split(";")[0].strip().lower() == "application/json", resp
	body = json.loads(resp.body.decode("utf-8"))
	assert isinstance(body, dict) and isinstance(body.get("message"),
	    str) and body["message"], resp
	return body["message"]


def denial(resp, group):
	"""A 403 from dspd whose message names the endpoint group."""
	message = dsp_reply(resp, 403)
	assert group.lower() in message.lower(), \
	    "403 message %r does not name group %r" % (message, group)
	return message


def cli_denial(proc, group):
	"""A CLI that failed and printed dspd's refusal naming the group."""
	out = proc.stdout + proc.stderr
	assert proc.returncode != 0, out
	lines = [l for l in out.splitlines()
	    if "Error response from daemon" in l]
	assert lines, "no daemon error printed:\n" + out
	assert any(group.lower() in l.lower() for l in lines), \
	    "daemon error does not name group %r:\n%s" % (group, out)
	return lines[0]


def sent_request(tap, method, needle):
	"""True if a request line with this method and needle went upstream."""
	pat = re.compile(re.escape(method.encode()) + rb" [^ \r\n]*" +
	    re.escape(needle.encode()))
	return any(pat.search(data) for data in tap.sent_bytes())


def rss_kib(pid):
	"""A process's resident memory, in KiB."""
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])
	raise RuntimeError("no VmRSS for %d" % pid)
