"""Superset's configuration for FundRecon: everything it keeps lives under FUNDRECON_SUPERSET_HOME
(scripts/superset_fundrecon.py sets it): the SQLite metadata database, the secret key (made once, readable by
its owner only), the admin's generated password. The warehouse's URL is not here: it comes from the
environment at import (RECON_WAREHOUSE_URL) and Superset keeps it encrypted with the secret key."""
import os

_HOME = os.environ["FUNDRECON_SUPERSET_HOME"]
DATA_DIR = _HOME
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(_HOME, "superset.db")
with open(os.path.join(_HOME, "secret_key"), encoding="utf-8") as _key:
    SECRET_KEY = _key.read().strip()
SUPERSET_WEBSERVER_PORT = 8088
# A local tool on 127.0.0.1: no HTTPS policy headers to enforce.
TALISMAN_ENABLED = False
WTF_CSRF_ENABLED = True
# The warehouse is read, never written, from Superset.
PREVENT_UNSAFE_DB_CONNECTIONS = True
RATELIMIT_STORAGE_URI = "memory://"
