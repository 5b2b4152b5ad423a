"""Hand listening sockets to a program the way systemd does.

Run as a program in front of dspd's command line:

    python3 socketact.py --tcp 127.0.0.1:0 --unix /tmp/x/api.sock \\
        --names api:local -- /path/to/dspd ...

It binds and listens on each socket, moves them to descriptors 3, 4, ...
in the order given, sets LISTEN_FDS, LISTEN_PID (its own pid, which the
program keeps across exec) and LISTEN_FDNAMES, and execs the program.
Options for the cases a service manager should never produce: --wrong-pid
(LISTEN_PID of another process), --file PATH (a regular file among the
descriptors), --bound-only (a socket bound but not listening), --udp
HOST:PORT (a datagram socket), --fds N (LISTEN_FDS as given, unchecked).
"""

import argparse
import os
import socket
import sys

FIRST_FD = 3		# systemd's SD_LISTEN_FDS_START
BACKLOG = 128


def tcp_socket(spec, kind=socket.SOCK_STREAM):
	host, _, port = spec.rpartition(":")
	host = host.strip("[]")
	family = socket.AF_INET6 if ":" in host else socket.AF_INET
	s = socket.socket(family, kind)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((host, int(port)))
	return s


def main(argv):
	p = argparse.ArgumentParser()
	p.add_argument("--tcp", action="append", default=[])
	p.add_argument("--unix", action="append", default=[])
	p.add_argument("--udp", action="append", default=[])
	p.add_argument("--file", action="append", default=[])
	p.add_argument("--bound-only", action="append", default=[])
	p.add_argument("--names")
	p.add_argument("--fds")
	p.add_argument("--wrong-pid", action="store_true")
	p.add_argument("command", nargs=argparse.REMAINDER)
	a = p.parse_args(argv)
	cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
	if not cmd:
		p.error("no command")

	fds = []
	for spec in a.tcp:
		s = tcp_socket(spec)
		s.listen(BACKLOG)
		fds.append(s.detach())
	for path in a.unix:
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.bind(path)
		s.listen(BACKLOG)
		fds.append(s.detach())
	for spec in a.udp:
		fds.append(tcp_socket(spec, socket.SOCK_DGRAM).detach())
	for spec in a.bound_only:
		fds.append(tcp_socket(spec).detach())
	for path in a.file:
		fds.append(os.open(path, os.O_RDONLY))

	# Out of the way first, so that moving one cannot clobber another.
	high = [os.dup(fd) for fd in fds]
	for fd in fds:
		os.close(fd)
	for i, fd in enumerate(high):
		os.dup2(fd, FIRST_FD + i, inheritable=True)
		os.close(fd)

	env = dict(os.environ)
	env["LISTEN_FDS"] = a.fds if a.fds is not None else str(len(fds))
	env["LISTEN_PID"] = str(os.getpid() + (1 if a.wrong_pid else 0))
	if a.names is not None:
		env["LISTEN_FDNAMES"] = a.names
	sys.stdout.flush()
	os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
	main(sys.argv[1:])
