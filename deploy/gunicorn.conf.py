"""gunicorn settings for one app host (README: "Production deployment").

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Everything can be changed from the environment; tests/deploy/test_two_hosts.py starts two hosts with it.
"""

import multiprocessing
import os

bind = os.environ.get("DELIBERATION_BIND", "127.0.0.1:8000")

# Threaded workers: a request waiting for PostgreSQL or Redis lets another one of the same process run,
# while the processes use every core. A live meeting's event stream holds one thread for as long as a
# page stays open (up to LIVE_STREAM_SECONDS, then it reconnects), and mostly sleeps: each worker has
# enough threads for the open pages of a few meetings besides the short requests. gthread tells the app
# it is multithreaded (wsgi.multithread), so LIVE_EVENTS=auto streams; sync workers would not (the
# pages then poll with ETags).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "50"))

# Each worker builds the app (and its database pool) itself: no connection crosses a fork.
preload_app = False
timeout = 30
graceful_timeout = 30
keepalive = 75  # longer than nginx's upstream keep-alive, so nginx never reuses a closed connection
max_requests = 2000  # a worker is replaced now and then: memory it has grown is given back
max_requests_jitter = 200

# X-Forwarded-For and -Proto are interpreted by the app alone (TRUSTED_PROXIES), whatever address
# the proxy has: one setting to get right, not two.
forwarded_allow_ips = ""

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
