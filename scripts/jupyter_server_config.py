"""Jupyter Server configuration for `make lab` (scripts/lab.py passes it with --ServerApp.config_file).

Drops one log line that the learner can do nothing about: with Jupyter Server's default websocket
settings (ping every 30 s, close after 90 s without an answer, both in milliseconds) tornado warns
"The websocket_ping_timeout (90000) cannot be longer than the websocket_ping_interval (30000)"
when the first notebook opens. Tornado's own pings, which that warning is about, run every 30000
seconds and never matter here; the pings that keep a notebook connected are Jupyter Server's, and
they need the longer timeout (made equal to the interval, they close connections). A known
Jupyter Server bug (jupyter-server/jupyter_server#1612); every other warning still shows.
"""

import logging


def _not_the_ping_notice(record: logging.LogRecord) -> bool:
    return "cannot be longer than the websocket_ping_interval" not in record.getMessage()


logging.getLogger("tornado.general").addFilter(_not_the_ping_notice)

# Voila (pinned for `make explorer`, which runs it as its own server) also registers a server
# extension that every Jupyter Server in the environment loads; inside JupyterLab it only adds a
# /voila route the series does not use, and on start-up it reads the deprecated ServerApp.token
# setting, which prints a DeprecationWarning in the learner's terminal. `make lab` leaves it off.
c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.ServerApp.jpserver_extensions = {"voila.server_extension": False}
