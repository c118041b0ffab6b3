"""A Flask + Flask-Session 0.3.2 app for the live tests of flasksessionredis.

Configuration comes from FSAPP_* environment variables (never the command
line). It binds 127.0.0.1 on a free port, prints the port on its first line
of stdout, and exits when its stdin closes (so a crashed test leaves no
server behind).

Values travel as JSON with markers for what JSON lacks:
{"$tuple": [...]}, {"$bytes_hex": "..."}, {"$float": "nan"|"inf"|"-inf"}.

Routes:
  POST /set     body: JSON object; session.update(decoded body)
  GET  /get     the session dict, marker JSON (key order kept)
  GET  /del?k=  session.pop(k)
  GET  /clear   session.clear()
  GET  /versions  library versions and the Redis client in use
  GET  /set_datetime  stores a datetime (which seshat cannot read)

With SESSION_TYPE=redis it talks to Redis with redis-py when installed,
else (or with FSAPP_MINI_REDIS=1) with MiniRedis below.
"""
import datetime
import json
import math
import os
import socket
import sys
import threading

from flask import Flask, Response, request, session
from flask_session import Session
from werkzeug.serving import make_server


def from_markers(v):
    if isinstance(v, list):
        return [from_markers(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$tuple":
                return tuple(from_markers(e) for e in x)
            if k == "$bytes_hex":
                return bytes.fromhex(x)
            if k == "$float":
                return float(x)
        return {k: from_markers(x) for k, x in v.items()}
    return v


def to_markers(v):
    if isinstance(v, tuple):
        return {"$tuple": [to_markers(e) for e in v]}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes_hex": bytes(v).hex()}
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(v, list):
        return [to_markers(e) for e in v]
    if isinstance(v, dict):
        return {k: to_markers(x) for k, x in v.items()}
    if isinstance(v, (datetime.datetime, datetime.date)):
        return {"$datetime": v.isoformat()}
    return v


class MiniRedis:
    """The three commands Flask-Session 0.3.2 sends (GET, SETEX, DEL) over
    RESP, for machines without redis-py (python3-redis)."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.lock = threading.Lock()
        self.f = None

    def _cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        with self.lock:
            if self.f is None:
                sock = socket.create_connection(self.addr, timeout=10)
                self.f = sock.makefile("rwb")
            self.f.write(out)
            self.f.flush()
            line = self.f.readline()
            kind, rest = line[:1], line[1:-2]
            if kind == b"$":
                n = int(rest)
                return None if n < 0 else self.f.read(n + 2)[:-2]
            if kind == b":":
                return int(rest)
            if kind == b"+":
                return rest
            raise RuntimeError("redis: %r" % line)

    def get(self, name):
        return self._cmd("GET", name)

    def setex(self, name, time, value):
        if hasattr(time, "total_seconds"):
            time = int(time.total_seconds())
        return self._cmd("SETEX", name, time, value)

    def delete(self, *names):
        return self._cmd("DEL", *names)


env = os.environ.get
app = Flask("fsapp")
app.config.update(
    SECRET_KEY=env("FSAPP_SECRET_KEY"),
    SESSION_TYPE=env("FSAPP_TYPE"),
    SESSION_KEY_PREFIX=env("FSAPP_PREFIX", "session:"),
    SESSION_USE_SIGNER=env("FSAPP_USE_SIGNER") == "1",
    PERMANENT_SESSION_LIFETIME=datetime.timedelta(seconds=int(env("FSAPP_LIFETIME", "3600"))),
)
redis_client = "none"
if env("FSAPP_TYPE") == "redis":
    host, port = env("FSAPP_REDIS").rsplit(":", 1)
    try:
        if env("FSAPP_MINI_REDIS") == "1":
            raise ImportError("FSAPP_MINI_REDIS=1")
        import redis
        app.config["SESSION_REDIS"] = redis.Redis(host=host, port=int(port))
        redis_client = "redis-py " + redis.__version__
    except ImportError:
        app.config["SESSION_REDIS"] = MiniRedis(host, int(port))
        redis_client = "MiniRedis"
else:
    app.config["SESSION_FILE_DIR"] = env("FSAPP_FILE_DIR")
    app.config["SESSION_FILE_THRESHOLD"] = int(env("FSAPP_THRESHOLD", "500"))
Session(app)


def as_json(v):
    return Response(json.dumps(v), mimetype="application/json")


@app.route("/set", methods=["POST"])
def set_():
    session.update(from_markers(json.loads(request.get_data())))
    return as_json(to_markers(dict(session)))


@app.route("/set_datetime")
def set_datetime():
    session["when"] = datetime.datetime(2024, 1, 2, 3, 4, 5)
    return "ok"


@app.route("/get")
def get():
    return as_json(to_markers(dict(session)))


@app.route("/del")
def del_():
    session.pop(request.args["k"], None)
    return as_json(to_markers(dict(session)))


@app.route("/clear")
def clear():
    session.clear()
    return "ok"


@app.route("/versions")
def versions():
    import importlib.metadata as m
    v = {n: m.version(n) for n in ("flask", "flask-session", "cachelib")}
    v["redis_client"] = redis_client
    return as_json(v)


def main():
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    print(srv.server_port, flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
