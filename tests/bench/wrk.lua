-- The wrk script of tests/bench/bench.py.  The method comes from
-- BENCH_METHOD (GET); BENCH_DELAY_MS, when set, makes each connection
-- wait that long before each request, which paces the load at about
-- connections * 1000 / (delay + latency) requests a second.  At the end
-- one line starting with "BENCH " gives the counts and latencies (in
-- microseconds) for bench.py to read.

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

if pause > 0 then
	function delay()
		return pause
	end
end

function done(summary, latency, requests)
	local e = summary.errors

	io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d " ..
	    "connect=%d read=%d write=%d status=%d timeout=%d " ..
	    "p50_us=%d p99_us=%d max_us=%d\n",
	    summary.requests, summary.duration, summary.bytes,
	    e.connect, e.read, e.write, e.status, e.timeout,
	    latency:percentile(50), latency:percentile(99), latency.max))
end
