/*
 * Unit tests of guard.c: case tables of the bodies clients send to the
 * create-class endpoints, each with the guard's verdict and the field it
 * names; host paths in canonical form; the relaxation options.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dspd.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * A JSON body written as it is sent: the preprocessor turns the tokens
 * into a string, so JSON's own escapes ("\u017f") stay as they are.
 */
#define J(...)		#__VA_ARGS__

#define PASS		GUARD_PASS
#define REFUSE		GUARD_REFUSE
#define BAD		GUARD_MALFORMED
#define LOOKUP		GUARD_LOOKUP

/*
 * One body: the action it is sent to, the guard options in force
 * ("allow-cap=NET_ADMIN;allow-devices", flag names or environment
 * twins), the verdict, the field named, and words the message must hold.
 */
struct body_case {
	const char		*action;
	const char		*body;
	size_t			 len;		/* 0: strlen(body) */
	const char		*options;	/* NULL: the defaults */
	enum guard_verdict	 verdict;
	const char		*field;		/* NULL: "" */
	const char		*says;		/* NULL: nothing more */
};

#define CC	"containers.create"
#define CU	"containers.update"
#define EC	"exec.create"
#define SC	"services.create"
#define SU	"services.update"
#define VC	"volumes.create"
#define PP	"plugins.pull"
#define PU	"plugins.upgrade"

/*
 * Watchtower re-creates a container from its inspect: the whole Config
 * and HostConfig as dockerd filled them in, default masked paths, an
 * empty device list and the cgroup namespace of a cgroup v1 host included.
 */
#define WATCHTOWER J({"Hostname":"4f1e2c","Domainname":"","User":"", \
	"AttachStdin":false,"AttachStdout":false,"AttachStderr":false, \
	"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false, \
	"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/bin"], \
	"Cmd":["nginx","-g","daemon off;"],"Image":"nginx:1.25", \
	"Volumes":null,"WorkingDir":"","Entrypoint":["/docker-entrypoint.sh"], \
	"OnBuild":null, \
	"Labels":{"com.centurylinklabs.watchtower.enable":"true"}, \
	"StopSignal":"SIGQUIT","HostConfig":{"Binds": \
	["/srv/www:/usr/share/nginx/html:ro", \
	"web-cache:/var/cache/nginx"],"ContainerIDFile":"", \
	"LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"bridge", \
	"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}, \
	"RestartPolicy":{"Name":"unless-stopped","MaximumRetryCount":0}, \
	"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null, \
	"CapDrop":null,"CgroupnsMode":"host","Dns":[],"DnsOptions":[], \
	"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"private", \
	"Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"", \
	"Privileged":false, \
	"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null, \
	"UTSMode":"","UsernsMode":"","ShmSize":67108864,"Runtime":"runc", \
	"ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0, \
	"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[], \
	"Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null, \
	"KernelMemory":0,"MemorySwappiness":null,"OomKillDisable":false, \
	"PidsLimit":null,"Ulimits":null, \
	"MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys", \
	"/proc/latency_stats","/proc/timer_list","/proc/timer_stats", \
	"/proc/sched_debug","/proc/scsi","/sys/firmware"], \
	"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys", \
	"/proc/sysrq-trigger"]},"NetworkingConfig":{"EndpointsConfig":{ \
	"bridge":{"IPAMConfig":null,"Links":null,"Aliases":null, \
	"NetworkID":"9c1e","EndpointID":"","Gateway":"","IPAddress":""}}}})

/* Portainer's "deploy the container" form, with its empty lists. */
#define PORTAINER J({"Image":"nginx:latest","Env":[],"Cmd":null, \
	"ExposedPorts":{"80/tcp":{}},"MacAddress":"","Labels":{}, \
	"OpenStdin":false,"Tty":false,"Volumes":{}, \
	"HostConfig":{"RestartPolicy":{"Name":"no"},"PortBindings": \
	{"80/tcp":[{"HostPort":"8080"}]},"PublishAllPorts":false,"Binds":[], \
	"AutoRemove":false,"NetworkMode":"bridge","Privileged":false, \
	"Init":false,"Runtime":"","ExtraHosts":[],"Devices":[], \
	"DeviceRequests":[],"Sysctls":{},"CapAdd":[],"CapDrop":[], \
	"Memory":0,"MemoryReservation":0,"NanoCpus":0}, \
	"NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig": \
	{"IPv4Address":"","IPv6Address":""},"MacAddress":""}}},"name":"web"})

/*
 * docker-compose 1.29 (Debian's), `up -d` of a service with a named
 * volume, as captured on the engine's socket.
 */
#define COMPOSE_V1 J({"Tty": false, "OpenStdin": false, "StdinOnce": false, \
	"AttachStdin": false, "AttachStdout": false, "AttachStderr": false, \
	"Cmd": ["sleep", "600"], "Image": "dsp-busybox", \
	"Volumes": {"/data": {}}, "NetworkDisabled": false, \
	"HostConfig": {"NetworkMode": "none", "VolumesFrom": [], \
	"Binds": ["gcap_data:/data:rw"], "PortBindings": {}, "Links": [], \
	"LogConfig": {"Type": "", "Config": {}}}, \
	"Labels": {"com.docker.compose.project": "gcap", \
	"com.docker.compose.service": "app", \
	"com.docker.compose.oneoff": "False", \
	"com.docker.compose.project.working_dir": "/tmp/gcap/proj", \
	"com.docker.compose.project.config_files": "docker-compose.yml", \
	"com.docker.compose.container-number": "1", \
	"com.docker.compose.version": "1.29.2"}})
#define COMPOSE_V1_VOLUME J({"Name": "gcap_data", "Labels": \
	{"com.docker.compose.project": "gcap", \
	"com.docker.compose.volume": "data", \
	"com.docker.compose.version": "1.29.2"}})

/*
 * `docker run -d --network none -v named:/data -v /srv/app:/app
 * dsp-busybox sleep 60` from CLI 28, as captured.
 */
#define DOCKER_RUN J({"Hostname":"","Domainname":"","User":"", \
	"AttachStdin":false,"AttachStdout":false,"AttachStderr":false, \
	"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null, \
	"Cmd":["sleep","60"],"Image":"dsp-busybox","Volumes":{}, \
	"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}, \
	"HostConfig":{"Binds":["named:/data","/srv/app:/app"], \
	"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}}, \
	"NetworkMode":"none","PortBindings":{},"RestartPolicy":{"Name":"no", \
	"MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"", \
	"VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null, \
	"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[], \
	"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"", \
	"Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false, \
	"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null, \
	"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"", \
	"CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"", \
	"BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[], \
	"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[], \
	"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0, \
	"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"", \
	"CpusetMems":"","Devices":[],"DeviceCgroupRules":null, \
	"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0, \
	"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0, \
	"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0, \
	"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null}, \
	"NetworkingConfig":{"EndpointsConfig":{}}})

/* The create of the HAProxy case: the whole host, in one request. */
#define ATTACK J({"Image":"dsp-busybox","HostConfig":{"Privileged":true, \
	"Binds":["/:/host"]}})

/* A NUL byte inside a string, raw. */
#define NUL_BODY "{\"Image\":\"a\0b\"}"

/* A bind of host path P, as a create body. */
#define BIND(p)	"{\"HostConfig\":{\"Binds\":[\"" p ":/x\"]}}"

static const struct body_case body_cases[] = {
	/* What the ordinary clients send passes. */
	{ CC, WATCHTOWER, 0, NULL, PASS, NULL, NULL },
	{ CC, PORTAINER, 0, NULL, PASS, NULL, NULL },
	{ CC, COMPOSE_V1, 0, NULL, PASS, NULL, NULL },
	{ VC, COMPOSE_V1_VOLUME, 0, NULL, PASS, NULL, NULL },
	{ CC, DOCKER_RUN, 0, NULL, PASS, NULL, NULL },
	{ CC, DOCKER_RUN, 0, "allow-bind=/srv/app", PASS, NULL, NULL },
	{ CC, J({"Image":"busybox"}), 0, NULL, PASS, NULL, NULL },
	{ CC, "null", 0, NULL, PASS, NULL, NULL },
	{ CC, " {} \r\n", 0, NULL, PASS, NULL, NULL },
	{ CC, J({"Image":"x","HostConfig":null,"Privileged":false}), 0, NULL,
	    PASS, NULL, NULL },
	{ CC, J({"Image":"x","Foo":{"Privileged":true},"Bar":[1,{}]}), 0,
	    NULL, PASS, NULL, NULL },
	/* Map keys are Go map keys: compared exactly, never folded. */
	{ CC, J({"Labels":{"a":"1","A":"2","\u017f":"3","s":"4"}}), 0, NULL,
	    PASS, NULL, NULL },
	/* Keys with non-ASCII letters but long s and Kelvin match nothing. */
	{ CC, J({"\u00c4":1,"\u00e4":2,"Privil\u00e9ged":true}), 0, NULL,
	    PASS, NULL, NULL },
	/* uint64 values beyond jansson's integers. */
	{ CC, J({"HostConfig":{"Memory":18446744073709551615}}), 0, NULL,
	    PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"CapDrop":["ALL"],"CapAdd":["CHOWN","setuid",
	    "CAP_SETGID","Net_Bind_Service"],"SecurityOpt":
	    ["no-new-privileges:true","no-new-privileges",
	    "apparmor=docker-default","label=level:s0:c1,c2"],
	    "ReadonlyRootfs":true}}), 0, NULL, PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"CapAdd":"KILL"}}), 0, NULL, PASS, NULL,
	    NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"net.ipv4.ip_unprivileged_port_start":
	    "0","net.core.somaxconn":"1024","kernel.shmmax":"1",
	    "fs.mqueue.msg_max":"10","kernel.domainname":"x"}}}), 0, NULL,
	    PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"MaskedPaths":null,"ReadonlyPaths":null}}), 0,
	    NULL, PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"none","IpcMode":"shareable",
	    "PidMode":"","UTSMode":"","UsernsMode":"","CgroupnsMode":"host"}}),
	    0, NULL, PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"my-net"},"NetworkingConfig":
	    {"EndpointsConfig":{"my-net":{"Aliases":["web"]}}}}), 0, NULL,
	    PASS, NULL, NULL },

	/* Binds: named and anonymous volumes, and host paths elsewhere. */
	{ CC, BIND("myvol"), 0, NULL, PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"Binds":["/data","vol:/d:ro","/srv/a:/a:ro,z",
	    "/home/u/x:/x","/var/lib/app:/app","/varnish:/v","/etcetera:/e",
	    "/opt/run:/r","/tmp/../srv:/s"]}}), 0, NULL, PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"volume","Source":"v",
	    "Target":"/v"},{"Type":"tmpfs","Target":"/t"},{"Type":"bind",
	    "Source":"/srv/x","Target":"/x","BindOptions":{"Propagation":
	    "rprivate"}},{"Type":"volume","Source":"n","Target":"/n",
	    "VolumeOptions":{"DriverConfig":{"Name":"local","Options":
	    {"type":"nfs","o":"addr=10.0.0.1,rw","device":":/export"}}}}]}}), 0,
	    NULL, PASS, NULL, NULL },

	/* The attack of the HAProxy case, and each default rule. */
	{ CC, ATTACK, 0, NULL, REFUSE, "HostConfig.Privileged",
	    "--allow-privileged" },
	{ CC, ATTACK, 0, "allow-privileged", REFUSE, "HostConfig.Binds[0]",
	    "host path / is the host's root" },
	{ CC, J({"Image":"x","Privileged":true,"Binds":["/:/host"]}), 0, NULL,
	    REFUSE, "Privileged", "DSP_ALLOW_PRIVILEGED=1" },
	{ CC, J({"HostConfig":{"Privileged":false},"Privileged":true}), 0,
	    NULL, REFUSE, "Privileged", NULL },
	{ CC, J({"HostConfig":{"PidMode":"host"}}), 0, NULL, REFUSE,
	    "HostConfig.PidMode", "--allow-host-namespaces" },
	{ CC, J({"HostConfig":{"IpcMode":"host"}}), 0, NULL, REFUSE,
	    "HostConfig.IpcMode", NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"host"}}), 0, NULL, REFUSE,
	    "HostConfig.NetworkMode", "shares the host's network namespace" },
	{ CC, J({"HostConfig":{"NetworkMode":"HOST"}}), 0, NULL, REFUSE,
	    "HostConfig.NetworkMode", NULL },
	{ CC, J({"HostConfig":{"UTSMode":"host"}}), 0, NULL, REFUSE,
	    "HostConfig.UTSMode", NULL },
	{ CC, J({"HostConfig":{"UsernsMode":"host"}}), 0, NULL, REFUSE,
	    "HostConfig.UsernsMode", NULL },
	{ CC, J({"HostConfig":{"PidMode":"container:db"}}), 0, NULL, REFUSE,
	    "HostConfig.PidMode",
	    "joins the PID namespace of another container" },
	{ CC, J({"HostConfig":{"IpcMode":"container:db"}}), 0, NULL, REFUSE,
	    "HostConfig.IpcMode", NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"container:4f1e"}}), 0, NULL,
	    REFUSE, "HostConfig.NetworkMode", NULL },
	{ CC, J({"NetworkMode":"host"}), 0, NULL, REFUSE, "NetworkMode",
	    NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"bridge"},"NetworkingConfig":
	    {"EndpointsConfig":{"host":{}}}}), 0, NULL, REFUSE,
	    "NetworkingConfig.EndpointsConfig.host", NULL },
	{ CC, J({"HostConfig":{"CapAdd":["SYS_ADMIN"]}}), 0, NULL, REFUSE,
	    "HostConfig.CapAdd[0]", "--allow-cap SYS_ADMIN" },
	{ CC, J({"HostConfig":{"CapAdd":"sys_admin"}}), 0, NULL, REFUSE,
	    "HostConfig.CapAdd", "DSP_ALLOW_CAP=SYS_ADMIN" },
	{ CC, J({"HostConfig":{"CapAdd":["CHOWN","cap_sys_module"]}}), 0, NULL,
	    REFUSE, "HostConfig.CapAdd[1]", "adds capability SYS_MODULE" },
	{ CC, J({"HostConfig":{"CapAdd":["all"]}}), 0, NULL, REFUSE,
	    "HostConfig.CapAdd[0]", "--allow-cap ALL" },
	{ CC, J({"HostConfig":{"CapAdd":["BOGUS"]}}), 0, NULL, REFUSE,
	    "HostConfig.CapAdd[0]", "no setting of dsp" },
	{ CC, J({"CapAdd":["NET_ADMIN"]}), 0, NULL, REFUSE, "CapAdd[0]",
	    NULL },
	{ CC, J({"HostConfig":{"Capabilities":["CAP_CHOWN","CAP_SYS_ADMIN"]}}),
	    0, NULL, REFUSE, "HostConfig.Capabilities[1]", NULL },
	{ CC, J({"HostConfig":{"Devices":[{"PathOnHost":"/dev/sda",
	    "PathInContainer":"/dev/sda","CgroupPermissions":"rwm"}]}}), 0,
	    NULL, REFUSE, "HostConfig.Devices[0]", "--allow-devices" },
	{ CC, J({"HostConfig":{"DeviceCgroupRules":["c *:* rwm"]}}), 0, NULL,
	    REFUSE, "HostConfig.DeviceCgroupRules[0]", NULL },
	{ CC, J({"HostConfig":{"DeviceRequests":[{"Driver":"nvidia",
	    "Count":-1,"Capabilities":[["gpu"]]}]}}), 0, NULL, REFUSE,
	    "HostConfig.DeviceRequests[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["seccomp=unconfined"]}}), 0,
	    NULL, REFUSE, "HostConfig.SecurityOpt[0]", "--allow-unconfined" },
	{ CC, J({"HostConfig":{"SecurityOpt":["no-new-privileges",
	    "seccomp:unconfined"]}}), 0, NULL, REFUSE,
	    "HostConfig.SecurityOpt[1]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["apparmor=unconfined"]}}), 0,
	    NULL, REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["apparmor:unconfined"]}}), 0,
	    NULL, REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["label=disable"]}}), 0, NULL,
	    REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["label:disable"]}}), 0, NULL,
	    REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["disable"]}}), 0, NULL,
	    REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["label=type:spc_t"]}}), 0, NULL,
	    REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["no-new-privileges=false"]}}), 0,
	    NULL, REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["no-new-privileges:false"]}}), 0,
	    NULL, REFUSE, "HostConfig.SecurityOpt[0]", NULL },
	{ CC, "{\"HostConfig\":{\"SecurityOpt\":[\"seccomp={\\\"default"
	    "Action\\\":\\\"SCMP_ACT_ALLOW\\\"}\"]}}", 0, NULL, REFUSE,
	    "HostConfig.SecurityOpt[0]", NULL },
	{ CC, J({"HostConfig":{"MaskedPaths":[],"ReadonlyPaths":[]}}), 0, NULL,
	    REFUSE, "HostConfig.MaskedPaths", "leaves out /proc/asound" },
	{ CC, J({"HostConfig":{"ReadonlyPaths":["/proc/bus","/proc/fs",
	    "/proc/irq","/proc/sysrq-trigger"]}}), 0, NULL, REFUSE,
	    "HostConfig.ReadonlyPaths", "leaves out /proc/sys," },
	{ CC, J({"HostConfig":{"Sysctls":{"kernel.core_pattern":"|/x"}}}), 0,
	    NULL, REFUSE, "HostConfig.Sysctls.kernel.core_pattern",
	    "--allow-sysctls" },
	{ CC, J({"HostConfig":{"Sysctls":{"vm.overcommit_memory":"1"}}}), 0,
	    NULL, REFUSE, "HostConfig.Sysctls.vm.overcommit_memory", NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"net..ipv4":"1"}}}), 0, NULL, REFUSE,
	    "HostConfig.Sysctls.net..ipv4", NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"net/../kernel/core_pattern":"x"}}}),
	    0, NULL, REFUSE, "HostConfig.Sysctls.net/../kernel/core_pattern",
	    NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"NET.ipv4.ip_forward":"1"}}}), 0,
	    NULL, REFUSE, "HostConfig.Sysctls.NET.ipv4.ip_forward", NULL },
	/* A namespaced sysctl is the host's once the namespace is. */
	{ CC, J({"HostConfig":{"NetworkMode":"host","Sysctls":
	    {"net.ipv4.ip_forward":"1"}}}), 0, "allow-host-namespaces", REFUSE,
	    "HostConfig.Sysctls.net.ipv4.ip_forward", NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"kernel.shmmax":"1"}},
	    "IpcMode":"host"}), 0, "allow-host-namespaces", REFUSE,
	    "HostConfig.Sysctls.kernel.shmmax", NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"host","Sysctls":
	    {"net.ipv4.ip_forward":"1"}}}), 0,
	    "allow-host-namespaces;allow-sysctls", PASS, NULL, NULL },

	/* Bind sources, protected and in canonical form. */
	{ CC, BIND("/"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "--allow-bind / or DSP_ALLOW_BIND=/ allows it" },
	{ CC, BIND("/etc"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("/etc/"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("//etc"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("/etc/../etc"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("/./etc/."), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("/../../etc"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("/srv/../etc"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc is protected" },
	{ CC, BIND("/etc/ssh"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /etc/ssh is under the protected /etc" },
	{ CC, BIND("/var/run/docker.sock"), 0, NULL, REFUSE,
	    "HostConfig.Binds[0]",
	    "host path /var/run/docker.sock is the Docker socket" },
	{ CC, BIND("/var/run/../run/docker.sock"), 0, NULL, REFUSE,
	    "HostConfig.Binds[0]",
	    "host path /var/run/docker.sock is the Docker socket" },
	{ CC, BIND("/run/docker.sock"), 0, NULL, REFUSE,
	    "HostConfig.Binds[0]", "the Docker socket" },
	{ CC, BIND("/var"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "host path /var holds the protected /var/run/docker.sock" },
	{ CC, BIND("/var/lib"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    "holds the protected /var/lib/docker" },
	{ CC, BIND("/var/lib/docker/volumes/x/_data"), 0, NULL, REFUSE,
	    "HostConfig.Binds[0]", "under the protected /var/lib/docker" },
	{ CC, BIND("/proc/1/root"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    NULL },
	{ CC, BIND("/sys/fs/cgroup"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    NULL },
	{ CC, BIND("/dev/sda1"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    NULL },
	{ CC, BIND("/boot"), 0, NULL, REFUSE, "HostConfig.Binds[0]", NULL },
	{ CC, BIND("/home/../root/.ssh"), 0, NULL, REFUSE,
	    "HostConfig.Binds[0]", "/root/.ssh is under the protected /root" },
	{ CC, BIND("/run/containerd"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    NULL },
	{ CC, BIND("/usr/bin"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    NULL },
	{ CC, BIND("/etc:/x:ro"), 0, NULL, REFUSE, "HostConfig.Binds[0]",
	    NULL },
	{ CC, J({"HostConfig":{"Binds":["/srv:/s","\u002fetc:/x"]}}), 0, NULL,
	    REFUSE, "HostConfig.Binds[1]", "host path /etc is protected" },
	{ CC, J({"Binds":["/:/host"]}), 0, NULL, REFUSE, "Binds[0]", NULL },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/",
	    "Target":"/host"}]}}), 0, NULL, REFUSE,
	    "HostConfig.Mounts[0].Source", "the host's root" },
	{ CC, J({"HostConfig":{"Mounts":[{"type":"BIND","source":"/etc",
	    "target":"/e"}]}}), 0, NULL, REFUSE,
	    "HostConfig.Mounts[0].Source", NULL },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"bind","Source":"srv",
	    "Target":"/s"}]}}), 0, NULL, REFUSE,
	    "HostConfig.Mounts[0].Source", "not a plain absolute path" },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"bind","Target":"/s"}]}}), 0,
	    NULL, REFUSE, "HostConfig.Mounts[0].Source", "no setting" },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/srv/\u0001",
	    "Target":"/s"}]}}), 0, NULL, REFUSE,
	    "HostConfig.Mounts[0].Source", "\\x01" },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"bind","Source":"\\etc",
	    "Target":"/s"}]}}), 0, NULL, REFUSE,
	    "HostConfig.Mounts[0].Source", NULL },
	{ CC, J({"Mounts":[{"Type":"bind","Source":"/etc","Target":"/s"}]}), 0,
	    NULL, REFUSE, "Mounts[0].Source", NULL },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"volume","Source":"v",
	    "Target":"/v","VolumeOptions":{"DriverConfig":{"Name":"local",
	    "Options":{"type":"none","o":"bind","device":"/etc"}}}}]}}), 0,
	    NULL, REFUSE,
	    "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options.device",
	    "host path /etc is protected" },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"volume","Source":"v",
	    "Target":"/v","VolumeOptions":{"DriverConfig":{"Options":
	    {"type":"proc","device":"proc"}}}}]}}), 0, NULL, REFUSE,
	    "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options.type",
	    NULL },

	/* The allow-list of --allow-bind. */
	{ CC, BIND("/srv/app/data"), 0, "allow-bind=/srv/app", PASS, NULL,
	    NULL },
	{ CC, BIND("/srv/app"), 0, "allow-bind=/srv/app/", PASS, NULL, NULL },
	{ CC, BIND("/srv/application"), 0, "allow-bind=/srv/app", REFUSE,
	    "HostConfig.Binds[0]", "host path /srv/application is under no "
	    "--allow-bind path; adding --allow-bind /srv/application (or "
	    "/srv/application to DSP_ALLOW_BIND) allows it" },
	{ CC, BIND("/srv"), 0, "allow-bind=/srv/app", REFUSE,
	    "HostConfig.Binds[0]", NULL },
	{ CC, BIND("/srv/app/../other"), 0, "allow-bind=/srv/app", REFUSE,
	    "HostConfig.Binds[0]", "host path /srv/other" },
	{ CC, BIND("/home/u"), 0, "allow-bind=/srv/app", REFUSE,
	    "HostConfig.Binds[0]", NULL },
	{ CC, BIND("/var/run/docker.sock"), 0,
	    "allow-bind=/srv;allow-bind=/var/run/docker.sock", PASS, NULL,
	    NULL },
	{ CC, BIND("/etc"), 0, "DSP_ALLOW_BIND=/srv,/data", REFUSE,
	    "HostConfig.Binds[0]", NULL },
	{ CC, BIND("/data/x"), 0, "DSP_ALLOW_BIND=/srv,/data", PASS, NULL,
	    NULL },
	{ CC, BIND("/etc"), 0, "allow-bind=/", PASS, NULL, NULL },
	{ CC, BIND("named"), 0, "allow-bind=/srv", PASS, NULL, NULL },

	/* Relaxations, one rule each. */
	{ CC, J({"HostConfig":{"Privileged":true}}), 0,
	    "DSP_ALLOW_PRIVILEGED=yes", PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"PidMode":"host","NetworkMode":"host",
	    "IpcMode":"container:x","UsernsMode":"host","UTSMode":"host"}}), 0,
	    "allow-host-namespaces", PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"CapAdd":["NET_ADMIN","sys_time"]}}), 0,
	    "allow-cap=net_admin;DSP_ALLOW_CAP=CAP_SYS_TIME", PASS, NULL,
	    NULL },
	{ CC, J({"HostConfig":{"CapAdd":["NET_ADMIN","SYS_ADMIN"]}}), 0,
	    "allow-cap=NET_ADMIN", REFUSE, "HostConfig.CapAdd[1]", NULL },
	{ CC, J({"HostConfig":{"CapAdd":["ALL"]}}), 0, "allow-cap=ALL", PASS,
	    NULL, NULL },
	{ CC, J({"HostConfig":{"Devices":[{"PathOnHost":"/dev/fuse"}],
	    "DeviceCgroupRules":["c 10:229 rwm"],"DeviceRequests":[{}]}}), 0,
	    "allow-devices", PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"SecurityOpt":["seccomp=unconfined",
	    "apparmor=unconfined"],"MaskedPaths":[],"ReadonlyPaths":[]}}), 0,
	    "DSP_ALLOW_UNCONFINED=1", PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"kernel.core_pattern":"x"}}}), 0,
	    "allow-sysctls", PASS, NULL, NULL },
	{ CC, ATTACK, 0, "allow-privileged;allow-bind=/", PASS, NULL, NULL },

	/* Keys as Go matches them: any case, long s, Kelvin sign, escapes. */
	{ CC, J({"hostconfig":{"privileged":true}}), 0, NULL, REFUSE,
	    "HostConfig.Privileged", NULL },
	{ CC, J({"HOSTCONFIG":{"PRIVILEGED":true}}), 0, NULL, REFUSE,
	    "HostConfig.Privileged", NULL },
	{ CC, J({"Ho\u017ftConfig":{"Privileged":true}}), 0, NULL, REFUSE,
	    "HostConfig.Privileged", NULL },
	{ CC, "{\"Ho\xc5\xbftConfig\":{\"Bind\xc5\xbf\":[\"/:/h\"]}}", 0, NULL,
	    REFUSE, "HostConfig.Binds[0]", NULL },
	{ CC, J({"HostConfig":{"Networ\u212aMode":"host"}}), 0, NULL, REFUSE,
	    "HostConfig.NetworkMode", NULL },
	{ CC, "{\"HostConfig\":{\"Networ\xe2\x84\xaaMode\":\"host\"}}", 0,
	    NULL, REFUSE, "HostConfig.NetworkMode", NULL },
	{ CC, J({"HostConfig":{"Privil\u0065ged":true}}), 0, NULL, REFUSE,
	    "HostConfig.Privileged", NULL },
	{ CC, J({"\u0048ostConfig":{"\u0050rivileged":true}}), 0, NULL, REFUSE,
	    "HostConfig.Privileged", NULL },
	{ CC, J({"HostConfig":{"NetworkMode":"ho\u0073t"}}), 0, NULL, REFUSE,
	    "HostConfig.NetworkMode", NULL },
	{ CC, J({"HostConfig":{"CapAdd":["\u017fys_admin"]}}), 0, NULL,
	    REFUSE, "HostConfig.CapAdd[0]", "adds capability SYS_ADMIN" },
	/* Go's ToUpper takes the dotless i to I: dockerd adds NET_ADMIN. */
	{ CC, J({"HostConfig":{"CapAdd":["net_adm\u0131n"]}}), 0,
	    "allow-cap=NET_ADMIN", PASS, NULL, NULL },
	{ CC, J({"HostConfig":{"CapAdd":["net_adm\u0131n"]}}), 0, NULL,
	    REFUSE, "HostConfig.CapAdd[0]", "adds capability NET_ADMIN" },
	/* A Kelvin sign folds in keys, not in values dockerd compares. */
	{ CC, J({"HostConfig":{"Binds":["/\u212a:/k"]}}), 0, NULL, PASS, NULL,
	    NULL },

	/* Duplicates, exact or folded, are refused. */
	{ CC, J({"Image":"a","Image":"b"}), 0, NULL, BAD, NULL,
	    "duplicate" },
	{ CC, J({"HostConfig":{"Privileged":false,"Privileged":true}}), 0,
	    NULL, BAD, NULL, "duplicate" },
	{ CC, J({"HostConfig":{"Privileged":false,"Privil\u0065ged":true}}), 0,
	    NULL, BAD, NULL, "duplicate" },
	{ CC, J({"HostConfig":{"Privileged":false,"privileged":true}}), 0,
	    NULL, BAD, "HostConfig", "fold to the same name" },
	{ CC, J({"HostConfig":{},"Ho\u017ftConfig":{"Privileged":true}}), 0,
	    NULL, BAD, "(body)", "fold to the same name" },
	{ CC, J({"HostConfig":{"NetworkMode":"bridge",
	    "Networ\u212aMode":"host"}}), 0, NULL, BAD, "HostConfig", NULL },
	{ CC, J({"Image":"a","IMAGE":"b"}), 0, NULL, BAD, "(body)", NULL },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"volume","type":"bind",
	    "Source":"/","Target":"/h"}]}}), 0, NULL, BAD,
	    "HostConfig.Mounts[0]", NULL },

	/* Not JSON, empty, or the wrong shapes. */
	{ CC, "", 0, NULL, BAD, NULL, "empty" },
	{ CC, " \r\n\t", 0, NULL, BAD, NULL, "empty" },
	{ CC, "not json", 0, NULL, BAD, NULL, "not JSON" },
	{ CC, "{\"Image\":", 0, NULL, BAD, NULL, "not JSON" },
	{ CC, "{\"Image\":\"x\"} {\"HostConfig\":{\"Privileged\":true}}", 0,
	    NULL, BAD, NULL, "not JSON" },
	{ CC, "{\"Image\":\"a\\u0000b\"}", 0, NULL, BAD, NULL, "not JSON" },
	{ CC, NUL_BODY, sizeof(NUL_BODY) - 1, NULL, BAD, NULL, "not JSON" },
	{ CC, "{\"Image\":\"\xff\"}", 0, NULL, BAD, NULL, "not JSON" },
	{ CC, "{\"Image\":\"\\ud800\"}", 0, NULL, BAD, NULL, "not JSON" },
	{ CC, "[]", 0, NULL, BAD, "(body)", "an object was expected" },
	{ CC, "true", 0, NULL, BAD, "(body)", NULL },
	{ CC, "\"x\"", 0, NULL, BAD, "(body)", NULL },
	{ CC, J({"HostConfig":[]}), 0, NULL, BAD, "HostConfig",
	    "an object was expected" },
	{ CC, J({"HostConfig":"Privileged"}), 0, NULL, BAD, "HostConfig",
	    NULL },
	{ CC, J({"HostConfig":{"Privileged":"true"}}), 0, NULL, BAD,
	    "HostConfig.Privileged", "a boolean was expected" },
	{ CC, J({"HostConfig":{"Privileged":1}}), 0, NULL, BAD,
	    "HostConfig.Privileged", NULL },
	{ CC, J({"HostConfig":{"Binds":"/:/host"}}), 0, NULL, BAD,
	    "HostConfig.Binds", "an array was expected" },
	{ CC, J({"HostConfig":{"Binds":[["/:/host"]]}}), 0, NULL, BAD,
	    "HostConfig.Binds[0]", "a string was expected" },
	{ CC, J({"HostConfig":{"CapAdd":5}}), 0, NULL, BAD,
	    "HostConfig.CapAdd", NULL },
	{ CC, J({"HostConfig":{"Sysctls":["kernel.x=1"]}}), 0, NULL, BAD,
	    "HostConfig.Sysctls", NULL },
	{ CC, J({"HostConfig":{"Sysctls":{"net.x":1}}}), 0, NULL, BAD,
	    "HostConfig.Sysctls.net.x", NULL },
	{ CC, J({"HostConfig":{"NetworkMode":["host"]}}), 0, NULL, BAD,
	    "HostConfig.NetworkMode", "a string was expected" },
	{ CC, J({"HostConfig":{"Mounts":[{"Type":"bind","Source":5}]}}), 0,
	    NULL, BAD, "HostConfig.Mounts[0].Source", NULL },
	{ CC, J({"HostConfig":{"Mounts":["/:/h"]}}), 0, NULL, BAD,
	    "HostConfig.Mounts[0]", NULL },

	/* VolumesFrom: the named containers must be read first. */
	{ CC, J({"HostConfig":{"VolumesFrom":["data:ro"]}}), 0, NULL, LOOKUP,
	    NULL, NULL },
	{ CC, J({"HostConfig":{"VolumesFrom":["/data","4f1e2c:rw"]},
	    "VolumesFrom":["other"]}), 0, NULL, LOOKUP, NULL, NULL },
	{ CC, J({"HostConfig":{"VolumesFrom":["data"],"Privileged":true}}), 0,
	    NULL, REFUSE, "HostConfig.Privileged", NULL },
	{ CC, J({"HostConfig":{"VolumesFrom":["../x"]}}), 0, NULL, BAD,
	    "HostConfig.VolumesFrom[0]", "not a container name" },
	{ CC, J({"HostConfig":{"VolumesFrom":["a/b"]}}), 0, NULL, BAD,
	    "HostConfig.VolumesFrom[0]", NULL },
	{ CC, J({"HostConfig":{"VolumesFrom":[""]}}), 0, NULL, BAD,
	    "HostConfig.VolumesFrom[0]", NULL },

	/* Exec create. */
	{ EC, J({"AttachStdout":true,"Cmd":["sh","-c","id"],"User":"root",
	    "Privileged":false,"Env":null}), 0, NULL, PASS, NULL, NULL },
	{ EC, J({"Cmd":["sh"],"Privileged":true}), 0, NULL, REFUSE,
	    "Privileged", "a privileged process is root on the host" },
	{ EC, J({"Cmd":["sh"],"privileged":true}), 0, NULL, REFUSE,
	    "Privileged", NULL },
	{ EC, J({"Cmd":["sh"],"Privileged":true}), 0, "allow-privileged",
	    PASS, NULL, NULL },
	{ EC, "", 0, NULL, BAD, NULL, "empty" },

	/* Container update: resources, devices among them. */
	{ CU, J({"RestartPolicy":{"Name":"always"},"Memory":1048576}), 0, NULL,
	    PASS, NULL, NULL },
	{ CU, J({"Devices":[{"PathOnHost":"/dev/mem"}]}), 0, NULL, REFUSE,
	    "Devices[0]", NULL },
	{ CU, J({"DeviceCgroupRules":["b *:* rwm"]}), 0, NULL, REFUSE,
	    "DeviceCgroupRules[0]", NULL },
	{ CU, "", 0, NULL, BAD, NULL, NULL },

	/* Volumes create: the local driver's options. */
	{ VC, J({"Name":"data","Labels":{"a":"b"}}), 0, NULL, PASS, NULL,
	    NULL },
	{ VC, J({"Name":"t","Driver":"local","DriverOpts":{"type":"tmpfs",
	    "device":"tmpfs","o":"size=100m,uid=1000"}}), 0, NULL, PASS, NULL,
	    NULL },
	{ VC, J({"Name":"b","DriverOpts":{"type":"none","o":"bind",
	    "device":"/srv/data"}}), 0, NULL, PASS, NULL, NULL },
	{ VC, J({"Name":"n","DriverOpts":{"type":"cifs",
	    "device":"//server/share","o":"addr=server,username=u"}}), 0, NULL,
	    PASS, NULL, NULL },
	{ VC, J({"Name":"b","DriverOpts":{"type":"none","o":"bind",
	    "device":"/etc"}}), 0, NULL, REFUSE, "DriverOpts.device",
	    "host path /etc is protected" },
	{ VC, J({"Name":"b","Driver":"local","DriverOpts":{"type":"none",
	    "o":"ro,rbind","device":"/"}}), 0, NULL, REFUSE,
	    "DriverOpts.device", NULL },
	{ VC, J({"Name":"b","DriverOpts":{"type":"none","o":"bind",
	    "device":"srv"}}), 0, NULL, REFUSE, "DriverOpts.device",
	    "not a plain absolute path" },
	{ VC, J({"Name":"d","DriverOpts":{"type":"ext4",
	    "device":"/dev/sda1"}}), 0, NULL, REFUSE, "DriverOpts.device",
	    "under the protected /dev" },
	{ VC, J({"Name":"d","DriverOpts":{"type":"ext4",
	    "device":"/dev/sdb1"}}), 0, "allow-bind=/dev/sdb1", PASS, NULL,
	    NULL },
	{ VC, J({"Name":"o","DriverOpts":{"type":"overlay","device":"overlay",
	    "o":"lowerdir=/,upperdir=/tmp/u,workdir=/tmp/w"}}), 0, NULL,
	    REFUSE, "DriverOpts.type", "no setting of dsp allows it" },
	{ VC, J({"Name":"c","DriverOpts":{"type":"cgroup","device":"cgroup",
	    "o":"memory"}}), 0, NULL, REFUSE, "DriverOpts.type", NULL },
	/* Another driver's options are the plugin's business. */
	{ VC, J({"Name":"p","Driver":"vieux/sshfs","DriverOpts":{"o":"bind",
	    "device":"/etc"}}), 0, NULL, PASS, NULL, NULL },
	{ VC, J({"Name":"x","DriverOpts":{"o":1}}), 0, NULL, BAD,
	    "DriverOpts.o", NULL },
	{ VC, "", 0, NULL, BAD, NULL, NULL },

	/* Services: the task template's container spec and networks. */
	{ SC, J({"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"nginx",
	    "Mounts":[{"Type":"volume","Source":"data","Target":"/d"}],
	    "CapabilityDrop":["NET_RAW"],"Privileges":{"SELinuxContext":
	    {"Disable":false}}},"Networks":[{"Target":"overlay-net"}]},
	    "Mode":{"Replicated":{"Replicas":2}}}), 0, NULL, PASS, NULL, NULL },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Mounts":[{"Type":"bind",
	    "Source":"/","Target":"/host"}]}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Mounts[0].Source", NULL },
	{ SU, J({"TaskTemplate":{"ContainerSpec":{"CapabilityAdd":
	    ["CAP_SYS_ADMIN"]}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.CapabilityAdd[0]",
	    "--allow-cap SYS_ADMIN" },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Privileges":
	    {"SELinuxContext":{"Disable":true}}}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Disable",
	    "--allow-unconfined" },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Privileges":
	    {"SELinuxContext":{"Type":"spc_t"}}}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Type", NULL },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Privileges":
	    {"Seccomp":{"Mode":"unconfined"}}}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode", NULL },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Privileges":
	    {"AppArmor":{"Mode":"disabled"}}}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Privileges.AppArmor.Mode", NULL },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Sysctls":
	    {"kernel.modprobe":"/x"}}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Sysctls.kernel.modprobe", NULL },
	{ SC, J({"TaskTemplate":{"ContainerSpec":{"Image":"x"},"Networks":
	    [{"Target":"ingress"},{"Target":"host"}]}}), 0, NULL, REFUSE,
	    "TaskTemplate.Networks[1].Target", "--allow-host-namespaces" },
	{ SU, J({"Networks":[{"Target":"host"}]}), 0, NULL, REFUSE,
	    "Networks[0].Target", NULL },
	{ SC, J({"taskTemplate":{"containerSpec":{"mounts":[{"type":"bind",
	    "source":"/etc","target":"/e"}]}}}), 0, NULL, REFUSE,
	    "TaskTemplate.ContainerSpec.Mounts[0].Source", NULL },
	{ SC, J({"TaskTemplate":{"Runtime":"plugin","PluginSpec":{"Name":"p",
	    "Remote":"vieux/sshfs","Privileges":[{"Name":"mount",
	    "Value":["/"]}]}}}), 0, NULL, REFUSE,
	    "TaskTemplate.PluginSpec.Privileges[0].Value[0]", NULL },
	{ SC, J({"TaskTemplate":[]}), 0, NULL, BAD, "TaskTemplate", NULL },
	{ SU, "", 0, NULL, BAD, NULL, NULL },

	/* Plugin pull and upgrade: the privileges the plugin will get. */
	{ PP, "[]", 0, NULL, PASS, NULL, NULL },
	{ PP, "null", 0, NULL, PASS, NULL, NULL },
	{ PP, J([{"Name":"network","Description":"","Value":["none"]}]), 0,
	    NULL, PASS, NULL, NULL },
	/* vieux/sshfs, as `docker plugin install` sends its privileges. */
	{ PP, J([{"Name":"network","Description":
	    "permissions to access a network","Value":["host"]},
	    {"Name":"mount","Description":"host path to mount",
	    "Value":["/var/lib/docker/plugins/"]},
	    {"Name":"device","Description":"host device to access",
	    "Value":["/dev/fuse"]},{"Name":"capabilities","Description":
	    "list of additional capabilities required",
	    "Value":["CAP_SYS_ADMIN"]}]), 0, NULL, REFUSE, "[0].Value[0]",
	    "--allow-host-namespaces" },
	{ PU, J([{"Name":"mount","Value":["/var/lib/docker/plugins/"]}]), 0,
	    NULL, REFUSE, "[0].Value[0]",
	    "under the protected /var/lib/docker" },
	{ PP, J([{"Name":"network","Value":["host"]},{"Name":"mount",
	    "Value":["/var/lib/docker/plugins/"]},{"Name":"device",
	    "Value":["/dev/fuse"]},{"Name":"capabilities",
	    "Value":["CAP_SYS_ADMIN"]}]), 0,
	    "allow-host-namespaces;allow-devices;allow-cap=SYS_ADMIN;"
	    "allow-bind=/var/lib/docker/plugins", PASS, NULL, NULL },
	{ PP, J([{"Name":"host pid namespace","Value":["true"]}]), 0, NULL,
	    REFUSE, "[0].Name", NULL },
	{ PP, J([{"Name":"host ipc namespace","Value":["true"]}]), 0, NULL,
	    REFUSE, "[0].Name", NULL },
	{ PP, J([{"Name":"allow-all-devices","Value":["true"]}]), 0, NULL,
	    REFUSE, "[0].Name", "--allow-devices" },
	{ PP, J([{"Name":"capabilities","Value":["CAP_CHOWN",
	    "CAP_SYS_MODULE"]}]), 0, NULL, REFUSE, "[0].Value[1]", NULL },
	{ PU, J([{"name":"device","value":["/dev/sda"]}]), 0, NULL, REFUSE,
	    "[0].Name", NULL },
	{ PP, J([{"Name":"secret-sauce","Value":["x"]}]), 0, NULL, REFUSE,
	    "[0].Name", "does not know" },
	{ PP, J({"Name":"mount"}), 0, NULL, BAD, "(body)",
	    "an array was expected" },
	{ PP, J([{"Name":"mount","Value":"/"}]), 0, NULL, BAD, "[0].Value",
	    NULL },
	{ PP, "", 0, NULL, BAD, NULL, NULL },
};

/* Apply "name[=value];..." to a fresh config; the test fails on error. */
static void
config_of(const char *options, struct guard_config *conf)
{
	char	 buf[512], err[256], *item, *value, *last;

	guard_config_init(conf);
	if (options == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", options);
	for (item = strtok_r(buf, ";", &last); item != NULL;
	    item = strtok_r(NULL, ";", &last)) {
		value = strchr(item, '=');
		if (value != NULL)
			*value++ = '\0';
		if (guard_option(conf, item, value, err, sizeof(err)) != 0)
			fail_msg("option %s refused: %s", item, err);
	}
}

/* The catalogue's entry for an action. */
static const struct endpoint *
endpoint_of(const char *action)
{
	const struct endpoint	*eps;
	size_t			 n, i;

	eps = catalogue_entries(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(eps[i].action, action) == 0)
			return (&eps[i]);
	}
	fail_msg("no catalogue entry for %s", action);
	return (NULL);
}

static const char *
verdict_name(enum guard_verdict v)
{
	switch (v) {
	case GUARD_PASS:
		return ("pass");
	case GUARD_REFUSE:
		return ("refuse");
	case GUARD_MALFORMED:
		return ("malformed");
	case GUARD_LOOKUP:
		return ("lookup");
	}
	return ("?");
}

/*
 * What every verdict promises the session: a refusal's message is for
 * the client, starts "dsp: ", names the field and a way out; a pass
 * says nothing.
 */
static void
check_result_shape(size_t i, const struct guard_result *r)
{
	switch (r->verdict) {
	case GUARD_PASS:
	case GUARD_LOOKUP:
		if (r->field[0] != '\0' || r->message[0] != '\0')
			fail_msg("case %zu: %s with field \"%s\", message "
			    "\"%s\"", i, verdict_name(r->verdict), r->field,
			    r->message);
		break;
	case GUARD_REFUSE:
		if (strncmp(r->message, "dsp: ", 5) != 0 ||
		    strstr(r->message, r->field) == NULL ||
		    strstr(r->message, " refused: ") == NULL ||
		    strstr(r->message, "allows it") == NULL)
			fail_msg("case %zu: refusal message \"%s\" (field "
			    "\"%s\")", i, r->message, r->field);
		if (r->nlookups != 0 || r->lookups != NULL)
			fail_msg("case %zu: refusal keeps lookups", i);
		break;
	case GUARD_MALFORMED:
		if (strncmp(r->message, "dsp: malformed body: ", 21) != 0)
			fail_msg("case %zu: malformed message \"%s\"", i,
			    r->message);
		if (r->nlookups != 0 || r->lookups != NULL)
			fail_msg("case %zu: malformed keeps lookups", i);
		break;
	}
	if (strchr(r->message, '\n') != NULL)
		fail_msg("case %zu: message spans lines", i);
}

static void
test_bodies(void **state)
{
	const struct body_case	*c;
	struct guard_config	 conf;
	struct guard_result	 r;
	size_t			 i;

	for (i = 0; i < nitems(body_cases); i++) {
		c = &body_cases[i];
		config_of(c->options, &conf);
		if (guard_check(&conf, endpoint_of(c->action), c->body,
		    c->len ? c->len : strlen(c->body), &r) != 0)
			fail_msg("case %zu: guard_check failed", i);
		if (r.verdict != c->verdict)
			fail_msg("case %zu (%s %.60s): %s, want %s: %s", i,
			    c->action, c->body, verdict_name(r.verdict),
			    verdict_name(c->verdict), r.message);
		if (strcmp(r.field, c->field ? c->field : "") != 0)
			fail_msg("case %zu: field \"%s\", want \"%s\": %s", i,
			    r.field, c->field ? c->field : "", r.message);
		if (c->says != NULL && strstr(r.message, c->says) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i,
			    r.message, c->says);
		check_result_shape(i, &r);
		guard_result_clear(&r);
		guard_config_free(&conf);
	}
}

/* The names a create's VolumesFrom hands the session to inspect. */
static void
test_lookups(void **state)
{
	static const char	 body[] = J({"HostConfig":{"VolumesFrom":
	    ["/data","4f1e2c:rw"]},"VolumesFrom":["other:ro"]});
	struct guard_config	 conf;
	struct guard_result	 r;
	char			 many[2048];
	size_t			 i, o;

	guard_config_init(&conf);
	assert_int_equal(guard_check(&conf, endpoint_of(CC), body,
	    strlen(body), &r), 0);
	assert_int_equal(r.verdict, GUARD_LOOKUP);
	assert_int_equal(r.nlookups, 3);
	assert_string_equal(r.lookups[0], "data");
	assert_string_equal(r.lookups[1], "4f1e2c");
	assert_string_equal(r.lookups[2], "other");
	guard_result_clear(&r);
	assert_null(r.lookups);
	assert_int_equal(r.nlookups, 0);

	/* One VolumesFrom more than the guard reads is refused. */
	o = (size_t)snprintf(many, sizeof(many),
	    "{\"HostConfig\":{\"VolumesFrom\":[");
	for (i = 0; i < 33; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "%s\"c%zu\"",
		    i ? "," : "", i);
	snprintf(many + o, sizeof(many) - o, "]}}");
	assert_int_equal(guard_check(&conf, endpoint_of(CC), many,
	    strlen(many), &r), 0);
	assert_int_equal(r.verdict, GUARD_MALFORMED);
	assert_string_equal(r.field, "HostConfig.VolumesFrom[32]");
	assert_null(r.lookups);
	guard_result_clear(&r);
}

/* An inspect of a container a create takes volumes from. */
struct inherited_case {
	const char		*inspect;
	const char		*options;
	enum guard_verdict	 verdict;
	const char		*says;
};

static const struct inherited_case inherited_cases[] = {
	{ J({"Id":"4f1e","Name":"/data","HostConfig":{"Binds":null,
	    "Mounts":null},"Mounts":[{"Type":"volume","Name":"v",
	    "Source":"/var/lib/docker/volumes/v/_data","Destination":"/v",
	    "Driver":"local","RW":true}]}), NULL, PASS, NULL },
	{ J({"Id":"4f1e","Name":"/data","HostConfig":{"Binds":
	    ["/srv/d:/d"]},"Mounts":[{"Type":"bind","Source":"/srv/d",
	    "Destination":"/d","RW":true}]}), NULL, PASS, NULL },
	{ J({"Name":"/data","HostConfig":{"Binds":["/etc:/e"]}}), NULL,
	    REFUSE, "container \"data\", whose HostConfig.Binds[0]=\"/etc:/e\""
	    " refused: host path /etc is protected" },
	{ J({"Name":"/data","HostConfig":{"Mounts":[{"Type":"bind",
	    "Source":"/","Target":"/h"}]}}), NULL, REFUSE,
	    "HostConfig.Mounts[0].Source" },
	{ J({"Name":"/data","Mounts":[{"Type":"bind",
	    "Source":"/var/run/docker.sock","Destination":"/s"}]}), NULL,
	    REFUSE, "Mounts[0].Source=\"/var/run/docker.sock\"" },
	{ J({"Name":"/data","Mounts":[{"Type":"bind","Source":"/srv/d",
	    "Destination":"/d"}]}), "allow-bind=/opt", REFUSE,
	    "under no --allow-bind path" },
	{ J({"Name":"/data","Mounts":[{"Type":"bind","Source":"/opt/d",
	    "Destination":"/d"}]}), "allow-bind=/opt", PASS, NULL },
	{ "<html>", NULL, REFUSE, "could not read" },
	{ "", NULL, REFUSE, "could not read" },
	{ "[]", NULL, REFUSE, "could not read" },
	{ J({"Name":"/d","HostConfig":{"Binds":"/:/h"}}), NULL, REFUSE,
	    "could not read" },
};

static void
test_inherited(void **state)
{
	const struct inherited_case	*c;
	struct guard_config		 conf;
	struct guard_result		 r;
	size_t				 i;

	for (i = 0; i < nitems(inherited_cases); i++) {
		c = &inherited_cases[i];
		config_of(c->options, &conf);
		if (guard_check_inherited(&conf, c->inspect,
		    strlen(c->inspect), &r) != 0)
			fail_msg("case %zu: guard_check_inherited failed", i);
		if (r.verdict != c->verdict)
			fail_msg("case %zu: %s, want %s: %s", i,
			    verdict_name(r.verdict), verdict_name(c->verdict),
			    r.message);
		if (c->verdict == GUARD_REFUSE) {
			assert_string_equal(r.field, "HostConfig.VolumesFrom");
			if (strncmp(r.message, "dsp: HostConfig.VolumesFrom ",
			    28) != 0)
				fail_msg("case %zu: message \"%s\"", i,
				    r.message);
		}
		if (c->says != NULL && strstr(r.message, c->says) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i,
			    r.message, c->says);
		guard_result_clear(&r);
		guard_config_free(&conf);
	}
}

/* A host path and its canonical form; NULL: refused as odd. */
struct canon_case {
	const char	*in;
	const char	*out;
};

static const struct canon_case canon_cases[] = {
	{ "/", "/" },
	{ "//", "/" },
	{ "/etc", "/etc" },
	{ "/etc/", "/etc" },
	{ "//etc", "/etc" },
	{ "/etc//ssh/", "/etc/ssh" },
	{ "/etc/../etc", "/etc" },
	{ "/etc/./ssh/.", "/etc/ssh" },
	{ "/..", "/" },
	{ "/../..//etc", "/etc" },
	{ "/a/b/../../c", "/c" },
	{ "/var/run/../run/docker.sock", "/var/run/docker.sock" },
	{ "/srv/...", "/srv/..." },
	{ "/srv/..x/.y", "/srv/..x/.y" },
	{ "/srv/a b", "/srv/a b" },
	{ "/srv/\xc3\xa9", "/srv/\xc3\xa9" },
	{ "", NULL },
	{ "etc", NULL },
	{ "./etc", NULL },
	{ "../etc", NULL },
	{ "~/x", NULL },
	{ "\\etc", NULL },
	{ "/srv\\..\\etc", NULL },
	{ "/srv/\t", NULL },
	{ "/srv/\n/x", NULL },
	{ "/srv/\x7f", NULL },
};

static void
test_canon_path(void **state)
{
	const struct canon_case	*c;
	char			 out[4096], *longpath;
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(canon_cases); i++) {
		c = &canon_cases[i];
		rc = guard_canon_path(c->in, out, sizeof(out));
		if (c->out == NULL && rc == 0)
			fail_msg("\"%s\" accepted as \"%s\"", c->in, out);
		if (c->out != NULL && rc != 0)
			fail_msg("\"%s\" refused", c->in);
		if (c->out != NULL && strcmp(out, c->out) != 0)
			fail_msg("\"%s\" became \"%s\", want \"%s\"", c->in,
			    out, c->out);
	}

	/* Longer than the kernel's PATH_MAX, or than the room given. */
	longpath = malloc(5000);
	assert_non_null(longpath);
	memset(longpath, 'a', 4999);
	longpath[0] = '/';
	longpath[4999] = '\0';
	assert_int_not_equal(guard_canon_path(longpath, out, sizeof(out)), 0);
	free(longpath);
	assert_int_not_equal(guard_canon_path("/etc/ssh", out, 5), 0);
	assert_int_equal(guard_canon_path("/etc", out, 5), 0);
}

/* An option and value guard_option refuses, and words of its error. */
struct option_case {
	const char	*option;
	const char	*value;
	const char	*says;
};

static const struct option_case bad_options[] = {
	{ "allow-cap", "BOGUS", "--allow-cap: unknown capability \"BOGUS\"" },
	{ "DSP_ALLOW_CAP", "NET_ADMIN,SYS_WHATEVER",
	    "DSP_ALLOW_CAP: unknown capability \"SYS_WHATEVER\"" },
	{ "--allow-cap", NULL, "a value is needed" },
	{ "allow-bind", "srv", "--allow-bind: not an absolute path" },
	{ "DSP_ALLOW_BIND", "/srv,data", "DSP_ALLOW_BIND: not an absolute" },
	{ "allow-bind", "/srv/\n", "not an absolute path \"/srv/\\x0a\"" },
	{ "DSP_ALLOW_PRIVILEGED", "maybe",
	    "DSP_ALLOW_PRIVILEGED: not a boolean \"maybe\"" },
	{ "DSP_ALLOW_DEVICES", NULL, "not a boolean" },
	{ "allow-sysctls", "sometimes", "--allow-sysctls: not a boolean" },
	{ "allow-everything", NULL, "unknown guard option" },
	{ "DSP_ALLOW_EVERYTHING", "1", "unknown guard option" },
};

static void
test_options(void **state)
{
	const struct guard_option_spec	*specs;
	struct guard_config		 conf;
	char				 err[256], env[64], many[1024];
	size_t				 n, i, j, o;

	for (i = 0; i < nitems(bad_options); i++) {
		guard_config_init(&conf);
		err[0] = '\0';
		if (guard_option(&conf, bad_options[i].option,
		    bad_options[i].value, err, sizeof(err)) == 0)
			fail_msg("%s=%s accepted", bad_options[i].option,
			    bad_options[i].value);
		if (strstr(err, bad_options[i].says) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"",
			    bad_options[i].option, err, bad_options[i].says);
		if (strchr(err, '\n') != NULL)
			fail_msg("%s: error spans lines",
			    bad_options[i].option);
		guard_config_free(&conf);
	}

	/* Switches: a bare flag is on, the twin takes dspd's booleans. */
	guard_config_init(&conf);
	assert_int_equal(guard_option(&conf, "--allow-privileged", NULL, err,
	    sizeof(err)), 0);
	assert_true(conf.allow_privileged);
	assert_int_equal(guard_option(&conf, "DSP_ALLOW_PRIVILEGED", "no",
	    err, sizeof(err)), 0);
	assert_false(conf.allow_privileged);
	assert_int_equal(guard_option(&conf, "DSP_ALLOW_HOST_NAMESPACES",
	    "TRUE", err, sizeof(err)), 0);
	assert_true(conf.allow_host_namespaces);
	assert_int_equal(guard_option(&conf, "allow-unconfined", "0", err,
	    sizeof(err)), 0);
	assert_false(conf.allow_unconfined);

	/* Lists: one item a flag, a comma-separated list from the twin. */
	assert_int_equal(guard_option(&conf, "DSP_ALLOW_BIND",
	    "/srv/,,//data/../opt", err, sizeof(err)), 0);
	assert_int_equal(guard_option(&conf, "allow-bind", "/a,b", err,
	    sizeof(err)), 0);
	assert_int_equal(conf.nallow_bind, 3);
	assert_string_equal(conf.allow_bind[0], "/srv");
	assert_string_equal(conf.allow_bind[1], "/opt");
	assert_string_equal(conf.allow_bind[2], "/a,b");
	assert_int_equal(guard_option(&conf, "DSP_ALLOW_CAP",
	    "net_admin,CAP_SYS_TIME", err, sizeof(err)), 0);
	assert_int_equal(conf.allow_caps, ((uint64_t)1 << 12) |
	    ((uint64_t)1 << 25));
	assert_false(conf.allow_all_caps);
	assert_int_equal(guard_option(&conf, "allow-cap", "all", err,
	    sizeof(err)), 0);
	assert_true(conf.allow_all_caps);
	guard_config_free(&conf);
	assert_null(conf.allow_bind);
	assert_int_equal(conf.nallow_bind, 0);

	/* No more than 64 paths. */
	guard_config_init(&conf);
	for (i = 0, o = 0; i < 65; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "%s/p%zu",
		    i ? "," : "", i);
	assert_int_not_equal(guard_option(&conf, "DSP_ALLOW_BIND", many, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "more than 64 paths"));
	guard_config_free(&conf);

	/*
	 * Every option has an environment twin named after its flag, a
	 * default, a help line and its risk, as config.c shows them.
	 */
	specs = guard_options(&n);
	assert_int_equal(n, 7);
	for (i = 0; i < n; i++) {
		o = (size_t)snprintf(env, sizeof(env), "DSP_");
		for (j = 0; specs[i].name[j] != '\0'; j++)
			env[o++] = specs[i].name[j] == '-' ? '_' :
			    (char)(specs[i].name[j] - 'a' + 'A');
		env[o] = '\0';
		assert_string_equal(specs[i].env, env);
		assert_true(strlen(specs[i].help) > 10);
		assert_true(strlen(specs[i].risk) > 10);
		assert_non_null(specs[i].default_text);
		assert_int_equal(specs[i].metavar == NULL,
		    specs[i].arg == GUARD_ARG_BOOL);
	}
}

/*
 * Every catalogue entry whose body the session holds has a reader in the
 * guard (a null body passes it), and a body for any other action is not
 * read at all.
 */
static void
test_catalogue(void **state)
{
	const struct endpoint	*eps;
	struct guard_config	 conf;
	struct guard_result	 r;
	size_t			 n, i, guarded = 0;

	guard_config_init(&conf);
	eps = catalogue_entries(&n);
	for (i = 0; i < n; i++) {
		assert_int_equal(guard_check(&conf, &eps[i], "null", 4, &r),
		    0);
		if (r.verdict != GUARD_PASS)
			fail_msg("%s: %s", eps[i].action, r.message);
		assert_int_equal(guard_check(&conf, &eps[i], "not json", 8,
		    &r), 0);
		if ((eps[i].flags & ENDPOINT_BODY_GUARD) == 0) {
			assert_int_equal(r.verdict, GUARD_PASS);
			continue;
		}
		assert_int_equal(r.verdict, GUARD_MALFORMED);
		guarded++;
	}
	assert_int_equal(guarded, 8);
	assert_int_equal(guard_check(&conf, NULL, "x", 1, &r), 0);
	assert_int_equal(r.verdict, GUARD_PASS);
}

/* The relaxations survive the trip through a revision's JSON. */
static void
test_config_json(void **state)
{
	struct guard_config	 a, b;
	char			*text, *again, err[256];

	guard_config_init(&a);
	assert_int_equal(guard_option(&a, "allow-privileged", NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(guard_option(&a, "allow-cap", "net_admin", err,
	    sizeof(err)), 0);
	assert_int_equal(guard_option(&a, "DSP_ALLOW_BIND", "/srv,/data/app/",
	    err, sizeof(err)), 0);
	text = guard_config_to_json(&a);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"allow-privileged\":true"));
	assert_non_null(strstr(text, "\"allow-cap\":[\"NET_ADMIN\"]"));
	assert_non_null(strstr(text, "\"allow-bind\":[\"/srv\",\"/data/app\"]"));
	assert_non_null(strstr(text, "\"allow-devices\":false"));

	guard_config_init(&b);
	assert_int_equal(guard_config_from_json(&b, text, err, sizeof(err)),
	    0);
	again = guard_config_to_json(&b);
	assert_string_equal(text, again);
	assert_int_equal(b.allow_privileged, 1);
	assert_int_equal(b.nallow_bind, 2);

	/* Refused whole: the config in force stays as it was. */
	assert_int_not_equal(guard_config_from_json(&b, "{\"allow-cap\": "
	    "[\"FLY\"]}", err, sizeof(err)), 0);
	assert_int_not_equal(guard_config_from_json(&b, "{\"allow-bind\": "
	    "[\"relative\"]}", err, sizeof(err)), 0);
	assert_int_not_equal(guard_config_from_json(&b, "{\"no-such\": true}",
	    err, sizeof(err)), 0);
	assert_int_not_equal(guard_config_from_json(&b, "[]", err,
	    sizeof(err)), 0);
	assert_int_equal(b.allow_privileged, 1);
	assert_int_equal(b.nallow_bind, 2);
	free(text);
	free(again);
	guard_config_free(&a);
	guard_config_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_inherited),
		cmocka_unit_test(test_canon_path),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_config_json),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
