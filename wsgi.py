"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""

import gc

from deliberation import create_app

app = create_app()
# What is loaded by now (modules, the app, SQLAlchemy's mappings) lives as long as the process: the cycle
# collector's full collections stop scanning it. Under load one took about 100 ms of a worker's CPU, and
# the request it fell on waited as long; about 10 ms after this (bench/ballot_load.py).
gc.freeze()
