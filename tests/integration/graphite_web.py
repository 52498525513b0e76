"""graphite_web.py DIR PORT CARBON_QUERY_PORT — serves Debian's graphite-web
(its Django WSGI application) on 127.0.0.1:PORT, with a settings module of
the test's own (storage, whisper files, logs and its SQLite database under
DIR, never the system's /var/lib/graphite), reading not-yet-written points
from carbon-cache's query port.  Prints "listening on URL" when it serves.
Run it with Debian's /usr/bin/python3, which has the graphite package."""
import os
import sys

d, port, cache_port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(os.path.join(d, "py"), exist_ok=True)
os.makedirs(os.path.join(d, "log", "webapp"), exist_ok=True)
with open(os.path.join(d, "py", "perch_graphite_settings.py"), "w") as f:
    f.write("SECRET_KEY = 'perch-test-only'\n"
            "STORAGE_DIR = %r\n"
            "WHISPER_DIR = %r\n"
            "LOG_DIR = %r\n"
            "INDEX_FILE = %r\n"
            "CARBONLINK_HOSTS = ['127.0.0.1:%s:a']\n"
            "DATABASES = {'default': {'NAME': %r, 'ENGINE': 'django.db.backends.sqlite3'}}\n"
            % (d, os.path.join(d, "whisper") + "/", os.path.join(d, "log", "webapp"),
               os.path.join(d, "index"), cache_port, os.path.join(d, "graphite.db")))
sys.path.insert(0, os.path.join(d, "py"))
os.environ["GRAPHITE_SETTINGS_MODULE"] = "perch_graphite_settings"
os.environ["DJANGO_SETTINGS_MODULE"] = "graphite.settings"

from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: E402

from graphite.wsgi import application  # noqa: E402


class Quiet(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("request %s\n" % (self.path,))


srv = make_server("127.0.0.1", port, application, handler_class=Quiet)
print("listening on http://127.0.0.1:%d" % port, flush=True)
srv.serve_forever()
