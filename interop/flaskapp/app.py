"""A real Flask app for seshat's interop tests.

It runs unchanged under Flask 3.1 (pyenv ``python3``) and Debian's Flask 2.2
(``/usr/bin/python3``), serves on 127.0.0.1 with Werkzeug's own server
(``make_server``, ``threaded=False``) and prints the bound port as the first
line on stdout. It exits when its stdin reaches end of file, so a test binary
that dies cannot leave it running.

Configuration comes from the command line, each option with an environment
fallback (so secrets need not sit in the process list):

  --secret-key K        FLASKAPP_SECRET_KEY            SECRET_KEY
  --fallback K (repeat) FLASKAPP_SECRET_KEY_FALLBACKS  SECRET_KEY_FALLBACKS
                        (newline-separated; only Flask >= 3.1 uses them)
  --lifetime SECONDS    FLASKAPP_LIFETIME              PERMANENT_SESSION_LIFETIME
  --cookie-name N       FLASKAPP_COOKIE_NAME           SESSION_COOKIE_NAME
  --cookie-domain D     FLASKAPP_COOKIE_DOMAIN         SESSION_COOKIE_DOMAIN
  --cookie-path P       FLASKAPP_COOKIE_PATH           SESSION_COOKIE_PATH
  --secure              FLASKAPP_COOKIE_SECURE=1       SESSION_COOKIE_SECURE
  --no-httponly         FLASKAPP_COOKIE_HTTPONLY=0     SESSION_COOKIE_HTTPONLY
  --samesite V          FLASKAPP_COOKIE_SAMESITE       SESSION_COOKIE_SAMESITE
  --partitioned         FLASKAPP_COOKIE_PARTITIONED=1  SESSION_COOKIE_PARTITIONED (3.1)
  --no-refresh          FLASKAPP_REFRESH=0             SESSION_REFRESH_EACH_REQUEST
  --server-name H       FLASKAPP_SERVER_NAME           SERVER_NAME
  --quiet               FLASKAPP_QUIET=1               no request log on stderr

Test-only frozen clock: a request with ``X-Test-Now: UNIX`` (seconds, may
have a fraction) runs with that time for itsdangerous's timestamps and age
checks and for the Expires that flask.sessions computes. It is applied in a
WSGI middleware, before Flask opens the session (open_session runs before any
before_request hook, and it is where the age check happens).

Routes (the Go tests mount the same ones on seshat):
  POST /set[?permanent=1|0]
                       body: a JSON object in Flask's tagged-JSON form;
                       session.update(the decoded values), then
                       session.permanent = permanent when given
  GET  /permanent?value=1|0   session.permanent = value
  GET  /dump           the session as Flask's own tagged JSON, made by the
                       app's session serializer (the bytes Flask signs)
  GET  /noop           does not touch the session
  GET  /touch?key=K    session.get(K)
  GET  /touch_vary?key=K   session.get(K), and the view adds Vary: Accept-Encoding
  GET  /contains?key=K "yes"/"no" for K in session
  GET  /clear          session.clear()
  GET  /pop_missing    session.pop("__missing__", None)
  GET  /versions       JSON with the python, flask, werkzeug, itsdangerous versions
"""
import argparse
import datetime as _dt
import importlib.metadata as _md
import json
import os
import sys
import threading
import time as _time

import flask
import flask.sessions
import itsdangerous.timed
from flask import Flask, Response, request, session
from werkzeug.serving import WSGIRequestHandler, make_server

# ---------------------------------------------------------------- frozen clock
_REAL_DATETIME = _dt.datetime
_clock = {"now": None}  # one request at a time: the server is not threaded


def _now():
    t = _clock["now"]
    return _time.time() if t is None else t


class _FrozenTime:
    """Stands in for the ``time`` module inside itsdangerous.timed only."""

    def __getattr__(self, name):
        return getattr(_time, name)

    @staticmethod
    def time():
        return float(_now())


class _FrozenDatetime(_REAL_DATETIME):
    """``datetime`` for flask.sessions: now() follows the frozen clock and
    returns real datetime objects."""

    @classmethod
    def now(cls, tz=None):
        return _REAL_DATETIME.fromtimestamp(_now(), tz)

    @classmethod
    def utcnow(cls):
        return _REAL_DATETIME.fromtimestamp(_now(), _dt.timezone.utc).replace(tzinfo=None)


itsdangerous.timed.time = _FrozenTime()
flask.sessions.datetime = _FrozenDatetime


class FrozenClockMiddleware:
    """Sets the clock from the X-Test-Now header for the whole request,
    including Flask's open_session and save_session."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        raw = environ.get("HTTP_X_TEST_NOW")
        _clock["now"] = float(raw) if raw else None
        body = self.wsgi_app(environ, start_response)
        try:
            # Drain the iterable here so the whole response is produced
            # under this request's clock.
            return list(body)
        finally:
            if hasattr(body, "close"):
                body.close()
            _clock["now"] = None


# ---------------------------------------------------------------- config
def _env_bool(name, default):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    return v.lower() in ("1", "true", "yes", "on")


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description="Flask app for seshat interop tests")
    p.add_argument("--secret-key", default=env("FLASKAPP_SECRET_KEY"))
    p.add_argument("--fallback", action="append", default=None)
    p.add_argument("--lifetime", type=int, default=int(env("FLASKAPP_LIFETIME") or 31 * 24 * 3600))
    p.add_argument("--cookie-name", default=env("FLASKAPP_COOKIE_NAME") or "session")
    p.add_argument("--cookie-domain", default=env("FLASKAPP_COOKIE_DOMAIN") or None)
    p.add_argument("--cookie-path", default=env("FLASKAPP_COOKIE_PATH") or None)
    p.add_argument("--secure", action="store_true", default=_env_bool("FLASKAPP_COOKIE_SECURE", False))
    p.add_argument("--no-httponly", dest="httponly", action="store_false",
                   default=_env_bool("FLASKAPP_COOKIE_HTTPONLY", True))
    p.add_argument("--samesite", default=env("FLASKAPP_COOKIE_SAMESITE") or None)
    p.add_argument("--partitioned", action="store_true", default=_env_bool("FLASKAPP_COOKIE_PARTITIONED", False))
    p.add_argument("--no-refresh", dest="refresh", action="store_false", default=_env_bool("FLASKAPP_REFRESH", True))
    p.add_argument("--server-name", default=env("FLASKAPP_SERVER_NAME") or None)
    p.add_argument("--quiet", action="store_true", default=_env_bool("FLASKAPP_QUIET", False))
    a = p.parse_args(argv)
    if a.fallback is None:
        a.fallback = [k for k in (env("FLASKAPP_SECRET_KEY_FALLBACKS") or "").split("\n") if k]
    if not a.secret_key:
        p.error("a secret key is required (--secret-key or FLASKAPP_SECRET_KEY)")
    return a


def _flag(v):
    return v not in ("0", "false", "")


def make_app(a):
    app = Flask("seshat_interop")
    app.config.update(
        SECRET_KEY=a.secret_key,
        SECRET_KEY_FALLBACKS=list(a.fallback),  # ignored by Flask < 3.1
        PERMANENT_SESSION_LIFETIME=a.lifetime,
        SESSION_COOKIE_NAME=a.cookie_name,
        SESSION_COOKIE_DOMAIN=a.cookie_domain,
        SESSION_COOKIE_PATH=a.cookie_path,
        SESSION_COOKIE_SECURE=a.secure,
        SESSION_COOKIE_HTTPONLY=a.httponly,
        SESSION_COOKIE_SAMESITE=a.samesite,
        SESSION_COOKIE_PARTITIONED=a.partitioned,  # ignored by Flask < 3.1
        SESSION_REFRESH_EACH_REQUEST=a.refresh,
    )
    if a.server_name:
        app.config["SERVER_NAME"] = a.server_name
    serializer = app.session_interface.serializer

    def text(body, status=200):
        return Response(body, status=status, mimetype="text/plain")

    @app.post("/set")
    def set_values():
        try:
            values = serializer.loads(request.get_data(as_text=True))
        except ValueError as e:
            return text("bad tagged JSON: %s" % e, 400)
        if not isinstance(values, dict):
            return text("the body must be a JSON object", 400)
        session.update(values)
        if "permanent" in request.args:
            session.permanent = _flag(request.args["permanent"])
        return text("ok")

    @app.get("/permanent")
    def permanent():
        session.permanent = _flag(request.args.get("value", "1"))
        return text("ok")

    @app.get("/dump")
    def dump():
        return Response(serializer.dumps(dict(session)), mimetype="application/json")

    @app.get("/noop")
    def noop():
        return text("ok")

    @app.get("/touch")
    def touch():
        session.get(request.args.get("key", "user"))
        return text("ok")

    @app.get("/touch_vary")
    def touch_vary():
        session.get(request.args.get("key", "user"))
        r = text("ok")
        r.vary.add("Accept-Encoding")
        return r

    @app.get("/contains")
    def contains():
        return text("yes" if request.args.get("key", "user") in session else "no")

    @app.get("/clear")
    def clear():
        session.clear()
        return text("ok")

    @app.get("/pop_missing")
    def pop_missing():
        session.pop("__missing__", None)
        return text("ok")

    @app.get("/versions")
    def versions():
        out = {"python": "%d.%d.%d" % sys.version_info[:3]}
        for n in ("flask", "werkzeug", "itsdangerous", "markupsafe"):
            out[n] = _md.version(n)
        return Response(json.dumps(out, sort_keys=True), mimetype="application/json")

    app.wsgi_app = FrozenClockMiddleware(app.wsgi_app)
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _exit_on_stdin_eof():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except Exception:  # noqa: BLE001 - any failure means the parent is gone
        pass
    os._exit(0)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    app = make_app(a)
    srv = make_server("127.0.0.1", 0, app, threaded=False,
                      request_handler=_QuietHandler if a.quiet else None)
    print(srv.server_port, flush=True)
    threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
