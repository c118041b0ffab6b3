"""Reads a seshat session cookie the way a Flask-Security-Too app would.

Run by flasksecurity_test.go under /usr/bin/python3 (Debian's Flask 2.2 and
Flask-Security-Too 5.1). SECRET is the shared SECRET_KEY, COOKIE the
session cookie's value. It prints one JSON object: the session as Flask
decodes it, the user Flask-Security's own tf_check_state(["ready"]) finds
for it, the keys left after its tf_clean_session, and the Set-Cookie Flask
writes for the cleaned session.
"""
import json
import os

from flask import Flask, session
import flask_security.tf_plugin as tf_plugin


class User:
    def __init__(self, uniquifier):
        self.fs_uniquifier = uniquifier


class Datastore:
    """The one datastore method tf_check_state calls."""

    def find_user(self, fs_uniquifier=None, **kwargs):
        return User(fs_uniquifier) if fs_uniquifier == "alice" else None


tf_plugin._datastore = Datastore()
app = Flask(__name__)
app.config.update(SECRET_KEY=os.environ["SECRET"], SECURITY_TWO_FACTOR=True)

out = {}
with app.test_request_context("/", headers={"Cookie": "session=" + os.environ["COOKIE"]}):
    out["session"] = {k: session[k] for k in session}
    user = tf_plugin.tf_check_state(["ready"])
    out["check"] = user.fs_uniquifier if user else None
    tf_plugin.tf_clean_session()
    out["after_clean"] = sorted(session.keys())
    resp = app.response_class()
    app.session_interface.save_session(app, session, resp)
    out["set_cookie"] = resp.headers.get("Set-Cookie", "")
print(json.dumps(out))
