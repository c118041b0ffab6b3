"""A real Flask + Flask-Login app for seshat's login interop test.

Runs under Debian's /usr/bin/python3 (Flask 2.2.2, Flask-Login 0.6.2) with
Werkzeug's own server on 127.0.0.1, prints the bound port as the first line
on stdout and exits when its stdin reaches end of file.

SECRET_KEY comes from the environment variable LOGINAPP_SECRET_KEY (a str,
so Flask signs sessions with its UTF-8 bytes and Flask-Login signs remember
cookies with its Latin-1 bytes). SESSION_PROTECTION is "basic" unless
LOGINAPP_PROTECTION says otherwise.

Routes (the Go test mounts the same ones on seshat + package login):
  GET /login/<uid>[?remember=1]  login_user(User(uid), remember=...)
  GET /logout                    logout_user()
  GET /whoami                    JSON {"authenticated", "id", "fresh", "keys"}
  GET /private                   @login_required
  GET /fresh                     @fresh_login_required
  GET /login_page                the login_view
  GET /flashes                   JSON list of get_flashed_messages(with_categories=True)
"""
import json
import os
import sys
import threading

import flask
from flask import Flask, session
from flask_login import (LoginManager, UserMixin, current_user, fresh_login_required, login_required,
                         login_user, logout_user)
from werkzeug.serving import make_server

USERS = {"42", "7"}


class User(UserMixin):
    def __init__(self, uid):
        self.id = uid


app = Flask("loginapp")
app.config["SECRET_KEY"] = os.environ["LOGINAPP_SECRET_KEY"]
app.config["SESSION_PROTECTION"] = os.environ.get("LOGINAPP_PROTECTION", "basic")
lm = LoginManager(app)
lm.login_view = "login_page"
lm.refresh_view = "login_page"


@lm.user_loader
def load(uid):
    return User(uid) if uid in USERS else None


@app.route("/login/<uid>")
def login(uid):
    login_user(User(uid), remember=flask.request.args.get("remember") == "1")
    return "ok"


@app.route("/logout")
def logout():
    logout_user()
    return "bye"


@app.route("/whoami")
def whoami():
    auth = current_user.is_authenticated
    return json.dumps({"authenticated": auth, "id": current_user.id if auth else None,
                       "fresh": session.get("_fresh"), "keys": sorted(session.keys())})


@app.route("/private")
@login_required
def private():
    return "secret"


@app.route("/fresh")
@fresh_login_required
def fresh():
    return "fresh secret"


@app.route("/login_page")
def login_page():
    return "login page"


@app.route("/flashes")
def flashes():
    return json.dumps(flask.get_flashed_messages(with_categories=True))


def main():
    srv = make_server("127.0.0.1", 0, app, threaded=False)
    print(srv.server_port, flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # exit when the test closes our stdin (or dies)
    srv.shutdown()


if __name__ == "__main__":
    main()
