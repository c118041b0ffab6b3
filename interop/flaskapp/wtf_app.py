"""A real Flask app with Flask-WTF's CSRFProtect and flash messages, for
seshat's csrf and flash interop test (interop/csrf_flash_test.go).

Runs under Debian's /usr/bin/python3 (Flask 2.2.2, Flask-WTF 1.1.1), serves
on 127.0.0.1 with Werkzeug's make_server (one thread, port 0) and prints the
bound port as the first line on stdout. It exits when its stdin reaches end
of file, so a test binary that dies cannot leave it running.

Configuration (environment, so the key is not on the command line):
  FLASKAPP_SECRET_KEY   SECRET_KEY (also signs the CSRF tokens)

Routes:
  GET  /form                 an HTML form with csrf_token() in a hidden field
  POST /submit               protected by CSRFProtect; "ok"
  POST /flash_post           protected; flash(form msg, form cat); "ok"
  GET  /flash?cat=&msg=[&markup=1]   flash(msg or Markup(msg), cat); "ok"
  GET  /show                 get_flashed_messages(with_categories=True) as JSON:
                             [[category, message, is_markup], ...]
  GET  /versions             JSON with the flask and flask_wtf versions
A refused request gets 400 with the CSRFError's description as the body.
"""
import importlib.metadata as _md
import json
import os
import sys
import threading

from flask import Flask, flash, get_flashed_messages, render_template_string, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.serving import WSGIRequestHandler, make_server

app = Flask("wtfapp")
app.config["SECRET_KEY"] = os.environ["FLASKAPP_SECRET_KEY"]
csrf = CSRFProtect(app)

FORM = """<form method="post" action="/submit">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button>Send</button></form>
"""


@app.errorhandler(CSRFError)
def csrf_error(e):
    return e.description, 400


@app.route("/form")
def form():
    return render_template_string(FORM)


@app.route("/submit", methods=["POST"])
def submit():
    return "ok"


@app.route("/flash_post", methods=["POST"])
def flash_post():
    flash(request.form["msg"], request.form["cat"])
    return "ok"


@app.route("/flash")
def do_flash():
    msg = request.args["msg"]
    if request.args.get("markup") == "1":
        msg = Markup(msg)
    flash(msg, request.args.get("cat", "message"))
    return "ok"


@app.route("/show")
def show():
    out = [[c, str(m), isinstance(m, Markup)] for c, m in get_flashed_messages(with_categories=True)]
    return json.dumps(out)


@app.route("/versions")
def versions():
    return json.dumps({"flask": _md.version("flask"), "flask_wtf": _md.version("flask-wtf")})


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _exit_on_stdin_eof():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    srv = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_Quiet)
    print(srv.server_port, flush=True)
    threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
