"""Run gunicorn for bench/flask/app.py with the Flask of this interpreter.

`python3 -m gunicorn` needs gunicorn installed for python3; where it is
only installed for the system Python (Debian's python3-gunicorn), its
package directory is appended to sys.path, after this interpreter's own
site-packages, so that Flask, Werkzeug and Jinja still come from here and
only gunicorn (pure Python) comes from the system. The first line printed
names the versions that serve.
"""

import importlib.metadata
import os
import sys

try:
    import gunicorn  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    import gunicorn  # noqa: F401

from gunicorn.app.wsgiapp import run

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
print("versions python=%s flask=%s werkzeug=%s gunicorn=%s" % (
    sys.version.split()[0], importlib.metadata.version("flask"),
    importlib.metadata.version("werkzeug"), gunicorn.__version__), flush=True)
sys.argv[0] = "gunicorn"
sys.exit(run())
