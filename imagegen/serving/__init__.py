"""Serving the studio in production: `manage.py serve` and what it runs.

- `supervisor.py`: keeps the web server and the worker processes running, restarts one that dies,
  stops them all on SIGTERM/SIGINT (the workers get their grace), and makes them die with it
  should it be killed outright (`deathsig.py`), so none is left holding the port.
- `web.py`: one web server, granian on the WSGI interface (chosen by bench/web_servers.py), whose
  worker processes die with their master.
- `secret_key.py`: the secret key kept in a file readable only by its owner, made on first run.
"""
