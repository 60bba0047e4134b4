"""gunicorn settings for the tool. Web processes are stateless: scale them out freely."""

import multiprocessing
import os

bind = os.environ.get("CXA_BIND", "0.0.0.0:8000")
# Threads cover the I/O waits (database, platform JWKS fetches); processes use the cores.
workers = int(os.environ.get("CXA_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("CXA_WEB_THREADS", "4"))
# A launch fetches the platform's JWKS with a 10 s read timeout; 30 s leaves headroom.
timeout = 30
graceful_timeout = 30
# Behind a TLS-terminating proxy: trust its X-Forwarded-* so https URLs are built right.
forwarded_allow_ips = os.environ.get("CXA_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# gunicorn logs raw request lines, paths and Referers; ours replaces each learner session
# token (/s/<token>/) with a short hash of it, in the access and the error log alike.
logger_class = "lti_tool.web.redaction.RedactingGunicornLogger"
control_socket_disable = True

# Build the app once in the master: the curriculum is parsed before the fork and shared by
# every worker, instead of costing each worker about half a second on its first page.
preload_app = True


def post_fork(server, worker):
    # The master used the database while building the app (the signing key); pooled
    # connections must not be shared across processes (SQLAlchemy: "Using Connection Pools
    # with Multiprocessing or os.fork()"), so each worker drops its inherited copies unclosed.
    # Apps without our services (the benchmark's bare pylti1p3 baseline) have nothing to drop.
    services = worker.app.wsgi().extensions.get("cxa")
    if services is not None:
        services.engine.dispose(close=False)


def when_ready(server):
    # Runs in the master before the workers are forked: templates compiled and modules
    # imported here are shared by every worker (copy-on-write) rather than loaded by each.
    from lti_tool.web.warmup import prepare

    prepare(server.app.wsgi())
