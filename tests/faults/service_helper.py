"""A service helper for the fault suite; its mode is its first argument.

normal        answers every method (usage: {"mem_rss_bytes": 1}; watch:
              a limitation for the container "limited", else null;
              status: {}; prepare: null)
crash-third   exits with status 3 at its third request
close-stdout  closes its standard output at its second request
silent        answers initialize, then nothing
silent-start  never answers initialize
garbage       before each answer: a line that is not JSON, a response to
              an id nobody asked, and a line of 5 MiB
error         answers every request with an error
invalid       answers usage with statistics of the wrong type
reverse       holds requests until it has 10, then answers them last first
stubborn      ignores the end of its input and SIGTERM (exits at SIGKILL)
long          answers usage with a line of about 5 KB, its id first
silent-once   silent while the file named by its second argument does not
              exist (it creates it), then normal: its first run only is
"""
import json
import os
import signal
import sys
import time

mode = sys.argv[1]
if mode == "silent-once":
    marker = sys.argv[2]
    mode = "normal" if os.path.exists(marker) else "silent"
    open(marker, "a").close()
seen = 0
held = []


def reply(request, **body):
    body.update({"jsonrpc": "2.0", "id": request["id"]})
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


def result_of(request):
    method, params = request["method"], request.get("params", {})
    if method == "isolator_usage":
        return {"mem_rss_bytes": "lots"} if mode == "invalid" else {"mem_rss_bytes": 1}
    if method == "isolator_watch":
        if params.get("container_id", {}).get("value") == "limited":
            return {"message": "limited by the service", "reason": "REASON_CONTAINER_LIMITATION"}
        return None
    if method == "isolator_status":
        return {}
    return None


if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

for line in sys.stdin:
    request = json.loads(line)
    if request["method"] == "initialize":
        if mode != "silent-start":
            print(f"ready for {request['params']['module']}", file=sys.stderr, flush=True)
            reply(request, result={})
        continue
    seen += 1
    if mode == "crash-third" and seen == 3:
        os._exit(3)
    if mode == "close-stdout" and seen == 2:
        os.close(1)
        continue
    if mode == "silent":
        continue
    if mode == "garbage":
        sys.stdout.write("garbage {\n")
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": 987654, "result": None}) + "\n")
        sys.stdout.write("x" * (5 * 1024 * 1024) + "\n")
    if mode == "long":
        padding = "x" * 5000
        sys.stdout.write(f'{{"jsonrpc":"2.0","id":{request["id"]},"result":{{"pad":"{padding}"}}}}\n')
        sys.stdout.flush()
        continue
    if mode == "error":
        reply(request, error={"code": 1, "message": "the helper refuses"})
        continue
    if mode == "reverse":
        held.append(request)
        if len(held) == 10:
            for r in reversed(held):
                reply(r, result=result_of(r))
            held = []
        continue
    reply(request, result=result_of(request))

if mode == "stubborn":
    while True:
        time.sleep(1)
