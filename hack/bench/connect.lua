-- wrk script for hack/bench/run.sh: connect to $BENCH_CONNECT_HOST (default 127.0.0.1)
-- instead of resolving the URL's host, so the URL can carry the real name
-- (bench.example.com) that wrk sends as SNI and Host without touching /etc/hosts.
-- Only wrk.resolve is replaced: no request() or response() function, so wrk keeps its
-- static, script-free request path and the script costs nothing per request.
function wrk.resolve(host, service)
   local target = os.getenv("BENCH_CONNECT_HOST") or "127.0.0.1"
   local addrs = wrk.lookup(target, service)
   for i = #addrs, 1, -1 do
      if not wrk.connect(addrs[i]) then
         table.remove(addrs, i)
      end
   end
   wrk.addrs = addrs
end
